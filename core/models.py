"""Vanilla RNN, LSTM and GRU behind one interface, with two ways through the same weights.

`forward` uses PyTorch's fused `nn.RNN` / `nn.LSTM` / `nn.GRU` (fast, for training). `trace`
unrolls the very same parameters one step at a time from the gate equations and returns every
hidden state and gate, so what the dashboard shows is what the trained model computes. Gate
order and parameter names are `nn.LSTM`'s own (i, f, g, o; GRU: r, z, n), so nothing is copied.

Everything the lab knows about a model kind lives in its `Kind` below (title, fused module, cell,
gates, which config fields it reads, what its heatmaps show); `MODELS` is the registry built
from them. Adding a kind is one `register(Kind(...))` here and a parity test.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterator

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from core import registry
# the starts a config offers (core.config), implemented here: init_forget_bias, init_rnn, init_update_bias
from core.config import FORGET_INITS, GRU_INITS, RNN_INITS, init_of, model_kinds  # noqa: F401 (re-exported)

if TYPE_CHECKING:  # type hints only
    from core.config import ModelConfig
    from core.tasks import Task


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


def rnn_cell(x_t, h, w_ih, w_hh, b_ih, b_hh, nonlinearity: str = "tanh"):
    """One vanilla RNN step: everything passes through the same squashing every step (tanh; the
    IRNN uses relu, so an identity W_hh carries h forward unchanged)."""
    pre = x_t @ w_ih.T + b_ih + h @ w_hh.T + b_hh
    return torch.relu(pre) if nonlinearity == "relu" else torch.tanh(pre)


# --- the registry of model kinds -----------------------------------------------------------------
# A step of the trace: (x_t, state, *weights) -> (new state, gates). state[0] is h_t; an LSTM's
# state is (h_t, c_t).
Step = Callable[..., tuple[tuple[torch.Tensor, ...], tuple[torch.Tensor, ...]]]


def _lstm_step(x_t, state, *w):
    h, c, gates = lstm_cell(x_t, *state, *w)
    return (h, c), gates


def _gru_step(x_t, state, *w):
    h, gates = gru_cell(x_t, state[0], *w)
    return (h,), gates


def _rnn_step(x_t, state, *w, nonlinearity: str = "tanh"):
    return (rnn_cell(x_t, state[0], *w, nonlinearity=nonlinearity),), ()


@dataclass(frozen=True)
class Kind:
    """One model kind, everything about it in one place."""

    key: str  # "lstm": in configs, URLs, file names
    title: str  # "LSTM": in every chart, verdict and caption
    fused: type[nn.RNNBase]  # PyTorch's fused module, used for training
    step: Step  # one step of the trace, from the equations
    gates: tuple[str, ...]  # names of the gates `step` returns, in order
    state: tuple[str, ...]  # names of the state `step` carries ("h", "c")
    panels: tuple[str, ...]  # what the inspection heatmaps show for it
    seed_offset: int  # initial weights depend on (seed, kind) only
    # after PyTorch's start: (fused module, config, seq_len, the run's generator)
    init: Callable[[nn.RNNBase, "ModelConfig", int, torch.Generator], None] | None = None
    init_field: str | None = None  # the ModelConfig field naming its initialisation (sweep variants)
    init_labels: Mapping[str, str] | None = None  # init -> how titles name it ("irnn" -> "IRNN init")
    # keyword arguments the config sets on both the fused module and the trace's step (the IRNN's
    # nonlinearity="relu"), so the two paths always compute the same function
    options: Callable[["ModelConfig"], dict] | None = None


MODELS: dict[str, Kind] = registry.MODELS  # the registry core.config reads


def register(kind: Kind) -> Kind:
    MODELS[kind.key] = kind
    return kind


class _Titles(Mapping):
    """kind -> title, always in step with MODELS (a kind registered later shows up too)."""

    def __getitem__(self, key: str) -> str:
        return MODELS[key].title

    def __iter__(self) -> Iterator[str]:
        return iter(MODELS)

    def __len__(self) -> int:
        return len(MODELS)


MODEL_NAMES: Mapping[str, str] = _Titles()


class SeqModel(nn.Module):
    """Encoder (one-hot for symbols, identity for real-valued channels) -> recurrent core -> head
    read at the last step (a class per symbol, or one number for regression)."""

    def __init__(self, kind: str, task: Task, cfg: ModelConfig, gen: torch.Generator):
        super().__init__()
        spec = MODELS[kind]
        self.kind, self.input_kind = kind, task.input_kind
        self.input_size, self.hidden_size = task.input_size, cfg.hidden_size
        self.options = spec.options(cfg) if spec.options is not None else {}  # e.g. nonlinearity
        # made on the meta device (no draw), given memory, then filled from the run's own generator
        # in the order and with the distributions of PyTorch's own reset_parameters
        self.core = spec.fused(self.input_size, cfg.hidden_size, batch_first=True, device="meta",
                               **self.options).to_empty(device="cpu")
        self.head = nn.Linear(cfg.hidden_size, task.output_size, device="meta").to_empty(device="cpu")
        with torch.no_grad():
            reset_fused(self.core, gen)
            reset_linear(self.head, gen)
            if spec.init is not None:
                spec.init(self.core, cfg, task.seq_len, gen)

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
        if isinstance(state, tuple):  # LSTM: (h_n, c_n)
            return {"h": out, "h_T": state[0][0], "c_T": state[1][0]}
        return {"h": out, "h_T": state[0]}

    def answer(self, tr: dict[str, torch.Tensor]) -> torch.Tensor:
        """What the task's loss scores in a trace: the read-out at the last step (B, out)."""
        return tr["out"][:, -1]

    def params(self) -> tuple[torch.Tensor, ...]:
        c = self.core
        return c.weight_ih_l0, c.weight_hh_l0, c.bias_ih_l0, c.bias_hh_l0

    def trace(self, x: torch.Tensor, keep_graph: bool = False) -> dict[str, torch.Tensor]:
        """Step-by-step path through the same weights.

        Returns h (B, T, H), the readout of the head at every step `out` (B, T, out), and for
        the LSTM c, i, f, g, o (B, T, H); for the GRU r, z, n. With keep_graph, also `hs` (and for
        the LSTM `cs`): the lists of per-step h (c) tensors inside the autograd graph (gradient probes).
        """
        return self.trace_encoded(self.encode(x), keep_graph)

    def trace_encoded(self, xe: torch.Tensor, keep_graph: bool = False) -> dict[str, torch.Tensor]:
        """`trace` from the encoded input xe (B, T, I): one-hot rows for symbols, the values for
        real-valued channels. The connectivity probe differentiates the read-out with respect to it."""
        spec = MODELS[self.kind]
        B, T, _ = xe.shape
        state = tuple(xe.new_zeros(B, self.hidden_size) for _ in spec.state)  # (h,) or (h, c)
        kept: dict[str, list[torch.Tensor]] = {n: [] for n in (*spec.state, *spec.gates)}
        w = self.params()
        for t in range(T):
            state, gs = spec.step(xe[:, t], state, *w, **self.options)
            for name, v in zip((*spec.state, *spec.gates), (*state, *gs)):
                kept[name].append(v)
        result = {name: torch.stack(vs, 1) for name, vs in kept.items()}  # each (B, T, H)
        result["out"] = self.head(result["h"])  # (B, T, out): the answer if read at each step
        if keep_graph:
            result["hs"] = kept["h"]  # type: ignore[assignment]
            if "c" in kept:  # the LSTM's belt, for the gradient along it (core.belt)
                result["cs"] = kept["c"]  # type: ignore[assignment]
        return result


def reset_fused(core: nn.RNNBase, gen: torch.Generator) -> None:
    """PyTorch's start for nn.RNN / nn.LSTM / nn.GRU (RNNBase.reset_parameters): every parameter
    U(-1/sqrt(H), 1/sqrt(H)), in parameter order, drawn from `gen`."""
    stdv = 1.0 / math.sqrt(core.hidden_size) if core.hidden_size > 0 else 0.0
    for w in core.parameters():
        nn.init.uniform_(w, -stdv, stdv, generator=gen)


def reset_linear(lin: nn.Linear, gen: torch.Generator) -> None:
    """PyTorch's start for nn.Linear (Linear.reset_parameters), drawn from `gen`: weight
    kaiming_uniform(a=sqrt(5)), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)), then the bias likewise."""
    nn.init.kaiming_uniform_(lin.weight, a=math.sqrt(5), generator=gen)
    if lin.bias is not None:
        fan_in = lin.weight.shape[1]
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        nn.init.uniform_(lin.bias, -bound, bound, generator=gen)


def init_forget_bias(lstm: nn.LSTM, how: str, seq_len: int, gen: torch.Generator, gate_start: str = "zero") -> None:
    """Set the forget-gate bias: zero (PyTorch default), one (Gers et al. 2000; Jozefowicz et al.
    2015) or chrono (Tallec & Ollivier 2018: b_f = log U(1, T-1), b_i = -b_f).

    nn.LSTM has two biases that are summed; the chosen value goes in bias_hh and the forget part
    of bias_ih is zeroed, so "zero" means a forget bias of exactly 0, not PyTorch's small random
    one. Chrono's draws come from `gen`, the run's generator, after the rest of the start.
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
            b_f = torch.log(torch.empty(H).uniform_(1.0, t_max, generator=gen))
            lstm.bias_hh_l0[f] = b_f
            lstm.bias_ih_l0[i] = 0.0
            lstm.bias_hh_l0[i] = -b_f
        elif how == "none":
            pin_forget_gate(lstm)
            if gate_start == "paper":
                paper_gate_start(lstm)
            elif gate_start != "zero":
                raise ValueError(f"unknown gate_start {gate_start!r}")
        else:
            raise ValueError(f"unknown forget_init {how!r}")


# sigma(z) rounds to exactly 1.0 in float32 for z > ~17 and in float64 for z > ~37; 64 is past both
PINNED_FORGET_BIAS = 64.0


def pin_forget_gate(lstm: nn.LSTM) -> None:
    """The LSTM as Hochreiter & Schmidhuber published it in 1997, before Gers et al. (2000) added the
    forget gate: c_t = c_{t-1} + i_t * g_t, the cell can only add. Within nn.LSTM's equations that is
    f_t = 1 exactly: the forget rows of W_ih and W_hh are zeroed and b_f is set where the sigmoid
    rounds to 1.0 (float32 and float64). The derivative of the sigmoid there, f (1 - f), is exactly 0,
    so those rows receive a zero gradient and no optimizer here moves them (Adam, SGD and RMSprop
    step by 0 for a gradient that has always been 0): f_t stays 1 for the whole run. Draws nothing."""
    H = lstm.hidden_size
    f = slice(H, 2 * H)
    with torch.no_grad():
        lstm.weight_ih_l0[f] = 0.0
        lstm.weight_hh_l0[f] = 0.0
        lstm.bias_ih_l0[f] = 0.0
        lstm.bias_hh_l0[f] = PINNED_FORGET_BIAS


# Hochreiter & Schmidhuber (1997) start the gates' biases negative against "internal state drift"
# (sec. 4; their experiments use -1, -2, -3, ... per memory cell block): the first block's values
PAPER_INPUT_BIAS = -1.0
PAPER_OUTPUT_BIAS = -2.0


def paper_gate_start(lstm: nn.LSTM) -> None:
    """The 1997 LSTM's start (Hochreiter & Schmidhuber 1997, sec. 4 and 5): its cell can only add, so
    an input gate open at 0.5 from the first step fills the cell with every input ("internal state
    drift"); they start the input- and output-gate biases negative. Here b_i = -1 (i starts at
    σ(-1) = 0.27) and b_o = -2 (o starts at 0.12) for every unit: the values are set in bias_hh and the
    input/output parts of bias_ih are zeroed, so the bias is exactly that. Draws nothing."""
    H = lstm.hidden_size
    i, o = slice(0, H), slice(3 * H, 4 * H)
    with torch.no_grad():
        lstm.bias_ih_l0[i] = 0.0
        lstm.bias_hh_l0[i] = PAPER_INPUT_BIAS
        lstm.bias_ih_l0[o] = 0.0
        lstm.bias_hh_l0[o] = PAPER_OUTPUT_BIAS


def init_rnn(rnn: nn.RNN, how: str, gen: torch.Generator) -> None:
    """The vanilla RNN's start: default (PyTorch's uniform ±1/sqrt(H), left as it is), orthogonal
    (W_hh orthogonal, gain 1: every eigenvalue on the unit circle, so at initialisation the
    recurrence neither shrinks nor grows a signal; tanh) or irnn (Le, Jaitly & Hinton 2015: W_hh =
    I, biases 0, input weights N(0, 0.001²), used with relu: h_t = relu(h_{t-1} + W x_t) copies the
    state forward until the input writes to it). Draws from `gen`, the run's generator; "default"
    draws nothing, so default runs keep their weights and hashes.
    """
    with torch.no_grad():
        if how == "default":
            return
        if how == "orthogonal":
            nn.init.orthogonal_(rnn.weight_hh_l0, generator=gen)
        elif how == "irnn":
            if rnn.nonlinearity != "relu":
                raise ValueError("the IRNN needs nn.RNN(nonlinearity='relu')")
            rnn.weight_hh_l0.copy_(torch.eye(rnn.hidden_size))
            rnn.weight_ih_l0.normal_(0.0, 0.001, generator=gen)  # the paper's non-recurrent weights
            rnn.bias_ih_l0.zero_()
            rnn.bias_hh_l0.zero_()
        else:
            raise ValueError(f"unknown rnn_init {how!r}")


def init_update_bias(gru: nn.GRU, how: str, seq_len: int, gen: torch.Generator) -> None:
    """The GRU's update-gate bias: default (PyTorch's, left as it is) or chrono (Tallec & Ollivier
    2018, applied to the gate that keeps the old state). PyTorch's GRU computes h_t = (1 - z) * n
    + z * h_{t-1}, so z is the fraction KEPT per step and the time scale of a unit is 1 / (1 - z):
    b_z = log u, u ~ U(1, T-1) gives z = u / (1 + u) and time scales 2 .. T. Like the LSTM's chrono,
    the value goes in bias_hh and the z part of bias_ih is zeroed.
    """
    H = gru.hidden_size
    z = slice(H, 2 * H)  # gate order r, z, n
    with torch.no_grad():
        if how == "default":
            return
        if how == "chrono":
            t_max = max(seq_len - 1, 2)
            gru.bias_ih_l0[z] = 0.0
            gru.bias_hh_l0[z] = torch.log(torch.empty(H).uniform_(1.0, t_max, generator=gen))
        else:
            raise ValueError(f"unknown gru_init {how!r}")


RNN_LABELS = {"default": "PyTorch default init", "orthogonal": "orthogonal init", "irnn": "IRNN init"}

register(Kind("rnn", "Vanilla RNN", nn.RNN, _rnn_step, gates=(), state=("h",), panels=("h",), seed_offset=0,
              init_field="rnn_init", init_labels=RNN_LABELS,
              init=lambda core, cfg, seq_len, gen: init_rnn(core, cfg.rnn_init, gen),
              options=lambda cfg: {"nonlinearity": "relu"} if cfg.rnn_init == "irnn" else {}))
LSTM_LABELS = {"none": "1997: no forget gate"}  # titles: "LSTM (1997: no forget gate)"

register(Kind("lstm", "LSTM", nn.LSTM, _lstm_step, gates=("i", "f", "g", "o"), state=("h", "c"),
              panels=("c", "f", "i", "o"), seed_offset=1, init_field="forget_init", init_labels=LSTM_LABELS,
              init=lambda core, cfg, seq_len, gen: init_forget_bias(core, cfg.forget_init, seq_len, gen,
                                                                     cfg.gate_start)))
register(Kind("gru", "GRU", nn.GRU, _gru_step, gates=("r", "z", "n"), state=("h",), panels=("h", "z"),
              seed_offset=2, init_field="gru_init",
              init=lambda core, cfg, seq_len, gen: init_update_bias(core, cfg.gru_init, seq_len, gen)))


def build_model(kind: str, task: Task, cfg: ModelConfig, seed: int) -> SeqModel:
    """A model whose initial weights depend only on (config, seed, kind): every draw comes from a
    generator this build owns, so it gets the same start alone, beside other models, or while other
    threads build theirs (torch's process-wide generator is never touched). A task whose answer is
    not one label gets the architecture registered for its output kind (core.seq2seq's Seq2Seq). The generator is
    seeded as the global one used to be (seed * 1000 + the kind's offset) and draws in the same
    order, so every stored run keeps its weights (tests/test_same_numbers.py)."""
    gen = torch.Generator().manual_seed(seed * 1000 + MODELS[kind].seed_offset)
    if task.output_kind != "label":  # e.g. an encoder-decoder for a sentence (core.seq2seq)
        return registry.ARCHITECTURES[task.output_kind](kind, task, cfg, gen)
    return SeqModel(kind, task, cfg, gen)


def state_arrays(model: SeqModel) -> dict[str, np.ndarray]:
    """A model's weights as plain arrays (what runs keep at checkpoints; never pickled)."""
    return {k: v.detach().cpu().float().numpy().copy() for k, v in model.state_dict().items()}


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def expected_keep(model: SeqModel) -> float | None:
    """Mean fraction of the old state an untrained model keeps per step from its bias alone:
    sigmoid(b_f) for the LSTM, sigmoid(b_z) for the GRU (z keeps h_{t-1}); None for the RNN."""
    H = model.hidden_size
    gate = {"lstm": slice(H, 2 * H), "gru": slice(H, 2 * H)}.get(model.kind)
    if gate is None:
        return None
    b = model.core.bias_ih_l0[gate] + model.core.bias_hh_l0[gate]
    return float(torch.sigmoid(b.detach()).mean())


def expected_forget(model: SeqModel) -> float | None:
    """Mean of sigmoid(b_f) at initialisation: how much an untrained LSTM keeps per step."""
    if model.kind != "lstm":
        return None
    H = model.hidden_size
    b = model.core.bias_ih_l0[H : 2 * H] + model.core.bias_hh_l0[H : 2 * H]
    return float(torch.sigmoid(b.detach()).mean())


__all__ = [
    "SeqModel", "Kind", "MODELS", "register", "model_kinds", "build_model", "lstm_cell", "gru_cell",
    "rnn_cell", "init_forget_bias", "pin_forget_gate", "PINNED_FORGET_BIAS", "paper_gate_start", "init_rnn", "init_update_bias",
    "FORGET_INITS", "RNN_INITS", "GRU_INITS", "MODEL_NAMES", "init_of", "state_arrays", "reset_fused", "reset_linear",
    "n_params", "expected_forget", "expected_keep",
]
