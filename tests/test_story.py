"""The tour (core.story, core.charts.story, the story page): chapter sentences are computed from the
trained results (two different results give two different stories; a claim that fails in the models
is said to fail), and the page, with tiny configs, trains what is missing, walks every chapter, opens
at ?chapter=N and links to a preset lab page. The lab's ?hide= is tested here too."""
from __future__ import annotations

import dataclasses
import pkgutil
import time

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core import story
from core.charts.story import chapter_charts
from core.config import ModelConfig, RunConfig, TaskConfig, TrainConfig, validate
import torch

from core.charts.export import report_html
from core.charts.story import tour_report
from core.inspection import (EXPLAINER_SENTENCE, example_traces, forget_arithmetic, model_from_weights, resolve_step,
                             sentence_table, showcase)
from core.results import ModelRun, RunResult
from core.store import RunStore
from core.story.evidence import verdict_of
from core.trainer import train
from dashboard.components import controls
from dashboard.components import story as story_ui
from tests.conftest import ROOT

APP = str(ROOT / "dashboard" / "app.py")
TIMEOUT = 180


def tiny_experiments() -> dict[str, RunConfig]:
    small = dict(model=ModelConfig(hidden_size=8), train=TrainConfig(steps=20, eval_every=10, n_checkpoints=2,
                                                                     batch_size=16))
    return {
        "short": validate(RunConfig(task=TaskConfig(seq_len=5), **small)),
        "long": validate(RunConfig(task=TaskConfig(seq_len=8), **small)),
        "long_matched": validate(RunConfig(task=TaskConfig(seq_len=8), models=("rnn",),
                                           model=ModelConfig(hidden_size=16), train=small["train"])),
        "zero_forget": validate(RunConfig(task=TaskConfig(seq_len=8), models=("lstm",),
                                          model=ModelConfig(hidden_size=8, forget_init="zero"),
                                          train=small["train"])),
        "but_short": validate(RunConfig(task=TaskConfig(name="sentiment_but", seq_len=10), **small)),
        "but_long": validate(RunConfig(task=TaskConfig(name="sentiment_but", seq_len=12), **small)),
        "no_forget": validate(RunConfig(task=TaskConfig(name="sentiment_but", seq_len=12), models=("lstm",),
                                        model=ModelConfig(hidden_size=8, forget_init="none"), train=small["train"])),
        "no_forget_first": validate(RunConfig(task=TaskConfig(seq_len=8), models=("lstm",),
                                              model=ModelConfig(hidden_size=8, forget_init="none"),
                                              train=small["train"])),
        "stream": validate(RunConfig(task=TaskConfig(name="stream", seq_len=12), **small)),
        "stream_no_forget": validate(RunConfig(task=TaskConfig(name="stream", seq_len=12), models=("lstm",),
                                               model=ModelConfig(hidden_size=8, forget_init="none"),
                                               train=small["train"])),
        # chapter 8 on the real series: short windows, the same names (T = 30 is the month run)
        **{name: validate(RunConfig(task=TaskConfig(name="weather", seq_len=T), models=("rnn", "lstm", "gru"), **small))
           for name, T in zip(story.realdata.WEATHER_NAMES, (7, 30, 32, 34))},
        **{name: validate(RunConfig(task=TaskConfig(name="stocks", seq_len=T), models=("rnn", "lstm", "gru"), **small))
           for name, T in zip(story.realdata.STOCKS_NAMES, (3, 6, 9))},
        # chapter 9: encoder-decoders at two short lengths, copying at a short delay (same names, same fields)
        **tiny_translation(small),
    }


def tiny_translation(small: dict) -> dict[str, RunConfig]:
    from core.story.chapters import translation as ch9
    tiny = dict(zip(ch9.LENGTHS, (3, 5)))
    out = {}
    for (T, v), name in ch9.TRANSLATION.items():
        full = story.runs.configs()[name]
        out[name] = validate(dataclasses.replace(full, task=TaskConfig(name="translation", seq_len=tiny[T]),
                                                 model=dataclasses.replace(full.model, hidden_size=8),
                                                 train=small["train"]))
    for name in (ch9.COPY, ch9.COPY_ATTENTION):
        full = story.runs.configs()[name]
        out[name] = validate(dataclasses.replace(full, task=TaskConfig(name="copying", seq_len=12),
                                                 model=dataclasses.replace(full.model, hidden_size=8),
                                                 train=small["train"]))
    return out


@pytest.fixture(scope="module")
def tiny_results() -> dict[str, RunResult]:
    return {name: train(cfg) for name, cfg in tiny_experiments().items()}


@pytest.fixture
def tiny_tour(monkeypatch):
    monkeypatch.setattr(story, "experiments", tiny_experiments)
    monkeypatch.setattr(story.runs, "SEEDS", 2)  # seed 0 and one more: the pooling, at a tiny cost


# --- the library -------------------------------------------------------------------------------
def test_every_chapter_names_runs_that_exist_and_the_default_run_is_shared_with_the_lab():
    cfgs = story.experiments()
    assert set(story.needed()) == set(cfgs)
    for c in story.CHAPTERS:
        assert set(c.needs) <= set(cfgs) and c.lab in cfgs and c.claim
    assert cfgs["long"] == controls.DEFAULT  # the lab's first open and the tour train one run, not two
    assert all(cfg.model.hidden_size == 64 for name, cfg in cfgs.items() if name != "long_matched")
    # the chapter-1 control: a vanilla RNN with the LSTM's parameter count (closest hidden size)
    from core.models import build_model, n_params
    from core.tasks import make_task
    task, big = make_task(cfgs["long"].task), cfgs["long_matched"]
    count = lambda kind, h: n_params(build_model(kind, task, dataclasses.replace(cfgs["long"].model, hidden_size=h), 0))
    lstm, h = count("lstm", 64), big.model.hidden_size
    assert big.models == ("rnn",) and abs(count("rnn", h) - lstm) <= min(abs(count("rnn", h - 1) - lstm),
                                                                       abs(count("rnn", h + 1) - lstm))
    assert big.train == cfgs["long"].train and big.task == cfgs["long"].task
    assert [c.number for c in story.CHAPTERS] == list(range(1, len(story.CHAPTERS) + 1))


def fake(cfg: RunConfig, finals: dict[str, float], reached: dict[str, int | None]) -> RunResult:
    """A result with the given final metric and steps to target per model (no weights)."""
    runs = {k: ModelRun(kind=k, config=cfg.single(k), evals=[{"step": cfg.train.steps, "metric": finals[k]}],
                        steps_run=cfg.train.steps, steps_to_target=reached[k], status="finished")
            for k in cfg.models}
    return RunResult(config=cfg, runs=runs)


def test_the_gap_chapter_is_told_from_the_numbers_and_says_when_the_claim_fails():
    cfgs = story.experiments()
    short = fake(cfgs["short"], {"rnn": 1.0, "lstm": 1.0}, {"rnn": 100, "lstm": 75})
    as_claimed = fake(cfgs["long"], {"rnn": 0.51, "lstm": 1.0}, {"rnn": None, "lstm": 225})
    told = story.tell_gap(short, as_claimed)
    assert told.holds is True and told.verdict.startswith("Holds here")
    text = " ".join(told.sentences)
    assert "step 225" in text and "ended at 51% after 500 steps" in text and "chance 12.5%" in text
    assert "learned part of it" in text  # core.results' own words for a model above chance, short of the target
    # the same chapter with an RNN that learned the long gap: the claim does not hold, and it says so
    rnn_wins = fake(cfgs["long"], {"rnn": 0.995, "lstm": 0.4}, {"rnn": 300, "lstm": None})
    told = story.tell_gap(short, rnn_wins)
    assert told.holds is False and told.verdict.startswith("Holds in part here")  # only the short gap holds
    assert "it does not learn the gap of 100: does not hold" in told.verdict
    assert "the LSTM learns the gap of 100: does not hold" in told.verdict
    assert "Vanilla RNN reached the target (99%) at training step 300" in " ".join(told.sentences)


def test_the_gap_chapter_names_each_models_size_and_start_and_its_matched_rnn_control():
    cfgs = story.experiments()
    short = fake(cfgs["short"], {"rnn": 1.0, "lstm": 1.0}, {"rnn": 100, "lstm": 75})
    long = fake(cfgs["long"], {"rnn": 0.14, "lstm": 1.0}, {"rnn": None, "lstm": 225})
    for k, n in (("rnn", 5768), ("lstm", 21512)):
        long.runs[k].n_params = n
    big = fake(cfgs["long_matched"], {"rnn": 0.13}, {"rnn": None})
    big.runs["rnn"].n_params = 21430
    told = story.tell_gap(short, long, big)
    text = " ".join(told.sentences)
    assert "the Vanilla RNN (hidden 64, 5,768 parameters, default start)" in text
    assert "the LSTM (hidden 64, 21,512 parameters, chrono start)" in text
    assert f"(hidden {cfgs['long_matched'].model.hidden_size}, 21,430 parameters" in text
    assert told.holds is True and "a vanilla RNN as large as the LSTM does not learn the gap of 100 either" in told.verdict
    # the large RNN learns it: the control says so, and the chapter holds only in part
    learns = fake(cfgs["long_matched"], {"rnn": 1.0}, {"rnn": 450})
    told = story.tell_gap(short, long, learns)
    assert told.holds is False and "size did what the LSTM's cell does" in " ".join(told.sentences)


def test_the_start_chapter_needs_the_zero_init_lstm_to_fail_to_say_so(tiny_results):
    long = fake(story.experiments()["long"], {"rnn": 0.5, "lstm": 1.0}, {"rnn": None, "lstm": 225})
    zero_cfg = story.experiments()["zero_forget"]
    assert story.tell_start(long, fake(zero_cfg, {"lstm": 0.12}, {"lstm": None})).holds is False
    assert story.tell_start(long, fake(zero_cfg, {"lstm": 1.0}, {"lstm": 400})).holds is True


def test_forget_retention_is_the_product_of_the_forget_gates_after_the_information(tiny_results):
    result = tiny_results["long"]
    got = story.forget_retention(result)
    x, _, _ = showcase(result.task)
    f = example_traces(result, "lstm", None, x[:1])["f"][0].astype(np.float64)  # (T, H)
    after = 1  # first_token: the information is the first symbol
    by_hand = np.array([np.prod([f[t, u] for t in range(after, len(f))]) for u in range(f.shape[1])])
    assert got["best"] == pytest.approx(by_hand.max()) and got["half"] == int((by_hand >= 0.5).sum())
    assert got["steps"] == result.task.seq_len - 1 and got["units"] == 8


def test_every_chapter_is_told_and_drawn_from_tiny_models(tiny_results):
    for c in story.CHAPTERS:
        told = story.tell(c, tiny_results)
        assert told.sentences and told.verdict and told.holds in (True, False, None)
        items = chapter_charts(c, tiny_results)
        assert items
        for item in items:
            assert item.chart.to_dict()["datasets"] and len(item.data) and item.caption
    told = story.tell(story.BY_NUMBER[4], tiny_results)
    table = sentence_table(tiny_results["but_short"], EXPLAINER_SENTENCE)
    last = table.groupby("model").p_positive.last()
    for kind, p in last.items():  # the sentence quotes each model's own last read-out
        title = tiny_results["but_short"].runs[kind].title
        assert any(title in s and f"{p:.0%} after \"disappointing\"" in s for s in told.sentences)


def test_every_chapter_is_one_module_whose_parts_exist_and_the_numbers_run_from_1():
    from core.charts.story import BUILDERS
    from core.story import chapters, interview

    modules = [m.name for m in pkgutil.iter_modules(chapters.__path__)]
    assert len(story.CHAPTERS) == len(modules) and sorted(story.BY_NUMBER) == list(range(1, len(modules) + 1))
    cfgs = story.experiments()
    for c in story.CHAPTERS:
        assert set(c.charts) <= set(BUILDERS) and c.charts, c.key  # every chart it names has a builder
        assert set(c.needs) <= set(cfgs) and c.lab in cfgs
    for q in interview.QUESTIONS:  # a question is measured in the runs of the chapter that tells them
        assert q.chapter in story.CHAPTERS and set(q.needs) <= set(q.chapter.needs), q.number


def test_a_new_chapter_is_one_module_and_a_gap_or_a_repeat_is_refused(tmp_path, monkeypatch):
    from core.story.chapters import check, discover

    pkg = tmp_path / "more_chapters"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    for n, key in ((2, "second"), (1, "first")):
        (pkg / f"{key}.py").write_text(
            "from core.story.base import Chapter, told\n"
            f"CHAPTER = Chapter({n}, {key!r}, 'T', 'claim', ('long',), 'long', lambda r: told(['s'], []),\n"
            "                  charts=('curves_each',))\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    found = discover([str(pkg)], "more_chapters")
    assert [(c.number, c.key) for c in found] == [(1, "first"), (2, "second")]
    a, b = found
    with pytest.raises(ValueError, match="run 1..2"):
        check([a, dataclasses.replace(b, number=3)])
    with pytest.raises(ValueError, match="run 1..2"):
        check([a, dataclasses.replace(b, number=1)])
    with pytest.raises(ValueError, match="share a key"):
        check([a, dataclasses.replace(b, key="first")])


def test_the_long_review_is_the_sentence_and_its_filler_read_by_every_model(tiny_results):
    result = tiny_results["but_long"]
    n_words = len(EXPLAINER_SENTENCE.split())
    for filler in (0, 7, 30):
        table = story.long_review_table(result, filler)
        assert len(table) == (n_words + filler) * len(result.runs)
        words = table[table.model == "lstm"].input.tolist()
        assert " ".join(words[:n_words]) == EXPLAINER_SENTENCE and len(set(words[n_words:]) & {"but"}) == 0
        x = result.task.encode_text(story.long_text(filler))
        for kind, run in result.runs.items():  # the last row is the fused model's own answer to the whole text
            model = model_from_weights(run.config, kind, run.checkpoints[resolve_step(run)])
            with torch.no_grad():
                p = torch.softmax(model(x).double(), -1)[0, 1].item()
            assert table[table.model == kind].p_positive.iloc[-1] == pytest.approx(p, abs=1e-5)
    told = story.tell_long(tiny_results["but_short"], result, filler=7)
    last = story.long_review_table(result, 7).groupby("model").p_positive.last()
    for kind, p in last.items():  # the text quotes each model's own last read-out
        assert any(f"{p:.0%} after the last word" in s and result.runs[kind].title in s for s in told.sentences)
    assert "7 neutral words" in told.verdict


def test_the_arithmetic_at_but_is_forget_arithmetic_at_that_word(tiny_results):
    result = tiny_results["but_long"]
    at = story.arithmetic_at(result)
    t = EXPLAINER_SENTENCE.split().index("but")
    assert (at.t == t + 1).all() and (at.word == "but").all()  # the tour counts words from 1
    direct = forget_arithmetic(result, result.task.encode_text(EXPLAINER_SENTENCE), t)
    np.testing.assert_allclose(at[direct.columns].to_numpy(), direct.to_numpy())
    f = example_traces(result, "lstm", None, result.task.encode_text(EXPLAINER_SENTENCE))["f"][0, t]
    np.testing.assert_allclose(at["f_t = σ(z)"], f, atol=1e-5)  # the trace's gate, computed from the weights
    top = story.most_dropped(at, 3)
    lost = ((1 - at["f_t = σ(z)"]) * at["c_{t-1}"]).abs()
    assert list(top.unit) == list(at.unit[lost.sort_values(ascending=False).index[:3]])
    told = story.tell_arithmetic(result)
    u = top.iloc[0]
    assert any(f"unit {int(u.unit)}" in s and f"$f_t = \\sigma(z) = {u['f_t = σ(z)']:.2f}$" in s for s in told.sentences)
    before = forget_arithmetic(result, result.task.encode_text(EXPLAINER_SENTENCE), t - 1)
    expected = story.compare(story.dropped_share(at), story.dropped_share(before), story.DIP).outcome
    assert [c.outcome for c in told.checks] == [expected]  # the verdict is the sentence's check
    assert told.verdict == verdict_of(told.checks)[1]


def test_the_explainer_table_is_compared_row_by_row_with_the_model(tiny_results):
    result = tiny_results["but_short"]
    cmp = story.explainer_comparison(result)
    assert list(cmp.word) == [w for w, *_ in story.EXPLAINER_READING]
    table = sentence_table(result, EXPLAINER_SENTENCE)
    p = table[table.model == "lstm"].p_positive.to_numpy()
    for row, pj in zip(cmp.itertuples(), p):
        assert row.p_positive == pytest.approx(pj)
        reading = "neutral" if abs(pj - 0.5) <= story.UNDECIDED else "positive" if pj > 0.5 else "negative"
        assert row.model_output == reading
        assert row.verdict == ("agrees" if reading == row.explainer_output else "differs")
    assert set(cmp.explainer_output) == {"neutral", "positive", "negative"}
    # a model that reads exactly as the explainer agrees everywhere: the verdicts can say both
    fake_p = {"neutral": 0.5, "positive": 0.9, "negative": 0.1}
    assert all(story.reading(fake_p[o]) == o for *_, o in story.EXPLAINER_READING)


def test_the_sentence_tables_per_word_and_per_unit(tiny_results):
    result = tiny_results["but_short"]
    words = story.word_table(result)
    table = sentence_table(result, EXPLAINER_SENTENCE)
    assert list(words.word) == EXPLAINER_SENTENCE.split()
    for kind in result.runs:
        np.testing.assert_allclose(words[f"p_{kind}"], table[table.model == kind].p_positive)
    assert {"forget_mean", "input_mean", "output_mean", "c_norm"} <= set(words.columns)
    units = story.forget_units(result, k=3)
    f = example_traces(result, "lstm", None, result.task.encode_text(EXPLAINER_SENTENCE))["f"][0]
    t = EXPLAINER_SENTENCE.split().index("but")
    change = f[t] - f[t - 1]
    assert len(units) == 3 and abs(units.change.iloc[0]) == pytest.approx(np.abs(change).max(), abs=1e-6)
    np.testing.assert_allclose(units.f_at, f[t, units.unit], atol=1e-6)


def test_the_novel_is_told_in_the_charts_orders_of_magnitude(tiny_results):
    from core.inspection import decay_table
    result = tiny_results["long"]
    novel = [s for s in story.tell_gradients(result).sentences if s.startswith("The novel")]
    assert len(novel) == 1 and f"word {result.task.seq_len}" in novel[0]
    for row in decay_table(result).itertuples():  # each model's share left after training, from its own ratio
        assert f"1/{10 ** row.orders_lost:,.0f} in the {row.name}" in novel[0]


def test_the_gates_chapter_measures_each_gate(tiny_results):
    result = tiny_results["long"]
    g = story.gate_summary(result)
    x, _, _ = showcase(result.task)
    tr = example_traces(result, "lstm", None, x[:1])
    assert g["f_mean"] == pytest.approx(tr["f"][0].mean(), abs=1e-6)
    assert g["i_info"] == pytest.approx(tr["i"][0, 0].mean(), abs=1e-6)  # first_token: the first step
    assert g["i_else"] == pytest.approx(tr["i"][0, 1:].mean(), abs=1e-6)
    assert g["o_last"] == pytest.approx(tr["o"][0, -1].mean(), abs=1e-6)
    text = " ".join(story.tell_belt(result).sentences)
    assert f"{g['i_info']:.3f} at the information" in text and "add the formulas to your notes" in text


def test_the_tour_report_has_every_chapters_charts_and_verdicts(tiny_results):
    report = tour_report(tiny_results, filler=5)
    assert len(report.verdicts) == len(story.CHAPTERS)
    assert all(v.startswith(f"{c.number}. ") for v, c in zip(report.verdicts, story.CHAPTERS))
    names = [i.name for i in report.items]
    assert len(names) == len(set(names)) and all(n.startswith("ch") for n in names)
    assert {n.split("_")[0] for n in names} == {f"ch{c.number}" for c in story.CHAPTERS}
    html = report_html(report)
    assert "The long review" in html and story.tell(story.BY_NUMBER[6], tiny_results).verdict[:40] in html


# --- the page ---------------------------------------------------------------------------------
def settle(at: AppTest, timeout: float = TIMEOUT) -> AppTest:
    """Rerun the tour (as its polling fragment would) until none of its runs is training."""
    deadline = time.monotonic() + timeout
    at.run()

    def busy() -> bool:
        return bool(at.session_state[story_ui.JOBS]) or len(at.session_state[story_ui.RESULTS]) < len(story.needed())

    while busy() and time.monotonic() < deadline:
        time.sleep(0.2)
        at.run()
    assert not busy(), "the tour's runs did not finish in time"
    return at.run()


def open_tour(**params: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for k, v in params.items():
        at.query_params[k] = v
    return at


def test_the_tour_is_the_landing_page_trains_what_is_missing_and_walks_every_chapter(tiny_tour, monkeypatch):
    built = []

    class Counting(story_ui.TrainJob):
        def __init__(self, cfg, **kw):
            built.append(cfg)
            super().__init__(cfg, **kw)

    monkeypatch.setattr(story_ui, "TrainJob", Counting)
    at = open_tour().run()
    assert not at.exception
    assert "The story" in at.title[0].value
    # the first runs the tour needs are submitted on the first open, the rest as those end
    assert len(built) == min(len(story.needed()), story_ui.IN_FLIGHT)
    assert at.get("progress"), "progress per chapter while the runs train"
    at = settle(at)
    # then every experiment's other seeds (the verdicts pool them): each run once
    assert len(built) == len(story.needed()) * story.runs.SEEDS
    assert {story.runs.base_name(n) for n in at.session_state[story_ui.RESULTS]} == set(story.needed())
    for n in [c.number for c in story.CHAPTERS]:
        at.segmented_control(key=story_ui.CHAPTER).set_value(n).run()
        assert not at.exception, at.exception
        assert at.header[0].value.startswith(f"{n}.")
        assert at.get("vega_lite_chart"), f"chapter {n} has no chart"
        assert any(m.value.startswith("**What the models here did:**") for m in at.markdown)
        assert at.query_params["chapter"] in (str(n), [str(n)])
        links = [p.proto for p in at.get("page_link")]
        link = next(p for p in links if "train" in p.page)
        assert "hide=" in link.query_string and "preset=1" in link.query_string
        cells = [p.query_string for p in links if p.page == "cell"]
        assert cells == [f"run={run}&t={t}" for run, t, _ in story.BY_NUMBER[n].cell]
        told = story.tell(story.BY_NUMBER[n], dict(at.session_state[story_ui.RESULTS]), story.FILLER)
        assert len(told.seeds) == story.runs.SEEDS
        assert any(told.sentences[-1] in m.value for m in at.markdown), f"chapter {n}'s numbers are not on screen"
        if n == 4:
            assert len(at.dataframe) == 3  # per word, units at "but", the explainer's table
        if n == 5:
            at.slider(key=story_ui.FILLER).set_value(9).run()
            assert not at.exception and any("9 neutral words" in m.value for m in at.markdown)
        if n == 6:
            assert at.dataframe and any(d.proto.label == "All units (CSV)" for d in at.get("download_button"))
        if n == 7:
            assert len(at.get("page_link")) > len(story.experiments())  # every experiment, preset
            assert all("preset=1" in p.proto.query_string for p in at.get("page_link"))
        assert any(d.proto.label == "The tour as a report (HTML)" for d in at.get("download_button"))
        labels = [d.proto.label for d in at.get("download_button")]
        for fmt in ("PNG", "SVG", "HTML", "CSV"):  # every chart has the lab's export buttons
            assert labels.count(fmt) == len(at.get("vega_lite_chart")), (n, fmt, labels)
    assert any("The tour is complete" in c.value for c in at.caption)
    # a second open (a new session) takes every run from the store: nothing trains
    built.clear()
    at = open_tour(chapter="4").run()
    assert not at.exception and built == [] and not at.session_state[story_ui.JOBS]
    assert at.header[0].value.startswith("4.") and at.get("vega_lite_chart")
    assert len(RunStore()) >= 9  # 2 models x 4 runs + 1 LSTM


def test_a_chapter_whose_runs_train_draws_their_learning_curves_from_step_0(tiny_tour, monkeypatch):
    from core.jobs import PAUSED

    class AtStepZero(story_ui.TrainJob):  # each run builds, evaluates step 0 and waits there
        def __init__(self, cfg, **kw):
            super().__init__(cfg, pause_at=0, **kw)

    monkeypatch.setattr(story_ui, "TrainJob", AtStepZero)
    at = open_tour().run()
    jobs = at.session_state[story_ui.JOBS]
    chapter = story.BY_NUMBER[1]
    deadline = time.monotonic() + 60
    while any(jobs[n].state != PAUSED for n in chapter.needs) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert all(jobs[n].state == PAUSED for n in chapter.needs)
    at.run()
    assert not at.exception
    assert "learning curves are drawn below" in at.info[0].value
    charts = at.get("vega_lite_chart")
    assert len(charts) == len(chapter.needs), "one live chart per run of the chapter"
    for name in chapter.needs:
        assert any(m.value.startswith(f"**{name}** (T = {jobs[name].cfg.task.seq_len}), live") for m in at.markdown)
        item = at.session_state[f"story-live-{name}"][1]  # the chart drawn, with the data it draws
        assert set(item.data["step"]) == {0} and set(item.data["model"]) == set(jobs[name].cfg.models)
    assert sum("Live: redrawn as each evaluation comes in" in c.value for c in at.caption) == len(chapter.needs)
    # a run that finishes while the others train keeps its final curves there
    first, rest = chapter.needs[0], chapter.needs[1:]
    jobs[first].play()
    from core.jobs import default_queue
    default_queue().wake()
    assert default_queue().wait(jobs[first], 60)
    at.run()
    assert not at.exception and first in at.session_state[story_ui.RESULTS]
    assert any(m.value.startswith(f"**{first}** (T = ") and m.value.endswith("trained") for m in at.markdown)
    trained = at.session_state[f"story-trained-{first}"][1]
    assert trained.data["step"].max() == at.session_state[story_ui.RESULTS][first].config.train.steps
    assert len(at.get("vega_lite_chart")) == len(chapter.needs)  # its final curves and the others' live ones
    assert all(at.session_state[f"story-live-{n}"][1].data["step"].max() == 0 for n in rest)
    # a chapter whose runs have not started yet (at most IN_FLIGHT tour jobs at once) draws none
    at.segmented_control(key=story_ui.CHAPTER).set_value(8).run()
    assert not at.exception and not at.get("vega_lite_chart")


def test_a_chapter_link_opens_that_chapter_and_a_bad_one_is_refused(tiny_tour):
    at = open_tour(chapter="3").run()
    assert not at.exception and at.header[0].value.startswith("3.")
    assert "fills in when its models have trained" in at.info[0].value  # nothing in the store yet
    beyond = len(story.CHAPTERS) + 1  # one past the last chapter, however many there are
    at = open_tour(chapter=str(beyond)).run()
    assert at.header[0].value.startswith("1.")
    assert any(f"chapter={beyond}" in w.value for w in at.warning)
    last = story.CHAPTERS[-1]
    at = open_tour(chapter=str(last.number)).run()
    assert not at.exception and at.header[0].value.startswith(f"{last.number}.")


def test_hide_leaves_out_controls_but_keeps_their_values(tiny_tour):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.switch_page("views/train.py")
    for k, v in {"seq_len": "8", "steps": "30", "hidden_size": "8", "lr": "0.01", "hide": "lr,batch_size,nope"}.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception
    keys = {w.key for w in at.number_input}
    assert "lr" not in keys and "batch_size" not in keys and "hidden_size" in keys
    assert "learning rate 0.01" in at.caption[0].value  # the hidden control's value from the link is used
    assert any("hide=nope" in w.value for w in at.warning)
    assert at.query_params["hide"] in ("lr,batch_size", ["lr,batch_size"])
    at.slider(key="seq_len").set_value(9).run()  # another control changes; the hidden ones keep their values
    assert "learning rate 0.01" in at.caption[0].value and "lr" not in {w.key for w in at.number_input}
    at.button(key="show_all_controls").click().run()
    assert at.number_input(key="lr").value == 0.01


def test_a_preset_link_sets_the_lab_even_after_another_link(tiny_tour):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.switch_page("views/train.py")
    at.query_params["seq_len"] = "8"
    at.run()
    assert at.slider(key="seq_len").value == 8
    at.query_params["seq_len"] = "12"
    at.query_params["preset"] = "1"
    at.run()
    assert at.slider(key="seq_len").value == 12 and "preset" not in at.query_params


def test_chapter_6_says_what_the_1997_lstm_did_whichever_way_it_went(tiny_results):
    long = tiny_results["but_long"]
    cfg = story.experiments()["no_forget"]
    failed = story.tell_arithmetic(long, fake(cfg, {"lstm": 0.49}, {"lstm": None}))
    learned = story.tell_arithmetic(long, fake(cfg, {"lstm": 1.0}, {"lstm": 425}))
    review = "the 1997 LSTM with its paper start learns the long review"
    assert {c.claim: c.outcome for c in failed.checks}[review] == story.FAILS
    assert {c.claim: c.outcome for c in learned.checks}[review] == story.HOLDS
    assert any("ended at 49%" in s for s in failed.sentences) and any("step 425" in s for s in learned.sentences)
    assert any("can carry one fact" in s for s in learned.sentences)
    assert not any("can carry one fact" in s for s in failed.sentences)
    assert not any("pile up" in s for s in failed.sentences + learned.sentences)
    told = story.tell(story.BY_NUMBER[6], tiny_results)  # the real tiny run: f_t measured, not assumed
    assert any("no forget gate" in s and "mean 1.000" in s for s in told.sentences)


def test_chapter_6_checks_the_stream_one_seed_at_a_time(tiny_results):
    cfgs = story.experiments()
    long, none = tiny_results["but_long"], tiny_results["no_forget"]
    grows = "the 1997 LSTM's cell grows over the stream"
    for gated, added, expected in ((200, None, story.HOLDS), (200, 300, story.FAILS), (None, None, story.FAILS)):
        stream = fake(cfgs["stream"], {"rnn": 0.1, "lstm": 1.0 if gated else 0.5}, {"rnn": None, "lstm": gated})
        stream_none = fake(cfgs["stream_no_forget"], {"lstm": 1.0 if added else 0.6}, {"lstm": added})
        t = story.tell_arithmetic(long, none, tiny_results["long"], tiny_results["no_forget_first"], stream,
                                  stream_none)
        by = {c.claim: c.outcome for c in t.checks}
        assert by["on the stream, the forget-gate LSTM reaches the target and the 1997 LSTM does not (same steps)"] == expected
        assert not any(c.startswith(grows) for c in by)  # fakes have no checkpoints: nothing measured, nothing said
    told = story.tell(story.BY_NUMBER[6], tiny_results)  # the real tiny runs: |c| measured along held-out streams
    claims = [c.claim for c in told.checks]
    assert any(c.startswith(grows) for c in claims)
    assert any(c.startswith("the 1997 LSTM with its paper start learns first_token at T = 8") for c in claims)
    assert any("mean $|c_t|$" in s for s in told.sentences)


def test_the_cell_growth_check_reads_the_measured_cell(monkeypatch, tiny_results):
    from core.story.chapters import arithmetic
    long, none = tiny_results["but_long"], tiny_results["no_forget"]
    for size, expected in ((np.linspace(0.1, 3.0, 12), story.HOLDS), (np.full(12, 0.5), story.FAILS)):
        monkeypatch.setattr(arithmetic, "cell_size", lambda result, kind="lstm", size=size: size)
        t = story.tell_arithmetic(long, none, None, None, tiny_results["stream"], tiny_results["stream_no_forget"])
        assert [c.outcome for c in t.checks if c.claim.startswith("the 1997 LSTM's cell grows")] == [expected]


def test_the_real_data_chapter_checks_each_claim_and_draws_it(tiny_results):
    chapter = story.BY_NUMBER[8]
    told = story.tell(chapter, {k: tiny_results[k] for k in chapter.needs})
    lettered = [s for s in told.sentences if s[:3] in ("(a)", "(b)", "(c)", "(d)")]
    assert [s[:3] for s in lettered] == ["(a)", "(b)", "(c)", "(d)"]
    for claim in story.chapters.real.REAL_CLAIMS:  # the verdict lists every check it rests on
        assert claim[:30].lower() in told.verdict.lower()
    assert "°C²" in " ".join(told.sentences)  # real units
    items = chapter_charts(chapter, tiny_results)
    assert [i.name for i in items] == ["ch8_window_vs_error", "ch8_lookback", "ch8_storm_forget_gate",
                                       "ch8_stocks_vs_zero", "ch8_forecasts"]
    assert all(len(i.data) for i in items)


def test_the_output_gate_ablation_changes_nothing_where_the_gate_is_open_already(tiny_results):
    from core.story.measures import output_ablation
    result = tiny_results["long"]
    run = result.runs["lstm"]
    last = max(run.checkpoints)
    got = output_ablation(result)
    assert 0 <= got["ablated"] <= 1 and got["intact"] == pytest.approx(run.evals[-1]["metric"])
    # an LSTM whose output gate is always open (bias +30: o = 1 in float32) loses nothing when it is forced open
    H = run.config.model.hidden_size
    weights = {k: np.array(v) for k, v in run.checkpoints[last].items()}
    weights["core.bias_ih_l0"][3 * H:] = 30.0
    opened = dataclasses.replace(run, checkpoints={last: weights})
    got = output_ablation(dataclasses.replace(result, runs={"lstm": opened}))
    assert got["ablated"] == got["intact"] and got["drop"] == 0
    # and one whose output gate is nearly shut reads differently once it is forced open
    weights = {k: np.array(v) for k, v in run.checkpoints[last].items()}
    weights["core.bias_ih_l0"][3 * H:] = -30.0
    shut = dataclasses.replace(run, checkpoints={last: weights})
    got = output_ablation(dataclasses.replace(result, runs={"lstm": shut}))
    assert got["intact"] != got["ablated"] or got["intact"] == pytest.approx(result.task.chance, abs=0.1)


def test_the_chapters_link_to_the_cell_at_steps_their_inputs_have():
    from core.story import runs
    linked = [(c.number, run, t) for c in story.CHAPTERS for run, t, words in c.cell]
    assert {n for n, _, _ in linked} >= {3, 6}  # the belt and the forget gate's arithmetic
    cfgs = story.experiments()
    for n, run, t in linked:
        assert run in runs.CELL and 1 <= t <= cfgs[run].task.seq_len, (n, run, t)
        if cfgs[run].task.name == "sentiment_but":  # the explainer's sentence: t counts its words from 1
            assert EXPLAINER_SENTENCE.replace(",", " ,").split()[t - 1] == "but"
