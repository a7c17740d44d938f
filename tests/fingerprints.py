"""Fingerprints of every (kind, init)'s initial weights and of a short training run, recorded per platform.

Bits are promised per platform (torch build and CPU): on another CPU the orthogonal start's QR, the chrono
start's log and the last bits of a loss differ (measured: 1 float32 step in 4 of the 256 chrono biases between
an Intel Xeon and an AMD EPYC, 1.2e-8 relative in a loss after 20 steps). So each recording keeps two things:
- `bits`: per platform, a sha256 of each model's weights and the exact evaluations of each run; a platform
  that has a recording is held to it bit for bit;
- `values`: one platform's numbers (each weight tensor's sum, sum of squares and 16 values at fixed places;
  each run's evaluations), which every other platform must match within WEIGHT_RTOL / LOSS_RTOL /
  METRIC_ATOL. Those are orders of magnitude above the differences between CPUs and orders below what a
  changed draw, seed or training step does (tests/test_same_numbers.py shows both).

`python -m tests.fingerprints` records this platform's bits into tests/data/same_numbers.json (and the
values, with --values), with one torch thread as the lab trains.
"""
from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np
import torch

from core.config import ModelConfig, RunConfig, TaskConfig, TrainConfig, validate
from core.models import build_model
from core.reference.build import platform_info
from core.tasks import make_task
from core.trainer import train

FILE = Path(__file__).parent / "data" / "same_numbers.json"
INITS = {"rnn": ("rnn_init", ("default", "orthogonal", "irnn")),
         "lstm": ("forget_init", ("zero", "one", "chrono")),
         "gru": ("gru_init", ("default", "chrono"))}
CASES = [(k, f, i) for k, (f, inits) in INITS.items() for i in inits]
SHAPES = (("first_token", 20), ("adding", 10), ("sentiment_but", 30))
SAMPLES = 16
WEIGHT_RTOL, WEIGHT_ATOL = 1e-5, 1e-6  # CPUs differ by ~1e-7 relative; a changed draw by ~1
LOSS_RTOL, METRIC_ATOL = 1e-5, 2 / 512  # a loss differs by ~1e-8 relative; an accuracy by at most 2 of 512


def platform_key() -> str:
    """The platform bits are promised on: the CPU, the machine and the torch build."""
    p = platform_info()
    return f"{p['cpu']} | {p['machine']} | torch {p['torch']}"


def model_cases(kind: str, field: str, init: str):
    """(key, config) of every initial-weight fingerprint of one (kind, init)."""
    for task, T in SHAPES:
        for hidden in (8, 64):
            cfg = validate(RunConfig(task=TaskConfig(name=task, seq_len=T),
                                     model=ModelConfig(hidden_size=hidden, **{field: init}), models=(kind,)))
            for seed in (0, 3):
                yield f"{kind}:{init}|{task}|T={T}|H={hidden}|seed={seed}", cfg, seed


def build(cfg: RunConfig, seed: int) -> torch.nn.Module:
    return build_model(cfg.models[0], make_task(cfg.task), cfg.model, seed)


def run_config(kind: str, field: str, init: str, **train) -> RunConfig:
    return validate(RunConfig(task=TaskConfig(name="first_token", seq_len=10),
                              model=ModelConfig(hidden_size=16, **{field: init}), models=(kind,),
                              train=TrainConfig(**{"steps": 40, "eval_every": 20, "n_checkpoints": 2, "seed": 1,
                                                   **train})))


def evaluations(cfg: RunConfig) -> list[list[float]]:
    run = train(cfg).runs[cfg.models[0]]
    return [[e["step"], float(e["metric"]), float(e["loss"])] for e in run.evals]


def digest(model: torch.nn.Module) -> str:
    h = hashlib.sha256()
    for name, p in model.state_dict().items():
        h.update(name.encode())
        h.update(p.detach().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def weight_values(model: torch.nn.Module) -> dict[str, list[float]]:
    """Per tensor: its sum, its sum of squares (float64) and SAMPLES values at fixed places."""
    out = {}
    for name, p in model.state_dict().items():
        a = p.detach().numpy().ravel()
        at = np.linspace(0, a.size - 1, min(SAMPLES, a.size)).astype(int)
        a64 = a.astype(np.float64)
        out[name] = [float(a64.sum()), float((a64 ** 2).sum()), *(float(v) for v in a[at])]
    return out


def weight_mismatches(got: dict[str, list[float]], want: dict[str, list[float]]) -> list[str]:
    """The tensors whose fingerprint is outside the tolerance (empty: they match)."""
    if set(got) != set(want):
        return [f"tensors {sorted(set(got) ^ set(want))}"]
    return [name for name in want if not np.allclose(got[name], want[name], rtol=WEIGHT_RTOL, atol=WEIGHT_ATOL)]


def run_mismatches(got: list[list[float]], want: list[list[float]]) -> list[str]:
    """The evaluations outside the tolerance: another step, a metric off by more than METRIC_ATOL or a
    loss by more than LOSS_RTOL (empty: they match)."""
    if [g[0] for g in got] != [w[0] for w in want]:
        return [f"steps {[g[0] for g in got]} != {[w[0] for w in want]}"]
    return [f"step {w[0]}: {g[1:]} != {w[1:]}" for g, w in zip(got, want)
            if abs(g[1] - w[1]) > METRIC_ATOL or not np.isclose(g[2], w[2], rtol=LOSS_RTOL, atol=0)]


def record(values: bool) -> dict:
    torch.set_num_threads(1)
    data = json.loads(FILE.read_text()) if FILE.exists() else {"bits": {}}
    bits = {"weights": {}, "runs": {}}
    vals = {"platform": platform_key(), "weights": {}, "runs": {}}
    for case in CASES:
        for key, cfg, seed in model_cases(*case):
            m = build(cfg, seed)
            bits["weights"][key] = digest(m)
            vals["weights"][key] = weight_values(m)
        key = f"{case[0]}:{case[2]}"
        bits["runs"][key] = vals["runs"][key] = evaluations(run_config(*case))
    data["bits"][platform_key()] = bits
    if values or "values" not in data:
        data["values"] = vals
    FILE.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    return data


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description="Record this platform's fingerprints into " + str(FILE))
    ap.add_argument("--values", action="store_true", help="also make this platform's numbers the tolerant values")
    record(ap.parse_args().values)
    print(f"recorded {platform_key()} into {FILE}")
