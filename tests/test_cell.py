"""/cell: the explainer's cell diagram drawn from a model's trace, and the belt's mechanism measured.

Every number on a diagram is checked against the trace and against the fused module (two ways through
the same weights); the belt's prediction against a loop of forget gates and its measurement against the
gradient at h_T; the page through AppTest with `?t=` good and bad, on tiny runs put in the run store."""
import json
from dataclasses import replace

import numpy as np
import pyarrow as pa
import pytest
import torch
from streamlit.testing.v1 import AppTest

from core import story
from core.belt import belt_frame, belt_gradient, growth_frame
from core.cell import QUANTITIES, cell_step, informative_units, step_values
from core.charts.cell import belt_item, cell_diagram_item, diagram_frames, fmt, growth_item
from core.config import ModelConfig, RunConfig, TaskConfig, TrainConfig, config_hash, validate
from core.inspection import EXPLAINER_SENTENCE, model_from_weights, probe_batch, resolve_step, traces
from core.results import RunResult
from core.store import RunStore
from core.story.measures import holding_units
from core.trainer import train
from dashboard.components import cell as cell_ui, plain
from tests.conftest import ROOT

APP = str(ROOT / "dashboard" / "app.py")
SMALL = dict(train=TrainConfig(steps=30, eval_every=10, n_checkpoints=2, batch_size=16))


def tiny_experiments() -> dict[str, RunConfig]:
    """The tour's experiments that /cell draws from, tiny (hidden 8, T <= 12, 30 steps)."""
    h8 = ModelConfig(hidden_size=8)
    but = TaskConfig(name="sentiment_but", seq_len=10)
    return {
        "but_short": validate(RunConfig(task=but, model=h8, models=("rnn", "lstm", "gru"), **SMALL)),
        "but_long": validate(RunConfig(task=replace(but, seq_len=12), model=h8, **SMALL)),
        "no_forget": validate(RunConfig(task=replace(but, seq_len=12), model=ModelConfig(hidden_size=8, forget_init="none"),
                                        models=("lstm",), **SMALL)),
        "long": validate(RunConfig(task=TaskConfig(seq_len=8), model=h8, **SMALL)),
        "zero_forget": validate(RunConfig(task=TaskConfig(seq_len=8), model=ModelConfig(hidden_size=8, forget_init="zero"),
                                          models=("lstm",), **SMALL)),
    }


@pytest.fixture(scope="module")
def trained() -> dict[str, RunResult]:
    return {name: train(cfg) for name, cfg in tiny_experiments().items()}


def sentence(result: RunResult):
    return result.task.encode_text(EXPLAINER_SENTENCE)


# --- the diagram's numbers are the model's ----------------------------------------------------------
def diagram_numbers(spec: dict) -> dict[tuple[str, int], tuple[float, str]]:
    """(quantity, unit) -> (value, text) of every unit cell drawn in a diagram's spec."""
    out = {}
    for rows in spec["datasets"].values():
        for r in rows:
            if "quantity" in r and "text" in r and r.get("unit", -1) >= 0:
                out[(r["quantity"], int(r["unit"]))] = (r["value"], r["text"])
    return out


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
def test_every_number_on_the_diagram_is_the_trace_and_the_fused_module_agrees(trained, kind):
    result = trained["but_short"]
    run = result.runs[kind]
    x = sentence(result)
    model = model_from_weights(run.config, kind, run.checkpoints[resolve_step(run)])
    tr = traces(model, x)
    with torch.no_grad():
        fused = model.final_state(x)["h"][0].numpy()  # (T, H): the other way through the same weights
    units = informative_units(run)
    for t in (2, 8):  # t = 3 and t = 9, counted from 1
        step = cell_step(run, x, t, units, words=EXPLAINER_SENTENCE.split())
        drawn = diagram_numbers(cell_diagram_item(step).chart.to_dict())
        assert {q for q, _ in drawn} == set(QUANTITIES[kind])
        for k, u in enumerate(units):
            for q in QUANTITIES[kind]:
                value, text = drawn[(q, u)]
                assert value == float(step.values[q][k]) and text == fmt(value)
            for q in set(QUANTITIES[kind]) & {"i", "f", "g", "o", "c", "r", "z", "n", "h"}:
                assert drawn[(q, u)][0] == float(tr[q][0, t, u])  # the trace's own float32, exactly
            assert drawn[("h_prev", u)][0] == float(tr["h"][0, t - 1, u])
            np.testing.assert_allclose(drawn[("h", u)][0], fused[t, u], atol=1e-6)
            if kind == "lstm":  # the belt's arithmetic, on the picture
                c_prev, c = drawn[("c_prev", u)][0], drawn[("c", u)][0]
                assert c_prev == float(tr["c"][0, t - 1, u])
                np.testing.assert_allclose(drawn[("kept", u)][0] + drawn[("written", u)][0], c, rtol=1e-5, atol=1e-7)
                np.testing.assert_allclose(drawn[("o", u)][0] * np.tanh(c), drawn[("h", u)][0], rtol=1e-5, atol=1e-7)
            if kind == "gru":
                np.testing.assert_allclose(drawn[("kept", u)][0] + drawn[("written", u)][0], drawn[("h", u)][0],
                                           rtol=1e-5, atol=1e-7)


def test_steps_3_and_9_differ_and_a_step_outside_the_input_is_refused(trained):
    result = trained["but_short"]
    run, x = result.runs["lstm"], sentence(result)
    a, b = (cell_step(run, x, t, [0, 1, 2]) for t in (2, 8))
    assert a.word == "the" and b.word == "was"
    assert not np.array_equal(a.values["c"], b.values["c"]) and not np.array_equal(a.values["f"], b.values["f"])
    for t in (-1, x.shape[1]):
        with pytest.raises(ValueError, match=r"^time step must be between 1 and 10, got -?\d+$"):
            step_values(traces(model_from_weights(run.config, "lstm", run.checkpoints[30]), x), "lstm", t, [0])
    cells, frames = diagram_frames(a)
    assert set(frames.label) >= {"σ  f_t forget", "σ  i_t input", "σ  o_t output", "c_{t-1}", "c_t"}
    spec = json.dumps(cell_diagram_item(a).chart.to_dict(), ensure_ascii=False)
    assert "c_t = f_t ⊙ c_{t-1} + i_t ⊙ c̃_t" in spec and "conveyor belt" in spec  # equations and belt on the picture


def test_the_units_shown_are_those_chapter_3_picks_for_the_lstm(trained):
    result = trained["but_long"]
    assert informative_units(result.runs["lstm"], k=3) == list(holding_units(result, k=3).unit)
    assert len(set(informative_units(result.runs["rnn"], k=3))) == 3


# --- the mechanism ----------------------------------------------------------------------------------
def test_the_belt_prediction_is_the_product_of_forget_gates_and_meets_the_measurement_at_the_answer(trained):
    result = trained["but_long"]
    run = result.runs["lstm"]
    task = result.task
    model = model_from_weights(run.config, "lstm", run.checkpoints[30])
    x, y = probe_batch(task)
    x, y = x[:16], y[:16]
    measured, predicted = belt_gradient(model, task, x, y)
    T = x.shape[1]
    assert measured[-1] == pytest.approx(predicted[-1], rel=1e-12)
    # the same prediction with a plain loop, and the gradient at c_T from the one at h_T (two ways)
    with torch.enable_grad():
        tr = model.trace(x, keep_graph=True)
        loss = task.loss(tr["out"][:, -1], y) * len(y)
        (g_h,) = torch.autograd.grad(loss, tr["hs"][-1])
    f, c, o = (tr[k].detach().double() for k in ("f", "c", "o"))
    g_c = g_h.double() * o[:, -1] * (1 - torch.tanh(c[:, -1]) ** 2)
    assert float(g_c.norm(dim=-1).mean()) == pytest.approx(measured[-1], rel=1e-5)
    for t in (0, T // 2, T - 2):
        prod = torch.ones_like(g_c)
        for s in range(t + 1, T):
            prod = prod * f[:, s]
        assert float((g_c * prod).norm(dim=-1).mean()) == pytest.approx(predicted[t], rel=1e-5)
    assert np.all(np.diff(predicted) >= 0)  # gates below 1: the product shrinks with the gap


def test_without_a_forget_gate_the_prediction_is_flat_and_the_cell_only_adds(trained):
    result = trained["no_forget"]
    df = belt_frame({"no forget gate": result})
    assert np.allclose(df.predicted, df.predicted.iloc[-1], rtol=1e-12)  # f = 1: nothing fades along the belt
    run = result.runs["lstm"]
    tr = traces(model_from_weights(run.config, "lstm", run.checkpoints[30]), probe_batch(result.task)[0])
    assert (tr["f"] == 1.0).all()
    np.testing.assert_allclose(np.diff(tr["c"], axis=1), (tr["i"] * tr["g"])[:, 1:], atol=1e-5)
    growth = growth_frame({"1997": result})
    np.testing.assert_allclose(growth.c_norm, np.linalg.norm(tr["c"].astype(np.float64), axis=-1).mean(0), rtol=1e-5)


def test_the_mechanism_charts_carry_their_data_one_panel_per_start_one_line_per_seed(trained):
    cfg = trained["long"].config
    seed1 = train(validate(replace(cfg, models=("lstm",), train=replace(cfg.train, seed=1))))
    item = belt_item({"chrono": [trained["long"], seed1], "zero": trained["zero_forget"], "none": trained["no_forget"]})
    assert list(dict.fromkeys(item.data.label)) == ["chrono", "zero", "none"] and len(item.data) == 2 * 8 + 8 + 12
    assert sorted(set(item.data[item.data.label == "chrono"].seed)) == [0, 1]
    spec = json.dumps(item.chart.to_dict())
    assert '"detail": {"field": "seed"' in spec
    assert set(item.data.start) == {"chrono start", "zero start (f ≈ 0.5)", "no forget gate (1997)"}
    assert "measured" in item.caption and json.dumps(item.chart.to_dict()).count('"mark"') >= 3
    grow = growth_item({"chrono": trained["but_long"], "1997": trained["no_forget"]})
    assert set(grow.data.label) == {"chrono", "1997"} and "only add" in grow.caption


def test_a_diagram_exports_like_every_chart(trained):
    from core.charts import export

    result = trained["but_short"]
    item = cell_diagram_item(cell_step(result.runs["lstm"], sentence(result), 5, [0, 1, 2]))
    assert export.export_chart(item, "svg").lstrip().startswith(b"<svg")
    rows = export.export_chart(item, "csv").decode().splitlines()
    assert rows[0] == "quantity,label,unit,value,t" and len(rows) == 1 + 11 * 3


# --- the page ------------------------------------------------------------------------------------------
@pytest.fixture
def stored(trained, monkeypatch):
    """The tiny runs in this test's run store, and the tour's experiments made tiny."""
    monkeypatch.setattr(story, "experiments", tiny_experiments)
    store = RunStore()
    for r in trained.values():
        store.put_result(r)
    return trained


def open_cell(query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.switch_page("views/cell.py")
    at.run(timeout=120)
    assert not at.exception, at.exception
    return at


def drawn(at: AppTest) -> dict[str, dict]:
    """Title's first word ('LSTM', 'GRU', 'Vanilla') -> the diagram's numbers."""
    out = {}
    for el in at.get("vega_lite_chart"):
        spec = json.loads(el.proto.spec)
        title = spec.get("title", {}).get("text", "")
        if " cell at t = " in title:
            nums = {}
            for ds in el.proto.datasets:
                table = pa.ipc.open_stream(ds.data.data).read_all().to_pandas()
                if {"quantity", "unit", "value", "text"} <= set(table.columns):
                    nums.update({(q, int(u)): v for q, u, v in zip(table.quantity, table.unit, table.value) if u >= 0})
            out[title.split(" cell")[0]] = (title, nums)
    return out


def test_the_page_draws_three_cells_at_the_linked_step_equal_to_the_trace(stored):
    result = stored["but_short"]
    x = sentence(result)
    seen = {}
    for t in (3, 9):
        at = open_cell({"t": str(t)})
        cells = drawn(at)
        assert set(cells) == {"LSTM", "GRU", "Vanilla RNN"}
        assert not at.warning and at.query_params["t"] == str(t) and at.slider[0].value == t
        for kind, name in (("lstm", "LSTM"), ("gru", "GRU"), ("rnn", "Vanilla RNN")):
            title, nums = cells[name]
            assert f"at t = {t} of 10" in title
            run = result.runs[kind]
            tr = traces(model_from_weights(run.config, kind, run.checkpoints[30]), x)
            for (q, u), v in nums.items():
                if q in ("h", "c", "f", "i", "o", "g", "r", "z", "n"):
                    assert v == pytest.approx(float(tr[q][0, t - 1, u]), abs=0, rel=0)
        seen[t] = cells["LSTM"][1]
    assert seen[3] != seen[9]
    assert len([c for c in at.get("vega_lite_chart")]) == 5  # three cells, the belt, the growth


@pytest.mark.parametrize("key,raw", [("t", "11"), ("t", "**bold** `x` <b>"), ("t", "9" * 40), ("run", "nonsense")])
def test_a_bad_link_value_is_refused_in_one_line(stored, key, raw):
    at = open_cell({key: raw})
    assert len(at.warning) == 1
    line = at.warning[0].value
    text = plain.unescape(line)  # shown as text: every Markdown character escaped (dashboard.components.plain)
    assert text.startswith(f"Ignored {key}=") and "\n" not in line
    assert plain.md(text) == line and "`x`" not in line and "**bold**" not in line
    assert ("from 1 to 10" in text) if key == "t" else ("but_short" in text)
    assert at.slider[0].value == 1 and "at t = 1 of 10" in next(iter(drawn(at).values()))[0]


def test_step_forward_and_another_experiment_from_the_link(stored):
    at = open_cell({"t": "3"})
    at.button(key="cell-forward").click().run(timeout=120)
    assert not at.exception and at.slider[0].value == 4 and "at t = 4 of 10" in drawn(at)["LSTM"][0]
    assert at.query_params["t"] == "4"
    at.button(key="cell-play").click().run(timeout=120)  # playing: the page's timer moves t, here a rerun
    assert at.button(key="cell-stop") and at.slider[0].value == 4
    at.run(timeout=120)
    assert not at.exception and at.slider[0].value == 5 and "at t = 5 of 10" in drawn(at)["LSTM"][0]
    at = open_cell({"run": "no_forget", "t": "6"})
    assert "LSTM (1997: no forget gate) cell at t = 6 of 10" in drawn(at)["LSTM (1997: no forget gate)"][0]


def test_a_missing_gru_is_trained_as_a_job_and_drawn_when_done(trained, monkeypatch):
    monkeypatch.setattr(story, "experiments", tiny_experiments)
    made = []

    class Counting(cell_ui.TrainJob):
        def __init__(self, cfg, **kw):
            made.append(cfg)
            super().__init__(cfg, **kw)

    monkeypatch.setattr(cell_ui, "TrainJob", Counting)
    store = RunStore()
    for r in trained.values():
        store.put_result(RunResult(config=r.config, runs={k: v for k, v in r.runs.items() if k != "gru"}))
    gru_cfg = validate(replace(tiny_experiments()["but_short"], models=("gru",)))
    at = open_cell()
    assert [config_hash(c) for c in made] == [config_hash(gru_cfg)]
    for j in cell_ui.default_queue().jobs(cell_ui.OWNER):  # a tiny job may already be done
        cell_ui.default_queue().wait(j, timeout=60)
    at.run(timeout=120)
    assert not at.exception and set(drawn(at)) == {"LSTM", "GRU", "Vanilla RNN"}
    assert RunStore().get(gru_cfg) is not None and len(made) == 1  # kept: nobody trains it again


@pytest.mark.parametrize("v,text", [(0.4609, ".461"), (-0.0054, "-.005"), (-0.0001, "0"), (0.9999, "1.000"),
                                    (-3.456, "-3.46"), (43.54, "43.5"), (160.2, "160")])
def test_a_number_fits_its_cell_and_rounds_as_written(v, text):
    assert fmt(v) == text and len(text) <= 5 and float(text) == pytest.approx(v, abs=0.0005 + abs(v) * 0.005)
