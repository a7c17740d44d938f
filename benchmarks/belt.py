"""Print the gradient along the LSTM's belt, predicted from the forget gates and measured, and the 1997
cell's growth, for the tour's LSTMs as the run store (or the shipped reference behind it) holds them
(docs/cell.md).

    python -m benchmarks.belt              # the trained weights (each run's last kept checkpoint)
    python -m benchmarks.belt --step 0     # the untrained starts

Runs the store does not hold are skipped (the tour trains them). One torch thread, as every entry point.
"""
from __future__ import annotations

import argparse

from core import story
from core.belt import belt_frame, growth_frame
from core.results import RunResult
from core.store import RunStore
from core.trainer import one_compute_thread

BELT = {"chrono (first token)": "long", "zero (first token)": "zero_forget", "chrono (review)": "but_long",
        "none, 1997 (review)": "no_forget"}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--step", type=int, default=None, help="training step of the weights (default: the last kept)")
    a = p.parse_args(argv)
    one_compute_thread()
    store, cfgs = RunStore(), story.experiments()
    results = {}
    for label, name in BELT.items():
        single = cfgs[name].single("lstm")
        run = store.get(single)
        if run is not None:
            results[label] = RunResult(config=single, runs={"lstm": run})
    df = belt_frame(results, a.step)
    print("| LSTM start (task) | step | T | gap | measured ||dL/dc_t|| | predicted along the belt | measured / predicted |")
    print("|---|---|---|---|---|---|---|")
    for label, g in df.groupby("label", sort=False):
        T = int(g.t.max())
        for gap in sorted({0, T // 4, T // 2, T - 1}):
            r = g[g.gap == gap].iloc[0]
            print(f"| {label} | {int(r.step)} | {T} | {gap} | {r.measured:.3g} | {r.predicted:.3g} | "
                  f"{r.measured / r.predicted:.3g} |")
    grow = growth_frame({k: v for k, v in results.items() if "review" in k}, a.step)
    print("\n| LSTM start | step | ||c_t|| at t = 1 | t = 10 | t = 50 | t = T |")
    print("|---|---|---|---|---|---|")
    for label, g in grow.groupby("label", sort=False):
        at = {int(t): v for t, v in zip(g.t, g.c_norm)}
        T = int(g.t.max())
        print(f"| {label} | {int(g.step.iloc[0])} | {at[1]:.3g} | {at.get(10, float('nan')):.3g} | "
              f"{at.get(50, float('nan')):.3g} | {at[T]:.3g} |")


if __name__ == "__main__":
    main()
