"""Benchmark: the default experiment through the lab's job path against a plain PyTorch loop, in
the same process. A script that prints figures, not a test.

    python -m benchmarks.training                 # first_token, T=100, RNN + LSTM, hidden 64, batch 64, 300 steps
    python -m benchmarks.training --steps 200 --repeats 5

The plain loop is what a person would write: both models one after the other on each batch, with
2 torch threads, Adam, clipping and the same evaluation every eval_every steps
(benchmarks.trainer.plain_loop). The lab's path is a TrainJob on a JobQueue, as the dashboard runs
it: each model in its own thread with one torch thread, snapshots published, checkpoints kept.

Arithmetic is counted from the shapes: a step of a recurrent layer does two matmuls per time step,
(B x I)(I x gH) and (B x H)(H x gH), g = 4 gates for the LSTM and 1 for the RNN, and backward
costs about twice forward; evaluation adds one forward pass over the held-out batch every
eval_every steps. The matmul rate is measured on the same (B x (I+H)) (( I+H) x 4H) shape in this
run, on one thread and on two. Prints per-step milliseconds, GFLOP/s and, last, `ratio lab/plain`.
"""
from __future__ import annotations

import argparse
import time

import torch

from benchmarks.trainer import plain_loop
from core.config import RunConfig, TaskConfig, TrainConfig, validate
from core.jobs import JobQueue, TrainJob
from core.tasks import make_task

GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def step_gflop(cfg: RunConfig) -> float:
    """Arithmetic of one training step of all models, evaluation amortised (GFLOP)."""
    task = make_task(cfg.task)
    B, T, H, I = cfg.train.batch_size, cfg.task.seq_len, cfg.model.hidden_size, task.input_size
    total = 0.0
    for kind in cfg.models:
        fwd = 2 * B * (I + H) * GATES[kind] * H * T
        evaluation = 2 * 512 * (I + H) * GATES[kind] * H * T / cfg.train.eval_every
        total += 3 * fwd + evaluation
    return total / 1e9


def matmul_rate(cfg: RunConfig, threads: int, seconds: float = 1.0) -> float:
    """GFLOP/s of the LSTM's gate matmul shape on `threads` torch threads."""
    task = make_task(cfg.task)
    B, H, I = cfg.train.batch_size, cfg.model.hidden_size, task.input_size
    a, w = torch.randn(B, I + H), torch.randn(I + H, 4 * H)
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            for _ in range(100):
                a @ w
            n += 100
        dt = time.perf_counter() - t0
    finally:
        torch.set_num_threads(before)
    return 2 * B * (I + H) * 4 * H * n / dt / 1e9


def lab_job(cfg: RunConfig) -> float:
    q = JobQueue()
    job = q.submit(TrainJob(cfg))
    if not q.wait(job, timeout=3600):
        raise RuntimeError("the job did not finish")
    return job.wall_s


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seq-len", type=int, default=100)
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--repeats", type=int, default=3)
    a = p.parse_args(argv)
    cfg = validate(RunConfig(task=TaskConfig(seq_len=a.seq_len), train=TrainConfig(steps=a.steps, device="cpu")))
    flop = step_gflop(cfg)
    print(f"first_token T={a.seq_len} {'+'.join(cfg.models)} hidden {cfg.model.hidden_size} batch "
          f"{cfg.train.batch_size}, {a.steps} steps; {flop:.2f} GFLOP per step (both models, evaluation included)")
    rate1, rate2 = matmul_rate(cfg, 1), matmul_rate(cfg, 2)
    print(f"matmul of the gate shape: {rate1:.0f} GFLOP/s on 1 thread, {rate2:.0f} GFLOP/s on 2")
    times: dict[str, list[float]] = {"plain": [], "lab": []}
    for r in range(a.repeats):  # alternate, so drift in machine load hits both alike
        torch.set_num_threads(2)
        t0 = time.perf_counter()
        plain_loop(cfg)
        times["plain"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        lab_job(cfg)
        times["lab"].append(time.perf_counter() - t0)
        print(f"  run {r + 1}: plain {times['plain'][-1]:.2f} s, lab {times['lab'][-1]:.2f} s")
    for name in ("plain", "lab"):
        best = min(times[name])
        ms = best / a.steps * 1000
        print(f"{name:5s} best of {a.repeats}: {best:.2f} s, {ms:.1f} ms per step, {flop / (ms / 1000):.0f} GFLOP/s "
              f"({flop / (ms / 1000) / rate2:.0%} of the 2-thread matmul rate)")
    print(f"ratio lab/plain: {min(times['lab']) / min(times['plain']):.3f}")


if __name__ == "__main__":
    main()
