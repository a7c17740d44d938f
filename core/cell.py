"""One step of a trained cell, every quantity of the explainer's diagram: the data behind `/cell`.

The explainer draws the LSTM cell: x_t and h_{t-1} into three sigmoid gates and a tanh candidate,
the cell state running along the top (x f_t, + i_t * c~_t), tanh(c_t) x o_t out to h_t. `cell_step`
reads every one of those quantities at step t of one input from the model's step-by-step `trace`
(core.models), for a few units, so the picture (core.charts.cell) shows what the model computed. The
GRU (reset, update, candidate) and the vanilla RNN (one tanh) are read the same way.

Which units: `informative_units`, those whose last state differs most between the task's held-out
showcase examples (which differ in their information), the rule chapter 3 uses for the LSTM's cell.

Steps count from 0 here, as in the library; the chart counts them from 1.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from core.inspection import model_from_weights, resolve_step, showcase, traces
from core.results import ModelRun
from core.tasks import Task, make_task

UNITS_SHOWN = 3  # units drawn side by side in each box of the diagram

# Each kind's quantities in the diagram, in drawing order: name -> what it is. Names of the trace
# (i, f, g, o, c, h; r, z, n) are the trace's own values; the others are products of them.
QUANTITIES = {
    "lstm": {"h_prev": "h_{t-1}", "c_prev": "c_{t-1}", "f": "f_t forget gate", "i": "i_t input gate",
             "g": "c̃_t candidate", "o": "o_t output gate", "kept": "f_t ⊙ c_{t-1} (kept)",
             "written": "i_t ⊙ c̃_t (written)", "c": "c_t", "tanh_c": "tanh(c_t)", "h": "h_t"},
    "gru": {"h_prev": "h_{t-1}", "r": "r_t reset gate", "z": "z_t update gate", "n": "n_t candidate",
            "kept": "z_t ⊙ h_{t-1} (kept)", "written": "(1 − z_t) ⊙ n_t (written)", "h": "h_t"},
    "rnn": {"h_prev": "h_{t-1}", "h": "h_t"},
}
# The equations each diagram carries (PyTorch's formulation, the explainer's notation)
EQUATIONS = {
    "lstm": ("f_t = σ(W_f·[h_{t-1}, x_t] + b_f)", "i_t = σ(W_i·[h_{t-1}, x_t] + b_i)",
             "c̃_t = tanh(W_c·[h_{t-1}, x_t] + b_c)", "c_t = f_t ⊙ c_{t-1} + i_t ⊙ c̃_t",
             "o_t = σ(W_o·[h_{t-1}, x_t] + b_o)", "h_t = o_t ⊙ tanh(c_t)"),
    "gru": ("r_t = σ(W_r·[h_{t-1}, x_t] + b_r)", "z_t = σ(W_z·[h_{t-1}, x_t] + b_z)",
            "n_t = tanh(W_n·x_t + b_n + r_t ⊙ (U_n·h_{t-1} + c_n))", "h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t-1}"),
    "rnn": ("h_t = tanh(W·[h_{t-1}, x_t] + b)",),
}
GATES = ("f", "i", "o", "r", "z")  # in [0, 1]
CELL = ("c_prev", "kept", "written", "c")  # the LSTM's belt: unbounded


@dataclass
class CellStep:
    """A cell at step t (from 0) of one input: each quantity's values for `units`, the word read at t
    and the range of the belt over the whole input (the colour scale's, so colours compare across t)."""

    kind: str
    title: str  # "LSTM", "LSTM (1997: no forget gate)"
    t: int
    T: int
    word: str
    units: list[int]
    values: dict[str, np.ndarray]  # quantity -> (len(units),)
    step: int  # the training step of the weights
    belt_max: float  # max |c_t| (LSTM) or |h_t| over every t, for the units shown

    def frame(self) -> pd.DataFrame:
        """quantity, label, unit, value, t (from 1): every number the diagram shows."""
        names = QUANTITIES[self.kind]
        rows = [{"quantity": q, "label": names[q], "unit": int(u), "value": float(v), "t": self.t + 1}
                for q in names for u, v in zip(self.units, self.values[q])]
        return pd.DataFrame(rows, columns=["quantity", "label", "unit", "value", "t"])


def step_values(tr: dict[str, np.ndarray], kind: str, t: int, units: list[int]) -> dict[str, np.ndarray]:
    """Every quantity of the diagram at step t of example 0 of a trace (core.inspection.traces), for
    `units`: the trace's own values, and the products the diagram adds (kept, written, tanh(c_t))
    computed from them in the trace's float32."""
    T = tr["h"].shape[1]
    if not 0 <= t < T:
        raise ValueError(f"time step must be between 1 and {T}, got {t + 1}")
    u = np.asarray(units, dtype=int)
    at = {k: v[0, t, u] for k, v in tr.items() if k != "out"}  # (U,) each
    zero = np.zeros(len(u), dtype=tr["h"].dtype)
    h_prev = tr["h"][0, t - 1, u] if t > 0 else zero
    if kind == "lstm":
        c_prev = tr["c"][0, t - 1, u] if t > 0 else zero
        return {"h_prev": h_prev, "c_prev": c_prev, "f": at["f"], "i": at["i"], "g": at["g"], "o": at["o"],
                "kept": at["f"] * c_prev, "written": at["i"] * at["g"], "c": at["c"],
                "tanh_c": np.tanh(at["c"]), "h": at["h"]}
    if kind == "gru":
        return {"h_prev": h_prev, "r": at["r"], "z": at["z"], "n": at["n"], "kept": at["z"] * h_prev,
                "written": (1 - at["z"]) * at["n"], "h": at["h"]}
    return {"h_prev": h_prev, "h": at["h"]}


def cell_step(run: ModelRun, x: torch.Tensor, t: int, units: list[int], step: int | None = None,
              words: list[str] | None = None) -> CellStep:
    """The cell of `run` at step t (from 0) of input x (1, T), with the weights of its checkpoint
    nearest `step` (default: its last). ValueError (one line) for a t outside the input."""
    at = resolve_step(run, step)
    model = model_from_weights(run.config, run.kind, run.checkpoints[at])
    tr = traces(model, x[:1])
    values = step_values(tr, run.kind, t, units)
    belt = tr["c" if run.kind == "lstm" else "h"][0][:, np.asarray(units, dtype=int)]
    word = words[t] if words is not None else model_task(run).render(x[:1])[0][t]
    return CellStep(run.kind, run.title, t, x.shape[1], word, list(map(int, units)), values, at,
                    float(np.abs(belt).max()) if belt.size else 0.0)


def model_task(run: ModelRun) -> Task:
    return make_task(run.config.task)


def informative_units(run: ModelRun, k: int = UNITS_SHOWN, step: int | None = None) -> list[int]:
    """The k units that hold the task's information: those whose last state (c_T for the LSTM, h_T
    otherwise) differs most between the held-out showcase examples, largest spread first (the rule of
    chapter 3's `holding_units`, for every kind)."""
    task = model_task(run)
    x, _, _ = showcase(task)
    model = model_from_weights(run.config, run.kind, run.checkpoints[resolve_step(run, step)])
    tr = traces(model, x)
    last = tr["c" if run.kind == "lstm" else "h"][:, -1].astype(np.float64)  # (B, H)
    spread = last.std(axis=0)
    return [int(u) for u in np.argsort(-spread, kind="stable")[:k]]


__all__ = ["CellStep", "cell_step", "step_values", "informative_units", "QUANTITIES", "EQUATIONS", "GATES", "CELL",
           "UNITS_SHOWN"]
