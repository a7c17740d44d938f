"""Measure the defaults: each model's final metric and training time to reach the target, per
task and sequence length, with the default configuration. Prints a Markdown table for README.

    python -m benchmarks.calibrate                                   # first_token and adding, T = 10..200
    python -m benchmarks.calibrate --tasks first_token --lengths 100 --models lstm
    python -m benchmarks.calibrate --lengths 50,100,200 \\
        --models rnn,rnn:orthogonal,rnn:irnn,gru,gru:chrono,lstm,lstm:zero,lstm:one   # every start

A model is a kind or a kind with its initialisation ('rnn:irnn', as in the sweep); each is trained
as its own single-model run (a model's numbers depend only on its config, seed and kind, so this
gives the same steps as training them side by side). Seconds are the model's own training +
evaluation time (Snapshot.elapsed_s), not the wall time of the whole script; steps to target do
not depend on the machine.
"""
from __future__ import annotations

import argparse
import time

import torch

from core.config import (RunConfig, TaskConfig, TrainConfig, init_of, parse_variants, suggested_steps, validate,
                         variant_title, with_variant)
from core.results import format_metric
from core.trainer import Trainer


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tasks", default="first_token,adding")
    p.add_argument("--lengths", default="10,20,50,100,200")
    p.add_argument("--models", default="rnn,lstm", help="kinds or kind:init, e.g. rnn,rnn:irnn,lstm:zero")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    variants = parse_variants(a.models)
    print("| task | T | steps | model | init | final | steps to target | seconds to target | seconds in all |")
    print("|---|---|---|---|---|---|---|---|---|")
    for task in a.tasks.split(","):
        for T in (int(t) for t in a.lengths.split(",")):
            steps = suggested_steps(task)
            base = validate(RunConfig(task=TaskConfig(name=task, seq_len=T), train=TrainConfig(steps=steps, seed=a.seed)))
            t0 = time.perf_counter()
            for v in variants:
                cfg = with_variant(base, v)
                result = Trainer(cfg).run()
                tk, (kind, s) = result.task, next(iter(result.summary().items()))
                to = s["steps_to_target"] if s["steps_to_target"] is not None else "not reached"
                secs = f"{s['seconds_to_target']:.1f}" if s["seconds_to_target"] is not None else "-"
                final = format_metric(s["final_metric"], tk) + (" (diverged)" if s["status"] == "diverged" else "")
                print(f"| {task} | {T} | {steps} | {variant_title(cfg)} | {init_of(kind, cfg.model) or '-'} | "
                      f"{final} | {to} | {secs} | {s['elapsed_s']:.1f} |", flush=True)
            print(f"<!-- {task} T={T}: {time.perf_counter() - t0:.1f} s wall for all models -->", flush=True)


if __name__ == "__main__":
    main()
