"""Fair share on the job queue: how long a second visitor's short job takes while another trains
100,000 steps, against the same job alone. A script that prints figures, not a timed test.

    python -m benchmarks.fair_share            # the lab's default experiment (T=100, hidden 64)
    python -m benchmarks.fair_share --steps 50 --warm 5 --repeats 3

Prints the short job's seconds alone and beside the long run (wall clock from submit to finished),
how much of that it waited, and how long the long run trained meanwhile. The promise (core.share):
beside the long run, about its time alone plus one chunk (the long run's chunk in flight).
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
    ap.add_argument("--repeats", type=int, default=3, help="short jobs alone and beside the long run (default 3)")
    args = ap.parse_args()
    one_compute_thread()
    base = validate(RunConfig())
    short = base.replace(train=TrainConfig(steps=args.steps, seed=1))
    q = JobQueue()
    timed(q, TrainJob(base.replace(train=TrainConfig(steps=5, seed=2)), owner="warm-up"))  # imports, first allocations
    alone = [timed(q, TrainJob(short, owner=f"alone{i}")) for i in range(args.repeats)]
    hog = TrainJob(base.replace(train=TrainConfig(steps=100_000, seed=3)), owner="a")
    q.submit(hog)
    time.sleep(args.warm)
    print(f"short job: {args.steps} steps of the default experiment (T={base.task.seq_len}, hidden "
          f"{base.model.hidden_size}); alone: {', '.join(f'{a:.2f}' for a in alone)} s")
    for i in range(args.repeats):
        step0, wall0 = hog.step, hog.wall_s
        job = TrainJob(short, owner=f"beside{i}")
        took = timed(q, job)
        print(f"beside a 100,000-step run: {took:.2f} s, of which its own chunks {job.wall_s:.2f} s and waiting "
              f"{took - job.wall_s:.2f} s; the long run meanwhile {hog.wall_s - wall0:.2f} s ({hog.step - step0} steps)")
        time.sleep(args.warm)  # the long run alone again for a while
    hog.stop()
    q.wake()
    q.wait(hog)
    after = [timed(q, TrainJob(short, owner=f"after{i}")) for i in range(args.repeats)]
    print(f"alone again, the long run stopped: {', '.join(f'{a:.2f}' for a in after)} s")


if __name__ == "__main__":
    main()
