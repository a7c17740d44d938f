"""Probes: what a model does inside, computed from real weights.

- `grad_through_time`: ||dL/dh_t|| for every t on a fixed batch, the vanishing-gradient picture.
- `traces`: h_t, c_t and every gate for a few examples (the step-by-step path of the model).
- `model_from_weights`: rebuild a model as it was at a kept checkpoint.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from core.config import RunConfig
from core.models import SeqModel, build_model
from core.results import ModelRun, RunResult
from core.tasks import Task, make_task

PROBE_BATCH = 64  # examples of the held-out batch used for the gradient probe


def grad_through_time(model: SeqModel, task: Task, x: torch.Tensor, y: torch.Tensor) -> np.ndarray:
    """(T,) mean over examples of ||dL_b/dh_t||: how strongly example b's loss at the last step
    reaches back to the hidden state at step t (all paths through later steps included).

    Each example's own loss is used (the batch loss summed, not averaged), so the numbers do not
    shrink with the batch size.
    """
    was_training = model.training
    model.eval()
    with torch.enable_grad():
        tr = model.trace(x, keep_graph=True)
        out = tr["out"][:, -1]  # (B, out): the answer is read at the last step
        loss = task.loss(out, y) * len(y)  # sum over examples
        grads = torch.autograd.grad(loss, tr["hs"])  # T tensors, each (B, H)
    model.train(was_training)
    # norm in float64: squaring float32 entries below ~1e-19 underflows to 0, and a vanilla RNN's
    # gradient is that small a few dozen steps back, while the gradient itself is still nonzero
    g = torch.stack(grads, 1).double()  # (B, T, H)
    return g.norm(dim=-1).mean(0).detach().cpu().numpy()


@torch.no_grad()
def traces(model: SeqModel, x: torch.Tensor) -> dict[str, np.ndarray]:
    """Every per-step quantity of the step-by-step path, as float32 arrays (B, T, ...)."""
    tr = model.trace(x)
    return {k: v.detach().cpu().float().numpy() for k, v in tr.items()}


def state_arrays(model: SeqModel) -> dict[str, np.ndarray]:
    """A model's weights as plain arrays (what runs keep at checkpoints; never pickled)."""
    return {k: v.detach().cpu().float().numpy().copy() for k, v in model.state_dict().items()}


def model_from_weights(cfg: RunConfig, kind: str, weights: dict[str, np.ndarray]) -> SeqModel:
    task = make_task(cfg.task)
    model = build_model(kind, task, cfg.model, cfg.train.seed)
    model.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in weights.items()})
    return model.eval()


def probe_batch(task: Task) -> tuple[torch.Tensor, torch.Tensor]:
    x, y = task.eval_batch()
    return x[:PROBE_BATCH], y[:PROBE_BATCH]


def decay_ratio(grad: np.ndarray) -> float:
    """||dL/dh_1|| / ||dL/dh_T||: below 1 the signal fades on its way back; log10 of it is the
    number of orders of magnitude lost across the sequence."""
    last = float(grad[-1])
    return float(grad[0]) / last if last > 0 else float("nan")


def fill_grad_probes(run: ModelRun) -> None:
    """Compute the gradient probe of every kept checkpoint of a ModelRun that lacks one."""
    missing = [s for s in run.checkpoints if s not in run.grad_probes]
    if not missing:
        return
    task = make_task(run.config.task)
    x, y = probe_batch(task)
    for step in sorted(missing):
        model = model_from_weights(run.config, run.kind, run.checkpoints[step])
        run.grad_probes[step] = grad_through_time(model, task, x, y)


def checkpoint_traces(run: ModelRun, x: torch.Tensor) -> dict[int, dict[str, np.ndarray]]:
    """Traces of examples x at every kept checkpoint of a ModelRun: step -> name -> (B, T, ...)."""
    return {step: traces(model_from_weights(run.config, run.kind, w), x)
            for step, w in sorted(run.checkpoints.items())}


def grad_frame(result: RunResult) -> pd.DataFrame:
    """Long table: model, step (training step of the checkpoint), t (time step), grad_norm.
    Probes missing for a kept checkpoint are computed from its weights here, once."""
    frames = []
    for k, r in result.runs.items():
        fill_grad_probes(r)
        for step, g in sorted(r.grad_probes.items()):
            frames.append(pd.DataFrame({"model": k, "step": step, "t": np.arange(len(g)), "grad_norm": g}))
    if not frames:
        return pd.DataFrame(columns=["model", "step", "t", "grad_norm"])
    return pd.concat(frames, ignore_index=True)
