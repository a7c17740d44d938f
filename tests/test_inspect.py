"""The inspect layer: its tables agree with the models computed other ways, the step-by-step table
has one row per word, charts build for any subset of models, and `python -m core inspect` writes
its files."""
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from core.config import ModelConfig, RunConfig, TaskConfig, TrainConfig, validate
from core.charts.inside import inspect_charts
from core.inspection import (decay_table, default_focus_step, forget_arithmetic, grad_norm_frame, grad_table,
                             heatmap_frame, inspect_data, kept_steps, resolve_step, sentence_table, sentiment_table, showcase,
                             step_table, example_traces)
from core.models import build_model
from core.inspection import grad_through_time, model_from_weights, probe_batch, state_arrays
from core.results import ModelRun, RunResult
from core.runio import save_run
from core.tasks import make_task
from core.trainer import train
from tests.conftest import ROOT, run_cli


def untrained(cfg: RunConfig, steps: list[dict] | None = None, tweak=None) -> RunResult:
    """A RunResult whose models keep one checkpoint (step 0): their initial weights, optionally
    changed by tweak(model). No training, so tests at T=200 stay fast."""
    cfg = validate(cfg)
    task = make_task(cfg.task)
    runs = {}
    for k in cfg.models:
        model = build_model(k, task, cfg.model, cfg.train.seed)
        if tweak is not None:
            tweak(model)
        runs[k] = ModelRun(kind=k, config=cfg.single(k), checkpoints={0: state_arrays(model)},
                           steps=list(steps or []), status="finished")
    return RunResult(config=cfg, runs=runs)


@pytest.fixture(scope="module")
def sentiment_run() -> RunResult:
    cfg = RunConfig(task=TaskConfig(name="sentiment_but", seq_len=10), model=ModelConfig(hidden_size=8),
                    train=TrainConfig(steps=30, eval_every=10, n_checkpoints=3), models=("rnn", "lstm", "gru"))
    return train(validate(cfg))


def test_checkpoint_steps_resolve_to_the_nearest_kept(sentiment_run):
    assert kept_steps(sentiment_run) == [0, 10, 20, 30]
    run = sentiment_run.runs["lstm"]
    assert resolve_step(run) == 30 and resolve_step(run, 0) == 0
    assert resolve_step(run, 14) == 10 and resolve_step(run, 16) == 20 and resolve_step(run, 999) == 30


def test_grad_table_is_the_probe_of_each_checkpoint(sentiment_run):
    g = grad_table(sentiment_run)
    task = sentiment_run.task
    x, y = probe_batch(task)
    for kind, run in sentiment_run.runs.items():
        model = model_from_weights(run.config, kind, run.checkpoints[20])
        direct = grad_through_time(model, task, x, y)
        got = g[(g.model == kind) & (g.step == 20)].sort_values("t").grad_norm.to_numpy()
        np.testing.assert_allclose(got, direct, rtol=1e-6)
    d = decay_table(sentiment_run, 20).set_index("model")
    lstm = g[(g.model == "lstm") & (g.step == 20)].sort_values("t").grad_norm.to_numpy()
    assert d.loc["lstm", "ratio"] == pytest.approx(lstm[0] / lstm[-1])
    assert d.loc["lstm", "orders_lost"] == pytest.approx(-math.log10(lstm[0] / lstm[-1]))
    assert d.loc["lstm", "init_step"] == 0 and d.loc["lstm", "step"] == 20
    assert all("LSTM" in s and "step 20" in s for s in d.loc[["lstm"], "summary"])


@settings(max_examples=6, deadline=None)
@given(T=st.integers(10, 25), scale=st.floats(0.1, 0.5), seed=st.integers(0, 100))
def test_decay_summary_reports_the_rnns_loss_of_signal(T, scale, seed):
    """An RNN with ||W_hh|| = scale < 1 loses at least (T-1)·log10(1/scale) orders of magnitude;
    the inspect layer must report that number, with its sign, for the checkpoint it was given."""
    def shrink(model):
        with torch.no_grad():
            w = torch.randn(16, 16, generator=torch.Generator().manual_seed(seed))
            model.core.weight_hh_l0.copy_(scale * w / torch.linalg.matrix_norm(w, ord=2))
    res = untrained(RunConfig(task=TaskConfig(seq_len=T), model=ModelConfig(hidden_size=16), models=("rnn",),
                              train=TrainConfig(seed=seed)), tweak=shrink)
    row = decay_table(res).iloc[0]
    # float32 weights (a real checkpoint): a little slack on the bound, none on the direction; the
    # range keeps the gradient above float32 underflow (~1e-45)
    assert row.orders_lost >= (T - 1) * math.log10(1 / scale) - 0.05
    assert "loses" in row.summary and "gains" not in row.summary


def test_forget_arithmetic_rebuilds_the_trace(sentiment_run):
    """The per-unit arithmetic, done from the weight matrices, gives the trace's f_t and c_t."""
    x, _, _ = showcase(sentiment_run.task)
    tr = example_traces(sentiment_run, "lstm", 30, x)
    for t in (0, 4, 9):
        df = forget_arithmetic(sentiment_run, x, t, 30, example=2)
        assert len(df) == 8
        np.testing.assert_allclose(df["f_t = σ(z)"], tr["f"][2, t], atol=1e-5)
        np.testing.assert_allclose(df["c_t"], tr["c"][2, t], atol=1e-5)
        parts = df["W_f·h_{t-1}"] + df["W_f·x_t"] + df["b_f"]
        np.testing.assert_allclose(parts, df["z = W_f·[h_{t-1}, x_t] + b_f"], atol=1e-12)
        np.testing.assert_allclose(df["f_t ⊙ c_{t-1} (kept)"], df["f_t = σ(z)"] * df["c_{t-1}"], atol=1e-12)
    assert (forget_arithmetic(sentiment_run, x, 0, 30)["c_{t-1}"] == 0).all()  # nothing to keep yet
    with pytest.raises(ValueError, match="between 0 and 9"):
        forget_arithmetic(sentiment_run, x, 10)
    with pytest.raises(ValueError, match="no LSTM"):
        forget_arithmetic(untrained(RunConfig(task=TaskConfig(seq_len=8), models=("rnn",))), x, 0)


def test_step_table_has_one_row_per_word_and_reads_out_the_model(sentiment_run):
    task = sentiment_run.task
    x, _, _ = showcase(task)
    df = step_table(sentiment_run, "lstm", None, x, example=1)
    assert list(df.input) == task.render(x[1:2])[0] and list(df.t) == list(range(10))
    assert {"forget_mean", "input_mean", "output_mean", "c_norm", "h_norm", "predicted", "p_positive"} <= set(df)
    assert df[["forget_mean", "input_mean", "output_mean"]].stack().between(0, 1).all()
    # the readout at the last step is what the fused model answers for the whole sequence
    run = sentiment_run.runs["lstm"]
    with torch.no_grad():
        p = torch.softmax(model_from_weights(run.config, "lstm", run.checkpoints[30])(x[1:2]).double(), -1)[0]
    assert df.p_positive.iloc[-1] == pytest.approx(float(p[1]), abs=1e-5)
    assert df.predicted.iloc[-1] == task.class_names[int(p.argmax())]
    rnn = step_table(sentiment_run, "rnn", None, x, example=1)  # no gates for the RNN, same rows
    assert len(rnn) == 10 and "forget_mean" not in rnn and rnn.h_norm.gt(0).all()


def test_typed_sentence_table_and_unknown_words(sentiment_run):
    text = "I loved the movie, but the ending was disappointing"
    df = sentiment_table(sentiment_run, text)
    assert list(df.input) == ["i", "loved", "the", "movie", ",", "but", "the", "ending", "was", "disappointing"]
    assert df["info"].tolist() == [w in ("loved", "but", "disappointing") for w in df.input]
    short = sentiment_table(sentiment_run, "we hated it", kind="gru")
    assert len(short) == 3
    with pytest.raises(ValueError, match="zebra") as e:
        sentiment_table(sentiment_run, "i loved the zebra")
    assert "\n" not in str(e.value)
    with pytest.raises(ValueError, match="sentiment_but"):
        sentiment_table(untrained(RunConfig(task=TaskConfig(seq_len=8))), "i loved it")


def test_sentence_table_reads_out_every_model_word_by_word(sentiment_run):
    text = "I loved the movie, but the ending was disappointing"
    df = sentence_table(sentiment_run, text)
    assert list(dict.fromkeys(df.model)) == list(sentiment_run.runs)  # rnn, lstm, gru: every model
    for kind in sentiment_run.runs:
        rows = df[df.model == kind].reset_index(drop=True)
        alone = sentiment_table(sentiment_run, text, kind=kind)  # the same rows, computed model by model
        assert list(rows.input) == list(alone.input) and len(rows) == 10
        assert rows.p_positive.to_numpy() == pytest.approx(alone.p_positive.to_numpy())
        assert rows.name.iloc[0] == sentiment_run.runs[kind].title
    assert df[df.model == "rnn"].forget_mean.isna().all() and df[df.model == "lstm"].forget_mean.notna().all()
    with pytest.raises(ValueError, match="zebra"):
        sentence_table(sentiment_run, "i loved the zebra")


def test_heatmap_frame_holds_every_unit_and_step(sentiment_run):
    x, _, _ = showcase(sentiment_run.task)
    tr = {k: example_traces(sentiment_run, k, 10, x) for k in ("rnn", "lstm")}
    df = heatmap_frame(tr, example=3)
    assert len(df) == (4 + 1) * 10 * 8  # LSTM c, f, i, o and RNN h; T=10, H=8
    cell = df[(df.model == "lstm") & (df.quantity == "f") & (df.unit == 5) & (df.t == 7)].value
    assert cell.item() == pytest.approx(float(tr["lstm"]["f"][3, 7, 5]))


def test_grad_norm_frame_thins_long_runs_but_keeps_clipping():
    rows = [{"step": s, "loss": 1.0, "grad_norm": 0.5, "clipped": s == 4321} for s in range(1, 6001)]
    df = grad_norm_frame(untrained(RunConfig(task=TaskConfig(seq_len=8), models=("lstm",)), steps=rows),
                         max_points=1500)
    assert len(df) == 1500 and df.clipped.sum() == 1 and df.step.max() == 6000
    assert df.grad_norm.eq(0.5).all()


@pytest.mark.parametrize("models", [("rnn",), ("lstm",), ("gru", "rnn"), ("rnn", "lstm", "gru")])
def test_inspect_charts_for_any_subset_of_models(models):
    res = untrained(RunConfig(task=TaskConfig(seq_len=8), model=ModelConfig(hidden_size=4), models=models),
                    steps=[{"step": 1, "loss": 1.0, "grad_norm": 2.0, "clipped": True}])
    items = inspect_charts(res)
    names = [i.name for i in items]
    assert names[:3] == ["grad_through_time", "grad_norm", "states_heatmaps"]
    assert ("gate_means" in names) == ("lstm" in models)
    for item in items:
        spec = item.chart.to_dict()
        assert spec["datasets"] and len(item.data) and item.caption
    heat = items[2].data
    assert set(heat.model) == set(models)
    assert ("c" in set(heat.quantity)) == ("lstm" in models)


def test_long_sequences_stay_under_altairs_row_guard():
    """T=200, hidden 64: the heatmaps are thinned to at most 4,800 cells a panel and still build."""
    res = untrained(RunConfig(task=TaskConfig(seq_len=200), model=ModelConfig(hidden_size=64)))
    items = {i.name: i for i in inspect_charts(res)}
    heat = items["states_heatmaps"]
    assert len(heat.data) == 5 * 200 * 64  # the data keeps everything
    spec = heat.chart.to_dict()  # raises MaxRowsError if a panel were over 5,000 rows
    assert max(len(v) for v in spec["datasets"].values()) <= 4800
    assert "32 of 64 units" in heat.caption


def test_cli_inspect_writes_its_files(tmp_path, sentiment_run):
    run_dir = save_run(sentiment_run, tmp_path / "run")
    out = tmp_path / "inside"

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "core", "inspect", "--run", str(run_dir), *args], cwd=ROOT,
                              capture_output=True, text=True, timeout=300)

    p = cli("--out", str(out), "--step", "10", "--example", "1", "--text", "we hated the plot", "--bench")
    assert p.returncode == 0, p.stderr
    assert "LSTM: ||dL/dh_1|| / ||dL/dh_T||" in p.stdout and "computed every probe" in p.stdout
    bench = [line for line in p.stdout.splitlines() if line.startswith("bench: ")]
    assert len(bench) == 3 and all("grad probe" in b and "step 10" in b for b in bench)
    files = {f.stem for f in out.glob("*.csv")}
    assert {"grad_through_time", "decay", "grad_norm", "heatmaps", "gate_means", "forget_arithmetic", "step_table",
            "sentence_table", "info_positions"} <= files
    expected = inspect_data(sentiment_run, 10, 1, "we hated the plot")
    for name in ("decay", "step_table", "forget_arithmetic", "sentence_table"):
        got = pd.read_csv(out / f"{name}.csv")
        assert len(got) == len(expected[name]), name
    sentence = pd.read_csv(out / "sentence_table.csv")  # every model's rows, not only the LSTM's
    assert list(sentence.model) == [k for k in sentiment_run.runs for _ in range(4)]
    assert list(sentence.input) == ["we", "hated", "the", "plot"] * len(sentiment_run.runs)
    assert pd.read_csv(out / "decay.csv").step.tolist() == [10, 10, 10]
    bad = run_cli("inspect", "--run", str(run_dir), "--out", str(tmp_path / "bad"), "--text", "we hated the zebra")
    assert bad.returncode == 2 and "zebra" in bad.stderr and "Traceback" not in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
    far = run_cli("inspect", "--run", str(run_dir), "--out", str(tmp_path / "bad"), "--step", "999")
    assert far.returncode == 2 and "--step must be between 0 and 30" in far.stderr


def test_default_focus_step_is_just_after_the_information():
    task = make_task(TaskConfig(seq_len=12))
    x, _ = task.sample(2, torch.Generator().manual_seed(0))
    assert default_focus_step(task, x) == 1  # first_token: the information is at t=0
