"""Chapter 5, the long review: the sentence followed by many neutral words."""
from __future__ import annotations


from core.inspection import EXPLAINER_SENTENCE
from core.results import ModelRun, RunResult, verdict as outcome_sentence
from core.story import runs as X
from core.story.base import Chapter, Told, learned, line as result_line, told
from core.story.evidence import FAILS, HOLDS, UNCLEAR, Check, compare, flipped
from core.story.measures import (UNDECIDED, long_review_table)


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
                 "counts only models that learned the task. " + result_line(short) + " " + result_line(long)]
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


CHAPTER = Chapter(
    5, "long", "The long review",
    "The same sentence followed by many neutral words: the vanilla RNN loses the \"but\" on the "
    "way, the LSTM's cell carries it to the end.", (X.BUT_SHORT, X.BUT_LONG), X.BUT_LONG, tell_long,
    charts=("long_review",), filler=True)
