"""The mechanism, measured: the gradient along the LSTM's belt, and the 1997 cell that can only grow.

Along the cell state alone, dc_t / dc_{t-1} = f_t (elementwise), so the gradient that reaches c_t
from the answer at step T along the belt is the gradient at c_T times the product of the forget
gates in between: dL/dc_t = dL/dc_T * prod_{s=t+1..T} f_s. `belt_gradient` computes that prediction
from the gates and measures the real ||dL/dc_t|| (every path: through h_t, the gates and later
writes too) on the same batch, so a chart can lay one on the other (core.charts.cell). Where they
agree, the belt is the path the gradient takes.

Without a forget gate (the 1997 LSTM, forget_init="none": f_t = 1 exactly) the prediction is flat:
nothing fades along the belt, and nothing can be removed from it either: `cell_growth` measures
||c_t|| step by step, which such a cell can only add to.

Time steps count from 1 in the frames (t = 1 the first input), as the charts and the tour do.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import torch

from core.inspection import model_from_weights, probe_batch, resolve_step
from core.models import SeqModel
from core.results import RunResult
from core.tasks import Task, make_task

START_NAMES = {"chrono": "chrono start", "zero": "zero start (f ≈ 0.5)", "one": "forget bias 1",
               "none": "no forget gate (1997)"}


def belt_gradient(model: SeqModel, task: Task, x: torch.Tensor, y: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """(measured, predicted), each (T,): the mean over examples of ||dL_b/dc_t|| (each example's own
    loss at the last step, as core.inspection.grad_through_time) and of ||dL_b/dc_T * prod_{s>t} f_s||,
    the part of it the belt alone carries back, from the forget gates of the same pass. Float64 norms."""
    if model.kind != "lstm":
        raise ValueError("the belt is the LSTM's: this model has no cell state")
    was_training = model.training
    model.eval()
    with torch.enable_grad():
        tr = model.trace(x, keep_graph=True)
        loss = task.loss(tr["out"][:, -1], y) * len(y)
        grads = torch.autograd.grad(loss, tr["cs"])  # T tensors (B, H): the total derivative at each c_t
    model.train(was_training)
    g = torch.stack(grads, 1).detach().double()  # (B, T, H)
    f = tr["f"].detach().double()  # (B, T, H)
    # prod_{s=t+1..T} f_s for every t: reversed cumulative product, shifted by one (1 at t = T)
    after = torch.flip(torch.cumprod(torch.flip(f[:, 1:], [1]), 1), [1])  # (B, T-1, H)
    after = torch.cat([after, torch.ones_like(f[:, :1])], 1)  # (B, T, H)
    predicted = g[:, -1:] * after
    return g.norm(dim=-1).mean(0).numpy(), predicted.norm(dim=-1).mean(0).numpy()


def _as_list(v: RunResult | Sequence[RunResult]) -> list[RunResult]:
    return [v] if isinstance(v, RunResult) else list(v)


def start_of(result: RunResult) -> str:
    return START_NAMES.get(result.runs["lstm"].config.model.forget_init, result.runs["lstm"].config.model.forget_init)


def belt_frame(results: Mapping[str, RunResult | Sequence[RunResult]], step: int | None = None) -> pd.DataFrame:
    """label, start, task, seed, step, t (from 1), gap (T - t: steps back from the answer), measured,
    predicted: `belt_gradient` of the LSTM of every result (one per seed under a label, e.g.
    {"chrono": results["long"], "zero": results["zero_forget"]}), at its checkpoint nearest `step`
    (default: the last), on its task's probe batch. Results without an LSTM are skipped."""
    frames = []
    for label, rs in results.items():
        for r in _as_list(rs):
            run = r.runs.get("lstm")
            if run is None or not run.checkpoints:
                continue
            task = make_task(run.config.task)
            at = resolve_step(run, step)
            x, y = probe_batch(task)
            measured, predicted = belt_gradient(model_from_weights(run.config, "lstm", run.checkpoints[at]), task, x, y)
            T = len(measured)
            frames.append(pd.DataFrame({
                "label": label, "start": start_of(r), "task": f"{task.title}, T = {T}", "seed": run.config.train.seed,
                "step": at, "t": np.arange(1, T + 1), "gap": T - np.arange(1, T + 1), "measured": measured,
                "predicted": predicted}))
    cols = ["label", "start", "task", "seed", "step", "t", "gap", "measured", "predicted"]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)


@torch.no_grad()
def cell_growth(model: SeqModel, x: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """(norm, largest), each (T,): the mean over examples of ||c_t|| and of max_units |c_t|."""
    c = model.trace(x)["c"].double()  # (B, T, H)
    return c.norm(dim=-1).mean(0).numpy(), c.abs().amax(-1).mean(0).numpy()


def growth_frame(results: Mapping[str, RunResult | Sequence[RunResult]], step: int | None = None) -> pd.DataFrame:
    """label, start, task, seed, step, t (from 1), c_norm, c_max: `cell_growth` of the LSTM of every
    result on its task's probe batch, at its checkpoint nearest `step` (default: the last), e.g.
    {"chrono": results["but_long"], "no forget gate": results["no_forget"]}."""
    frames = []
    for label, rs in results.items():
        for r in _as_list(rs):
            run = r.runs.get("lstm")
            if run is None or not run.checkpoints:
                continue
            task = make_task(run.config.task)
            at = resolve_step(run, step)
            norm, largest = cell_growth(model_from_weights(run.config, "lstm", run.checkpoints[at]), probe_batch(task)[0])
            T = len(norm)
            frames.append(pd.DataFrame({
                "label": label, "start": start_of(r), "task": f"{task.title}, T = {T}", "seed": run.config.train.seed,
                "step": at, "t": np.arange(1, T + 1), "c_norm": norm, "c_max": largest}))
    cols = ["label", "start", "task", "seed", "step", "t", "c_norm", "c_max"]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)


__all__ = ["belt_gradient", "belt_frame", "cell_growth", "growth_frame", "start_of", "START_NAMES"]
