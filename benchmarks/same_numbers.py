"""Same config, same numbers, under threads: a stress run, not a timed test.

    python -m benchmarks.same_numbers            # 20 thread sweeps of 18 runs and 200 paired builds

Each repetition runs the 18-run grid of tests/test_same_numbers.py in the thread executor (two runs
at once, as the dashboard's sweep page does) and compares the table with the in-process sweep of
the same grid; the builds start two models at the same instant (a threading.Barrier) and compare
their weights with builds done alone. On main before runs owned their random state, 2 of 6
sweeps and 161 of 200 builds differed (issue #17).
"""
from __future__ import annotations

import argparse
import threading
import time

from core.config import ModelConfig, RunConfig, TaskConfig, TrainConfig, validate
from core.executors import InProcessExecutor, ThreadExecutor
from core.models import build_model
from core.sweep import make_sweep, run_sweep
from core.tasks import make_task

GRID = RunConfig(model=ModelConfig(hidden_size=8), train=TrainConfig(steps=30, eval_every=10, n_checkpoints=2))
COLS = ["model", "seq_len", "seed", "metric", "steps_to_target", "steps_run", "status", "hash"]


def thread_sweeps_that_differ(repeats: int, workers: int = 2) -> int:
    """How many of `repeats` thread sweeps of 18 runs differ from the in-process sweep (no store:
    every run is trained each time)."""
    sweep = make_sweep(GRID, "6,8,10", "0,1,2")
    ref = run_sweep(sweep, None, InProcessExecutor()).table[COLS]
    return sum(not run_sweep(sweep, None, ThreadExecutor(workers=workers)).table[COLS].equals(ref)
               for _ in range(repeats))


def builds_that_differ(pairs: int) -> int:
    """How many of `pairs` two-at-once builds (RNN seed 0, LSTM seed 1) got other weights than alone."""
    cfgs = [validate(RunConfig(models=(k,))) for k in ("rnn", "lstm")]
    task = make_task(cfgs[0].task)

    def weights(i):
        m = build_model(cfgs[i].models[0], task, cfgs[i].model, i)
        return [p.detach().clone() for p in m.parameters()]

    alone = [weights(0), weights(1)]
    barrier, bad = threading.Barrier(2), [0, 0]

    def loop(i):
        for _ in range(pairs):
            barrier.wait()
            w = weights(i)
            bad[i] += any(not a.equal(b) for a, b in zip(w, alone[i]))

    ts = [threading.Thread(target=loop, args=(i,)) for i in (0, 1)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return max(bad)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--pairs", type=int, default=200)
    a = p.parse_args()
    t0 = time.perf_counter()
    print(f"paired builds with other weights than alone: {builds_that_differ(a.pairs)} of {a.pairs}")
    print(f"thread sweeps (18 runs) differing from in-process: {thread_sweeps_that_differ(a.repeats)} of "
          f"{a.repeats}  ({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
