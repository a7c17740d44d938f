"""The training page through Streamlit's AppTest: controls, links, live training, verdicts,
reuse of known runs, per-session isolation. Configs are tiny (T=8, 30 steps, hidden 8)."""
from __future__ import annotations

import dataclasses

import time
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from streamlit import dataframe_util
from streamlit.testing.v1 import AppTest

from core.config import ModelConfig, RunConfig, TaskConfig, TrainConfig, config_hash, validate
from core import jobs
from core.store import RunStore
from core.trainer import Trainer, train
from dashboard.components import controls, explainer, plain, training

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
TIMEOUT = 180  # seconds per script run: generous, the machine is shared
TINY = {"seq_len": "8", "steps": "30", "hidden_size": "8", "batch_size": "32"}


def labelled_fields() -> tuple[str, ...]:
    """Every config field whose rule has a label (a control), by its URL key, in declaration order, with
    the models after the task's fields: what the sidebar and the link must offer."""
    from core.config import SECTIONS, flag_of

    keys = {s: [flag_of(s, f.name).replace("-", "_") for f in dataclasses.fields(cls)
                if "rule" in f.metadata and f.metadata["rule"].label] for s, cls in SECTIONS.items()}
    return (*keys["task"], "models", *(k for s, ks in keys.items() if s != "task" for k in ks))


@pytest.fixture(autouse=True)
def _fresh_caches():
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def tiny_default(monkeypatch) -> RunConfig:
    """Make the lab's default experiment tiny, so the first-open behaviour is cheap to test."""
    cfg = validate(RunConfig(task=TaskConfig(seq_len=8), model=ModelConfig(hidden_size=8),
                             train=TrainConfig(steps=30, batch_size=32)))
    monkeypatch.setattr(controls, "DEFAULT", cfg)
    return cfg


def app(**params: str) -> AppTest:
    """The training page (/train; the tour is the app's landing page)."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.switch_page("views/train.py")
    for k, v in params.items():
        at.query_params[k] = v
    return settle(at.run())


def job_of(at: AppTest):
    try:
        return at.session_state[training.JOB]
    except KeyError:
        return None


def settle(at: AppTest, until=lambda j: j.ended, timeout: float = TIMEOUT) -> AppTest:
    """Rerun the page (as its polling fragment would) until the session's job satisfies `until`
    (default: it has ended and the page has taken its result), or there is no job."""
    deadline = time.monotonic() + timeout
    while (j := job_of(at)) is not None and time.monotonic() < deadline:
        if until(j) and j.ended is False:
            return at.run()  # the page as it is once the job got there
        time.sleep(0.1)
        at.run()
    assert job_of(at) is None or until(job_of(at)), "the job did not get there in time"
    return at


def click(at: AppTest, key: str) -> AppTest:
    at.button(key=key).click().run()
    return settle(at)


def chart_data(at: AppTest) -> pd.DataFrame:
    """The learning-curve rows drawn by the first chart on the page (the dataset with `model`)."""
    charts = at.get("vega_lite_chart")
    assert charts, "no chart on the page"
    for d in charts[0].proto.datasets:
        df = dataframe_util.convert_arrow_bytes_to_pandas_df(d.data.data)
        if "model" in df.columns:
            return df
    raise AssertionError("the chart has no learning-curve data")


def texts(at: AppTest) -> str:
    return "\n".join([m.value for m in at.markdown] + [c.value for c in at.caption])


# --- pure functions -------------------------------------------------------------------------
def test_link_round_trip_and_refusals():
    cfg, problems = controls.from_query(controls.to_query(controls.DEFAULT))
    assert cfg == controls.DEFAULT and problems == []
    cfg, problems = controls.from_query({"seq_len": "-3", "lr": "abc", "steps": "30", "models": "lstm, gru",
                                         "utm_source": "x"})
    assert cfg.task.seq_len == controls.DEFAULT.task.seq_len and cfg.train.lr == controls.DEFAULT.train.lr
    assert cfg.train.steps == 30 and cfg.models == ("lstm", "gru")
    assert len(problems) == 2
    assert "seq_len=-3" in problems[0] and "between 5 and 1000" in problems[0]
    assert "lr=abc" in problems[1] and "number" in problems[1]
    _, problems = controls.from_query({"seq_len": "1001", "models": "", "forget_init": "two", "seed": "1.5"})
    assert [p.split(" ")[1].split("=")[0] for p in problems] == ["seq_len", "models", "forget_init", "seed"]
    # a run too big for the machine's memory is refused before it starts
    cfg, problems = controls.from_query({"seq_len": "1000", "hidden_size": "1024"})
    assert cfg.model.hidden_size == controls.DEFAULT.model.hidden_size and "GB of memory" in problems[0]


def test_each_models_init_is_a_control_in_the_link():
    assert tuple(controls.FIELDS) == labelled_fields()
    assert {"task", "seq_len", "models", "forget_init", "rnn_init", "gru_init", "steps"} <= set(controls.FIELDS)
    q = controls.to_query(controls.DEFAULT)
    assert (q["rnn_init"], q["gru_init"], q["forget_init"]) == ("default", "default", "chrono")
    cfg, problems = controls.from_query({"rnn_init": "irnn", "gru_init": "chrono", "models": "rnn,gru"})
    assert problems == [] and (cfg.model.rnn_init, cfg.model.gru_init) == ("irnn", "chrono")
    assert controls.from_query(controls.to_query(cfg))[0] == cfg
    line = controls.describe(cfg)
    assert "Vanilla RNN init irnn" in line and "GRU init chrono" in line
    assert "rnn_init (default default)" in line
    _, problems = controls.from_query({"rnn_init": "chrono", "gru_init": "one"})
    assert [p.split(" ")[1] for p in problems] == ["rnn_init=chrono", "gru_init=one"]


def test_explainer_is_tied_to_the_numbers_on_screen():
    cfg = validate(RunConfig(task=TaskConfig(seq_len=100), model=ModelConfig(forget_init="zero")))
    paras = explainer.paragraphs(cfg, None)
    assert "99 random distractors" in paras[0] and "12.5%" in paras[0]
    assert any("$0.9^{99}$ = 3e-05" in p for p in paras)
    assert any("$0.50^{99}$ = 1.6e-30" in p for p in paras)  # the zero init's forget gate, at this T
    assert explainer.forget_retention("chrono", 100) == pytest.approx((99 / 100) ** 99)
    result = train(validate(RunConfig(task=TaskConfig(seq_len=8), model=ModelConfig(hidden_size=8),
                                      train=TrainConfig(steps=20, eval_every=10), models=("rnn", "lstm"))))
    story = explainer.result_story(result)
    assert "Vanilla RNN" in story and "LSTM" in story


def test_explainer_names_each_start_and_what_it_buys():
    cfg = validate(RunConfig(task=TaskConfig(seq_len=100), model=ModelConfig(rnn_init="irnn", gru_init="chrono"),
                             models=("rnn", "gru", "lstm")))
    story = explainer.start_story(cfg)
    assert "start (irnn)" in story and r"\mathrm{relu}" in story and "identity" in story
    assert "start (chrono)" in story and "u between 1 and 99" in story
    assert "close the gap?" in story and "docs/calibration.md" in story  # the measured table, in one home
    assert story in "\n\n".join(explainer.paragraphs(cfg, None))
    assert explainer.start_story(validate(RunConfig(models=("lstm",)))) == ""  # nothing to say


# --- the page -------------------------------------------------------------------------------
def test_starts_and_every_control_has_its_key():
    at = app(**TINY)
    assert not at.exception
    assert at.slider(key="seq_len").value == 8
    for key in ("task", "forget_init", "rnn_init", "gru_init"):
        assert at.selectbox(key=key).help
    assert at.multiselect(key="models").value == ["rnn", "lstm"]
    for key in ("hidden_size", "lr", "steps", "batch_size", "seed"):
        assert at.number_input(key=key).help
    assert at.slider(key="seq_len").help and at.multiselect(key="models").help
    assert not at.button(key="train").disabled and at.button(key="stop").disabled
    assert "Not trained yet" in at.info[0].value
    # the defaults are stated openly: forget-gate init, learning rate, steps
    d = controls.DEFAULT
    line = at.caption[0].value
    assert f"forget-gate init {d.model.forget_init}" in line and f"learning rate {d.train.lr:g}" in line
    assert f"seq_len (default {d.task.seq_len})" in line and f"steps (default {d.train.steps})" in line


def test_train_a_tiny_config_shows_curves_for_every_model_and_verdicts():
    at = app(**TINY, models="rnn,lstm,gru")
    click(at, "train")
    assert not at.exception
    data = chart_data(at)
    assert set(data["model"]) == {"rnn", "lstm", "gru"}
    for kind in ("rnn", "lstm", "gru"):
        steps = sorted(data.loc[data["model"] == kind, "step"])
        assert steps == [0, 25, 30]
    page = texts(at)
    assert "Trained just now: 30 steps" in page
    for name in ("Vanilla RNN", "LSTM", "GRU"):
        assert f"■ {name}" in page  # one card per model
        assert any(m.value.startswith(name) and "chance 12.5%" in m.value for m in at.markdown)
    assert [m.label for m in at.metric] == ["final accuracy"] * 3
    # saved in the run store, and the other pages see this run as the current one
    stored, missing = RunStore().get_result(controls.config_from_values({**controls.values_of(
        controls.DEFAULT), "seq_len": 8, "steps": 30, "hidden_size": 8, "batch_size": 32,
        "models": ["rnn", "lstm", "gru"]}))
    assert missing == [] and set(stored.runs) == {"rnn", "lstm", "gru"}
    current = at.session_state["lab_current_result"]
    assert current.config.task.seq_len == 8 and set(current.runs) == {"rnn", "lstm", "gru"}
    assert not at.button(key="train").disabled and at.button(key="stop").disabled


def test_query_parameters_set_the_controls_and_the_url_follows_them():
    at = app(task="temporal_order", seq_len="12", models="lstm", hidden_size="16", forget_init="one",
             lr="0.01", steps="40", batch_size="16", seed="3")
    assert not at.exception and not at.warning
    assert at.selectbox(key="task").value == "temporal_order"
    assert at.slider(key="seq_len").value == 12
    assert at.multiselect(key="models").value == ["lstm"]
    assert at.number_input(key="hidden_size").value == 16
    assert at.selectbox(key="forget_init").value == "one"
    assert at.number_input(key="lr").value == pytest.approx(0.01)
    assert (at.number_input(key="steps").value, at.number_input(key="batch_size").value,
            at.number_input(key="seed").value) == (40, 16, 3)
    at.slider(key="seq_len").set_value(20).run()
    assert at.query_params["seq_len"] == "20" and at.query_params["models"] == "lstm"


def test_a_start_chosen_in_the_link_trains_and_is_named_on_every_card():
    at = app(**TINY, models="rnn,gru", rnn_init="irnn", gru_init="chrono")
    assert not at.exception and not at.warning
    assert at.selectbox(key="rnn_init").value == "irnn" and at.selectbox(key="gru_init").value == "chrono"
    click(at, "train")
    assert not at.exception
    page = texts(at)
    for name in ("Vanilla RNN (IRNN init)", "GRU (chrono init)"):
        assert f"■ {name}" in page
        assert any(m.value.startswith(name) for m in at.markdown)  # the verdict names the start
    assert set(chart_data(at)["name"]) == {"Vanilla RNN (IRNN init)", "GRU (chrono init)"}
    at.selectbox(key="rnn_init").set_value("orthogonal").run()
    assert at.query_params["rnn_init"] == "orthogonal" and "Not trained yet" in at.info[0].value


def test_changing_the_task_sets_its_suggested_steps_unless_the_user_chose_some():
    from core.config import suggested_steps

    at = app(seq_len="8", hidden_size="8", steps=str(suggested_steps("first_token")))
    at.selectbox(key="task").set_value("adding").run()
    assert not at.exception
    assert at.number_input(key="steps").value == suggested_steps("adding") != suggested_steps("first_token")
    at.number_input(key="steps").set_value(77).run()
    at.selectbox(key="task").set_value("temporal_order").run()
    assert at.number_input(key="steps").value == 77


def test_bad_query_values_are_refused_with_a_message():
    at = app(seq_len="-3", lr="abc", steps="30", hidden_size="8")
    assert not at.exception
    warnings = [plain.unescape(w.value) for w in at.warning]  # shown as text: every special character escaped
    assert any("seq_len=-3" in w and "between 5 and 1000" in w for w in warnings)
    assert any("lr=abc" in w for w in warnings)
    assert at.slider(key="seq_len").value == controls.DEFAULT.task.seq_len
    assert at.number_input(key="lr").value == pytest.approx(controls.DEFAULT.train.lr)
    assert at.number_input(key="steps").value == 30  # the good values are kept


def test_an_empty_model_choice_disables_train_with_a_message():
    at = app(**TINY)
    at.multiselect(key="models").set_value([]).run()
    assert not at.exception
    assert at.button(key="train").disabled
    assert any("at least one model" in w.value for w in at.sidebar.warning)


def test_default_experiment_trains_on_first_open(tiny_default):
    at = app()
    assert not at.exception
    assert "Trained just now" in texts(at)
    assert set(chart_data(at)["model"]) == {"rnn", "lstm"}
    assert "These are the lab's defaults." in at.caption[0].value


def _count_jobs(monkeypatch) -> list[tuple[str, ...]]:
    """Record the models every new training job trains."""
    built: list[tuple[str, ...]] = []
    real = training.TrainJob

    def counting(cfg, **kw):
        j = real(cfg, **kw)
        built.append(j.to_train)
        return j

    monkeypatch.setattr(training, "TrainJob", counting)
    return built


def test_default_experiment_from_the_store_shows_at_once(tiny_default, monkeypatch):
    RunStore().put_result(train(tiny_default))
    built = _count_jobs(monkeypatch)
    at = app()
    assert not at.exception and built == []
    assert "Loaded from the run store" in texts(at)
    assert set(chart_data(at)["model"]) == {"rnn", "lstm"}


def test_returning_to_a_trained_config_does_not_train_again(monkeypatch):
    built = _count_jobs(monkeypatch)
    at = app(**TINY)
    click(at, "train")
    assert built == [("rnn", "lstm")]
    at.slider(key="seq_len").set_value(9).run()
    assert "Not trained yet" in at.info[0].value and not at.get("vega_lite_chart")
    at.slider(key="seq_len").set_value(8).run()
    assert built == [("rnn", "lstm")]  # shown from this session, not retrained
    assert "Trained just now" in texts(at) and set(chart_data(at)["model"]) == {"rnn", "lstm"}
    # a model already in the store is reused, only the new one trains
    at.multiselect(key="models").set_value(["rnn", "lstm", "gru"]).run()
    assert "Already in the run store, so not trained again: Vanilla RNN, LSTM" in texts(at)
    click(at, "train")
    assert built[-1] == ("gru",)
    assert set(chart_data(at)["model"]) == {"rnn", "lstm", "gru"}


def test_two_sessions_do_not_see_each_others_runs():
    a = app(**TINY, seed="0")
    b = app(**TINY, seed="1")
    click(a, "train")
    b.run()
    assert "Not trained yet" in b.info[0].value  # a's run is not b's config, and b sees none of a's state
    click(b, "train")
    a.run()
    assert a.session_state["lab_current_result"].config.train.seed == 0
    assert b.session_state["lab_current_result"].config.train.seed == 1
    assert list(a.session_state[training.RESULTS]) != list(b.session_state[training.RESULTS])
    assert a.number_input(key="seed").value == 0 and b.number_input(key="seed").value == 1


def test_a_stopped_run_keeps_what_was_trained():
    at = app(**{**TINY, "steps": "1000"})
    cfg = controls.from_query({**TINY, "steps": "1000"})[0]
    at.button(key="train").click().run()
    settle(at, until=lambda j: j.step >= 10)
    assert not at.button(key="stop").disabled and at.button(key="train").disabled
    click(at, "stop")
    assert not at.exception
    page = texts(at)
    assert "Stopped at step" in page and "of 1,000" in page
    stopped_at = int(page.split("Stopped at step ")[1].split(" ")[0].replace(",", ""))
    assert 10 <= stopped_at < 1000
    data = chart_data(at)
    assert data["step"].max() == stopped_at and set(data["model"]) == {"rnn", "lstm"}
    assert any("stopped early" in m.value for m in at.markdown)
    assert RunStore().get_result(cfg)[1] == ["rnn", "lstm"]  # an incomplete run is not stored
    assert at.session_state[training.RESULTS][config_hash(cfg)].stopped


def test_pause_step_play_and_continue():
    """TensorFlow Playground's controls: pause keeps the run, Step trains one evaluation interval,
    Play goes on, Continue trains a finished run further with the same numbers as one long run."""
    at = app(**{**TINY, "steps": "400"})
    at.button(key="step").click().run()
    settle(at, until=lambda j: j.state == jobs.PAUSED)
    assert job_of(at).step == 25 and at.button(key="pause").label == "Play"
    at.button(key="step").click().run()
    settle(at, until=lambda j: j.state == jobs.PAUSED and j.step == 50)
    at.button(key="pause").click().run()  # Play
    settle(at, until=lambda j: j.step > 50)
    at.button(key="pause").click().run()  # Pause
    settle(at, until=lambda j: j.state == jobs.PAUSED)
    paused_at = job_of(at).step
    assert 50 < paused_at < 400 and paused_at % 25 == 0 and "Paused" in at.subheader[0].value
    at.button(key="pause").click().run()  # Play to the end
    settle(at)
    assert "Trained just now: 400 steps" in texts(at)
    assert not at.button(key="continue").disabled
    at.number_input(key="more_steps").set_value(100).run()
    click(at, "continue")
    assert "Trained just now: 500 steps" in texts(at) and at.number_input(key="steps").value == 500
    long = train(controls.from_query({**TINY, "steps": "500"})[0])
    shown = at.session_state["lab_current_result"]
    for k in ("rnn", "lstm"):
        assert [e["metric"] for e in shown.runs[k].evals] == [e["metric"] for e in long.runs[k].evals]


def test_reset_goes_back_to_the_same_start():
    at = app(**TINY)
    click(at, "train")
    first = at.session_state["lab_current_result"].runs["lstm"].evals[0]
    at.button(key="reset").click().run()
    settle(at, until=lambda j: j.state == jobs.PAUSED)
    j = job_of(at)
    assert j.step == 0 and j.result().runs["lstm"].evals[0]["metric"] == first["metric"]
    assert [e["step"] for e in j.result().runs["lstm"].evals] == [0]


def test_an_unusable_run_store_does_not_stop_the_lab(tmp_path, monkeypatch):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("x")
    monkeypatch.setenv("LAB_DATA_DIR", str(blocker))
    at = app(**TINY)
    click(at, "train")
    assert not at.exception
    assert any("run store" in e.value for e in at.error)
    assert "Trained just now" in texts(at) and chart_data(at)["step"].max() == 30


def test_a_failure_during_training_is_a_message_not_a_traceback(monkeypatch):
    real = Trainer._train_model

    def broken(self, kind, step):
        if step > 5:
            raise RuntimeError("not enough memory")
        return real(self, kind, step)

    monkeypatch.setattr(Trainer, "_train_model", broken)
    at = app(**TINY)
    cfg = controls.from_query(TINY)[0]
    click(at, "train")
    assert not at.exception
    assert any("Training failed at step" in e.value and "not enough memory" in e.value for e in at.error)
    assert "Stopped at step" in texts(at)
    assert chart_data(at)["step"].max() <= 5  # the evaluations made before the failure are kept
    assert RunStore().get_result(cfg)[1] == ["rnn", "lstm"]  # nothing incomplete is stored


@pytest.mark.parametrize("task", ["adding", "temporal_order", "sentiment_but"])
def test_every_task_trains_and_reads_in_its_own_metric(task):
    at = app(**TINY, task=task)
    click(at, "train")
    assert not at.exception
    assert set(chart_data(at)["model"]) == {"rnn", "lstm"}
    metric = "mse" if task == "adding" else "accuracy"
    assert [m.label for m in at.metric] == [f"final {metric}"] * 2
    if task == "adding":
        assert all(m.value.startswith("MSE ") for m in at.metric)


def test_training_goes_on_while_another_page_is_open():
    at = app(**{**TINY, "steps": "300"})
    at.button(key="train").click().run()
    settle(at, until=lambda j: j.step >= 25)
    at.switch_page("views/gradients.py").run()
    assert not at.exception
    before = job_of(at).step
    status = [p for p in at.get("progress")]
    assert status and "step" in status[0].proto.text  # the sidebar shows the run as it learns
    settle(at, until=lambda j: j.step > before)  # it trained on while this page was open
    settle(at)  # to the end: the page then inspects the finished run
    assert not at.exception and job_of(at) is None
    assert at.session_state["lab_current_result"].runs["lstm"].steps_run == 300
    assert at.get("vega_lite_chart")  # the gradients page draws the run that just finished


def test_the_server_is_set_not_to_stall_a_run_the_page_polls():
    """Streamlit's defaults cost a run trained with its page open: a full garbage collection after every
    script run, fragment reruns included (~0.1-0.3 s holding the GIL), and a watcher of every module's
    source file. The lab's config turns both off; `python -m benchmarks.page_training --defaults`
    measures them (docs/speed.md). Read through Streamlit's own config loader, as the server reads it."""
    import os

    from streamlit import config

    here = os.getcwd()
    os.chdir(Path(__file__).resolve().parent.parent)  # the project's .streamlit/config.toml
    try:
        config.get_config_options(force_reparse=True)
        assert config.get_option("runner.postScriptGC") is False
        assert config.get_option("server.fileWatcherType") == "none"
    finally:
        os.chdir(here)
        config.get_config_options(force_reparse=True)
