"""Encoder-decoder models (Cho et al. 2014, Sutskever et al. 2014), of each kind the lab has, for
tasks whose answer is a sentence (core.tasks.sentences): two ways through the same weights.

The encoder (a fused `nn.RNN` / `nn.LSTM` / `nn.GRU`) reads the source; its last state starts the
decoder (the same kind), which writes the target one word at a time, fed the word before: in
training the true one (teacher forcing, the decoder runs fused over the whole target), at
evaluation its own greedy choice. Without attention the decoder sees the source only through that
last state: one vector for the whole sentence. With `attention="dot"` (Luong, Pham & Manning 2015,
global attention with the dot score, read after each decoder step) the decoder state d_t scores
every encoder state s_j by d_t . s_j, takes the softmax a_t, reads the context c_t = sum_j a_tj s_j
and answers from tanh(W_c [c_t; d_t]). It is read after the step, not fed into it (Bahdanau et al.
2015 feed it in), so teacher forcing stays one fused call. `reverse_source="yes"` reads the source
last word first (Sutskever et al. 2014).

`trace` computes the same from the cell equations of core.models, one step at a time, and returns
every encoder and decoder state, gate and attention weight; a parity test holds the two together.
Weights start as core.models' do (PyTorch's draws from the run's generator, then the kind's own
start, chrono included), encoder first, then decoder, then the read-out.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn as nn
import torch.nn.functional as F

from core import registry
from core.models import MODELS, reset_fused, reset_linear

if TYPE_CHECKING:  # type hints only
    from core.config import ModelConfig
    from core.tasks.sentences import SentenceTask


class Seq2Seq(nn.Module):
    """Encoder -> decoder -> read-out (with or without attention), one kind for both halves."""

    input_kind = "tokens"

    def __init__(self, kind: str, task: "SentenceTask", cfg: "ModelConfig", gen: torch.Generator):
        super().__init__()
        spec = MODELS[kind]
        self.kind = kind
        self.input_size, self.hidden_size = task.input_size, cfg.hidden_size
        self.n_out, self.out_len = task.n_classes, task.out_len
        self.attention, self.reverse = cfg.attention, cfg.reverse_source == "yes"
        self.options = spec.options(cfg) if spec.options is not None else {}
        H = cfg.hidden_size

        def fused(n_in: int) -> nn.RNNBase:
            return spec.fused(n_in, H, batch_first=True, device="meta", **self.options).to_empty(device="cpu")

        self.encoder = fused(self.input_size)
        self.decoder = fused(self.n_out + 1)  # the previous target word, or BOS (index n_out)
        self.head = nn.Linear(H, self.n_out, device="meta").to_empty(device="cpu")
        self.combine = (nn.Linear(2 * H, H, device="meta").to_empty(device="cpu")
                        if self.attention == "dot" else None)  # W_c of [c_t; d_t]
        with torch.no_grad():
            reset_fused(self.encoder, gen)
            reset_fused(self.decoder, gen)
            reset_linear(self.head, gen)
            if self.combine is not None:
                reset_linear(self.combine, gen)
            if spec.init is not None:  # chrono over the length each half reads
                spec.init(self.encoder, cfg, task.src_len, gen)
                spec.init(self.decoder, cfg, task.out_len, gen)

    @property
    def core(self) -> nn.RNNBase:
        """The encoder: what probes of a recurrent core (gate biases, states over the input) read."""
        return self.encoder

    # --- inputs ----------------------------------------------------------------------------------
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """One-hot source words in the order the encoder reads them (B, S, V_in)."""
        x = x.flip(1) if self.reverse else x
        return F.one_hot(x, self.input_size).to(self.head.weight.dtype)

    def shifted(self, y: torch.Tensor) -> torch.Tensor:
        """Teacher forcing's decoder input: BOS, then the target without its last word (B, T)."""
        bos = y.new_full((y.shape[0], 1), self.n_out)
        return torch.cat([bos, y[:, :-1]], 1)

    def embed(self, tokens: torch.Tensor) -> torch.Tensor:
        return F.one_hot(tokens, self.n_out + 1).to(self.head.weight.dtype)  # (B, T, V_out + 1)

    def readout(self, d: torch.Tensor, enc: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Logits (B, T, V_out) from decoder states d (B, T, H), and the attention weights (B, T, S)."""
        if self.combine is None:
            return self.head(d), None
        a = torch.softmax(d @ enc.transpose(1, 2), -1)  # (B, T, S): d_t . s_j over j
        ctx = a @ enc  # (B, T, H)
        return self.head(torch.tanh(self.combine(torch.cat([ctx, d], -1)))), a

    # --- the fused path (training and evaluation) -----------------------------------------------
    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Logits (B, T_out, V_out): with y, teacher forcing; without, greedy decoding."""
        enc, state = self.encoder(self.encode(x))  # (B, S, H)
        if y is not None:
            d, _ = self.decoder(self.embed(self.shifted(y)), state)
            return self.readout(d, enc)[0]
        tok = x.new_full((x.shape[0], 1), self.n_out)  # BOS
        outs = []
        for _ in range(self.out_len):
            d, state = self.decoder(self.embed(tok), state)  # one step, (B, 1, H)
            logits = self.readout(d, enc)[0]
            outs.append(logits)
            tok = logits.argmax(-1)
        return torch.cat(outs, 1)

    def params(self) -> tuple[torch.Tensor, ...]:
        """The encoder's weights (W_ih, W_hh, b_ih, b_hh): what the probes of a recurrent core read."""
        return _params(self.encoder)

    def answer(self, tr: dict[str, torch.Tensor]) -> torch.Tensor:
        """What the task's loss scores in a trace: every word written (B, T_out, V_out)."""
        return tr["out"]

    # --- the step-by-step path -----------------------------------------------------------------
    def trace(self, x: torch.Tensor, keep_graph: bool = False, y: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """The same computation from the cell equations, one step at a time. Returns the encoder's
        h (B, S, H) in reading order and its gates under their own names (c, i, f, g, o for the
        LSTM), the decoder's under `dec_` names (B, T, H), `attn` (B, T, S) with attention, and
        `out` (B, T, V_out): greedy, or teacher-forced with y. keep_graph adds `hs`, the encoder's
        per-step h inside the autograd graph (the gradient probe)."""
        return self.trace_encoded(self.encode(x), keep_graph, y)

    def trace_encoded(self, xe: torch.Tensor, keep_graph: bool = False,
                      y: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """`trace` from the encoded source xe (B, S, V_in), one-hot rows in reading order (the
        connectivity probe differentiates what is written with respect to it)."""
        spec = MODELS[self.kind]
        names = (*spec.state, *spec.gates)
        B, S, _ = xe.shape
        state = tuple(xe.new_zeros(B, self.hidden_size) for _ in spec.state)
        enc: dict[str, list[torch.Tensor]] = {n: [] for n in names}
        w = _params(self.encoder)
        for t in range(S):
            state, gs = spec.step(xe[:, t], state, *w, **self.options)
            for n, v in zip(names, (*state, *gs)):
                enc[n].append(v)
        result = {n: torch.stack(vs, 1) for n, vs in enc.items()}
        states = result["h"]  # (B, S, H)
        dec: dict[str, list[torch.Tensor]] = {n: [] for n in names}
        outs, attn = [], []
        w = _params(self.decoder)
        tok = torch.full((B,), self.n_out, dtype=torch.long, device=xe.device)  # BOS
        for t in range(self.out_len):
            state, gs = spec.step(self.embed(tok), state, *w, **self.options)
            for n, v in zip(names, (*state, *gs)):
                dec[n].append(v)
            logits, a = self.readout(state[0][:, None], states)  # (B, 1, V), (B, 1, S)
            outs.append(logits[:, 0])
            if a is not None:
                attn.append(a[:, 0])
            tok = y[:, t] if y is not None else logits[:, 0].argmax(-1)
        result.update({f"dec_{n}": torch.stack(vs, 1) for n, vs in dec.items()})
        result["out"] = torch.stack(outs, 1)  # (B, T_out, V_out)
        if attn:
            result["attn"] = torch.stack(attn, 1)  # (B, T_out, S)
        if keep_graph:
            result["hs"] = enc["h"]  # type: ignore[assignment]
        return result


def _params(core: nn.RNNBase) -> tuple[torch.Tensor, ...]:
    return core.weight_ih_l0, core.weight_hh_l0, core.bias_ih_l0, core.bias_hh_l0


registry.ARCHITECTURES["sentence"] = Seq2Seq  # core.models.build_model builds it for a sentence task

__all__ = ["Seq2Seq"]
