"""Measure the defaults: each model's final metric and training time to reach the target, per
task and sequence length, with the default configuration. Prints a Markdown table for README.

    python -m benchmarks.calibrate                                   # first_token and adding, T = 10..200
    python -m benchmarks.calibrate --tasks first_token --lengths 100 --models lstm

Seconds are the model's own training + evaluation time (Snapshot.elapsed_s), not the wall time of
the whole script; steps to target do not depend on the machine.
"""
from __future__ import annotations

import argparse
import time

from core.config import RunConfig, TaskConfig, TrainConfig, suggested_steps, validate
from core.results import format_metric
from core.trainer import Trainer


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tasks", default="first_token,adding")
    p.add_argument("--lengths", default="10,20,50,100,200")
    p.add_argument("--models", default="rnn,lstm")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    print("| task | T | steps | model | final metric | chance | steps to target | seconds to target | seconds in all |")
    print("|---|---|---|---|---|---|---|---|---|")
    for task in a.tasks.split(","):
        for T in (int(t) for t in a.lengths.split(",")):
            steps = suggested_steps(task)
            cfg = validate(RunConfig(task=TaskConfig(name=task, seq_len=T),
                                     train=TrainConfig(steps=steps, seed=a.seed), models=a.models))
            t0 = time.perf_counter()
            result = Trainer(cfg).run()
            wall = time.perf_counter() - t0
            tk = result.task
            for kind, s in result.summary().items():
                to = s["steps_to_target"] if s["steps_to_target"] is not None else "not reached"
                secs = f"{s['seconds_to_target']:.1f}" if s["seconds_to_target"] is not None else "-"
                print(f"| {task} | {T} | {steps} | {s['name']} | {format_metric(s['final_metric'], tk)} | "
                      f"{tk.chance:.3g} | {to} | {secs} | {s['elapsed_s']:.1f} |", flush=True)
            print(f"<!-- {task} T={T}: {wall:.1f} s wall for the whole run -->", flush=True)


if __name__ == "__main__":
    main()
