"""Vanilla RNN, LSTM and GRU behind one interface, with two ways through the same weights.

`forward` uses PyTorch's fused `nn.RNN` / `nn.LSTM` / `nn.GRU` (fast, for training). `trace`
unrolls the very same parameters one step at a time from the gate equations and returns every
hidden state and gate, so what the dashboard shows is what the trained model computes. Gate
order and parameter names are `nn.LSTM`'s own (i, f, g, o; GRU: r, z, n), so nothing is copied.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from core.config import ModelConfig
from core.tasks import Task

FUSED = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
MODEL_NAMES = {"rnn": "Vanilla RNN", "lstm": "LSTM", "gru": "GRU"}
GATES = {"rnn": (), "lstm": ("i", "f", "g", "o"), "gru": ("r", "z", "n")}


def lstm_cell(x_t, h, c, w_ih, w_hh, b_ih, b_hh):
    """One LSTM step, the explainer's equations; x_t (B, I), h and c (B, H)."""
    gates = x_t @ w_ih.T + b_ih + h @ w_hh.T + b_hh  # W·[h_{t-1}, x_t] + b, (B, 4H)
    ingate, forgetgate, cellgate, outgate = gates.chunk(4, 1)
    i = torch.sigmoid(ingate)  # how much of the candidate to write
    f = torch.sigmoid(forgetgate)  # how much of the old cell to keep
    g = torch.tanh(cellgate)  # the candidate
    o = torch.sigmoid(outgate)  # how much of the cell to show
    c = f * c + i * g  # the conveyor belt: additive, so gradients can ride it back
    h = o * torch.tanh(c)
    return h, c, (i, f, g, o)


def gru_cell(x_t, h, w_ih, w_hh, b_ih, b_hh):
    """One GRU step (PyTorch's formulation: the reset gate applies after W_hn)."""
    xr, xz, xn = (x_t @ w_ih.T + b_ih).chunk(3, 1)
    hr, hz, hn = (h @ w_hh.T + b_hh).chunk(3, 1)
    r = torch.sigmoid(xr + hr)
    z = torch.sigmoid(xz + hz)
    n = torch.tanh(xn + r * hn)
    h = (1 - z) * n + z * h
    return h, (r, z, n)


def rnn_cell(x_t, h, w_ih, w_hh, b_ih, b_hh):
    """One vanilla RNN step: everything passes through the same tanh every step."""
    return torch.tanh(x_t @ w_ih.T + b_ih + h @ w_hh.T + b_hh)


class SeqModel(nn.Module):
    """Encoder (one-hot for symbols, identity for real-valued channels) -> recurrent core -> head
    read at the last step (a class per symbol, or one number for regression)."""

    def __init__(self, kind: str, task: Task, cfg: ModelConfig):
        super().__init__()
        self.kind, self.input_kind = kind, task.input_kind
        self.input_size, self.hidden_size = task.input_size, cfg.hidden_size
        self.core = FUSED[kind](self.input_size, cfg.hidden_size, batch_first=True)
        self.head = nn.Linear(cfg.hidden_size, task.output_size)
        if kind == "lstm":
            init_forget_bias(self.core, cfg.forget_init, task.T)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        dtype = self.head.weight.dtype
        if self.input_kind == "tokens":
            return F.one_hot(x, self.input_size).to(dtype)  # (B, T, V)
        return x.to(dtype)  # (B, T, C)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.core(self.encode(x))  # (B, T, H)
        return self.head(out[:, -1])  # (B, out)

    def final_state(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Fused path: h_t for every t and the final state(s)."""
        out, state = self.core(self.encode(x))
        if self.kind == "lstm":
            return {"h": out, "h_T": state[0][0], "c_T": state[1][0]}
        return {"h": out, "h_T": state[0]}

    def params(self) -> tuple[torch.Tensor, ...]:
        c = self.core
        return c.weight_ih_l0, c.weight_hh_l0, c.bias_ih_l0, c.bias_hh_l0

    def trace(self, x: torch.Tensor, keep_graph: bool = False) -> dict[str, torch.Tensor]:
        """Step-by-step path through the same weights.

        Returns h (B, T, H), the readout of the head at every step `out` (B, T, out), and for
        the LSTM c, i, f, g, o (B, T, H); for the GRU r, z, n. With keep_graph, also `hs`: the
        list of per-step h tensors inside the autograd graph (for gradient probes).
        """
        xe = self.encode(x)  # (B, T, I)
        B, T, _ = xe.shape
        h = xe.new_zeros(B, self.hidden_size)
        c = xe.new_zeros(B, self.hidden_size)
        hs, cs, gates = [], [], {g: [] for g in GATES[self.kind]}
        w = self.params()
        for t in range(T):
            if self.kind == "lstm":
                h, c, gs = lstm_cell(xe[:, t], h, c, *w)
                cs.append(c)
            elif self.kind == "gru":
                h, gs = gru_cell(xe[:, t], h, *w)
            else:
                h, gs = rnn_cell(xe[:, t], h, *w), ()
            for name, g in zip(GATES[self.kind], gs):
                gates[name].append(g)
            hs.append(h)
        result = {"h": torch.stack(hs, 1)}  # (B, T, H)
        result["out"] = self.head(result["h"])  # (B, T, out): the answer if read at each step
        if cs:
            result["c"] = torch.stack(cs, 1)
        for name, g in gates.items():
            result[name] = torch.stack(g, 1)
        if keep_graph:
            result["hs"] = hs  # type: ignore[assignment]
        return result


def init_forget_bias(lstm: nn.LSTM, how: str, seq_len: int) -> None:
    """Set the forget-gate bias: zero (PyTorch default), one (Gers et al. 2000; Jozefowicz et al.
    2015) or chrono (Tallec & Ollivier 2018: b_f = log U(1, T-1), b_i = -b_f).

    nn.LSTM has two biases that are summed; the chosen value goes in bias_hh and the forget part
    of bias_ih is zeroed, so "zero" means a forget bias of exactly 0, not PyTorch's small random
    one. Uses the global RNG, so it is seeded with the rest of the initialisation.
    """
    H = lstm.hidden_size
    f, i = slice(H, 2 * H), slice(0, H)
    with torch.no_grad():
        lstm.bias_ih_l0[f] = 0.0
        if how == "zero":
            lstm.bias_hh_l0[f] = 0.0
        elif how == "one":
            lstm.bias_hh_l0[f] = 1.0
        elif how == "chrono":
            t_max = max(seq_len - 1, 2)
            b_f = torch.log(torch.empty(H).uniform_(1.0, t_max))
            lstm.bias_hh_l0[f] = b_f
            lstm.bias_ih_l0[i] = 0.0
            lstm.bias_hh_l0[i] = -b_f
        else:
            raise ValueError(f"unknown forget_init {how!r}")


def build_model(kind: str, task: Task, cfg: ModelConfig, seed: int) -> SeqModel:
    """A model whose initial weights depend only on (seed, kind): it gets the same start whether
    it trains alone or beside other models."""
    offset = {"rnn": 0, "lstm": 1, "gru": 2}[kind]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed * 1000 + offset)
        return SeqModel(kind, task, cfg)


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def expected_forget(model: SeqModel) -> float | None:
    """Mean of sigmoid(b_f) at initialisation: how much an untrained LSTM keeps per step."""
    if model.kind != "lstm":
        return None
    H = model.hidden_size
    b = model.core.bias_ih_l0[H : 2 * H] + model.core.bias_hh_l0[H : 2 * H]
    return float(torch.sigmoid(b.detach()).mean())


__all__ = [
    "SeqModel", "build_model", "lstm_cell", "gru_cell", "rnn_cell", "init_forget_bias",
    "MODEL_NAMES", "GATES", "n_params", "expected_forget",
]
