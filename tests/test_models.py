"""The step-by-step trace and the fused PyTorch module compute the same thing (parity)."""
import pytest
import torch

from core.config import ModelConfig, TaskConfig
from core.models import build_model, expected_forget, init_forget_bias
from core.tasks import make_task

CASES = [("first_token", 17), ("adding", 13), ("sentiment_but", 12)]


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("dtype,tol", [(torch.float64, 1e-10), (torch.float32, 1e-5)])
@pytest.mark.parametrize("name,T", CASES)
def test_trace_matches_fused_module(kind, dtype, tol, name, T):
    task = make_task(TaskConfig(name=name, seq_len=T))
    model = build_model(kind, task, ModelConfig(hidden_size=24), seed=3).to(dtype)
    with torch.no_grad():  # move away from init so every gate is exercised
        for p in model.parameters():
            p.add_(0.3 * torch.randn(p.shape, generator=torch.Generator().manual_seed(p.numel()), dtype=dtype))
    x, _ = task.sample(5, torch.Generator().manual_seed(0))
    with torch.no_grad():
        fused = model.final_state(x)
        tr = model.trace(x)
        out = model(x)
    assert tr["h"].dtype == dtype
    assert (tr["h"] - fused["h"]).abs().max() <= tol
    assert (tr["h"][:, -1] - fused["h_T"]).abs().max() <= tol
    assert (tr["out"][:, -1] - out).abs().max() <= tol
    if kind == "lstm":
        assert (tr["c"][:, -1] - fused["c_T"]).abs().max() <= tol
        assert set(tr) >= {"c", "i", "f", "g", "o"}
        # the cell update really is f*c_{t-1} + i*g
        c_prev = torch.cat([torch.zeros_like(tr["c"][:, :1]), tr["c"][:, :-1]], 1)
        assert torch.allclose(tr["c"], tr["f"] * c_prev + tr["i"] * tr["g"], atol=tol)
    if kind == "gru":
        assert set(tr) >= {"r", "z", "n"}


def test_forget_inits():
    task = make_task(TaskConfig(seq_len=100))
    f = {how: expected_forget(build_model("lstm", task, ModelConfig(forget_init=how), 0))
         for how in ("zero", "one", "chrono")}
    assert f["zero"] == pytest.approx(0.5)
    assert f["one"] == pytest.approx(torch.sigmoid(torch.tensor(1.0)).item())
    assert f["chrono"] > f["one"]  # chrono keeps far more per step
    lstm = torch.nn.LSTM(3, 50)
    torch.manual_seed(0)
    init_forget_bias(lstm, "chrono", 100)
    b_f = lstm.bias_hh_l0[50:100] + lstm.bias_ih_l0[50:100]
    b_i = lstm.bias_hh_l0[:50] + lstm.bias_ih_l0[:50]
    assert (b_f >= 0).all() and (b_f <= torch.log(torch.tensor(99.0))).all()
    assert torch.allclose(b_i, -b_f)
    with pytest.raises(ValueError):
        init_forget_bias(lstm, "two", 10)


def test_initial_weights_depend_on_seed_and_kind_only():
    task = make_task(TaskConfig(seq_len=10))
    a = build_model("lstm", task, ModelConfig(), 1)
    torch.manual_seed(999)  # global RNG state must not matter
    b = build_model("lstm", task, ModelConfig(), 1)
    c = build_model("lstm", task, ModelConfig(), 2)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not torch.equal(a.core.weight_hh_l0, c.core.weight_hh_l0)
