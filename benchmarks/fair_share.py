"""Fair share on the job queue: how long a second visitor's short job takes while another trains
100,000 steps, against the same job alone. A script that prints figures, not a timed test.

    python -m benchmarks.fair_share            # the lab's default experiment (T=100, hidden 64)
    python -m benchmarks.fair_share --steps 50 --warm 5

Prints the short job's seconds alone and beside the long run (wall clock from submit to finished),
the long run's chunk (seconds of its longest chunk while the short job ran) and the steps it kept
training. The promise (core.share): beside the long run, about alone plus one chunk.
"""
from __future__ import annotations

import argparse
import time

from core.config import RunConfig, TrainConfig, validate
from core.jobs import JobQueue, TrainJob
from core.trainer import one_compute_thread


def timed(q: JobQueue, job: TrainJob) -> float:
    t0 = time.perf_counter()
    q.submit(job)
    assert q.wait(job, timeout=600), "the job did not end"
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=50, help="the short job's steps (default 50)")
    ap.add_argument("--warm", type=float, default=5.0, help="seconds the long run trains before the short job comes")
    args = ap.parse_args()
    one_compute_thread()
    base = validate(RunConfig())
    short = base.replace(train=TrainConfig(steps=args.steps, seed=1))
    q = JobQueue()
    timed(q, TrainJob(base.replace(train=TrainConfig(steps=5, seed=2)), owner="warm-up"))  # imports, first allocations
    alone = timed(q, TrainJob(short, owner="b"))
    hog = TrainJob(base.replace(train=TrainConfig(steps=100_000, seed=3)), owner="a")
    q.submit(hog)
    time.sleep(args.warm)
    step0, wall0 = hog.step, hog.wall_s
    beside = timed(q, TrainJob(short, owner="c"))
    hog_steps, hog_wall = hog.step - step0, hog.wall_s - wall0
    hog.stop()
    q.wake()
    q.wait(hog)
    print(f"short job ({args.steps} steps, T={base.task.seq_len}, hidden {base.model.hidden_size}): "
          f"alone {alone:.2f} s, beside a 100,000-step run {beside:.2f} s ({beside - alone:+.2f} s)")
    print(f"the long run meanwhile: {hog_steps} steps in {hog_wall:.2f} s of its own chunks "
          f"(it had trained {step0} steps in {wall0:.1f} s before)")


if __name__ == "__main__":
    main()
