"""Chapter 9, translation: one vector for the whole sentence, reversing the source, attention, and the
LSTM's limit on the copying-memory task (core/seq2seq.py, core/tasks/sentences.py).

Its experiments are defined here (no other chapter trains an encoder-decoder). Steps, lengths and starts
come from docs/calibration_translation.md: 800 steps at most, evaluated every 50 and stopped once a run
held 99% for two evaluations (patience 2, as the calibration trained them).

Which LSTM gets attention: the LSTM with attention starts its forget gate at zero. The lab's chrono start
with attention learned slowly in the calibration (39.5% at T = 10 and 13.1% at T = 20 after 800 steps)
while the zero start reached 99.8% and 99.9% (seed 0); why is not established. The LSTMs without
attention keep the lab's chrono start (the one every other chapter trains), so at T = 10 the attention
check compares two starts as well as attention; the vanilla RNN's check compares attention alone. On
copying both LSTMs start at zero, so only attention differs.
"""
from __future__ import annotations

import math

import pandas as pd

from core.config import ModelConfig, RunConfig, TaskConfig, TrainConfig
from core.results import ModelRun, RunResult
from core.story import runs as X
from core.story.base import Chapter, Table, Told, told
from core.story.evidence import FAILS, HOLDS, UNCLEAR, Check, compare

# --- the experiments ----------------------------------------------------------------------------------
LENGTHS = (5, 10)  # every model learns T = 5; at T = 10 the three claims part (T = 20 adds little at twice the cost)
COPY_T = 110  # Arjovsky et al.'s delay 100 with the lab's 10 symbols: blanks up to T steps, then the 10 written back
STEPS = 800  # the calibration's budget; patience stops a run that held 99% for two evaluations


def _cfg(task: str, T: int, models: tuple[str, ...], **model) -> RunConfig:
    return RunConfig(task=TaskConfig(name=task, seq_len=T), model=ModelConfig(**model), models=models,
                     train=TrainConfig(steps=STEPS, eval_every=50, patience=2))


PLAIN, REVERSED, ATTENTION = "plain", "reversed", "attention"
TRANSLATION: dict[tuple[int, str], str] = {}
for _T in LENGTHS:
    TRANSLATION[_T, PLAIN] = X.define(
        f"translation_{_T}", lambda T=_T: _cfg("translation", T, ("rnn", "lstm")),
        f"translation at T = {_T}: the vanilla RNN and the LSTM, one vector")
    TRANSLATION[_T, REVERSED] = X.define(
        f"translation_{_T}_reversed", lambda T=_T: _cfg("translation", T, ("lstm",), reverse_source="yes"),
        f"translation at T = {_T}: the LSTM reading the source backwards")
    TRANSLATION[_T, ATTENTION] = X.define(
        f"translation_{_T}_attention",
        lambda T=_T: _cfg("translation", T, ("rnn", "lstm"), attention="dot", forget_init="zero"),
        f"translation at T = {_T}: the vanilla RNN and the LSTM (zero start) with attention")
COPY = X.define("copying", lambda: _cfg("copying", COPY_T, ("lstm",), forget_init="zero"),
                f"copying at T = {COPY_T}: the LSTM (zero start), one vector")
COPY_ATTENTION = X.define("copying_attention",
                          lambda: _cfg("copying", COPY_T, ("lstm",), forget_init="zero", attention="dot"),
                          f"copying at T = {COPY_T}: the LSTM (zero start) with attention")
NAMES = tuple(TRANSLATION[T, v] for T in LENGTHS for v in (PLAIN, REVERSED, ATTENTION)) + (COPY, COPY_ATTENTION)

# --- the margins the checks state ---------------------------------------------------------------------
FALL = 0.10  # accuracy falls with length: by more than 10 points of token accuracy
REVERSE_GAIN = 0.05  # reversing helps: by more than 5 points (the calibration measured +13 to +18 at T = 10)
ATTENTION_GAIN = 0.10  # attention helps: by more than 10 points
NEAR_BASELINE = 0.10  # "near the baseline" on copying: within 10 points of chance (12.5%)

KINDS = {"rnn": "vanilla RNN", "lstm": "LSTM", "gru": "GRU"}
PAPERS = {
    "cho": "Cho et al. (2014) found an RNN encoder-decoder's BLEU score falls fast as sentences grow",
    "sutskever": "Sutskever et al. (2014) raised their LSTM's BLEU from 25.9 to 30.6 by reversing the source",
    "bahdanau": ("Bahdanau et al. (2015) report BLEU 17.82 for the encoder-decoder without attention "
                 "(RNNencdec-50) and 26.75 with it (RNNsearch-50)"),
    "arjovsky": ("Arjovsky, Shah & Bengio (2016) found the LSTM stays at the memoryless baseline on copying "
                 "for long delays"),
}
BLEU = ("BLEU scores word overlap with human translations of real sentences; the lab's number is token accuracy "
        "on a toy language (the share of words right), so only the direction of each difference compares.")


# --- reading the runs -----------------------------------------------------------------------------------
def variant(result: RunResult) -> str:
    m = result.config.model
    return ATTENTION if m.attention != "none" else REVERSED if m.reverse_source == "yes" else PLAIN


def accuracy(run: ModelRun | None) -> float:
    return float("nan") if run is None else float(run.final_metric)


def exact(run: ModelRun | None) -> float:
    return float("nan") if run is None or not run.evals else float(run.evals[-1].get("exact_match", float("nan")))


def pct(v: float) -> str:
    return "n/a" if math.isnan(v) else f"{v:.1%}"


def line_key(kind: str, v: str) -> str:
    """'lstm', 'lstm+rev', 'rnn+att': a model line of the chapter's chart."""
    return kind + {PLAIN: "", REVERSED: "+rev", ATTENTION: "+att"}[v]


def accuracy_frame(results: list[RunResult]) -> pd.DataFrame:
    """One row per translation model and length: line (rnn, lstm, lstm+rev, rnn+att, lstm+att), its title,
    T, token accuracy, exact match, chance and the steps it ran."""
    rows = []
    for r in results:
        if r.task.name != "translation":
            continue
        for kind, run in r.runs.items():
            rows.append({"line": line_key(kind, variant(r)), "name": run.title, "T": r.task.seq_len,
                         "token_accuracy": accuracy(run), "exact_match": exact(run), "chance": r.task.chance,
                         "steps": run.steps_run})
    return pd.DataFrame(rows, columns=["line", "name", "T", "token_accuracy", "exact_match", "chance", "steps"])


def copying_frame(results: list[RunResult]) -> pd.DataFrame:
    rows = []
    for r in results:
        if r.task.name != "copying":
            continue
        for kind, run in r.runs.items():
            rows.append({"line": line_key(kind, variant(r)), "name": run.title, "T": r.task.seq_len,
                         "token_accuracy": accuracy(run), "exact_match": exact(run), "chance": r.task.chance,
                         "steps": run.steps_run, "reached": run.steps_to_target})
    return pd.DataFrame(rows, columns=["line", "name", "T", "token_accuracy", "exact_match", "chance", "steps",
                                       "reached"])


def _find(results, task: str, v: str, T: int | None = None) -> RunResult | None:
    return next((r for r in results if r.task.name == task and variant(r) == v
                 and (T is None or r.task.seq_len == T)), None)


def _said(run: ModelRun, r: RunResult) -> str:
    return (f"the {run.title} {pct(accuracy(run))} of the words ({pct(exact(run))} of whole sentences) after "
            f"{run.steps_run:,} steps")


def _points(d) -> str:
    """evidence.Difference.words in points of accuracy: 'a difference of 14.3 points, larger than the
    margin of 5 points'."""
    if math.isnan(d.gap):
        return "a difference that cannot be measured, so no clear difference"
    size = f"a difference of {abs(d.gap) * 100:.1f} points"
    if d.outcome == UNCLEAR:
        return f"{size}, within the margin of {d.margin * 100:.0f} points, so no clear difference"
    return f"{size}, larger than the margin of {d.margin * 100:.0f} points"


def _judged(d, c: Check) -> str:
    """'a difference of 12.0%, larger than the margin of 10.0%: the claim holds' (the difference's words,
    then the claim's outcome where the words do not already say it)."""
    return _points(d) + {HOLDS: ": the claim holds", FAILS: ", the other way: the claim does not hold",
                             UNCLEAR: ""}[c.outcome]


# --- the teller -------------------------------------------------------------------------------------------
def tell_translation(*results: RunResult) -> Told:
    """Chapter 9 told with ONE seed's runs (any order): the translation runs at two or more lengths, the
    copying runs at one delay. Each claim is one Check of a measured difference with its stated margin."""
    lengths = sorted({r.task.seq_len for r in results if r.task.name == "translation"})
    sentences, checks = [], []
    if not lengths:
        return told(["The translation runs are missing."], [])
    short, long = lengths[0], lengths[-1]
    for T in lengths:
        parts = [_said(run, r) for v in (PLAIN, REVERSED, ATTENTION) if (r := _find(results, "translation", v, T))
                 for run in r.runs.values()]
        chance = next(r.task.chance for r in results if r.task.name == "translation" and r.task.seq_len == T)
        sentences.append(f"Translation at T = {T} words (chance {pct(chance)}, the best guess that knows the "
                         f"grammar but not the sentence): " + "; ".join(parts) + ".")

    # (a) one vector: accuracy falls as the sentence grows
    sentences.append(f"(a) One vector for the whole sentence. {PAPERS['cho']}.")
    lo, hi = _find(results, "translation", PLAIN, short), _find(results, "translation", PLAIN, long)
    if lo is not None and hi is not None:
        for kind in lo.runs:
            if kind not in hi.runs:
                continue
            a, b = accuracy(lo.runs[kind]), accuracy(hi.runs[kind])
            d = compare(a, b, FALL)
            c = Check.of(f"without attention the {lo.runs[kind].title}'s accuracy falls from T = {short} to "
                         f"T = {long}", d)
            checks.append(c)
            sentences.append(f"The {lo.runs[kind].title} without attention gets {pct(a)} of the words right at "
                             f"T = {short} and {pct(b)} at T = {long}, {_judged(d, c)}." + (
                                 "" if c.outcome == HOLDS else
                                 " Here the models do not show the papers' fall with length."))

    # (b) reversing the source helps the LSTM
    sentences.append(f"(b) Reading the source backwards. {PAPERS['sutskever']}.")
    plain, rev = _find(results, "translation", PLAIN, long), _find(results, "translation", REVERSED, long)
    if plain is not None and rev is not None and "lstm" in plain.runs and "lstm" in rev.runs:
        a, b = accuracy(rev.runs["lstm"]), accuracy(plain.runs["lstm"])
        d = compare(a, b, REVERSE_GAIN)
        c = Check.of(f"reversing the source helps the LSTM at T = {long}", d)
        checks.append(c)
        sentences.append(f"At T = {long} the LSTM reading the source backwards gets {pct(a)} of the words "
                         f"({pct(exact(rev.runs['lstm']))} of whole sentences) against {pct(b)} "
                         f"({pct(exact(plain.runs['lstm']))}) reading it forwards, {_judged(d, c)}." + (
                             " The first words of the answer then sit close to the words they translate, which "
                             "is Sutskever et al.'s reading of why it helps; this run does not test that reading."
                             if c.outcome == HOLDS else " Here reversing does not show the papers' gain."))

    # (c) attention removes the bottleneck
    sentences.append(f"(c) Attention. {PAPERS['bahdanau']}. {BLEU}")
    att = _find(results, "translation", ATTENTION, long)
    if plain is not None and att is not None:
        for kind in att.runs:
            if kind not in plain.runs:
                continue
            a, b = accuracy(att.runs[kind]), accuracy(plain.runs[kind])
            d = compare(a, b, ATTENTION_GAIN)
            c = Check.of(f"with attention the {KINDS.get(kind, kind)} beats the same kind without it at T = {long}", d)
            checks.append(c)
            start = ("" if kind != "lstm" or att.runs[kind].config.model.forget_init == plain.runs[kind].config.model.forget_init
                     else f" (the LSTM with attention starts its forget gate at "
                          f"{att.runs[kind].config.model.forget_init}, the one without at "
                          f"{plain.runs[kind].config.model.forget_init}: the lab's chrono start learned slowly "
                          f"with attention in the calibration, so this check compares starts as well)")
            sentences.append(f"At T = {long} the {att.runs[kind].title} gets {pct(a)} of the words "
                             f"({pct(exact(att.runs[kind]))} of whole sentences) against {pct(b)} for the "
                             f"{plain.runs[kind].title}, {_judged(d, c)}{start}." + (
                                 "" if c.outcome == HOLDS else " Here attention does not show the papers' gain."))

    # (d) the limit: copying at a long delay
    sentences.append(f"(d) The LSTM's limit. {PAPERS['arjovsky']}.")
    cp, ca = _find(results, "copying", PLAIN), _find(results, "copying", ATTENTION)
    if cp is not None and "lstm" in cp.runs:
        run, chance, T = cp.runs["lstm"], cp.task.chance, cp.task.seq_len
        a = accuracy(run)
        near = compare(a, chance, NEAR_BASELINE)  # within the margin of chance: near the baseline
        # the claim "stays near the baseline" holds when the LSTM is not clearly above it
        c = Check(f"on copying at T = {T} the LSTM without attention stays near the baseline",
                  HOLDS if near.outcome in (UNCLEAR, FAILS) else FAILS, near.gap, near.margin)
        checks.append(c)
        sentences.append(f"Copying 10 symbols back after blanks up to T = {T} steps (chance {pct(chance)}: one "
                         f"symbol of 8 guessed), the {run.title} without attention gets {pct(a)} of the symbols "
                         f"({pct(exact(run))} of whole answers) after {run.steps_run:,} steps; against chance that is "
                         f"{_points(near)}: " + (
                             "it stays near the baseline." if c.outcome == HOLDS else
                             "it is clearly above the baseline, so here the limit does not show."))
        if ca is not None and "lstm" in ca.runs:
            b = accuracy(ca.runs["lstm"])
            d = compare(b, a, ATTENTION_GAIN)
            c = Check.of(f"on copying at T = {T} attention solves what the LSTM alone cannot", d)
            checks.append(c)
            sentences.append(f"The {ca.runs['lstm'].title} gets {pct(b)} ({pct(exact(ca.runs['lstm']))} of whole "
                             f"answers) after {ca.runs['lstm'].steps_run:,} steps, over the LSTM alone "
                             f"{_judged(d, c)}." + (
                                 " With attention the decoder reads every encoder state, so no symbol has to be "
                                 "carried across the delay in one vector." if c.outcome == HOLDS and b >= ca.task.target else
                                 "" if c.outcome == HOLDS else " Here attention does not solve the copying task."))
    return told(sentences, checks)


def tables(results: dict[str, RunResult]) -> list[Table]:
    runs = [results[n] for n in NAMES if n in results]
    fmt = lambda df: df.assign(token_accuracy=df.token_accuracy.map(pct), exact_match=df.exact_match.map(pct),
                               chance=df.chance.map(pct))
    return [Table("translation-accuracy", "**Translation**, each model at each length (seed 0): token accuracy "
                  "(the share of words right) and exact match (whole sentences right).",
                  fmt(accuracy_frame(runs)), csv="chapter9_translation.csv"),
            Table("copying", "**Copying**, the LSTM with and without attention (seed 0).",
                  fmt(copying_frame(runs)), csv="chapter9_copying.csv")]


CHAPTER = Chapter(
    9, "translation", "Translation: one vector for the whole sentence",
    "An encoder-decoder reads the whole source sentence into one vector and writes the translation from it: "
    "the longer the sentence, the more that one vector must hold, and accuracy falls. Reading the source "
    "backwards helps the LSTM; attention, which lets the decoder read every encoder state, removes the "
    "bottleneck. And the LSTM has limits: asked to copy symbols back after a long delay, it stays at the "
    "baseline, while attention solves it.",
    NAMES, TRANSLATION[LENGTHS[-1], PLAIN], tell_translation,
    charts=("translation_lengths", "copying_limit"), tables=tables,
    weights=False)  # its checks and charts read accuracies only
