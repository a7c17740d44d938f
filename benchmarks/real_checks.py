"""Train the real-data chapter's runs and print its four checks as Markdown (docs/calibration_real.md).

    python -m benchmarks.real_checks                           # weather T = 7, 30, 90, 365; stocks T = 6, 12, 24
    python -m benchmarks.real_checks --weather 7,30 --stocks 12 --seeds 0,1

Every run trains the vanilla RNN, the LSTM and the GRU side by side at the task's suggested steps
(core.tasks.real_checks.chapter_configs); the window check reads every seed, the others the first
seed's run at the weather window of --lookback-at (default 30 days). Like every entry point it
computes with one torch thread (core.trainer.one_compute_thread).
"""
from __future__ import annotations

import argparse
import dataclasses
import time

from core.config import validate
from core.sweep import parse_ints
from core.story import realdata as rc
from core.trainer import Trainer, one_compute_thread


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--weather", default=",".join(map(str, rc.WEATHER_LENGTHS)))
    p.add_argument("--stocks", default=",".join(map(str, rc.STOCKS_LENGTHS)))
    p.add_argument("--seeds", default="0")
    p.add_argument("--lookback-at", type=int, default=30, help="weather T of the look-back and storm checks")
    a = p.parse_args(argv)
    one_compute_thread()  # the probes of the checks too
    weather_T, stocks_T, seeds = parse_ints("weather", a.weather), parse_ints("stocks", a.stocks), parse_ints("seeds", a.seeds)
    plan = rc.chapter_configs()
    runs: dict[str, list] = {"weather": [], "stocks": []}
    t0 = time.perf_counter()
    for name, lengths in (("weather", weather_T), ("stocks", stocks_T)):
        template = plan[name][0]
        for seed in seeds:
            for T in lengths:
                cfg = validate(template.replace(task=dataclasses.replace(template.task, seq_len=T),
                                                train=dataclasses.replace(template.train, seed=seed)))
                runs[name].append(Trainer(cfg).run())
                print(f"<!-- trained {name} T={T} seed {seed}: {time.perf_counter() - t0:.0f} s so far -->", flush=True)
    first = [r for r in runs["weather"] if r.config.train.seed == seeds[0]]
    at = next((r for r in first if r.config.task.seq_len == a.lookback_at), first[-1] if first else None)
    checks = [("(a) window length", rc.window_check(runs["weather"]))] if runs["weather"] else []
    if at is not None:
        checks += [(f"(b) look-back, T = {at.config.task.seq_len}", rc.lookback_check(at)),
                   (f"(c) storm days, T = {at.config.task.seq_len}", rc.storm_gate_check(at))]
    if runs["stocks"]:
        checks.append(("(d) stocks", rc.stocks_check([r for r in runs["stocks"] if r.config.train.seed == seeds[0]])))
    print("| check | verdict |\n|---|---|")
    for name, c in checks:
        print(f"| {name} | {c.verdict} |")
    for name, c in checks:
        print(f"\n{name}:\n")
        if name.startswith("(b)"):  # a row per model and day: the summary numbers are what it reads
            print("\n".join(f"- {k}: {v:.3g}" for k, v in c.numbers.items()))
        else:
            print(markdown(c.table))
    print(f"\n<!-- {time.perf_counter() - t0:.0f} s in all -->")


def markdown(df) -> str:
    """A DataFrame as a Markdown table (numbers to 4 significant digits), without tabulate."""
    cell = lambda v: f"{v:.4g}" if isinstance(v, float) else str(v)  # noqa: E731
    rows = [" | ".join(map(str, df.columns)), " | ".join("---" for _ in df.columns)]
    rows += [" | ".join(cell(v) for v in r) for r in df.itertuples(index=False)]
    return "\n".join(f"| {r} |" for r in rows)


if __name__ == "__main__":
    main()
