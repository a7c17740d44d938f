"""Interview mode: every answer is measured in the runs (change a run's numbers and the answer changes),
nothing is shown before the learner commits, and the page walks commit -> see -> next from an empty store
with tiny runs trained as the tour's jobs."""
from __future__ import annotations

import dataclasses

import pytest
from streamlit.testing.v1 import AppTest

from core import story
from core.charts.interview import answer_item
from core.story import interview
from core.trainer import train
from dashboard.components import interview as interview_ui
from dashboard.components import story as story_ui
from tests.test_story import APP, TIMEOUT, fake, settle, tiny_experiments


@pytest.fixture(scope="module")
def tiny_results():
    return {name: train(cfg) for name, cfg in tiny_experiments().items()}


def test_the_interview_measures_in_the_tours_own_runs():
    assert set(interview.needed()) <= set(story.experiments())
    assert len(interview.QUESTIONS) >= 10 and [q.number for q in interview.QUESTIONS] == list(range(1, len(interview.QUESTIONS) + 1))
    for q in interview.QUESTIONS:
        assert q.lab in story.experiments() and (q.choices or q.tolerance > 0)


def test_every_answer_is_computed_and_said_in_two_sentences(tiny_results):
    cfgs = tiny_experiments()
    for q in interview.QUESTIONS:
        a = interview.answer(q, tiny_results)
        assert len(a.say) == 2 and all(s for s in a.say) and len(a.figures)
        assert (a.value in q.choices) if q.choices else isinstance(a.value, float)
        guess = a.value if q.choices else float(a.value)
        assert q.right(guess, a)  # the measured answer itself is right, a far guess is not
        if q.slider:
            far = q.scale[0] if float(a.value) > (q.scale[0] + q.scale[1]) / 2 else q.scale[1]
            assert not q.right(far, a)
        else:
            assert not q.right(next(c for c in q.choices if c != a.value), a)
        item = answer_item(q, a, guess, q.prompt(cfgs))
        assert item.chart.to_dict() and a.shown in item.caption


def test_changing_a_runs_numbers_changes_the_answer():
    cfgs = story.experiments()
    q1, q8, q9, q10 = (interview.BY_NUMBER[n] for n in (1, 8, 9, 10))
    for rnn in (0.31, 0.77):
        long = fake(cfgs["long"], {"rnn": rnn, "lstm": 1.0}, {"rnn": None, "lstm": 225})
        a = interview.answer(q1, {"long": long})
        assert a.value == pytest.approx(rnn * 100) and f"{rnn:.0%}" in a.say[0]
    but = fake(cfgs["but_long"], {"rnn": 0.5, "lstm": 1.0}, {"rnn": None, "lstm": 425})
    learned = fake(cfgs["no_forget"], {"lstm": 1.0}, {"lstm": 500})
    failed = fake(cfgs["no_forget"], {"lstm": 0.49}, {"lstm": None})
    assert interview.answer(q8, {"no_forget": learned, "but_long": but}).value == interview.YES
    a = interview.answer(q8, {"no_forget": failed, "but_long": but})
    assert a.value == interview.NO and "ended at 49%" in a.say[0]
    long = fake(cfgs["long"], {"rnn": 0.5, "lstm": 1.0}, {"rnn": None, "lstm": 225})
    for ok, expected in ((300, interview.YES), (None, interview.NO)):
        zero = fake(cfgs["zero_forget"], {"lstm": 1.0 if ok else 0.12}, {"lstm": ok})
        assert interview.answer(q9, {"zero_forget": zero, "long": long}).value == expected
        short = fake(cfgs["but_short"], {"rnn": 1.0 if ok else 0.6, "lstm": 1.0}, {"rnn": ok, "lstm": 200})
        assert interview.answer(q10, {"but_short": short, "but_long": but}).value == expected


def test_the_report_has_each_question_the_guess_and_the_measured_answer(tiny_results):
    cfgs = tiny_experiments()
    q1, q8 = interview.BY_NUMBER[1], interview.BY_NUMBER[8]
    a1, a8 = interview.answer(q1, tiny_results), interview.answer(q8, tiny_results)
    entries = [interview.Entry(q1, q1.prompt(cfgs), 95.0, a1), interview.Entry(q8, q8.prompt(cfgs), interview.YES, a8),
               interview.Entry(interview.BY_NUMBER[2], "pending", 20.0, None)]
    right, done = interview.score(entries)
    assert done == 2 and right == int(q1.right(95.0, a1)) + int(q8.right(interview.YES, a8))
    html = interview.report_html(entries)
    assert "95%" in html and a1.shown in html and a8.shown in html and "waiting for its runs" in html
    assert f"Score: {right} of 2" in html and a1.say[0][:30] in html


# --- the page -------------------------------------------------------------------------------------
def test_the_interview_walks_commit_see_next_from_an_empty_store(monkeypatch):
    monkeypatch.setattr(story, "experiments", tiny_experiments)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.switch_page("views/interview.py")
    at.query_params["q"] = "1"
    at.run()
    assert not at.exception, at.exception
    assert at.session_state[story_ui.JOBS], "its runs train as jobs from an empty store"
    assert at.get("progress"), "with live progress"
    at = settle(at)
    assert at.header[0].value.startswith("1.")
    said = lambda: [m.value for m in at.markdown if m.value.startswith("**What to say")]  # noqa: E731
    assert not said() and not at.metric[1:] and not at.get("vega_lite_chart")  # nothing before commit
    at.slider(key="interview-guess-1").set_value(40.0)
    at.button[0].click().run()  # the form's submit button
    assert not at.exception, at.exception
    measured = interview.answer(interview.BY_NUMBER[1], at.session_state[story_ui.RESULTS])
    values = {m.label: m.value for m in at.metric}
    assert values["Your answer"] == "40%" and values["Measured in the lab"] == measured.shown
    assert said() and measured.say[1] in said()[0] and at.get("vega_lite_chart")
    assert any("train" in p.proto.page and "preset=1" in p.proto.query_string for p in at.get("page_link"))
    at.button(key="interview-next-1").click().run()
    assert not at.exception and at.header[0].value.startswith("2.")
    assert at.query_params["q"] in ("2", ["2"])
    at.switch_page("views/interview.py")
    at.query_params["q"] = "8"
    at.run()
    assert at.header[0].value.startswith("8.") and not said()
    at.radio(key="interview-guess-8").set_value(interview.YES)
    at.button[0].click().run()
    assert said() and any(d.proto.label == "My interview (HTML)" for d in at.get("download_button"))
    assert at.sidebar.metric[0].value.endswith("of 2")


def test_a_committed_answer_whose_runs_train_shows_their_learning_curves_live(monkeypatch):
    import time

    from core.jobs import PAUSED

    class AtStepZero(story_ui.TrainJob):  # each run builds, evaluates step 0 and waits there
        def __init__(self, cfg, **kw):
            super().__init__(cfg, pause_at=0, **kw)

    monkeypatch.setattr(story, "experiments", tiny_experiments)
    monkeypatch.setattr(story_ui, "TrainJob", AtStepZero)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.switch_page("views/interview.py")
    at.query_params["q"] = "1"
    at.run()
    jobs = at.session_state[story_ui.JOBS]
    needs = interview.BY_NUMBER[1].needs
    deadline = time.monotonic() + 60
    while any(jobs[n].state != PAUSED for n in needs) and time.monotonic() < deadline:
        time.sleep(0.1)
    at.slider(key="interview-guess-1").set_value(40.0)
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert "learning curves are drawn below" in at.info[0].value
    assert len(at.get("vega_lite_chart")) == len(needs)
    for name in needs:
        assert set(at.session_state[f"story-live-{name}"][1].data["step"]) == {0}
