"""What one seed of a tour chapter costs to train here: each of its experiments trained in turn (one torch
thread, no parallel models), with each model's steps, token accuracy or metric, and ms per step.

    python -m benchmarks.story_cost --chapter 9 --seed 0

Steps depend on the config only (a run with patience stops once it held the target); seconds on this
machine and its load. The tour trains each experiment on core.story.runs.SEEDS seeds.
"""
from __future__ import annotations

import argparse
import time

import torch

from core import story
from core.story.runs import with_seed
from core.trainer import Trainer


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--chapter", type=int, required=True)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    chapter, cfgs = story.BY_NUMBER[a.chapter], story.experiments()
    print("| experiment | model | steps | final metric | exact match | ms / step |")
    print("|---|---|---|---|---|---|")
    total = 0.0
    for name in chapter.needs:
        t = time.perf_counter()
        result = Trainer(with_seed(cfgs[name], a.seed), parallel=False).run()
        total += time.perf_counter() - t
        for run in result.runs.values():
            em = run.evals[-1].get("exact_match") if run.evals else None
            print(f"| {name} | {run.title} | {run.steps_run} | {run.final_metric:.1%} | "
                  f"{'-' if em is None else f'{em:.1%}'} | {1000 * run.elapsed_s / max(run.steps_run, 1):.0f} |",
                  flush=True)
    print(f"\nChapter {chapter.number}, seed {a.seed}: {total:.0f} s on one thread; x {story.SEEDS} seeds = "
          f"{total * story.SEEDS / 60:.1f} min on one core.")


if __name__ == "__main__":
    main()
