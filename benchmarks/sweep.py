"""Figures behind the sweep's speed choices (a script that prints, not a test).

    python -m benchmarks.sweep threads   # seconds per run at 1 and 2 torch threads
    python -m benchmarks.sweep batched   # several seeds as one block-diagonal LSTM vs one by one

`batched` is the "train several seeds of one configuration together as one batched model" idea:
S seeds' LSTMs become one LSTM of S*H units whose weights are block-diagonal (a mask keeps the
off-diagonal blocks at exactly zero, and gradients are clipped per seed), each seed fed its own
data stream. It prints the time per step against S separate runs and how far each seed's losses
drift from the trainer's own run of that seed.
"""
from __future__ import annotations

import math
import sys
import time

import torch
import torch.nn.functional as F

from core.config import ModelConfig, RunConfig, TaskConfig, TrainConfig, validate
from core.executors import drive, train_one
from core.models import build_model
from core.tasks import make_task
from core.trainer import make_optimizer, train


def _cfg(T: int, steps: int, seed: int = 0, kind: str = "lstm") -> RunConfig:
    return validate(RunConfig(task=TaskConfig(seq_len=T), model=ModelConfig(hidden_size=64),
                              train=TrainConfig(steps=steps, seed=seed), models=(kind,)))


def threads(lengths=(25, 100), steps: int = 200, repeats: int = 2) -> None:
    print(f"seconds per run ({steps} steps, hidden 64), median of {repeats}, threads interleaved")
    for T in lengths:
        for kind in ("rnn", "lstm"):
            times: dict[int, list[float]] = {1: [], 2: []}
            for _ in range(repeats):
                for n in (1, 2):
                    torch.set_num_threads(n)
                    t0 = time.perf_counter()
                    drive(train_one(_cfg(T, steps, kind=kind)))
                    times[n].append(time.perf_counter() - t0)
            med = {n: sorted(v)[len(v) // 2] for n, v in times.items()}
            print(f"T={T:4d} {kind:5s} 1 thread {med[1]:6.2f} s   2 threads {med[2]:6.2f} s")


class BlockLSTM(torch.nn.Module):
    """S independent LSTMs (one per seed) as one nn.LSTM with block-diagonal weights."""

    def __init__(self, models: list, vocab: int, hidden: int, classes: int):
        super().__init__()
        S, H, V, C = len(models), hidden, vocab, classes
        self.S, self.V = S, V
        self.core = torch.nn.LSTM(S * V, S * H, batch_first=True)
        self.head = torch.nn.Linear(S * H, S * C)
        masks = {n: torch.zeros_like(p) for n, p in self.named_parameters()}
        self.seed_masks = [{n: torch.zeros_like(p) for n, p in self.named_parameters()} for _ in range(S)]
        with torch.no_grad():
            for p in self.parameters():
                p.zero_()
            for s, m in enumerate(models):
                src = dict(m.core.named_parameters())
                for name, p in self.core.named_parameters():
                    for g in range(4):  # gate blocks i, f, g, o
                        rows = slice(g * S * H + s * H, g * S * H + (s + 1) * H)
                        srows = slice(g * H, (g + 1) * H)
                        cols = slice(s * V, (s + 1) * V) if "ih" in name else slice(s * H, (s + 1) * H)
                        if p.dim() == 2:
                            p[rows, cols] = src[name][srows]
                            self.seed_masks[s]["core." + name][rows, cols] = 1
                        else:
                            p[rows] = src[name][srows]
                            self.seed_masks[s]["core." + name][rows] = 1
                self.head.weight[s * C:(s + 1) * C, s * H:(s + 1) * H] = m.head.weight
                self.head.bias[s * C:(s + 1) * C] = m.head.bias
                self.seed_masks[s]["head.weight"][s * C:(s + 1) * C, s * H:(s + 1) * H] = 1
                self.seed_masks[s]["head.bias"][s * C:(s + 1) * C] = 1
        for sm in self.seed_masks:
            for n in masks:
                masks[n] += sm[n]
        self.masks = masks

    def forward(self, xs: list[torch.Tensor]) -> torch.Tensor:
        x = torch.cat([F.one_hot(x, self.V).float() for x in xs], -1)  # (B, T, S*V)
        out, _ = self.core(x)
        return self.head(out[:, -1]).view(x.shape[0], self.S, -1)  # (B, S, C)

    def clip_and_mask(self, clip: float) -> list[float]:
        """Per seed: its own gradient norm and clipping, as if it trained alone."""
        named = dict(self.named_parameters())
        norms = []
        for sm in self.seed_masks:
            norms.append(math.sqrt(sum(float(((named[n].grad * m) ** 2).sum()) for n, m in sm.items())))
        for n, p in named.items():
            g = torch.zeros_like(p.grad)
            for s, sm in enumerate(self.seed_masks):
                g += p.grad * sm[n] * min(1.0, clip / (norms[s] + 1e-6))
            p.grad = g
        return norms


def batched(T: int = 100, steps: int = 100, seeds=(0, 1, 2)) -> None:
    torch.set_num_threads(1)
    cfgs = [_cfg(T, steps, seed=s) for s in seeds]
    task = make_task(cfgs[0].task)
    t0 = time.perf_counter()
    alone = [train(c).runs["lstm"] for c in cfgs]
    t_alone = time.perf_counter() - t0
    models = [build_model("lstm", task, c.model, c.train.seed) for c in cfgs]
    big = BlockLSTM(models, task.input_size, 64, task.output_size)
    opt = make_optimizer("adam", big.parameters(), cfgs[0].train.lr)
    gens = [torch.Generator().manual_seed(s) for s in seeds]
    losses: list[list[float]] = [[] for _ in seeds]
    t0 = time.perf_counter()
    for _ in range(steps):
        data = [task.sample(64, g) for g in gens]
        out = big([x for x, _ in data])
        per_seed = [task.loss(out[:, s], y) for s, (_, y) in enumerate(data)]
        opt.zero_grad(set_to_none=True)
        sum(per_seed).backward()  # a sum keeps each seed's gradient its own
        big.clip_and_mask(cfgs[0].train.clip)
        opt.step()
        for s, lv in enumerate(per_seed):
            losses[s].append(lv.item())
    t_big = time.perf_counter() - t0
    print(f"T={T}, {len(seeds)} seeds, {steps} steps, hidden 64, 1 thread")
    print(f"  one by one (trainer, incl. evaluation): {t_alone:6.2f} s")
    print(f"  block-diagonal, one model (no evaluation): {t_big:6.2f} s")
    for s, run in enumerate(alone):
        ref = [r["loss"] for r in run.steps]
        diffs = [abs(a - b) for a, b in zip(ref, losses[s])]
        first = next((i + 1 for i, d in enumerate(diffs) if d > 1e-6), None)
        print(f"  seed {seeds[s]}: max |loss diff| {max(diffs):.2e}, step 1 diff {diffs[0]:.1e}, "
              f"first step differing by >1e-6: {first}")


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "threads"
    {"threads": threads, "batched": batched}[what]()
