"""Benchmark: the lab's trainer against a plain PyTorch loop of the same configuration, in the
same process, on the same data. Prints seconds and the ratio (target <= 1.10).

    python -m benchmarks.trainer                      # first_token, T=100, rnn+lstm, 300 steps
    python -m benchmarks.trainer --seq-len 20 --steps 500 --repeats 3

The plain loop does the same work a user asked for: same models and initial weights, same
batches, Adam, clipping and evaluation on the held-out batch every eval_every steps. What it
leaves out is what the lab adds: snapshots, checkpoints and gradient-through-time probes.
"""
from __future__ import annotations

import argparse
import math
import time

import torch

from core.config import RunConfig, TaskConfig, TrainConfig, validate
from core.models import build_model
from core.tasks import make_task
from core.trainer import Trainer, make_optimizer


def plain_loop(cfg: RunConfig) -> dict[str, float]:
    tr = cfg.train
    task = make_task(cfg.task)
    gen = torch.Generator().manual_seed(tr.seed)
    ex, ey = task.eval_batch()
    models = {k: build_model(k, task, cfg.model, tr.seed) for k in cfg.models}
    opts = {k: make_optimizer(tr.optimizer, m.parameters(), tr.lr) for k, m in models.items()}
    metric = {}
    for step in range(1, tr.steps + 1):
        x, y = task.sample(tr.batch_size, gen)
        for k, m in models.items():
            opts[k].zero_grad(set_to_none=True)
            loss = task.loss(m(x), y)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(m.parameters(), tr.clip or math.inf)
            opts[k].step()
            if step % tr.eval_every == 0 or step == tr.steps:
                with torch.no_grad():
                    metric[k] = task.score(m(ex), ey)
    return metric


def lab_loop(cfg: RunConfig) -> dict[str, float]:
    result = Trainer(cfg).run()
    return {k: r.final_metric for k, r in result.runs.items()}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--task", default="first_token")
    p.add_argument("--seq-len", type=int, default=100)
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--models", default="rnn,lstm")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's own)")
    a = p.parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    cfg = validate(RunConfig(task=TaskConfig(name=a.task, seq_len=a.seq_len),
                             train=TrainConfig(steps=a.steps, device="cpu"), models=a.models))
    print(f"task={a.task} T={a.seq_len} steps={a.steps} models={a.models} "
          f"threads={torch.get_num_threads()}")
    times: dict[str, list[float]] = {"plain": [], "lab": []}
    for r in range(a.repeats):  # alternate, so drift in machine load hits both alike
        for name, fn in (("plain", plain_loop), ("lab", lab_loop)):
            t0 = time.perf_counter()
            metric = fn(cfg)
            times[name].append(time.perf_counter() - t0)
            print(f"  run {r + 1} {name:5s} {times[name][-1]:7.2f} s  final metric "
                  + ", ".join(f"{k}={v:.3f}" for k, v in metric.items()))
    plain, lab = min(times["plain"]), min(times["lab"])
    print(f"plain PyTorch loop: {plain:.2f} s (best of {a.repeats})")
    print(f"lab trainer:        {lab:.2f} s (best of {a.repeats})")
    print(f"ratio lab/plain:    {lab / plain:.3f}")


if __name__ == "__main__":
    main()
