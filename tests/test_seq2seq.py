"""The encoder-decoder: its step-by-step trace and its fused modules compute the same thing
(greedy and teacher-forced, with and without attention and a reversed source, every kind and
start), attention is a distribution over the encoder's states, and its weights start as the
lab's models do: from the run's own generator, the kind's start included."""
import pytest
import torch

from core.config import FORGET_INITS, GRU_INITS, RNN_INITS, ModelConfig, TaskConfig
from core.inspection import grad_through_time
from core.models import MODELS, build_model
from core.seq2seq import Seq2Seq
from core.tasks import make_task

VARIANTS = ([("rnn", h) for h in RNN_INITS] + [("lstm", h) for h in FORGET_INITS if h != "none"]
            + [("gru", h) for h in GRU_INITS])


def _model(kind, how="default", dtype=torch.float64, task="translation", T=7, **kw):
    t = make_task(TaskConfig(name=task, seq_len=T))
    init = {} if how == "default" and kind == "lstm" else {MODELS[kind].init_field: how}
    m = build_model(kind, t, ModelConfig(hidden_size=8, **init, **kw), seed=3).to(dtype)
    with torch.no_grad():  # move away from the start so every gate and the attention are exercised
        for p in m.parameters():
            p.add_(0.3 * torch.randn(p.shape, generator=torch.Generator().manual_seed(p.numel()), dtype=dtype))
    return t, m


@pytest.mark.parametrize("kind,how", VARIANTS)
@pytest.mark.parametrize("attention,reverse", [("none", "no"), ("dot", "no"), ("none", "yes"), ("dot", "yes")])
def test_trace_matches_the_fused_modules(kind, how, attention, reverse):
    task, model = _model(kind, how, attention=attention, reverse_source=reverse)
    assert isinstance(model, Seq2Seq)
    x, y = task.sample(5, torch.Generator().manual_seed(0))
    with torch.no_grad():
        greedy, forced = model(x), model(x, y)
        tr, tr_forced = model.trace(x), model.trace(x, y=y)
        enc, _ = model.encoder(model.encode(x))
    assert greedy.shape == forced.shape == (5, task.out_len, task.n_classes)
    assert (tr["h"] - enc).abs().max() < 1e-10  # the encoder, step by step
    assert (tr["out"] - greedy).abs().max() < 1e-10  # greedy decoding
    assert (tr_forced["out"] - forced).abs().max() < 1e-10  # teacher forcing
    assert ("attn" in tr) == (attention == "dot")
    if kind == "lstm":  # the decoder's cell is the same conveyor belt, started from the encoder's
        c = tr["dec_c"]
        c_prev = torch.cat([tr["c"][:, -1:], c[:, :-1]], 1)
        assert torch.allclose(c, tr["dec_f"] * c_prev + tr["dec_i"] * tr["dec_g"], atol=1e-10)


def test_attention_weighs_the_encoder_states():
    task, model = _model("lstm", attention="dot")
    x, _ = task.sample(4, torch.Generator().manual_seed(1))
    with torch.no_grad():
        tr = model.trace(x)
    a = tr["attn"]  # (B, T_out, S)
    assert a.shape == (4, task.out_len, task.src_len) and (a >= 0).all()
    assert torch.allclose(a.sum(-1), torch.ones(4, task.out_len, dtype=a.dtype))
    # the same weights computed a second way: softmax of the decoder state against each encoder state
    d, s = tr["dec_h"], tr["h"]
    by_hand = torch.softmax(torch.einsum("bth,bsh->bts", d, s), -1)
    assert torch.allclose(a, by_hand, atol=1e-12)


def test_a_reversed_source_is_read_last_word_first():
    task, fwd = _model("gru")
    _, rev = _model("gru", reverse_source="yes")
    x, _ = task.sample(3, torch.Generator().manual_seed(2))
    with torch.no_grad():  # same weights (same seed), the source flipped: the same encoder states
        assert torch.equal(rev.trace(x)["h"], fwd.trace(x.flip(1))["h"])


def test_weights_come_from_the_seed_and_the_kind_start():
    t = make_task(TaskConfig(name="copying", seq_len=30))
    a, b = (build_model("lstm", t, ModelConfig(hidden_size=8), seed=5) for _ in range(2))
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))
    H = 8  # chrono over the length each half reads: b_f = log u, u in [1, S-1] for the encoder
    assert t.src_len == 30
    b_f = a.encoder.bias_hh_l0[H:2 * H]
    assert (b_f >= 0).all() and (b_f <= torch.log(torch.tensor(t.src_len - 1.0))).all() and b_f.max() > 1.5
    assert torch.equal(a.encoder.bias_hh_l0[:H], -b_f)
    other = build_model("lstm", t, ModelConfig(hidden_size=8), seed=6)
    assert not torch.equal(other.encoder.weight_hh_l0, a.encoder.weight_hh_l0)


def test_the_gradient_probe_reaches_back_through_the_encoder():
    task, model = _model("rnn", dtype=torch.float32)
    x, y = task.sample(6, torch.Generator().manual_seed(0))
    g = grad_through_time(model, task, x, y)
    assert g.shape == (task.src_len,) and (g > 0).all()


def test_attention_frame_and_chart_from_a_trained_run():
    from core.charts.attention import attention_item
    from core.config import RunConfig, TrainConfig, validate
    from core.inspection import attention_frame
    from core.trainer import train

    cfg = validate(RunConfig(task=TaskConfig(name="translation", seq_len=5),
                             model=ModelConfig(hidden_size=8, attention="dot", reverse_source="yes"),
                             train=TrainConfig(steps=4, eval_every=2, batch_size=8), models=("lstm", "rnn")))
    result = train(cfg)
    df = attention_frame(result.runs["lstm"])
    assert len(df) == 5 * 5 and set(df.source) <= set(make_task(cfg.task).vocab)
    assert ((df.groupby("out_t").weight.sum() - 1).abs() < 1e-5).all()  # a distribution over the source
    # the sentence's order, though the encoder read it backwards: the weights are the trace's flipped
    model = build_model("lstm", make_task(cfg.task), cfg.model, 0)
    model.load_state_dict({k: torch.as_tensor(v) for k, v in result.runs["lstm"].checkpoints[4].items()})
    x, _ = make_task(cfg.task).showcase(1)
    with torch.no_grad():
        a = model.trace(x)["attn"][0].flip(-1)
    assert torch.allclose(torch.tensor(df.weight.to_numpy()).view(5, 5), a.double(), atol=1e-6)
    item = attention_item(df, "LSTM", 4)
    assert item.chart.to_dict()["mark"]["type"] == "rect" and "darkest cell" in item.caption
    from core.charts.inside import inspect_charts  # the inspect page, CLI and export show it per model
    assert {"attention_lstm", "attention_rnn"} <= {i.name for i in inspect_charts(result)}
    none = attention_frame(train(cfg.replace(model=ModelConfig(hidden_size=8),
                                             models=("rnn",))).runs["rnn"])
    assert none.empty and "no attention" in attention_item(none, "Vanilla RNN", 4).caption
