"""Chapter 9 (translation, attention, the copying limit): its teller tells one seed from the numbers and
says when a claim fails, its charts draw every model at every length, its two interview questions are
measured in its runs. Results are faked (no training): the numbers below are inputs, not expectations."""
from __future__ import annotations

import pytest

from core import story
from core.charts.story import BUILDERS, chapter_charts
from core.results import ModelRun, RunResult
from core.story import interview
from core.story.chapters import translation as ch9
from core.story.evidence import FAILS, HOLDS, UNCLEAR, over_seeds

LONG = max(ch9.LENGTHS)
SHORT = min(ch9.LENGTHS)


def fake9(acc: dict[str, dict[str, tuple[float, float]]]) -> dict[str, RunResult]:
    """Results for the chapter's experiments: acc[name][kind] = (token accuracy, exact match)."""
    cfgs, out = story.experiments(), {}
    for name, per in acc.items():
        cfg = cfgs[name]
        runs = {k: ModelRun(kind=k, config=cfg.single(k), steps_run=cfg.train.steps, status="finished",
                            evals=[{"step": cfg.train.steps, "metric": a, "exact_match": e}],
                            steps_to_target=300 if a >= 0.99 else None) for k, (a, e) in per.items()}
        out[name] = RunResult(config=cfg, runs=runs)
    return out


def numbers(plain_long=(0.09, 0.55), rev_long=0.70, att_long=(0.998, 0.99), copy=(0.12, 1.0)):
    T = ch9.TRANSLATION
    return {T[SHORT, ch9.PLAIN]: {"rnn": (0.99, 0.96), "lstm": (0.99, 0.98)},
            T[SHORT, ch9.REVERSED]: {"lstm": (0.998, 0.99)},
            T[SHORT, ch9.ATTENTION]: {"rnn": (1.0, 1.0), "lstm": (0.99, 0.97)},
            T[LONG, ch9.PLAIN]: {"rnn": (plain_long[0], 0.0), "lstm": (plain_long[1], 0.10)},
            T[LONG, ch9.REVERSED]: {"lstm": (rev_long, 0.2)},
            T[LONG, ch9.ATTENTION]: {"rnn": (att_long[0], 0.99), "lstm": (att_long[1], 0.98)},
            ch9.COPY: {"lstm": (copy[0], 0.0)}, ch9.COPY_ATTENTION: {"lstm": (copy[1], 1.0)}}


def by_claim(told) -> dict[str, str]:
    return {c.claim: c.outcome for c in told.checks}


def claim(told, *words: str) -> str:
    found = [c for c in told.checks if all(w in c.claim for w in words)]
    assert len(found) == 1, (words, [c.claim for c in told.checks])
    return found[0].outcome


def test_the_chapter_is_discovered_as_the_last_and_names_runs_that_exist():
    assert story.CHAPTERS[-1] is ch9.CHAPTER and ch9.CHAPTER.number == len(story.CHAPTERS)
    cfgs = story.experiments()
    assert set(ch9.CHAPTER.needs) <= set(cfgs) and ch9.CHAPTER.lab in cfgs
    assert all(c in BUILDERS for c in ch9.CHAPTER.charts)
    for (T, v), name in ch9.TRANSLATION.items():
        m = cfgs[name].model
        assert cfgs[name].task.name == "translation" and cfgs[name].task.seq_len == T
        assert (m.attention != "none") == (v == ch9.ATTENTION) and (m.reverse_source == "yes") == (v == ch9.REVERSED)
        assert cfgs[name].train.steps <= 800
    # the LSTM with attention starts at zero (the chrono start learned slowly with attention: the module says why)
    assert cfgs[ch9.TRANSLATION[LONG, ch9.ATTENTION]].single("lstm").model.forget_init == "zero"
    # on copying only attention differs between the two runs
    a, b = cfgs[ch9.COPY], cfgs[ch9.COPY_ATTENTION]
    assert a.task == b.task and a.model.forget_init == b.model.forget_init and a.model.attention != b.model.attention


def test_as_calibrated_every_claim_holds_and_the_papers_are_quoted_beside_the_lab():
    told = story.tell(ch9.CHAPTER, fake9(numbers()))
    assert set(by_claim(told).values()) == {HOLDS} and told.outcome == HOLDS and told.verdict.startswith("Holds")
    text = " ".join(told.sentences)
    for quoted in ("25.9", "30.6", "17.82", "26.75", "Cho et al. (2014)", "Arjovsky", "BLEU", "token accuracy"):
        assert quoted in text
    assert "55.0%" in text and "70.0%" in text  # the lab's numbers, worded from the runs
    assert all(c.value is not None and c.margin is not None for c in told.checks)  # measured differences


def test_a_claim_that_fails_is_said_to_fail():
    # reversing hurts, attention does nothing for the LSTM, the LSTM copies without attention
    told = story.tell(ch9.CHAPTER, fake9(numbers(rev_long=0.40, att_long=(0.998, 0.55), copy=(0.95, 0.96))))
    assert claim(told, "reversing") == FAILS
    assert claim(told, "attention the LSTM beats") == UNCLEAR
    assert claim(told, "attention the vanilla RNN beats") == HOLDS
    assert claim(told, "stays near the baseline") == FAILS
    assert claim(told, "attention solves") == UNCLEAR
    text = " ".join(told.sentences)
    assert "Here reversing does not show the papers' gain" in text
    assert "Here attention does not show the papers' gain" in text
    assert "clearly above the baseline, so here the limit does not show" in text
    assert told.holds is False and "reversing the source helps the LSTM" in told.verdict
    # a model that does not fall with length: said, not hidden
    flat = story.tell(ch9.CHAPTER, fake9(numbers(plain_long=(0.95, 0.97))))
    assert claim(flat, "Vanilla RNN's accuracy falls") == UNCLEAR
    assert "do not show the papers' fall with length" in " ".join(flat.sentences)


def test_the_teller_tells_one_seed_and_the_seeds_pool_by_claim():
    good, bad = fake9(numbers()), fake9(numbers(rev_long=0.40))
    per_seed = [ch9.tell_translation(*(r[n] for n in ch9.CHAPTER.needs)).checks for r in (good, good, bad)]
    assert [c.claim for c in per_seed[0]] == [c.claim for c in per_seed[2]]  # claims carry no seed's numbers
    pooled = {c.claim: c for c in over_seeds(per_seed)}
    rev = next(c for k, c in pooled.items() if "reversing" in k)
    assert rev.seeds == (HOLDS, HOLDS, FAILS) and rev.outcome == UNCLEAR


def test_its_charts_draw_every_model_at_every_length_and_the_copying_runs():
    results = fake9(numbers())
    items = {i.name: i for i in chapter_charts(ch9.CHAPTER, results)}
    lengths = items[f"ch{ch9.CHAPTER.number}_translation_lengths"]
    assert sorted(lengths.data["T"].unique()) == sorted(ch9.LENGTHS)
    assert set(lengths.data.line) == {"rnn", "lstm", "lstm+rev", "rnn+att", "lstm+att"}
    assert len(lengths.data) == 5 * len(ch9.LENGTHS)
    row = lengths.data[(lengths.data.line == "lstm+rev") & (lengths.data["T"] == LONG)]
    assert row.token_accuracy.item() == pytest.approx(0.70)
    spec = lengths.chart.to_dict()
    assert spec["title"]["text"] == "Translation: accuracy against sentence length"
    copying = items[f"ch{ch9.CHAPTER.number}_copying_limit"]
    assert list(copying.data.line) == ["lstm", "lstm+att"]
    assert copying.data.token_accuracy.tolist() == pytest.approx([0.12, 1.0])
    for item in (lengths, copying):  # titles short enough to be drawn whole at the tour's width
        assert len(item.chart.to_dict()["title"]["text"]) <= 60 and item.caption


def test_the_two_questions_are_measured_in_the_chapters_runs_and_follow_its_numbers():
    qs = [q for q in interview.QUESTIONS if q.chapter is ch9.CHAPTER]
    assert {q.key for q in qs} == {"lstm_limits", "attention"}
    assert all(set(q.needs) <= set(ch9.CHAPTER.needs) for q in qs)
    limits, attention = (next(q for q in qs if q.key == k) for k in ("lstm_limits", "attention"))
    a = interview.answer(limits, fake9(numbers()))
    assert a.value == pytest.approx(12.0) and "memoryless baseline" in a.say[0] and len(a.say) == 2
    b = interview.answer(limits, fake9(numbers(copy=(0.6, 0.6))))
    assert b.value == pytest.approx(60.0) and "did not show in full" in b.say[0] and "did not clearly help" in b.say[1]
    assert interview.answer(attention, fake9(numbers())).value == interview.MORE
    lstm_wins = interview.answer(attention, fake9(numbers(plain_long=(0.09, 0.99), att_long=(0.40, 0.99))))
    assert lstm_wins.value == interview.LESS and "do not say why" in lstm_wins.say[1]
    for q in qs:
        assert q.prompt(story.experiments())
