"""Gradient-through-time probe: agrees with autograd computed another way, and decays for an RNN
with small recurrent weights."""
import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from core.config import ModelConfig, TaskConfig
from core.models import build_model
from core.inspection import decay_ratio, grad_through_time, model_from_weights, state_arrays, traces
from core.tasks import make_task


def _grad_by_restart(model, task, x, y, t):
    """dL/dh_t another way: run the trace up to t, make h_t (and c_t) a leaf, run the *fused*
    module over the rest with that initial state, and ask autograd for the leaf's gradient."""
    with torch.no_grad():
        tr = model.trace(x[:, : t + 1])
    h0 = tr["h"][:, -1].clone().requires_grad_(True)
    if t == x.shape[1] - 1:
        out = model.head(h0)
    else:
        rest = model.encode(x[:, t + 1 :])
        state = (h0[None], tr["c"][:, -1][None]) if model.kind == "lstm" else h0[None]
        seq, _ = model.core(rest, state)
        out = model.head(seq[:, -1])
    loss = task.loss(out, y) * len(y)
    (g,) = torch.autograd.grad(loss, h0)
    return g.norm(dim=-1).mean().item()


def test_probe_matches_autograd_another_way():
    for kind in ("rnn", "lstm", "gru"):
        task = make_task(TaskConfig(seq_len=9))
        model = build_model(kind, task, ModelConfig(hidden_size=8), 0).double()
        x, y = task.sample(6, torch.Generator().manual_seed(2))
        probe = grad_through_time(model, task, x, y)
        assert probe.shape == (9,)
        other = np.array([_grad_by_restart(model, task, x, y, t) for t in range(9)])
        np.testing.assert_allclose(probe, other, rtol=1e-8, atol=1e-12)


@settings(max_examples=10, deadline=None)
@given(T=st.integers(12, 40), scale=st.floats(0.05, 0.3), seed=st.integers(0, 1000))
def test_rnn_with_small_recurrent_weights_forgets(T, scale, seed):
    """With ||W_hh|| < 1 every step back multiplies the gradient by less than 1."""
    task = make_task(TaskConfig(seq_len=T))
    model = build_model("rnn", task, ModelConfig(hidden_size=16), seed).double()
    with torch.no_grad():
        w = torch.randn(16, 16, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
        model.core.weight_hh_l0.copy_(scale * w / torch.linalg.matrix_norm(w, ord=2))
    x, y = task.sample(8, torch.Generator().manual_seed(seed))
    g = grad_through_time(model, task, x, y)
    assert (np.diff(g) > 0).all()  # strictly larger the nearer the answer
    assert decay_ratio(g) < scale ** (T - 1) * 1.0001


def test_weights_round_trip_through_arrays():
    task = make_task(TaskConfig(name="sentiment_but", seq_len=12))
    from core.config import RunConfig
    cfg = RunConfig(task=TaskConfig(name="sentiment_but", seq_len=12))
    model = build_model("lstm", task, cfg.model, 0)
    with torch.no_grad():
        model.core.weight_hh_l0.mul_(2)
    back = model_from_weights(cfg, "lstm", state_arrays(model))
    x, _ = task.sample(3, torch.Generator().manual_seed(0))
    a, b = traces(model.eval(), x), traces(back, x)
    assert set(a) == {"h", "out", "c", "i", "f", "g", "o"}
    assert all(np.array_equal(a[k], b[k]) for k in a)
