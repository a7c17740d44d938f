"""Connectivity (Distill's "Visualizing memorization in RNNs"): the read-out at step t's dependence on the
input at step s, computed by autograd, agrees with a finite difference on the input; a read-out never
depends on later inputs; the 1997 LSTM's inspect files show f_t = 1 everywhere and `inspect` writes
connectivity.csv."""
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch

from core.config import ModelConfig, RunConfig, TaskConfig, TrainConfig, validate
from dashboard.components.plain import unescape
from core.inspection import connectivity, connectivity_frame, model_from_weights, probe_batch, resolve_step
from core.models import build_model
from core.tasks import make_task
from core.trainer import train
from tests.conftest import ROOT


def _by_finite_difference(model, x, eps=1e-6) -> np.ndarray:
    """C[t, s] another way: nudge each coordinate of the encoded input at s up and down, read the
    change of the read-out at t (for the class the unnudged model predicts), no autograd."""
    with torch.no_grad():
        xe = model.encode(x).double()
        out = model.trace_encoded(xe)["out"]
        k = out.argmax(-1, keepdim=True) if out.shape[-1] > 1 else torch.zeros_like(out[..., :1], dtype=torch.long)
        B, T, I = xe.shape
        grad = torch.zeros(B, T, T, I, dtype=torch.float64)  # example, read-out t, input s, coordinate
        for s in range(T):
            for i in range(I):
                up, down = xe.clone(), xe.clone()
                up[:, s, i] += eps
                down[:, s, i] -= eps
                r_up = model.trace_encoded(up)["out"].gather(-1, k)[..., 0]
                r_down = model.trace_encoded(down)["out"].gather(-1, k)[..., 0]
                grad[:, :, s, i] = (r_up - r_down) / (2 * eps)
    return grad.norm(dim=-1).mean(0).numpy()


@pytest.mark.parametrize("kind,forget_init", [("rnn", "chrono"), ("lstm", "chrono"), ("lstm", "none"),
                                              ("gru", "chrono")])
@pytest.mark.parametrize("name,T", [("first_token", 6), ("adding", 5), ("sentiment_but", 5)])
def test_connectivity_matches_a_finite_difference_on_the_input(kind, forget_init, name, T):
    task = make_task(TaskConfig(name=name, seq_len=T))
    model = build_model(kind, task, ModelConfig(hidden_size=8, forget_init=forget_init), 1).double()
    x, _ = task.sample(3, torch.Generator().manual_seed(4))
    got = connectivity(model, x)
    assert got.shape == (T, T)
    np.testing.assert_allclose(got, _by_finite_difference(model, x), rtol=1e-5, atol=1e-9)
    assert (got[np.triu_indices(T, 1)] == 0).all()  # no read-out depends on a later input
    assert (np.diag(got) > 0).all()  # and each depends on the input it has just read


def test_a_recurrent_weight_of_zero_cuts_the_rnn_off_from_its_past():
    """Computed, not assumed: with W_hh = 0 the RNN's read-out at t sees only x_t."""
    task = make_task(TaskConfig(seq_len=7))
    model = build_model("rnn", task, ModelConfig(hidden_size=8), 0).double()
    x, _ = task.sample(4, torch.Generator().manual_seed(0))
    assert (connectivity(model, x)[np.tril_indices(7, -1)] > 0).all()
    with torch.no_grad():
        model.core.weight_hh_l0.zero_()
    c = connectivity(model, x)
    assert (c[np.tril_indices(7, -1)] == 0).all() and (np.diag(c) > 0).all()


@pytest.fixture(scope="module")
def runs() -> dict[str, object]:
    small = dict(train=TrainConfig(steps=20, eval_every=10, n_checkpoints=2, batch_size=16))
    return {
        "two": train(validate(RunConfig(task=TaskConfig(name="sentiment_but", seq_len=8),
                                        model=ModelConfig(hidden_size=8), **small))),
    }


def test_connectivity_frame_is_each_models_matrix_and_its_shares(runs):
    result = runs["two"]
    df = connectivity_frame(result)
    T = result.task.seq_len
    assert len(df) == len(result.runs) * T * (T + 1) // 2
    x = probe_batch(result.task)[0][:8]
    for kind, run in result.runs.items():
        c = connectivity(model_from_weights(run.config, kind, run.checkpoints[resolve_step(run)]), x)
        rows = df[df.model == kind]
        np.testing.assert_allclose(rows.value, c[rows.readout_position, rows.input_position])
        sums = rows.groupby("readout_position").share.sum()
        np.testing.assert_allclose(sums, 1.0)
    one = connectivity_frame(result, result.task.encode_text("i loved the movie"))
    assert list(one[(one.model == "lstm") & (one.readout_position == 3)].input) == ["i", "loved", "the", "movie"]


def test_cli_trains_forget_init_none_and_inspect_shows_f_one_and_writes_connectivity(tmp_path):
    run_dir, out = tmp_path / "run", tmp_path / "inside"
    cli = lambda *a: subprocess.run([sys.executable, "-m", "core", *a], cwd=ROOT, capture_output=True,  # noqa: E731
                                    text=True, timeout=300)
    p = cli("train", "--task", "sentiment_but", "--seq-len", "8", "--models", "lstm", "--forget-init", "none",
            "--hidden-size", "8", "--steps", "20", "--eval-every", "10", "--n-checkpoints", "2", "--out",
            str(run_dir), "--no-store", "--quiet")
    assert p.returncode == 0, p.stderr
    p = cli("inspect", "--run", str(run_dir), "--out", str(out))
    assert p.returncode == 0, p.stderr
    gates = pd.read_csv(out / "gate_means.csv")
    forget = gates[gates.gate.str.startswith("forget")]
    assert len(forget) == 8 and (forget["mean"] == 1.0).all()
    heat = pd.read_csv(out / "heatmaps.csv")
    assert (heat[heat.quantity == "f"].value == 1.0).all()
    conn = pd.read_csv(out / "connectivity.csv")
    assert list(conn.columns) == ["model", "step", "readout_position", "input_position", "value"]
    T = 8
    assert len(conn) == T * (T + 1) // 2 and (conn.input_position <= conn.readout_position).all()


def test_the_lab_and_the_sweep_offer_the_1997_lstm():
    from streamlit.testing.v1 import AppTest

    from core.config import parse_variants, variant_choices, variant_label

    assert "lstm:none" in variant_choices() and parse_variants("lstm,lstm:none") == ("lstm", "lstm:none")
    assert variant_label("lstm:none") == "LSTM (1997: no forget gate)"
    at = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=60)
    at.switch_page("views/train.py")
    at.query_params["forget_init"] = "none"
    at.run()
    assert not at.exception and at.selectbox(key="forget_init").value == "none"
    assert not [w.value for w in at.warning if "forget_init" in unescape(w.value)]


def test_long_sequences_probe_every_kth_read_out_and_always_the_last():
    from core.charts.inside import connectivity_item
    from core.inspection import CONNECTIVITY_READOUTS, readout_stride
    from tests.test_inspect import untrained

    T = 2 * CONNECTIVITY_READOUTS + 1
    result = untrained(RunConfig(task=TaskConfig(seq_len=T), model=ModelConfig(hidden_size=4)))
    x = probe_batch(result.task)[0][:2]
    df = connectivity_frame(result, x)
    k = readout_stride(T)
    probed = sorted(df.readout_position.unique())
    assert k == 3 and probed[-1] == T - 1 and np.all(np.diff(probed) == k) and len(probed) <= CONNECTIVITY_READOUTS
    run = result.runs["rnn"]
    full = connectivity(model_from_weights(run.config, "rnn", run.checkpoints[0]), x, [T - 1])
    rows = df[(df.model == "rnn") & (df.readout_position == T - 1)]
    np.testing.assert_allclose(rows.value, full[T - 1, rows.input_position])
    item = connectivity_item(df, result.task)
    spec = item.chart.to_dict()  # raises past Altair's 5,000-row guard: the wide data keeps it at 2 x T rows
    assert spec["params"][0]["bind"]["step"] == k and spec["params"][0]["bind"]["max"] == T
    assert f"every {k}-th read-out" in item.caption
