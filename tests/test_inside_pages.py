"""AppTest drives the "Gradients through time" and "Inside the LSTM" pages on a tiny trained run
and finds their charts carrying data, the step-by-step tables and the forget-gate arithmetic."""
import json

import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from core.config import ModelConfig, RunConfig, TaskConfig, TrainConfig, validate
from core.trainer import train
from dashboard.components.session import KEY
from tests.conftest import ROOT
from tests.test_inspect import untrained

APP = str(ROOT / "dashboard" / "app.py")


@pytest.fixture(scope="module")
def tiny_run():
    cfg = RunConfig(task=TaskConfig(name="sentiment_but", seq_len=10), model=ModelConfig(hidden_size=8),
                    train=TrainConfig(steps=30, eval_every=10, n_checkpoints=3))
    return train(validate(cfg))


def open_page(name: str, result=None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    if result is not None:
        at.session_state[KEY] = result
    at.switch_page(f"views/{name}.py")
    at.run(timeout=60)
    assert not at.exception, at.exception
    return at


def charts(at: AppTest) -> list[tuple[dict, int]]:
    """Each chart's spec and the number of data rows it carries (Streamlit sends them as Arrow)."""
    out = []
    for el in at.get("vega_lite_chart"):
        rows = sum(pa.ipc.open_stream(d.data.data).read_all().num_rows for d in el.proto.datasets)
        out.append((json.loads(el.proto.spec), rows))
    return out


def titles(spec: dict) -> str:
    return json.dumps(spec.get("title", ""))


def test_gradients_page_draws_its_charts_with_data(tiny_run):
    at = open_page("gradients", tiny_run)
    found = charts(at)
    assert len(found) == 3 and all(rows > 0 for _, rows in found)
    conn = found[2][0]  # connectivity: a read-out slider, one strip per model, from the run's own gradients
    assert "Connectivity" in titles(conn) and json.dumps(conn).count("binding_range") + json.dumps(conn).count(
        '"input": "range"') >= 1
    assert any("Vanilla RNN puts" in c.value and "LSTM puts" in c.value for c in at.caption)
    assert "Gradients through time" in titles(found[0][0]) and "gradient norm" in titles(found[1][0])
    assert "step 30" in json.dumps(found[0][0])
    lines = [m.value for m in at.markdown if m.value.startswith("- ")]
    assert len(lines) == 2 and any("LSTM" in s and "orders of magnitude" in s for s in lines)
    # back to initialisation with the training-step slider
    slider = at.select_slider[0]
    assert [int(o) for o in slider.options] == [0, 10, 20, 30]
    slider.set_value(0).run(timeout=60)
    assert not at.exception
    assert "step 0" in json.dumps(charts(at)[0][0]) and all(rows > 0 for _, rows in charts(at))
    assert len(charts(at)) == 3


def test_inside_page_draws_heatmaps_tables_and_the_forget_gate(tiny_run):
    at = open_page("inside", tiny_run)
    found = charts(at)
    assert len(found) == 2 and all(rows > 0 for _, rows in found)
    heat = json.dumps(found[0][0])
    assert "LSTM cell state c_t" in heat and "LSTM forget gate f_t" in heat and "Vanilla RNN hidden state" in heat
    step, sentence, forget = (d.value for d in at.dataframe)
    assert len(step) == 10 and list(step.columns[:3]) == ["t", "input", "info"]
    assert list(sentence.input) == "i loved the movie , but the ending was disappointing".split()
    assert len(forget) == 8 and "f_t = σ(z)" in forget.columns
    assert at.get("download_button")  # the full forget-gate vectors
    # another example and another time step: still drawn, tables follow
    at.selectbox[0].set_value(2).run(timeout=60)
    at.slider[0].set_value(3).run(timeout=60)
    assert not at.exception and len(charts(at)) == 2
    assert any("At t = 3" in m.value for m in at.markdown)


def test_a_typed_sentence_with_unknown_words_gets_a_message(tiny_run):
    at = open_page("inside", tiny_run)
    at.text_input[0].input("we loved the zebra , but the ending was dull").run(timeout=60)
    assert not at.exception
    assert any("zebra" in w.value for w in at.warning)
    assert len(at.dataframe) == 2  # the step table and the forget gate stay; no sentence table
    at.text_input[0].input("we hated the plot").run(timeout=60)
    assert len(at.dataframe) == 3 and len(at.dataframe[1].value) == 4


def test_pages_without_a_run_say_so_and_link_to_training():
    for name in ("gradients", "inside"):
        at = open_page(name)
        assert not at.get("vega_lite_chart")
        assert any("train a run first" in i.value for i in at.info)
        assert at.get("page_link")


def test_inside_page_without_an_lstm_shows_the_rnn(tiny_run):
    res = untrained(RunConfig(task=TaskConfig(seq_len=8), model=ModelConfig(hidden_size=4), models=("rnn",)))
    at = open_page("inside", res)
    assert any("no LSTM" in w.value for w in at.warning)
    found = charts(at)
    assert len(found) == 1 and found[0][1] > 0 and "Vanilla RNN hidden state" in json.dumps(found[0][0])
    assert len(at.dataframe) == 1 and len(at.dataframe[0].value) == 8
