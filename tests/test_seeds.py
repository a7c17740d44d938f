"""Evidence of many: every experiment of the tour on SEEDS seeds, each check pooled over them with the
sign test (core.story.evidence), verdicts and interview answers that say their counts, and the seeds
chart. Fake results (no training) decide each seed's outcome, so each count is known."""
from __future__ import annotations

import dataclasses

import pytest

from core import story
from core.charts.story import chapter_charts, seeds_item
from core.config import validate
from core.results import ModelRun, RunResult
from core.story import interview
from core.story.evidence import (FAILS, HOLDS, UNCLEAR, Check, over_seeds, settled, t_interval, tail,
                                 verdict_of)
from core.story.runs import base_name, seeded, with_seed


def fake(cfg, finals: dict[str, float], reached: dict[str, int | None]) -> RunResult:
    runs = {k: ModelRun(kind=k, config=cfg.single(k), evals=[{"step": cfg.train.steps, "metric": finals[k]}],
                        steps_run=cfg.train.steps, steps_to_target=reached[k], status="finished")
            for k in cfg.models}
    return RunResult(config=cfg, runs=runs)


def test_the_sign_test_settles_five_of_five_and_not_four():
    assert tail(5, 5) == pytest.approx(1 / 32) and tail(4, 5) == pytest.approx(6 / 32)
    assert settled([HOLDS] * 5) == HOLDS and settled([FAILS] * 5) == FAILS
    assert settled([HOLDS] * 4 + [FAILS]) == UNCLEAR and settled([HOLDS] * 4 + [UNCLEAR]) == UNCLEAR
    assert settled([HOLDS] * 7 + [FAILS]) == HOLDS  # 7 of 8: p = 9/256
    # fewer seeds than the test can settle: called only when every seed agrees
    assert settled([HOLDS]) == HOLDS and settled([HOLDS, FAILS]) == UNCLEAR


def test_the_t_interval_is_the_mean_plus_minus_t_sd_over_root_n():
    m, lo, hi = t_interval([1.0, 2.0, 3.0, 4.0, 5.0])
    assert m == 3.0 and hi - m == pytest.approx(2.776 * (2.5 ** 0.5) / 5 ** 0.5)
    assert m - lo == pytest.approx(hi - m)


def test_pooled_checks_carry_each_seed_and_say_their_count():
    seeds = [[Check("a", HOLDS, 0.2, 0.05), Check("b", HOLDS)] for _ in range(4)]
    seeds.append([Check("a", HOLDS, 0.3, 0.05), Check("b", FAILS)])
    a, b = over_seeds(seeds)
    assert a.outcome == HOLDS and a.seeds == (HOLDS,) * 5 and a.values == (0.2, 0.2, 0.2, 0.2, 0.3)
    assert a.seed_words().startswith("holds in 5 of 5 seeds (difference 0.22, 95% interval")
    assert b.outcome == UNCLEAR and b.seed_words() == "holds in 4 of 5 seeds, fails in 1: not settled"
    outcome, line = verdict_of([a, b])
    assert outcome != HOLDS and "b: holds in 4 of 5 seeds, fails in 1: not settled" in line
    outcome, line = verdict_of([a])
    assert outcome == HOLDS and line == "Holds in 5 of 5 seeds: a."


def five(cfg, per_seed):
    """{'name', 'name@1', ...}: experiment `cfg` with each seed's fake result from per_seed(seed, cfg)."""
    return [per_seed(s, with_seed(cfg, s)) for s in range(5)]


def test_a_chapter_counts_its_seeds_and_one_wandering_seed_unsettles_its_claim(monkeypatch):
    monkeypatch.setattr(story.runs, "SEEDS", 5)
    cfgs = story.experiments()
    results = {}
    for s in range(5):
        results[seeded("short", s)] = fake(with_seed(cfgs["short"], s), {"rnn": 1.0, "lstm": 1.0},
                                           {"rnn": 100, "lstm": 75})
        results[seeded("long_matched", s)] = fake(with_seed(cfgs["long_matched"], s), {"rnn": 0.13}, {"rnn": None})
        rnn_learned = s == 3  # one seed's vanilla RNN learns the long gap
        results[seeded("long", s)] = fake(with_seed(cfgs["long"], s), {"rnn": 1.0 if rnn_learned else 0.14,
                                                                       "lstm": 1.0},
                                          {"rnn": 400 if rnn_learned else None, "lstm": 225})
    gap = story.BY_NUMBER[1]
    told = story.tell(gap, results)
    assert told.seeds == (0, 1, 2, 3, 4)
    assert told.verdict.startswith("Holds in part (over 5 seeds)")
    assert "it does not learn the gap of 100: holds in 4 of 5 seeds, fails in 1: not settled" in told.verdict
    assert "the LSTM learns the gap of 100: holds in 5 of 5 seeds" in told.verdict
    # seed 0's sentences, said to be seed 0's
    assert any("seed 0's" in s for s in told.sentences)
    # every seed agrees: the verdict says so with its count
    results[seeded("long", 3)] = fake(with_seed(cfgs["long"], 3), {"rnn": 0.14, "lstm": 1.0},
                                      {"rnn": None, "lstm": 225})
    told = story.tell(gap, results)
    assert told.holds is True and told.verdict.startswith("Holds in 5 of 5 seeds: ")
    # only seed 0 in: the chapter is told from it alone, and says 1 of 1
    one = story.tell(gap, {k: v for k, v in results.items() if "@" not in k})
    assert one.seeds == (0,) and "1 of 1 seed" in one.verdict


def test_the_seeds_chart_draws_every_seed_and_every_check(monkeypatch):
    monkeypatch.setattr(story.runs, "SEEDS", 5)
    cfgs = story.experiments()
    results = {}
    for s in range(5):
        results[seeded("short", s)] = fake(with_seed(cfgs["short"], s), {"rnn": 1.0, "lstm": 1.0}, {"rnn": 9, "lstm": 9})
        results[seeded("long_matched", s)] = fake(with_seed(cfgs["long_matched"], s), {"rnn": 0.13}, {"rnn": None})
        results[seeded("long", s)] = fake(with_seed(cfgs["long"], s), {"rnn": 0.1 + s / 100, "lstm": 1.0},
                                          {"rnn": None, "lstm": 225})
    gap = story.BY_NUMBER[1]
    told = story.tell(gap, results)
    item = seeds_item(gap, results, told)
    assert item is not None and item.name == "ch1_seeds"
    assert sorted(item.data.seed.dropna().unique()) == [0, 1, 2, 3, 4]
    assert set(item.data.check.dropna()) == {f"{i + 1}. {c.claim}" for i, c in enumerate(told.checks)}
    runs = item.data[item.data.part == "final metric"]
    assert len(runs) == 5 * 5  # 5 seeds x (2 models x 2 experiments + the matched RNN)
    assert sorted(runs[runs.run == "long: Vanilla RNN"].final.round(2)) == [0.1, 0.11, 0.12, 0.13, 0.14]
    one = {k: v for k, v in results.items() if "@" not in k}
    assert seeds_item(gap, one, story.tell(gap, one)) is None  # one seed: nothing to count
    assert [i.name for i in chapter_charts(gap, results)][-1] == "ch1_seeds"


def test_an_interview_answer_is_pooled_over_seeds_with_its_count(monkeypatch):
    monkeypatch.setattr(story.runs, "SEEDS", 5)
    cfgs = story.experiments()
    results = {}
    for s in range(5):
        learns = s in (1, 2)
        results[seeded("zero_forget", s)] = fake(with_seed(cfgs["zero_forget"], s), {"lstm": 1.0 if learns else 0.12},
                                                 {"lstm": 300 if learns else None})
        results[seeded("long", s)] = fake(with_seed(cfgs["long"], s), {"rnn": 0.1 + s / 10, "lstm": 1.0},
                                          {"rnn": None, "lstm": 225})
    q9 = interview.BY_NUMBER[9]
    a = interview.answer(q9, results)
    assert a.value == interview.NO and a.shown == "no (3 of 5 seeds, not settled)"
    assert 'Over 5 seeds of the same experiments: 3 of 5 give "no" (2 yes): not settled' in a.say[-1]
    q1 = interview.BY_NUMBER[1]
    a = interview.answer(q1, results)
    assert a.value == pytest.approx(30.0)  # the median of 10, 20, 30, 40, 50 (%)
    assert "from 10% to 50%" in a.say[-1] and "median 30%" in a.say[-1]
    assert len(interview.answer(q1, {"long": results["long"]}).say) == 2  # one seed: its own sentences


def test_the_seeded_experiments_are_the_tours_with_other_seeds_and_nothing_else():
    base, more = story.experiments(), story.seeded_experiments()
    assert len(more) == len(base) * (story.runs.SEEDS - 1)
    for name, cfg in more.items():
        b = base[base_name(name)]
        assert cfg.train.seed != b.train.seed and dataclasses.replace(
            cfg, train=dataclasses.replace(cfg.train, seed=b.train.seed)) == b
        assert validate(cfg) == cfg
    assert len({c.train.seed for n, c in {**base, **more}.items() if base_name(n) == "long"}) == story.runs.SEEDS


def test_the_lab_over_seeds_counts_the_seeds_where_one_model_ends_better():
    import pandas as pd

    from core.story.evidence import lab_over_seeds
    rows = pd.DataFrame([{"model": m, "name": n, "seed": s, "metric": v, "steps_to_target": st_}
                         for s in range(5) for m, n, v, st_ in (
                             ("rnn", "Vanilla RNN", 0.12 if s != 2 else 0.86, None),
                             ("lstm", "LSTM", 1.0, 225))])
    summary, lines = lab_over_seeds(rows, True, 0.99, 0.01)
    rnn, lstm = summary
    assert rnn["reached the target"] == "0 of 5" and lstm["reached the target"] == "5 of 5"
    assert rnn["lowest"] == 0.12 and rnn["highest"] == 0.86 and rnn["mean"] == pytest.approx(0.268)
    assert rnn["95% low"] < rnn["mean"] < rnn["95% high"]
    assert lines == ["The LSTM ends better than the Vanilla RNN: holds in 5 of 5 seeds (each seed's final "
                     "metric, beyond a margin of 0.01)."]
    # one seed where the RNN ends as well as the LSTM: not settled
    rows.loc[(rows.model == "rnn") & (rows.seed == 2), "metric"] = 1.0
    _, lines = lab_over_seeds(rows, True, 0.99, 0.01)
    assert lines[0].startswith("The LSTM ends better than the Vanilla RNN: holds in 4 of 5 seeds: not settled")


def test_the_lab_trains_its_experiment_from_several_seeds_and_says_the_counts(monkeypatch):
    """/train: 'Train 3 seeds' trains seeds 0-2 of the experiment on screen (seed 0 reused from the store)
    and shows each model's spread and the pairwise count."""
    import time

    from streamlit.testing.v1 import AppTest

    from core.config import ModelConfig, RunConfig, TaskConfig, TrainConfig
    from dashboard.components import controls, seeds as seeds_ui
    from tests.test_app import APP, TIMEOUT, settle
    cfg = validate(RunConfig(task=TaskConfig(seq_len=6), model=ModelConfig(hidden_size=8),
                             train=TrainConfig(steps=20, batch_size=16, eval_every=10)))
    monkeypatch.setattr(controls, "DEFAULT", cfg)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.switch_page("views/train.py")
    at = settle(at.run())
    assert not at.exception
    at.number_input(key=seeds_ui.COUNT).set_value(3).run()
    at.button(key="lab-seeds-train").click().run()
    job = at.session_state[seeds_ui.JOB]
    deadline = time.monotonic() + TIMEOUT
    while not job.ended and time.monotonic() < deadline:
        time.sleep(0.2)
    at.run()
    assert not at.exception and job.ended and not job.error
    assert job.sweep.seeds == (0, 1, 2) and job.sweep.lengths == (6,)
    frame = next(d.value for d in at.dataframe if "reached the target" in d.value.columns)
    assert list(frame["seeds"]) == [3, 3] and set(frame["reached the target"]) <= {f"{k} of 3" for k in range(4)}
    assert any("seeds" in m.value and "ends better than" in m.value for m in at.markdown)


def test_a_chapter_page_says_how_many_seeds_reproduced_here():
    from types import SimpleNamespace

    from core.reference.build import AGREES, DIFFERS
    from core.reference.prove import seeds_line
    ref = SimpleNamespace(index={h: {"summary": {"name": f"run {h}"}} for h in "abcdef"})
    job = SimpleNamespace(verdicts={"a": (AGREES, "bit-identical"), "b": (AGREES, "bit-identical"),
                                    "c": (AGREES, "x"), "d": (DIFFERS, "final metric 0.14 -> 0.86")},
                          exact=False, ended=False, ref=ref)
    line = seeds_line({0: ["a", "b"], 1: ["c", "d"], 2: ["e", "f"]}, job)
    assert line.startswith("Reproduced here: the runs of 1 of 3 seeds trained again on this machine")
    assert "1 differ" in line and "1 seed(s) not retrained yet" in line
    assert "Seed 1: run d differs (final metric 0.14 -> 0.86)" in line
    job.verdicts.update({"d": (AGREES, "inside"), "e": (AGREES, "x"), "f": (AGREES, "x")})
    assert seeds_line({0: ["a", "b"], 1: ["c", "d"], 2: ["e", "f"]}, job).startswith(
        "Reproduced here: the runs of 3 of 3 seeds")


def test_on_another_cpu_a_run_that_wanders_inside_its_seeds_spread_agrees_and_one_outside_differs():
    from types import SimpleNamespace

    from core.config import RunConfig, TaskConfig, TrainConfig
    from core.reference.build import AGREES, DIFFERS, compare, spread
    base = validate(RunConfig(task=TaskConfig(seq_len=100), train=TrainConfig(steps=500))).single("rnn")
    index = {}
    for s, final in enumerate((0.14, 0.2, 0.86, 0.5, 0.13)):
        c = with_seed(base, s)
        index[f"h{s}"] = {"config": c.to_dict(), "summary": {"final_metric": final, "status": "finished",
                                                               "steps_to_target": None, "metric_name": "accuracy"}}
    ref = SimpleNamespace(index=index)
    assert spread(ref, "h0") == (0.13, 0.86, 5)
    again = lambda final: ModelRun(kind="rnn", config=with_seed(base, 0), evals=[{"step": 500, "metric": final}],
                                   steps_run=500, steps_to_target=None, status="finished")
    assert compare(ref, "h0", again(0.145), exact=False)[0] == AGREES  # within the run's own tolerance
    verdict, why = compare(ref, "h0", again(0.86), exact=False)  # 14% there, 86% here: inside the seeds' spread
    assert verdict == AGREES and "inside its 5 seeds' spread" in why
    verdict, why = compare(ref, "h0", again(0.99), exact=False)
    assert verdict == DIFFERS and "outside its 5 seeds' spread 0.13-0.86" in why


def test_reference_check_fails_when_a_verdict_changes_and_names_it(monkeypatch):
    from types import SimpleNamespace

    from core.reference import build as B
    from core.reference.verdicts import changed
    old = {"1": {"key": "gap", "outcome": HOLDS, "seeds": [0, 1], "checks": [
        {"claim": "it does not learn the gap of 100", "outcome": HOLDS, "seeds": [HOLDS, HOLDS]}]}}
    new = {"1": {"key": "gap", "outcome": UNCLEAR, "seeds": [0, 1], "checks": [
        {"claim": "it does not learn the gap of 100", "outcome": UNCLEAR, "seeds": [HOLDS, FAILS]}]}}
    lines = changed(old, new)
    assert lines == ["chapter 1 (gap): holds -> no clear difference; 'it does not learn the gap of 100': holds "
                     "(holds in 2 of 2 seeds) -> no clear difference (holds in 1 of 2 seeds)"]
    assert changed(old, old) == []
    said = []
    ref = SimpleNamespace(read_json=lambda name: old)
    monkeypatch.setattr(B, "verdicts", lambda results: new)
    monkeypatch.setattr(B, "results_of", lambda lookup: {})
    assert B.check_verdicts(ref, {}, said.append) == 1 and said[0].startswith("verdict changed: chapter 1 (gap)")
    monkeypatch.setattr(B, "verdicts", lambda results: old)
    assert B.check_verdicts(ref, {}, said.append) == 0
