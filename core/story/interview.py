"""Interview mode: the explainer's interview questions, answered by the tour's own trained models.

The explainer ends with "key areas to focus on for interviews" (why LSTMs beat RNNs, each gate, the
formulas, real-world applications) and "key points about the forget gate" (its purpose, the sigmoid
between 0 and 1, element-wise multiplication, why not addition). Each `Question` here asks one of
them as a prediction the learner commits to first (a choice, or a guess on a slider); `answer(q,
results)` then measures the answer in the tour's runs (core.story.experiments: one run serves the
tour and the interview), with the figures for its chart and two sentences to say in an interview,
worded from the numbers. No answer is written here: change a run's numbers and the answer changes.
A guess on a slider counts as right when it is within the question's stated tolerance of the
measured value (core.story.evidence's rule: no clear difference between the two).
"""
from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from core.config import RunConfig
from core.inspection import EXPLAINER_SENTENCE, decay_table, forget_arithmetic
from core.results import RunResult
from core.story import runs as X
from core.story.base import Chapter, learned, reach
from core.story.chapters import arithmetic, belt, but, gap, gradients, translation, turn
from core.story.evidence import FAILS, HOLDS, UNCLEAR, compare, settled as settled_outcome, t_interval
from core.story.measures import GATE_MARGIN, arithmetic_at, dropped_share, gate_summary, word_table

YES, NO = "yes", "no"
MORE, LESS, SAME = "larger", "smaller", "no clear difference"
UNDERFLOW_ORDERS = 45.0  # a gradient that underflowed float32 (~1e-45) lost at least this many orders


@dataclass(frozen=True)
class Answer:
    """What the models measured: the value (a number on the slider's scale, or one of the choices),
    how it reads, the figures for its chart (label, value, unit) and what to say in an interview."""

    value: float | str
    shown: str
    figures: pd.DataFrame
    say: tuple[str, ...]  # what to say (seed 0's two sentences; with several seeds, their count)


@dataclass(frozen=True)
class Question:
    number: int
    key: str
    area: str  # the explainer's interview section it comes from
    short: str  # a few words, for the list of questions
    prompt: Callable[[dict[str, RunConfig]], str]  # worded from the experiments' configs (T, steps)
    needs: tuple[str, ...]  # experiments (core.story.runs) the answer is measured in
    lab: str  # the experiment its "try it in the lab" link opens
    measure: Callable[[dict[str, RunResult]], Answer]
    choices: tuple[str, ...] = ()  # a choice question; else a slider:
    scale: tuple[float, float, float] = (0.0, 100.0, 1.0)  # lo, hi, step
    unit: str = ""  # "%", " orders", ""
    tolerance: float = 0.0  # a slider guess within this of the measured value counts as right
    chapter: Chapter | None = None  # the tour's chapter that tells the same runs (its needs hold the question's)

    @property
    def slider(self) -> bool:
        return not self.choices

    def fmt(self, v: float | str) -> str:
        if isinstance(v, str):
            return v
        return f"{v:.2f}{self.unit}" if self.scale[2] < 1 else f"{v:.0f}{self.unit}"

    def right(self, guess: float | str, answer: Answer) -> bool:
        if self.slider:
            return compare(float(guess), float(answer.value), self.tolerance).outcome == UNCLEAR
        return guess == answer.value


def _figures(rows: Sequence[tuple[str, float]], unit: str = "") -> pd.DataFrame:
    return pd.DataFrame({"label": [r[0] for r in rows], "value": [float(r[1]) for r in rows], "unit": unit})


def _cfg_line(cfg: RunConfig) -> str:
    return f"{cfg.task.name} at T = {cfg.task.seq_len}, {cfg.train.steps:,} training steps"


def _yes(ok: bool | None) -> str:
    return YES if ok else NO


def _outcome_choice(outcome: str) -> str:
    return {HOLDS: MORE, FAILS: LESS}.get(outcome, SAME)


# --- why LSTMs beat RNNs ------------------------------------------------------------------------
def _rnn_accuracy(results: dict[str, RunResult]) -> Answer:
    long = results[X.LONG]
    rnn, lstm, task = long.runs["rnn"], long.runs["lstm"], long.task
    m = rnn.final_metric * 100
    return Answer(m, f"{m:.0f}%", _figures([(rnn.title, m), (lstm.title, lstm.final_metric * 100),
                                            ("chance", task.chance * 100)], "%"), (
        f"Asked for the first of {task.seq_len} symbols, a vanilla RNN trained here {reach(rnn, long)}, while "
        f"an LSTM on the same batches {reach(lstm, long)}.",
        "The gap is the distance the learning signal has to travel back: the RNN multiplies it by its step "
        f"Jacobian at each of {task.seq_len - 1} steps; along the LSTM's cell it is multiplied by the forget gate "
        "instead, which the lab's chrono start sets near 1 (chapter 2 measures both)."))


def _orders(row) -> float:
    return UNDERFLOW_ORDERS if row.init_ratio == 0 else float(row.init_orders_lost)


def _rnn_orders(results: dict[str, RunResult]) -> Answer:
    long = results[X.LONG]
    d = decay_table(long).set_index("model")
    r, m = _orders(d.loc["rnn"]), _orders(d.loc["lstm"])
    end_r = UNDERFLOW_ORDERS if d.loc["rnn"].ratio == 0 else float(d.loc["rnn"].orders_lost)
    T = long.task.seq_len
    words = (lambda o: "all of it (it underflowed float32)" if o >= UNDERFLOW_ORDERS else f"{o:.1f} orders of magnitude")
    return Answer(r, f"{r:.1f} orders" if r < UNDERFLOW_ORDERS else f"{UNDERFLOW_ORDERS:.0f}+ orders (underflow)",
                  _figures([(f"{d.loc['rnn', 'name']} at initialisation", r),
                            (f"{d.loc['lstm', 'name']} at initialisation", m),
                            (f"{d.loc['rnn', 'name']} after training", end_r)], " orders"), (
        f"At initialisation the gradient of the loss at t = {T} loses {words(r)} on its way back to t = 1 in a "
        f"vanilla RNN, against {words(m)} in the LSTM, measured on held-out examples.",
        (f"That is the vanishing gradient: {T - 1} multiplications by the RNN's step Jacobian shrink the signal "
         "exponentially, so its weights can hardly learn from what happened at the start; the LSTM, whose cell's "
         "gradient is multiplied by forget gates started near 1, loses less here." if compare(r, m, 1.0).outcome == HOLDS else
         f"Here the two lose about as much (within one order of magnitude): over {T - 1} steps the RNN's gradient "
         "has not vanished much more than the LSTM's.")))


# --- each gate ------------------------------------------------------------------------------------
def _gate_answer(results: dict[str, RunResult], at: str, elsewhere: str, labels: tuple[str, str],
                 said: dict[str, str], say: Callable[[dict, str, str], tuple[str, str]]) -> Answer:
    """The LSTM's mean gate at one place against elsewhere (gate_summary keys `at`, `elsewhere`), as
    MORE / LESS / SAME; `say(g, how, said[choice])` words its two sentences (`how`: the comparison's words)."""
    g = gate_summary(results[X.LONG])
    d = compare(g[at], g[elsewhere], GATE_MARGIN)
    choice = _outcome_choice(d.outcome)
    return Answer(choice, choice, _figures([(labels[0], g[at]), (labels[1], g[elsewhere])]),
                  say(g, d.words(), said[choice]))


def _input_gate(results: dict[str, RunResult]) -> Answer:
    return _gate_answer(
        results, "i_info", "i_else", ("input gate at the first token", "input gate elsewhere"),
        {MORE: "writes more where the information is", LESS: "writes less at the information than elsewhere",
         SAME: "writes about as much everywhere"},
        lambda g, how, said: (
            f"The input gate i_t decides what to write to the cell: in the LSTM trained here its mean is "
            f"{g['i_info']:.3f} at the information (the first token) against {g['i_else']:.3f} elsewhere, {how}.",
            f"So this LSTM {said}; the explainer's 'add the formulas to your notes' is a picture, and a trained "
            "model can spread its writing differently."))


def _output_gate(results: dict[str, RunResult]) -> Answer:
    return _gate_answer(
        results, "o_last", "o_else", ("output gate at the last step", "output gate elsewhere"),
        {MORE: "opens more where the answer is read", LESS: "opens less at the answer than elsewhere",
         SAME: "reads its cell about as much all along"},
        lambda g, how, said: (
            f"The output gate o_t decides how much of the cell to show in h_t = o_t ⊙ tanh(c_t): its mean is "
            f"{g['o_last']:.3f} at the last step, where the answer is read, against {g['o_else']:.3f} elsewhere, "
            f"{how}.",
            f"So this LSTM {said}. What it keeps (the cell) and what it shows (h_t) are separate quantities; "
            "whether the answer needs the output gate is what an ablation (chapter 3) tests, not this mean."))


GATES = {"forget_mean": "forget gate", "input_mean": "input gate", "output_mean": "output gate"}


def _gate_at_but(results: dict[str, RunResult]) -> Answer:
    short = results[X.BUT_SHORT]
    w = word_table(short)
    b = list(w.word).index("but")
    change = {name: float(w[col].iloc[b] - w[col].iloc[b - 1]) for col, name in GATES.items()}
    top = max(change, key=lambda k: abs(change[k]))
    before = w.word.iloc[b - 1]
    clear = compare(abs(change[top]), 0.0, GATE_MARGIN).outcome == HOLDS
    return Answer(top, top, _figures([(f"{k}: change at 'but'", v) for k, v in change.items()]), (
        f"Reading '{EXPLAINER_SENTENCE}' (LSTM trained at T = {short.task.seq_len}), the mean gate that moves most "
        f"from '{before}' to 'but' is the {top} ({change[top]:+.3f})" + (
            "." if top == "forget gate" else f"; the forget gate moves {change['forget gate']:+.3f}."),
        (f"No gate's mean moves by more than {GATE_MARGIN} (the tour's margin for a gate): on average this model "
         "does not mark the turn in one gate, and chapter 4 shows what its read-out does at 'but'." if not clear else
         "That is where this model marks the change of subject: " + (
             "its forget gate clears the old sentiment, as the explainer says." if top == "forget gate" and
             change[top] < 0 else f"in its {top}, not by visibly closing the forget gate on average."))))


# --- the forget gate: sigmoid, multiplication, why not addition -------------------------------------
def _at_but(results: dict[str, RunResult]) -> pd.DataFrame:
    return arithmetic_at(results[X.BUT_LONG])


def _forget_mean(results: dict[str, RunResult]) -> Answer:
    at = _at_but(results)
    f = at["f_t = σ(z)"]
    T = results[X.BUT_LONG].task.seq_len
    inside = bool(((f > 0) & (f < 1)).all())
    return Answer(float(f.mean()), f"{f.mean():.2f}", _figures([("mean over units", f.mean()), ("lowest unit", f.min()),
                                                                 ("highest unit", f.max())]), (
        f"At 'but' the LSTM of T = {T} computes f_t = σ(W_f·[h_(t-1), x_t] + b_f) for each of its {len(f)} units: "
        f"the values run from {f.min():.3f} to {f.max():.3f}, mean {f.mean():.3f}.",
        ("Every one lies strictly between 0 and 1, because a sigmoid never reaches either: the gate scales each "
         "unit of the old cell, it does not switch it." if inside else
         "Some reach 0 or 1 exactly in float32: the sigmoid saturates, so those units keep all or nothing.")))


def _dropped(results: dict[str, RunResult]) -> Answer:
    long = results[X.BUT_LONG]
    at = _at_but(results)
    t = int(at.t.iloc[0])  # from 1
    share = dropped_share(at) * 100
    prev = dropped_share(forget_arithmetic(long, long.task.encode_text(EXPLAINER_SENTENCE), t - 2)) * 100
    u = at.loc[((1 - at["f_t = σ(z)"]) * at["c_{t-1}"]).abs().idxmax()]
    return Answer(share, f"{share:.0f}%", _figures([("dropped at 'but'", share), ("dropped at the word before", prev)],
                                                   "%"), (
        f"f_t ⊙ c_(t-1) multiplies each unit of the cell by its own gate: at 'but' this LSTM keeps "
        f"{100 - share:.0f}% of the cell's length and drops {share:.0f}% (against {prev:.0f}% at the word before).",
        f"Element-wise means unit by unit: unit {int(u.unit)} goes from {u['c_{t-1}']:.2f} to "
        f"{u['f_t ⊙ c_{t-1} (kept)']:.2f} (f = {u['f_t = σ(z)']:.2f}) while others keep nearly all they held."))


def _no_forget(results: dict[str, RunResult]) -> Answer:
    none, long = results[X.NO_FORGET], results[X.BUT_LONG]
    plain, ours = none.runs["lstm"], long.runs.get("lstm")
    ok = learned(none, "lstm")
    rows = [(plain.title, plain.final_metric * 100)] + ([(ours.title, ours.final_metric * 100)] if ours else [])
    return Answer(_yes(ok), _yes(ok), _figures(rows + [("chance", none.task.chance * 100)], "%"), (
        f"An LSTM with its forget gate pinned at 1 (the 1997 LSTM: c_t = c_(t-1) + i_t ⊙ g_t, the cell can only add), "
        f"started as Hochreiter & Schmidhuber (1997) started it (input and output gates mostly shut), "
        f"{reach(plain, none)} on the review of {none.task.seq_len} words" + (
            f"; with a forget gate the same LSTM {reach(ours, long)}." if ours else "."),
        ("So addition alone was enough here: the cell carried the sentiment across the review. What the "
         "multiplication adds shows where something must be let go: chapter 6 trains both on a stream that is "
         "never reset." if ok else
         "It did not reach the target in this budget; this run alone does not say why (chapter 6 measures its "
         "cell).")))


def _zero_start(results: dict[str, RunResult]) -> Answer:
    zero, long = results[X.ZERO_FORGET], results[X.LONG]
    plain, chrono = zero.runs["lstm"], long.runs.get("lstm")
    ok = learned(zero, "lstm")
    T = zero.task.seq_len
    rows = [(plain.title, plain.final_metric * 100)] + ([(chrono.title, chrono.final_metric * 100)] if chrono else [])
    return Answer(_yes(ok), _yes(ok), _figures(rows + [("chance", zero.task.chance * 100)], "%"), (
        f"From PyTorch's default start (forget bias 0, so f_t starts near σ(0) = 0.5) an LSTM {reach(plain, zero)} on "
        f"first_token at T = {T}" + (f"; from the chrono start it {reach(chrono, long)}." if chrono else "."),
        f"A gate at 0.5 keeps 0.5^{T - 1} = {0.5 ** (T - 1):.1g} of the cell across the gap, and the gradient with "
        "it: " + ("it learned to open the gate anyway." if ok else "it never learned to open it, so where the forget "
                  "gate starts matters as much as having one.")))


# --- real-world applications -----------------------------------------------------------------------
def _short_review(results: dict[str, RunResult]) -> Answer:
    short, long = results[X.BUT_SHORT], results[X.BUT_LONG]
    rnn = short.runs["rnn"]
    ok = learned(short, "rnn")
    far = long.runs.get("rnn")
    return Answer(_yes(ok), _yes(ok), _figures(
        [(f"{r.title}, T = {res.task.seq_len}", r.final_metric * 100) for res in (short, long) for r in res.runs.values()]
        + [("chance", short.task.chance * 100)], "%"), (
        f"On short reviews (T = {short.task.seq_len}) the vanilla RNN {reach(rnn, short)}"
        + (f"; on long ones (T = {long.task.seq_len}) it {reach(far, long)}." if far is not None else "."),
        ("So for short inputs a plain RNN can be enough and is cheaper; the LSTM pays off where the dependency "
         "is long, as on the long review here." if ok else
         "So even at this length the RNN needed more than it had here; the tour's LSTM learned the reviews "
         "(chapters 4-5).")))


# --- the limits of LSTMs, and attention (chapter 9) --------------------------------------------------
def _copying_limit(results: dict[str, RunResult]) -> Answer:
    alone, att = results[translation.COPY], results[translation.COPY_ATTENTION]
    run, task = alone.runs["lstm"], alone.task
    m, chance = run.final_metric * 100, task.chance * 100
    near = compare(run.final_metric, task.chance, translation.NEAR_BASELINE)
    other = att.runs.get("lstm")
    beats = compare(other.final_metric, run.final_metric, translation.ATTENTION_GAIN) if other else None
    rows = [(run.title, m)] + ([(other.title, other.final_metric * 100)] if other else []) + [("chance", chance)]
    return Answer(m, f"{m:.0f}%", _figures(rows, "%"), (
        f"Asked to write back 10 symbols after blanks up to T = {task.seq_len} steps (Arjovsky et al. 2016's copying "
        f"memory), an LSTM encoder-decoder without attention {reach(run, alone)}; that is "
        + (f"within {translation.NEAR_BASELINE * 100:.0f} points of chance, the memoryless baseline." if near.outcome != HOLDS else
           f"clearly above chance ({chance:.1f}%), so here the limit did not show in full."),
        (f"With attention the same LSTM {reach(other, att)}" + (
            ", so what failed without it was carrying the symbols across the delay in one vector"
            if beats.outcome == HOLDS else ": attention did not clearly help here either")
         + ". Said in an interview: a single fixed-size state must carry everything across the delay." if other else
         "The run with attention is missing.")))


def _attention_wins(results: dict[str, RunResult]) -> Answer:
    T = max(translation.LENGTHS)
    plain, att = results[translation.TRANSLATION[T, translation.PLAIN]], \
        results[translation.TRANSLATION[T, translation.ATTENTION]]
    lstm, rnn_att, lstm_att = plain.runs["lstm"], att.runs["rnn"], att.runs.get("lstm")
    d = compare(rnn_att.final_metric, lstm.final_metric, translation.ATTENTION_GAIN)
    rows = [(lstm.title, lstm.final_metric * 100), (rnn_att.title, rnn_att.final_metric * 100)] + (
        [(lstm_att.title, lstm_att.final_metric * 100)] if lstm_att else []) + [("chance", plain.task.chance * 100)]
    n = plain.task.seq_len
    return Answer(_outcome_choice(d.outcome), _outcome_choice(d.outcome), _figures(rows, "%"), (
        f"Translating sentences of {n} words, the LSTM without attention gets {lstm.final_metric:.0%} of the words "
        f"right and a vanilla RNN with attention {rnn_att.final_metric:.0%}"
        + (f" (the LSTM with attention {lstm_att.final_metric:.0%})" if lstm_att else "") + ": "
        + {HOLDS: f"the simpler cell with attention wins by more than {translation.ATTENTION_GAIN * 100:.0f} points.",
           FAILS: "the LSTM without attention does clearly better here.",
           UNCLEAR: f"no clear difference (margin {translation.ATTENTION_GAIN * 100:.0f} points)."}[d.outcome],
        ("With every encoder state to read, the simplest recurrent cell did better here than the LSTM with one "
         "vector: that is the bottleneck attention removes, the argument for attention (Bahdanau et al. 2015: BLEU "
         "17.82 -> 26.75; BLEU is not token accuracy) and, with attention alone, for the Transformer."
         if d.outcome == HOLDS else
         "Here attention did not show its advantage in this budget, so these runs do not say why it replaced LSTMs.")))


QUESTIONS = (
    Question(1, "rnn_accuracy", "Why LSTMs beat RNNs", "the vanilla RNN on a long gap",
             lambda c: f"Read {c[X.LONG].task.seq_len} symbols and name the first ({c[X.LONG].task.n_symbols} possible "
                       f"first symbols): what held-out accuracy will the vanilla RNN reach ({_cfg_line(c[X.LONG])})?",
             (X.LONG,), X.LONG, _rnn_accuracy, unit="%", tolerance=10.0, chapter=gap.CHAPTER),
    Question(2, "rnn_orders", "Why LSTMs beat RNNs", "the vanishing gradient",
             lambda c: f"At initialisation, how many orders of magnitude does the vanilla RNN's gradient lose over the "
                       f"{c[X.LONG].task.seq_len - 1} steps from t = {c[X.LONG].task.seq_len} back to t = 1?",
             (X.LONG,), X.LONG, _rnn_orders, scale=(0.0, UNDERFLOW_ORDERS, 1.0), unit=" orders", tolerance=3.0,
             chapter=gradients.CHAPTER),
    Question(3, "input_gate", "Explain each gate", "the input gate",
             lambda c: f"The input gate decides what to write. In the LSTM trained on {_cfg_line(c[X.LONG])}, is it "
                       "larger at the information (the first token) than elsewhere, smaller, or not clearly different?",
             (X.LONG,), X.LONG, _input_gate, choices=(MORE, LESS, SAME), chapter=belt.CHAPTER),
    Question(4, "output_gate", "Explain each gate", "the output gate",
             lambda c: f"The output gate decides what to show. In the same LSTM ({_cfg_line(c[X.LONG])}), is it larger "
                       "at the last step (where the answer is read) than elsewhere, smaller, or not clearly different?",
             (X.LONG,), X.LONG, _output_gate, choices=(MORE, LESS, SAME), chapter=belt.CHAPTER),
    Question(5, "gate_at_but", "Explain each gate", "which gate moves at 'but'",
             lambda c: f"Reading \"{EXPLAINER_SENTENCE}\" (LSTM of T = {c[X.BUT_SHORT].task.seq_len}), which gate's "
                       "mean moves most from the word before 'but' to 'but'?",
             (X.BUT_SHORT,), X.BUT_SHORT, _gate_at_but, choices=tuple(GATES.values()), chapter=but.CHAPTER),
    Question(6, "forget_sigmoid", "The forget gate: a sigmoid", "the forget gate's value",
             lambda c: f"f_t = σ(W_f·[h_(t-1), x_t] + b_f). At 'but', what is the mean of the forget gate over the "
                       f"units of the LSTM of T = {c[X.BUT_LONG].task.seq_len}?",
             (X.BUT_LONG,), X.BUT_LONG, _forget_mean, scale=(0.0, 1.0, 0.01), tolerance=0.1,
             chapter=arithmetic.CHAPTER),
    Question(7, "elementwise", "The forget gate: element-wise multiplication", "how much is dropped",
             lambda c: "f_t ⊙ c_(t-1) multiplies each unit of the cell by its own gate. At 'but', what share of the "
                       "cell's length (1 - ||f_t ⊙ c_(t-1)|| / ||c_(t-1)||) does the LSTM drop?",
             (X.BUT_LONG,), X.BUT_LONG, _dropped, unit="%", tolerance=10.0, chapter=arithmetic.CHAPTER),
    Question(8, "no_forget", "The forget gate: why not addition?", "an LSTM that can only add",
             lambda c: "The 1997 LSTM had no forget gate: c_t = c_(t-1) + i_t ⊙ g_t, the cell can only add. From its "
                       f"paper's start, will it learn the long review ({_cfg_line(c[X.NO_FORGET])})?",
             (X.NO_FORGET, X.BUT_LONG), X.NO_FORGET, _no_forget, choices=(YES, NO), chapter=arithmetic.CHAPTER),
    Question(9, "zero_start", "The forget gate: its purpose", "where the forget gate starts",
             lambda c: "PyTorch starts the forget bias at 0, so f_t starts near 0.5. Will that LSTM learn "
                       f"{_cfg_line(c[X.ZERO_FORGET])}?",
             (X.ZERO_FORGET, X.LONG), X.ZERO_FORGET, _zero_start, choices=(YES, NO), chapter=turn.CHAPTER),
    Question(10, "short_review", "Real-world applications", "when a plain RNN is enough",
             lambda c: f"Sentiment of a short review (\"... but ...\", {_cfg_line(c[X.BUT_SHORT])}): will the vanilla "
                       "RNN reach the target?",
             (X.BUT_SHORT, X.BUT_LONG), X.BUT_SHORT, _short_review, choices=(YES, NO), chapter=but.CHAPTER),
    Question(11, "lstm_limits", "The limits of LSTMs", "copying after a long delay",
             lambda c: f"Copy 10 symbols (8 possible) back after blanks up to T = {c[translation.COPY].task.seq_len} "
                       f"steps ({_cfg_line(c[translation.COPY])}): what share of the symbols will an LSTM "
                       "encoder-decoder without attention write back right?",
             (translation.COPY, translation.COPY_ATTENTION), translation.COPY, _copying_limit, unit="%",
             tolerance=10.0, chapter=translation.CHAPTER),
    Question(12, "attention", "The limits of LSTMs", "why attention replaced them",
             lambda c: "Translating sentences of "
                       f"{c[translation.TRANSLATION[max(translation.LENGTHS), translation.PLAIN]].task.seq_len} words: "
                       "is a vanilla RNN with attention's token accuracy larger than the LSTM's without attention, "
                       f"smaller, or not clearly different (margin {translation.ATTENTION_GAIN * 100:.0f} points)?",
             (translation.TRANSLATION[max(translation.LENGTHS), translation.PLAIN],
              translation.TRANSLATION[max(translation.LENGTHS), translation.ATTENTION]),
             translation.TRANSLATION[max(translation.LENGTHS), translation.ATTENTION], _attention_wins,
             choices=(MORE, LESS, SAME), chapter=translation.CHAPTER),
)
BY_NUMBER = {q.number: q for q in QUESTIONS}


def needed() -> list[str]:
    """Every experiment the interview measures in, each once (all of them are the tour's)."""
    return list(dict.fromkeys(n for q in QUESTIONS for n in q.needs))


def seeds_in(q: Question, results: dict[str, RunResult]) -> list[int]:
    """The seeds whose every run the question needs is in `results` (seed 0 first)."""
    return [s for s in range(X.SEEDS) if all(X.seeded(n, s) in results for n in q.needs)]


def answer(q: Question, results: dict[str, RunResult]) -> Answer:
    """The question answered from the trained results: results[name] for every name in q.needs is seed 0
    (the runs its chart draws); results["name@s"], where present, are the same experiments on other seeds.
    Over several seeds the answer is pooled as the chapters pool their checks (core.story.evidence): a
    choice is the one most seeds give, said with its count and settled only where the sign test settles
    it; a value is the seeds' median, said with its range and 95% t interval. The sentences are seed 0's,
    followed by the count."""
    a0 = q.measure(results)
    seeds = seeds_in(q, results)
    if len(seeds) <= 1:
        return a0
    answers = [a0] + [q.measure({n: results[X.seeded(n, s)] for n in q.needs}) for s in seeds if s != 0]
    n = len(answers)
    if q.slider:
        vals = [float(a.value) for a in answers]
        med = float(np.median(vals))
        m, lo, hi = t_interval(vals)
        line = (f"Over {n} seeds of the same experiments the measured value runs from {q.fmt(min(vals))} to "
                f"{q.fmt(max(vals))} (median {q.fmt(med)}; mean {q.fmt(m)}, 95% interval {q.fmt(lo)} to "
                f"{q.fmt(hi)}); the sentences above are seed 0's, the run the chart draws.")
        return Answer(med, f"{q.fmt(med)} (median of {n} seeds)", a0.figures, a0.say + (line,))
    votes = [str(a.value) for a in answers]
    top = max(dict.fromkeys(votes), key=votes.count)  # ties: seed 0's order first
    k = votes.count(top)
    settled = (settled_outcome([HOLDS if v == top else FAILS for v in votes]) == HOLDS)
    others = ", ".join(f"{votes.count(v)} {v}" for v in dict.fromkeys(votes) if v != top)
    line = (f"Over {n} seeds of the same experiments: {k} of {n} give \"{top}\"" + (f" ({others})" if others else "")
            + ("." if settled else ": not settled (the sign test needs 5 of 5)") + (
                "" if votes[0] == top else " The sentences above are seed 0's, the run the chart draws."))
    return Answer(top, f"{top} ({k} of {n} seeds" + (")" if settled else ", not settled)"), a0.figures,
                  a0.say + (line,))


@dataclass(frozen=True)
class Entry:
    """One committed question, for the score and the report."""

    question: Question
    prompt: str
    guess: float | str
    answer: Answer | None  # None: its runs have not trained yet

    @property
    def right(self) -> bool | None:
        return None if self.answer is None else self.question.right(self.guess, self.answer)


def score(entries: Sequence[Entry]) -> tuple[int, int]:
    """(right, answered with a measured answer)."""
    done = [e for e in entries if e.answer is not None]
    return sum(bool(e.right) for e in done), len(done)


def report_html(entries: Sequence[Entry]) -> str:
    """One self-contained HTML page: every committed question, the learner's answer, the measured one,
    whether it was right and what to say in an interview."""
    right, done = score(entries)
    rows = []
    for e in entries:
        q, a = e.question, e.answer
        verdict = "waiting for its runs" if a is None else "right" if e.right else "not quite"
        rows.append(
            f"<section><h2>{q.number}. {html.escape(q.area)}</h2><p>{html.escape(e.prompt)}</p>"
            f"<table><tr><th>your answer</th><td>{html.escape(q.fmt(e.guess))}</td></tr>"
            f"<tr><th>measured</th><td>{html.escape(a.shown) if a else '-'}</td></tr>"
            f"<tr><th>verdict</th><td>{verdict}</td></tr></table>"
            + (f"<p><b>What to say in an interview:</b> {html.escape(' '.join(a.say))}</p>" if a else "")
            + "</section>")
    return ("<!doctype html><html><head><meta charset='utf-8'><title>RNN vs LSTM Lab: interview</title><style>"
            "body{font-family:Helvetica,Arial,sans-serif;max-width:820px;margin:2em auto;line-height:1.45}"
            "th{text-align:left;padding-right:1em}section{border-top:1px solid #ddd;margin-top:1.5em}</style>"
            f"</head><body><h1>Interview mode: your answers and the lab's</h1><p>Score: {right} of {done} "
            "answered questions right. Every measured answer comes from models trained in the lab.</p>"
            + "".join(rows) + "</body></html>")


def chart_frame(q: Question, a: Answer, guess: float | str | None) -> pd.DataFrame:
    """The figures of an answer with the learner's guess added beside them (slider questions): label,
    value, unit, who ('measured' / 'your guess')."""
    out = a.figures.assign(who="measured")
    if q.slider and guess is not None and not (isinstance(guess, float) and math.isnan(guess)):
        out = pd.concat([pd.DataFrame({"label": ["your guess"], "value": [float(guess)],
                                       "unit": [q.unit], "who": ["your guess"]}), out], ignore_index=True)
    return out.assign(value=np.asarray(out.value, dtype=np.float64))


__all__ = ["Question", "Answer", "Entry", "QUESTIONS", "BY_NUMBER", "needed", "answer", "score", "report_html",
           "chart_frame", "YES", "NO", "MORE", "LESS", "SAME", "UNDERFLOW_ORDERS"]
