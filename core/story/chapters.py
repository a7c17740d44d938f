"""The chapters told from the trained results: `tell_<key>(results...) -> Told`.

Each chapter states its numbers in sentences and checks the explainer's claim in parts, each part
decided by core.story.evidence (a difference beyond a stated margin, or a model's outcome from
core.results); its verdict is made from those checks and nothing else. A chapter whose model did
not learn its task says so first, in core.results' words, before any conclusion drawn from it.
Formulas are Markdown math ($...$); the verdict lines (also in the report) stay plain text.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from core.inspection import EXPLAINER_SENTENCE, decay_table, forget_arithmetic, resolve_step, sentence_table
from core.results import (DIVERGED, OUTCOME_WORDS, PENDING, REACHED, ModelRun, RunResult, format_metric, outcome,
                          reach_phrase, verdict as outcome_sentence)
from core.story.evidence import (FAILS, HOLDS, MISSING, PART, UNCLEAR, Check, compare, flipped, outcome_of,
                                 verdict_of)
from core.story.measures import (DIP, GATE_MARGIN, ORDERS_MARGIN, UNDECIDED, arithmetic_at, dropped_share,
                                 explainer_comparison, forget_retention, gate_summary, holding_units,
                                 long_review_table, most_dropped, positive_column, reading, turn_word)


@dataclass
class Told:
    """A chapter told with its models: the sentences, the parts of the claim checked (each stated
    in a sentence), the chapter's outcome (evidence.HOLDS, FAILS, PART, UNCLEAR or MISSING) and the
    verdict in one line."""

    sentences: list[str]
    checks: list[Check] = field(default_factory=list)
    outcome: str = MISSING
    verdict: str = ""

    @property
    def holds(self) -> bool | None:
        """True: every part holds; False: a part does not hold; None: no clear answer or no runs."""
        return True if self.outcome == HOLDS else False if self.outcome in (FAILS, PART) else None


def told(sentences: list[str], checks: list[Check]) -> Told:
    outcome, line = verdict_of(checks)
    return Told(sentences, list(checks), outcome, line)


# --- words shared by the chapters -------------------------------------------------------------
def reach(run: ModelRun, result: RunResult) -> str:
    """core.results' outcome words with the tour's numbers: 'reached the target (99%) at training step
    225' / 'learned part of it: ended at 51% after 500 steps, short of the 99% target (chance 12.5%)'."""
    task = result.task
    target = format_metric(task.target, task)
    o = outcome(run, task)
    if o == REACHED:
        return f"{OUTCOME_WORDS[o]} ({target}) at training step {run.steps_to_target:,}"
    if o in (DIVERGED, PENDING):
        return reach_phrase(run, task)
    chance = f"{task.chance * 100:.3g}%" if task.metric == "accuracy" else f"MSE {task.chance:.3g}"
    return (f"{OUTCOME_WORDS[o]}: ended at {format_metric(run.final_metric, task)} after {run.steps_run:,} steps, "
            f"short of the {target} target (chance {chance})")


def _where(result: RunResult) -> str:
    return f"{result.task.title} at T = {result.task.seq_len}"


def _line(result: RunResult) -> str:
    return f"{_where(result)}: " + "; ".join(f"the {r.title} {reach(r, result)}" for r in result.runs.values()) + "."


def learned(result: RunResult, kind: str) -> bool | None:
    """Whether the model reached its task's target (None: the run has no such model)."""
    run = result.runs.get(kind)
    return None if run is None else run.steps_to_target is not None


def read_first(result: RunResult, kinds: tuple[str, ...] = ("lstm",)) -> list[str]:
    """For each of `kinds` that did not reach its target: its outcome in core.results' words, said
    before the chapter draws conclusions from it."""
    return [f"Read this first: {outcome_sentence(result.runs[k], result.task)} Its numbers below are those of a "
            "model that did not learn its task." for k in kinds if learned(result, k) is False]


# --- 1. the gap ---------------------------------------------------------------------------------
def tell_gap(short: RunResult, long: RunResult) -> Told:
    sentences = [_line(short), _line(long)]
    rnn = long.runs.get("rnn")
    if rnn is not None and not learned(long, "rnn"):
        sentences.append(f"At T = {long.task.seq_len}, in the lab's words: {outcome_sentence(rnn, long.task)}")
    if learned(short, "rnn") is False:
        sentences.append(f"At T = {short.task.seq_len} the RNN did not reach the target either, so here the "
                         "short gap was not enough to make it learn in this budget.")
    if rnn is None or "lstm" not in long.runs:
        return told(sentences, [])
    return told(sentences, [
        Check(f"the vanilla RNN learns the gap of {short.task.seq_len}", outcome_of(learned(short, "rnn"))),
        Check(f"it does not learn the gap of {long.task.seq_len}", outcome_of(not learned(long, "rnn"))),
        Check(f"the LSTM learns the gap of {long.task.seq_len}", outcome_of(learned(long, "lstm")))])


# --- 2. the gradient ----------------------------------------------------------------------------
GRAD = r"$\lVert \partial L / \partial h_t \rVert$"


def _orders_words(orders: float) -> str:
    return "all of it (the gradient underflowed float32)" if math.isinf(orders) else f"{orders:.1f} orders of magnitude"


def _orders(row) -> tuple[float, float]:
    """Orders of magnitude lost from h_T to h_1 at initialisation and at the end
    (core.inspection.orders_lost: inf for an underflow, everything lost)."""
    return float(row.init_orders_lost), float(row.orders_lost)


def _share(orders: float) -> str:
    """What is left of a signal that lost `orders` orders of magnitude, in words."""
    if math.isinf(orders):
        return "nothing measurable"
    if math.isnan(orders):
        return "an unmeasurable share"
    return f"1/{10 ** orders:,.0f}" if orders >= 0.5 else f"{10 ** -orders:.2g} times"


def _novel(lost: dict[str, float], T: int) -> str:
    """The explainer's novel, in the chart's measured numbers: orders of magnitude lost after
    training, per model name."""
    parts = [f"{_share(end)} in the {name}" for name, end in lost.items()]
    return (f"The novel: the answer is asked at word {T} about word 1, like a question about the first chapter "
            "after reading the whole book. Of the learning signal at the last word, what reaches the first word "
            "after training is " + " and ".join(parts) + ": the chart, read from right to left, is that memory "
            "of chapter one fading.")


def tell_gradients(long: RunResult) -> Told:
    decay = decay_table(long).set_index("model")
    T = long.task.seq_len
    sentences = read_first(long, tuple(long.runs)) + [
        f"Over the {T - 1} steps back from the answer (t = {T}) to the first input (t = 1), {GRAD} loses:"]
    lost = {}
    for kind, row in decay.iterrows():
        at_init, at_end = _orders(row)
        lost[kind] = (at_init, at_end)
        sentences.append(f"the {row['name']}: {_orders_words(at_init)} at initialisation, "
                         f"{_orders_words(at_end)} after {int(row.step):,} training steps.")
    if lost:
        sentences.append(_novel({decay.loc[k, "name"]: end for k, (_, end) in lost.items()}, T))
    if "rnn" not in lost or "lstm" not in lost:
        return told(sentences, [])
    (r0, r1), (m0, m1) = lost["rnn"], lost["lstm"]
    checks = []
    for when, r, m in (("at initialisation", r0, m0), ("after training", r1, m1)):
        d = compare(r, m, ORDERS_MARGIN)
        sentences.append(f"Orders of magnitude lost {when}, the RNN's against the LSTM's: {d.words('.1f')}.")
        checks.append(Check(f"the RNN's signal fades by more orders of magnitude than the LSTM's {when}", d.outcome))
    worst = max(m0, m1)
    if compare(worst, 0.0, ORDERS_MARGIN).outcome == HOLDS:
        sentences.append(f"The explainer's \"lets it flow\" (and chapter 1's \"LSTMs do not have this problem\") says "
                         "more than these numbers: this "
                         f"LSTM's gradient too loses {_orders_words(m0)} at initialisation and {_orders_words(m1)} "
                         "after training. Its gradient vanishes far more slowly than the RNN's, not never.")
    else:
        sentences.append("This LSTM's gradient loses less than one order of magnitude at initialisation and after "
                         "training: here the explainer's \"lets it flow\" holds.")
    return told(sentences, checks)


# --- 3. the belt --------------------------------------------------------------------------------
def _gate_words(d, yes: str, no: str, unclear: str) -> str:
    return d.words() + (f": {yes}" if d.outcome == HOLDS else f": {no}" if d.outcome == FAILS else f"; {unclear}")


def tell_belt(long: RunResult) -> Told:
    run = long.runs.get("lstm")
    if run is None or not run.checkpoints:
        return told([], [])
    first, last = min(run.checkpoints), resolve_step(run)
    start, end = forget_retention(long, first), forget_retention(long, last)
    T = long.task.seq_len
    sentences = read_first(long) + [
        f"On a held-out example, over the {end['steps']} steps after its information, the trained LSTM's forget "
        f"gate $f_t$ averages {end['mean_f']:.3f}; its best unit keeps {end['best']:.1%} of the cell value written "
        f"at the information through the forget gates alone ($\\prod_t f_t$), and {end['half']} of {end['units']} "
        "units keep at least half.",
        f"At initialisation (step {first}) the same numbers were: mean forget gate {start['mean_f']:.3f}, best "
        f"unit {start['best']:.1%}, {start['half']} units keeping half: the lab's chrono start opens the gate "
        "before any training, and training " + (
            "kept it open." if end["half"] >= max(1, start["half"] // 2) else "closed most of it again."),
    ]
    units = holding_units(long, last)
    if len(units):
        names = ", ".join(str(int(u)) for u in units.unit)
        sentences.append(
            f"The units that hold the first token (those whose cell at t = {T} differs most between held-out "
            f"examples with different first tokens) are units {names}: the lines below. On the first example "
            f"their cell is small at t = 1 (|c| at most {units.c_first.max():.2g}) and reaches up to "
            f"{units.c_last.max():.3g} by t = {T}; their forget gates alone keep "
            f"{units.kept.min():.0%}-{units.kept.max():.0%} of a value across the gap.")
    g = gate_summary(long)
    sentences.append(f"Forget gate (\"before an exam, drop the topics you no longer need\"; its equation is taken "
                     f"apart in chapter 6): its mean over the {g['T']} steps of the example is {g['f_mean']:.3f}" + (
                         ", so this LSTM drops little: it keeps nearly everything." if g["f_mean"] >= 0.9 else
                         ", so it does drop a good part of its cell at each step." if g["f_mean"] < 0.7 else "."))
    sentences.append(f"The gates' differences below count when larger than {GATE_MARGIN} (a gate runs from 0 to 1); "
                     "within that, there is no clear difference.")
    di = compare(g["i_info"], g["i_else"], GATE_MARGIN)
    inputs = (f"Input gate $i_t$ (\"add the formulas to your notes\"): its mean is {g['i_info']:.3f} at the "
              f"information (the first token, t = 1) against {g['i_else']:.3f} elsewhere, " + _gate_words(
                  di, "it writes more where the information is, as the explainer says.",
                  "it writes less at the information than elsewhere, the opposite of the explainer's picture.",
                  "it does not clearly write more at the information."))
    if len(units):
        gu = gate_summary(long, units=[int(u) for u in units.unit])
        du = compare(gu["i_info"], gu["i_else"], GATE_MARGIN)
        inputs += (f" In the units that hold the token: {gu['i_info']:.3f} against {gu['i_else']:.3f}, "
                   f"{du.words()}" + (": this LSTM writes a little at the token and keeps adding to it." if
                                      du.outcome == FAILS else "."))
    sentences.append(inputs)
    if len(units):
        grows = compare(math.log10(max(units.c_last.max(), 1e-12) / max(units.c_first.max(), 1e-12)), 0.0,
                        ORDERS_MARGIN)
        adds = compare(gu["i_else"], 0.0, GATE_MARGIN)
        if grows.outcome == HOLDS and adds.outcome == HOLDS:
            sentences.append(f"So the explainer's \"only minor linear interactions\" says more than this LSTM does: in "
                             f"the units that hold the token the input gate keeps writing after it (mean "
                             f"{gu['i_else']:.2f}) and |c| grows by {math.log10(units.c_last.max() / units.c_first.max()):.1f} "
                             "orders of magnitude: the belt is written to all along, and carries what it wrote.")
    do = compare(g["o_last"], g["o_else"], GATE_MARGIN)
    sentences.append(f"Output gate $o_t$ (\"use the notes to answer\"): its mean is {g['o_last']:.3f} at the last "
                     f"step (t = {g['T']}), where the answer is read, against {g['o_else']:.3f} elsewhere, " +
                     _gate_words(do, "it opens more where the answer is needed.",
                                 "it opens less at the answer than elsewhere.",
                                 "it reads its cell about as much all along."))
    return told(sentences, [
        Check("the LSTM learns the task", outcome_of(learned(long, "lstm"))),
        Check(f"a unit keeps at least half of its cell across the {end['steps']} steps", outcome_of(end["best"] >= 0.5)),
        Check("the input gate writes more at the information than elsewhere", di.outcome),
        Check("the output gate opens more where the answer is read", do.outcome)])


# --- 4. the sentence ----------------------------------------------------------------------------
def _reading_line(name: str, T: int, words: list[str], p: np.ndarray, text: str) -> str:
    opened, turn = turn_word(p)
    head = f"Reading \"{text}\" word by word (models of T = {T}), the {name} "
    end = f"it ends with {p[-1]:.0%} after \"{words[-1]}\"."
    if opened is None:
        return head + f"never says positive (above {0.5 + UNDECIDED:.0%}); " + end
    said = f"says positive after \"{words[opened]}\" ({p[opened]:.0%}, word {opened + 1})"
    if turn is None:
        return head + said + f" and never falls below 50% after it: it does not turn round; " + end
    kept = p[opened:turn]
    through = (f", stays between {kept.min():.0%} and {kept.max():.0%} through \"{words[turn - 1]}\""
               if turn - 1 > opened else "")
    return head + said + through + f" and first falls below 50% at \"{words[turn]}\" (word {turn + 1}); " + end


def tell_but(short: RunResult, long: RunResult, text: str = EXPLAINER_SENTENCE) -> Told:
    sentences = [_line(short), _line(long)] + read_first(short, tuple(short.runs))
    table = sentence_table(short, text)
    words = list(table[table.model == table.model.iloc[0]].input)
    pos = positive_column(short)
    p_of = {kind: rows[pos].to_numpy() for kind, rows in table.groupby("model", sort=False)}
    for kind, rows in table.groupby("model", sort=False):
        sentences.append(_reading_line(rows.name.iloc[0], short.task.seq_len, words, p_of[kind], text))
    checks = []
    lstm = table[table.model == "lstm"]
    if len(lstm) and "but" in words:
        p, b = p_of["lstm"], words.index("but")
        ends = compare(0.5, float(p[-1]), UNDECIDED)
        checks.append(Check("the LSTM ends the sentence negative", ends.outcome))
        at_but = compare(float(p[b - 1]), float(p[b]), UNDECIDED)
        _, turn = turn_word(p)
        sentences.append(f"At \"but\" itself the LSTM's p(positive) goes from {p[b - 1]:.0%} to {p[b]:.0%}, "
                         f"{at_but.words('.2f')}" + (
                             f"; it turns at \"{words[turn]}\", where the new sentiment arrives, not at \"but\"."
                             if turn is not None and turn != b else "."))
        checks.append(Check("its answer drops at \"but\"", at_but.outcome))
        f = lstm.forget_mean.to_numpy()
        others = float(np.delete(f, b).mean())
        dip = compare(others, float(f[b]), DIP)
        k = int(np.argmin(f))
        sentences.append(f"The LSTM's mean forget gate at \"but\" is {f[b]:.2f} against {others:.2f} over the other "
                         f"words, {dip.words('.2f')}" + (
                             "." if words[k] == "but" else f"; it is lowest at \"{words[k]}\" (word {k + 1}, "
                                                          f"{f[k]:.2f}).") + (
                             " That is the dip the explainer describes." if dip.outcome == HOLDS else
                             " This LSTM turns its answer round without visibly clearing its cell at \"but\"."))
        checks.append(Check("its forget gate dips at \"but\"", dip.outcome))
    if "rnn" in p_of and reading(float(p_of["rnn"][-1])) == "negative":
        sentences.append("The vanilla RNN ends negative too: at this length the sentence needs no cell state.")
    if len(lstm):
        cmp = explainer_comparison(short, text)
        listed = cmp[cmp.verdict != ""]
        differs = listed[listed.verdict == "differs"]
        sentences.append(f"Row by row against the explainer's own table (below; neutral: within {UNDECIDED} of "
                         f"0.5), the LSTM's reading agrees on {len(listed) - len(differs)} of {len(listed)} words" + (
                             "." if not len(differs) else "; it differs at " + ", ".join(
                                 f"\"{r.word}\" (word {r.t}; explainer: {r.explainer_output}, model: "
                                 f"{r.model_output}, {r.p_positive:.0%})" for r in differs.itertuples()) + "."))
    return told(sentences, checks)


# --- 5. the long review -------------------------------------------------------------------------
def _long_line(run: ModelRun, result: RunResult, filler: int, text: str) -> tuple[str, str]:
    """(the sentence about one model's read-out after the sentence and `filler` words, its ending:
    HOLDS still negative, FAILS back to positive, UNCLEAR undecided)."""
    table = long_review_table(result, filler, text)
    rows = table[table.model == run.kind]
    p, T = rows.p_positive.to_numpy(), result.task.seq_len
    n = len(p)
    end = n - filler - 1  # the sentence's last word
    kept = compare(0.5, float(p[-1]), UNDECIDED).outcome
    longer = f"; {n - T} words longer than the reviews it trained on" if n > T else ""
    line = (f"The {run.title} trained at T = {T} reads the sentence and {filler} neutral words ({n} in all{longer}): "
            f"p(positive) {p[end]:.0%} after \"{rows.input.iloc[end]}\", {p[-1]:.0%} after the last word: ")
    if kept == HOLDS:
        line += "it still reads the 'but'."
    else:
        back = next((j for j in range(end + 1, n) if p[j] >= 0.5), None)
        where = f" (p(positive) is back above 50% after filler word {back - end})" if back is not None else ""
        line += (f"it has lost the 'but'{where}." if kept == FAILS else
                 f"it is undecided (within {UNDECIDED} of 0.5): no clear reading either way{where}.")
    return line, kept


def tell_long(short: RunResult, long: RunResult, filler: int = 60, text: str = EXPLAINER_SENTENCE) -> Told:
    sentences = ["A fair test: a model can only lose the 'but' if it read it in the first place, so the verdict "
                 "counts only models that learned the task. " + _line(short) + " " + _line(long)]
    checks: dict[str, list[Check]] = {"lstm": [], "rnn": []}
    for result in (short, long):
        for kind, run in result.runs.items():
            line, kept = _long_line(run, result, filler, text)
            T = result.task.seq_len
            if not learned(result, kind):
                sentences.append(f"Not counted: {outcome_sentence(run, result.task)} It never read the 'but', so it "
                                 f"cannot lose it (dotted in the chart). For the record: {line}")
                continue
            sentences.append(line)
            if kind == "lstm":
                checks["lstm"].append(Check(f"the LSTM trained at T = {T} still reads the 'but' after {filler} "
                                            "neutral words", kept))
            elif kind == "rnn":
                checks["rnn"].append(Check(f"the vanilla RNN trained at T = {T} loses it after {filler} neutral "
                                           "words", flipped(kept)))
    unlearned_rnn = [r.task.seq_len for r in (short, long) if learned(r, "rnn") is False]
    if unlearned_rnn and any(c.outcome == FAILS for c in checks["rnn"]):
        sentences.append(f"So the vanilla RNN's trouble here is learning across the long reviews (T = "
                         f"{', '.join(map(str, unlearned_rnn))}; chapter 2's gradient), not holding what it learned: "
                         f"the one that learned the task carries the 'but' across {filler} neutral words.")
    for kind, name in (("lstm", "an LSTM"), ("rnn", "a vanilla RNN")):
        if not checks[kind]:
            sentences.append(f"No {name[name.index(' ') + 1:]} here learned the task, so its part of the claim "
                             "cannot be tested fairly.")
            checks[kind].append(Check(f"{name} that learned the task carries the 'but' over {filler} neutral words "
                                      "(none here did)", UNCLEAR))
    return told(sentences, checks["lstm"] + checks["rnn"])


# --- 6. the forget gate's arithmetic ------------------------------------------------------------
def addition_only(long: RunResult, none: RunResult | None) -> tuple[list[str], list[Check]]:
    """What the 1997 LSTM (forget gate pinned at 1: the cell can only add) did on the task where the
    LSTM with a forget gate is measured, in sentences, and the check "the cell needs the multiplication"."""
    plain = none.runs.get("lstm") if none is not None else None
    if plain is None:
        return [], []
    ours = long.runs.get("lstm")
    f = (forget_retention(none, resolve_step(plain))["mean_f"] if plain.checkpoints else float("nan"))
    sentences = [f"Why not addition? The {plain.title} has no forget gate: its $f_t$ is pinned at 1 (measured here: "
                 f"mean {f:.3f} on a held-out example), so $c_t = c_{{t-1}} + i_t \\odot \\tilde{{c}}_t$ and the cell can "
                 f"only add. On {_where(none)} it {reach(plain, none)}" + (
                     f"; the {ours.title} {reach(ours, long)}." if ours is not None else ".")]
    ok = learned(none, "lstm")
    if ok:
        sentences.append("So here the cell that can only add learned the task too: the multiplication by $f_t$ was "
                         "not needed at this length and budget.")
    else:
        sentences.append("Without the multiplication it never dropped the old sentiment (nor anything else): every "
                         "write stays in the cell to the end, and this model did not learn the task.")
    return sentences, [Check("a cell that can only add (no forget gate) does not learn the task", outcome_of(not ok))]


def tell_arithmetic(long: RunResult, none: RunResult | None = None, text: str = EXPLAINER_SENTENCE) -> Told:
    if "lstm" not in long.runs or not long.runs["lstm"].checkpoints:
        return told([], [])
    extra, extra_checks = addition_only(long, none)
    at = arithmetic_at(long, text, "but")
    t = int(at.t.iloc[0])  # from 1
    words = long.task.render(long.task.encode_text(text))[0]
    u = most_dropped(at, 1).iloc[0]
    f = at["f_t = σ(z)"]
    sentences = read_first(long) + [
        f"At \"but\" (word {t}: t = {t}) the LSTM of T = {long.task.seq_len} computes, for each of its {len(at)} "
        r"units, $f_t = \sigma(W_f \cdot [h_{t-1}, x_t] + b_f)$, the equation above. "
        f"Its forget gates range from {f.min():.2f} to {f.max():.2f} (mean {f.mean():.2f}).",
        f"The unit that drops most, unit {int(u.unit)}: the part of $W_f$ that reads $h_{{t-1}}$ gives "
        f"{u['W_f·h_{t-1}']:.2f}, the part that reads $x_t$ gives {u['W_f·x_t']:.2f}, and $b_f = {u['b_f']:.2f}$, "
        f"so $z = {u['z = W_f·[h_{t-1}, x_t] + b_f']:.2f}$ and $f_t = \\sigma(z) = {u['f_t = σ(z)']:.2f}$; its cell "
        f"held $c_{{t-1}} = {u['c_{t-1}']:.2f}$ and keeps $f_t \\odot c_{{t-1}} = {u['f_t ⊙ c_{t-1} (kept)']:.2f}$.",
    ]
    if t < 2:
        return told(sentences + extra, extra_checks)
    share = dropped_share(at)
    prev = dropped_share(forget_arithmetic(long, long.task.encode_text(text), t - 2))
    d = compare(share, prev, DIP)
    sentences.append(f"Over the whole cell the forget gate drops {share:.0%} of $\\lVert c_{{t-1}} \\rVert$ at "
                     f"\"but\" (t = {t}), against {prev:.0%} at \"{words[t - 2]}\" (t = {t - 1}) just before: "
                     f"{d.words('.2f')}" + (
                         "." if d.outcome == HOLDS else
                         ": it drops less at \"but\"; this LSTM's clearing is in a few units (the table), not the whole "
                         "belt." if d.outcome == FAILS else
                         ": this LSTM's clearing is in a few units (the table), not the whole belt."))
    return told(sentences + extra, [Check("the forget gate drops more of the cell at \"but\" than at the word before",
                                          d.outcome)] + extra_checks)


# --- 7. your turn -------------------------------------------------------------------------------
def tell_start(long: RunResult, zero: RunResult) -> Told:
    chrono, plain = long.runs.get("lstm"), zero.runs.get("lstm")
    if chrono is None or plain is None:
        return told([], [])
    T = zero.task.seq_len
    sentences = [f"{_where(long)}: the {chrono.title} {reach(chrono, long)}; the {plain.title} "
                 f"{reach(plain, zero)}."]
    if plain.checkpoints:
        s0 = forget_retention(zero, min(plain.checkpoints))
        left = s0["mean_f"] ** (T - 1)
        sentences.append(f"At initialisation the zero-init forget gate averages {s0['mean_f']:.2f} ($\\sigma(0) = 0.5$ "
                         f"plus noise): a cell kept at that rate for {T - 1} steps keeps {left:.2g} of itself, and so "
                         "does the gradient through it.")
    ok = plain.steps_to_target is not None
    if not ok:
        sentences.append(f"At T = {T}, in {plain.steps_run:,} steps, the LSTM learned the gap only from the chrono "
                         "start: the explainer's LSTM keeps information once its forget gate is open, and finding "
                         "that from a half-closed start is what failed here.")
    return told(sentences, [Check(f"the LSTM learns the gap of {T} from PyTorch's default (zero) forget-gate start "
                                  "too", outcome_of(ok))])


def tell_turn(long: RunResult, zero: RunResult) -> Told:
    """Your turn: what happened from the zero forget-gate start (tell_start), and what to try next."""
    out = tell_start(long, zero)
    plain = zero.runs.get("lstm")
    if plain is not None:
        out.sentences.append(
            "Try next: open the lab with the forget-gate start at `zero` (the link below) and train it longer, or "
            f"shorten T until it learns; from that start, at T = {zero.task.seq_len}, the LSTM here {reach(plain, zero)}. "
            "The other chapters' experiments are one click below.")
    return out


# --- chapter 8: real data ------------------------------------------------------------------------
REAL_CLAIMS = ("early-month days help the LSTM's forecast more than the vanilla RNN's",
               "the LSTM looks further back than the vanilla RNN",
               "the forget gate drops a storm day",
               "a model beats the zero-return forecast of next month's stock return")


def tell_real(*results: RunResult) -> Told:
    """The explainer's two real examples, each of its claims checked on the runs (core.story.realdata):
    the weather at several window lengths T, the stocks at several T."""
    from core.story import realdata

    weather = [r for r in results if r.task.name == "weather"]
    stocks = [r for r in results if r.task.name == "stocks"]
    cs = realdata.checks(weather, stocks)
    month = next((r for r in weather if r.task.seq_len == realdata.LOOKBACK_T), weather[0])
    sentences = read_first(month, ("lstm", "rnn")) + [f"({'abcd'[i]}) {c.verdict}" for i, c in enumerate(cs)]
    return told(sentences, [Check(claim, realdata.outcome_word(c)) for claim, c in zip(REAL_CLAIMS, cs)])
