"""The step-by-step trace and the fused PyTorch module compute the same thing (parity), for every
model and every initialisation; each initialisation starts where it says it does."""
import math

import pytest
import torch

from core.config import ModelConfig, TaskConfig, model_title
from core.models import (FORGET_INITS, GRU_INITS, MODELS, RNN_INITS, build_model, expected_forget, expected_keep,
                         init_forget_bias, init_rnn, init_update_bias, pin_forget_gate)
from core.tasks import make_task

CASES = [("first_token", 17), ("adding", 13), ("sentiment_but", 12)]
# every (kind, init) the lab offers, read from the registry's own choices
VARIANTS = ([("rnn", h) for h in RNN_INITS] + [("lstm", h) for h in FORGET_INITS]
            + [("gru", h) for h in GRU_INITS])


def _cfg(kind: str, how: str, **kw) -> ModelConfig:
    return ModelConfig(**{MODELS[kind].init_field: how}, **kw)


@pytest.mark.parametrize("kind,how", VARIANTS)
@pytest.mark.parametrize("dtype,tol", [(torch.float64, 1e-10), (torch.float32, 1e-5)])
@pytest.mark.parametrize("name,T", CASES)
def test_trace_matches_fused_module(kind, how, dtype, tol, name, T):
    task = make_task(TaskConfig(name=name, seq_len=T))
    model = build_model(kind, task, _cfg(kind, how, hidden_size=24), seed=3).to(dtype)
    with torch.no_grad():  # move away from init so every gate is exercised
        for p in model.parameters():
            p.add_(0.3 * torch.randn(p.shape, generator=torch.Generator().manual_seed(p.numel()), dtype=dtype))
    if kind == "lstm" and how == "none":  # pinned rows stay pinned whatever training does (the test below)
        pin_forget_gate(model.core)
    x, _ = task.sample(5, torch.Generator().manual_seed(0))
    with torch.no_grad():
        fused = model.final_state(x)
        tr = model.trace(x)
        out = model(x)
    assert tr["h"].dtype == dtype
    # relative to the values' size: tanh and gates keep |h| <= 1, a relu RNN's h is unbounded
    tol = tol * max(1.0, fused["h"].abs().max().item())
    out_tol = tol * max(1.0, out.abs().max().item())
    assert (tr["h"] - fused["h"]).abs().max() <= tol
    assert (tr["h"][:, -1] - fused["h_T"]).abs().max() <= tol
    assert (tr["out"][:, -1] - out).abs().max() <= out_tol
    if kind == "lstm":
        assert (tr["c"][:, -1] - fused["c_T"]).abs().max() <= tol
        assert set(tr) >= {"c", "i", "f", "g", "o"}
        # the cell update really is f*c_{t-1} + i*g
        c_prev = torch.cat([torch.zeros_like(tr["c"][:, :1]), tr["c"][:, :-1]], 1)
        assert torch.allclose(tr["c"], tr["f"] * c_prev + tr["i"] * tr["g"], atol=tol)
    if kind == "gru":
        assert set(tr) >= {"r", "z", "n"}
        h_prev = torch.cat([torch.zeros_like(tr["h"][:, :1]), tr["h"][:, :-1]], 1)
        assert torch.allclose(tr["h"], (1 - tr["z"]) * tr["n"] + tr["z"] * h_prev, atol=tol)  # z keeps
    if kind == "lstm" and how == "none":  # the 1997 LSTM: no forget gate, the cell only adds
        assert (tr["f"] == 1).all()
        assert torch.allclose(tr["c"], c_prev + tr["i"] * tr["g"], atol=tol)
    if kind == "rnn" and how == "irnn":  # the trace follows the fused module's relu, not tanh
        assert model.core.nonlinearity == "relu" and (tr["h"] >= 0).all()


@pytest.mark.parametrize("how", ["default", "orthogonal"])
def test_tanh_rnn_trace_is_not_relu(how):
    model = build_model("rnn", make_task(TaskConfig(seq_len=12)), _cfg("rnn", how), 0)
    assert model.core.nonlinearity == "tanh"
    x, _ = model_task_sample(12)
    with torch.no_grad():
        assert (model.trace(x)["h"] < 0).any()  # tanh goes negative; a relu step never would


def model_task_sample(T: int):
    task = make_task(TaskConfig(seq_len=T))
    return task.sample(8, torch.Generator().manual_seed(1))


def test_rnn_inits_start_where_they_say():
    task = make_task(TaskConfig(seq_len=100))
    m = {how: build_model("rnn", task, _cfg("rnn", how), 0).core for how in RNN_INITS}
    raw = build_model("rnn", task, ModelConfig(), 0).core
    # default is PyTorch's own start, untouched: the weights stored runs were trained from
    assert all(torch.equal(p, q) for p, q in zip(m["default"].parameters(), raw.parameters()))
    bound = 1 / math.sqrt(raw.hidden_size)
    assert m["default"].weight_hh_l0.abs().max() <= bound
    w = m["orthogonal"].weight_hh_l0
    assert torch.allclose(w @ w.T, torch.eye(w.shape[0]), atol=1e-5)
    assert not torch.equal(w, m["default"].weight_hh_l0)
    irnn = m["irnn"]
    assert irnn.nonlinearity == "relu"
    assert torch.equal(irnn.weight_hh_l0, torch.eye(irnn.hidden_size))
    assert (irnn.bias_ih_l0 == 0).all() and (irnn.bias_hh_l0 == 0).all()
    assert 0.0008 < irnn.weight_ih_l0.std().item() < 0.0012  # N(0, 0.001²) as in the paper
    with pytest.raises(ValueError):
        init_rnn(torch.nn.RNN(3, 4), "irnn", torch.Generator().manual_seed(0))  # tanh + identity is not the IRNN
    with pytest.raises(ValueError):
        init_rnn(torch.nn.RNN(3, 4), "xavier", torch.Generator().manual_seed(0))


def test_irnn_copies_its_state_forward_at_initialisation():
    # relu(I h + W x + 0) with h >= 0: the state only grows by what the input writes
    model = build_model("rnn", make_task(TaskConfig(seq_len=30)), _cfg("rnn", "irnn"), 0).double()
    x, _ = model_task_sample(30)
    with torch.no_grad():
        h = model.trace(x)["h"]
        u = model.encode(x) @ model.core.weight_ih_l0.T  # (B, T, H): what each step writes
    h_prev = torch.cat([torch.zeros_like(h[:, :1]), h[:, :-1]], 1)
    assert torch.allclose(h, torch.relu(h_prev + u), atol=1e-12)


@pytest.mark.parametrize("T", [20, 100, 500])
def test_gru_chrono_keeps_the_intended_fraction_per_step(T):
    """PyTorch's GRU keeps z * h_{t-1}: chrono's b_z = log u, u ~ U(1, T-1), means a kept fraction
    u / (1 + u) (time scale 1 + u, from 2 to T), on average 1 - ln(T/2) / (T-2)."""
    intended = 1 - math.log(T / 2) / (T - 2)  # E[u/(1+u)] for u ~ U(1, T-1)
    task = make_task(TaskConfig(seq_len=T))
    chrono = build_model("gru", task, _cfg("gru", "chrono", hidden_size=256), 0)
    default = build_model("gru", task, _cfg("gru", "default", hidden_size=256), 0)
    H = 256
    b = chrono.core.bias_ih_l0[H:2 * H] + chrono.core.bias_hh_l0[H:2 * H]
    assert (b >= 0).all() and (b <= math.log(T - 1) + 1e-6).all()
    assert expected_keep(chrono) == pytest.approx(intended, abs=0.02)
    x, _ = task.sample(32, torch.Generator().manual_seed(0))
    with torch.no_grad():
        z_chrono, z_default = chrono.trace(x)["z"], default.trace(x)["z"]
    # measured through the gate (weights and inputs included), not only from the bias
    assert z_chrono.mean().item() == pytest.approx(intended, abs=0.02)
    assert z_default.mean().item() == pytest.approx(0.5, abs=0.05)  # PyTorch's start: half kept
    # the time scale per unit: 1 / (1 - z) at initialisation spans 2 .. T
    scale = 1 / (1 - torch.sigmoid(b))
    assert scale.min() >= 2 - 1e-4 and scale.max() <= T + 1e-3
    with pytest.raises(ValueError):
        init_update_bias(torch.nn.GRU(3, 4), "one", 10, torch.Generator().manual_seed(0))


def test_titles_name_a_start_that_is_not_the_default():
    assert model_title("rnn", ModelConfig()) == "Vanilla RNN"
    assert model_title("rnn", ModelConfig(rnn_init="irnn")) == "Vanilla RNN (IRNN init)"
    assert model_title("gru", ModelConfig(gru_init="chrono")) == "GRU (chrono init)"
    assert model_title("lstm", ModelConfig()) == "LSTM"
    assert model_title("lstm", ModelConfig(forget_init="zero")) == "LSTM (zero init)"
    assert model_title("lstm", ModelConfig(forget_init="none")) == "LSTM (1997: no forget gate)"


def test_forget_inits():
    task = make_task(TaskConfig(seq_len=100))
    f = {how: expected_forget(build_model("lstm", task, ModelConfig(forget_init=how), 0))
         for how in ("zero", "one", "chrono", "none")}
    assert f["zero"] == pytest.approx(0.5)
    assert f["none"] == 1.0  # the 1997 LSTM: exactly 1, not nearly
    assert f["one"] == pytest.approx(torch.sigmoid(torch.tensor(1.0)).item())
    assert f["chrono"] > f["one"]  # chrono keeps far more per step
    lstm = torch.nn.LSTM(3, 50)
    init_forget_bias(lstm, "chrono", 100, torch.Generator().manual_seed(0))
    b_f = lstm.bias_hh_l0[50:100] + lstm.bias_ih_l0[50:100]
    b_i = lstm.bias_hh_l0[:50] + lstm.bias_ih_l0[:50]
    assert (b_f >= 0).all() and (b_f <= torch.log(torch.tensor(99.0))).all()
    assert torch.allclose(b_i, -b_f)
    with pytest.raises(ValueError):
        init_forget_bias(lstm, "two", 10, torch.Generator().manual_seed(0))


@pytest.mark.parametrize("kind,how", VARIANTS)
def test_initial_weights_depend_on_seed_kind_and_init_only(kind, how):
    task = make_task(TaskConfig(seq_len=10))
    a = build_model(kind, task, _cfg(kind, how), 1)
    torch.manual_seed(999)  # global RNG state must not matter
    b = build_model(kind, task, _cfg(kind, how), 1)
    c = build_model(kind, task, _cfg(kind, how), 2)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not torch.equal(a.core.weight_ih_l0, c.core.weight_ih_l0)


@pytest.mark.parametrize("optimizer", ["adam", "sgd", "rmsprop"])
def test_the_1997_lstm_keeps_every_forget_gate_at_exactly_one_for_the_whole_run(optimizer):
    from core.config import RunConfig, TrainConfig, validate
    from core.inspection import model_from_weights, showcase, traces
    from core.trainer import train

    cfg = validate(RunConfig(task=TaskConfig(name="sentiment_but", seq_len=12), models=("lstm",),
                             model=ModelConfig(hidden_size=8, forget_init="none"),
                             train=TrainConfig(steps=30, eval_every=10, n_checkpoints=2, batch_size=16,
                                               optimizer=optimizer, lr=0.05)))
    result = train(cfg)
    run = result.runs["lstm"]
    x, _, _ = showcase(result.task)
    first = model_from_weights(run.config, "lstm", run.checkpoints[min(run.checkpoints)])
    for step, w in run.checkpoints.items():
        model = model_from_weights(run.config, "lstm", w)
        for m in (model, model.double()):  # float32 and float64 both round sigma(b_f) to 1
            assert (traces(m, x)["f"] == 1).all(), step
        if step != min(run.checkpoints):  # the rest of the LSTM trained; the forget rows did not move
            assert not torch.equal(model.core.weight_hh_l0, first.core.weight_hh_l0.to(model.core.weight_hh_l0))
    H = 8
    assert (model.core.weight_hh_l0[H:2 * H] == 0).all() and (model.core.weight_ih_l0[H:2 * H] == 0).all()
    # without the pin the same rows would train: the test can fail
    plain = validate(RunConfig(task=cfg.task, models=("lstm",), model=ModelConfig(hidden_size=8, forget_init="one"),
                               train=cfg.train))
    w = train(plain).runs["lstm"].checkpoints
    assert (w[max(w)]["core.weight_hh_l0"][H:2 * H] != 0).any()
