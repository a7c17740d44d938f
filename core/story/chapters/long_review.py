"""Chapter 5, the long review: the sentence followed by many neutral words."""
from __future__ import annotations


from core.inspection import EXPLAINER_SENTENCE
from core.results import ModelRun, RunResult, verdict as outcome_sentence
from core.story import runs as X
from core.story.base import Chapter, Told, learned, line as result_line, told
from core.story.evidence import FAILS, HOLDS, UNCLEAR, Check, compare, flipped
from core.story.base import Table
from core.story.measures import CONTROLS, UNDECIDED, control_readings, long_review_table


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
        line += "it still reads the review as the 'but' clause turned it."
    else:
        back = next((j for j in range(end + 1, n) if p[j] >= 0.5), None)
        where = f" (p(positive) is back above 50% after filler word {back - end})" if back is not None else ""
        line += (f"it has lost the turn{where}." if kept == FAILS else
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
                checks["lstm"].append(Check(f"the LSTM trained at T = {T} still reads the turned sentiment after "
                                            f"{filler} neutral words", kept))
            elif kind == "rnn":
                checks["rnn"].append(Check(f"the vanilla RNN trained at T = {T} loses it after {filler} neutral "
                                           "words", flipped(kept)))
    unlearned_rnn = [r.task.seq_len for r in (short, long) if learned(r, "rnn") is False]
    if unlearned_rnn and any(c.outcome == FAILS for c in checks["rnn"]):
        sentences.append(f"So the vanilla RNN's trouble here is learning across the long reviews (T = "
                         f"{', '.join(map(str, unlearned_rnn))}; chapter 2's gradient), not holding what it learned: "
                         f"the one that learned the task carries the 'but' across {filler} neutral words.")
    for result in (short, long):  # the control: "but" itself, or only the last sentiment word?
        if not learned(result, "lstm"):
            continue
        T = result.task.seq_len
        d = control_readings(result)
        split = d[d["if it follows the last sentiment word"] != d["if it turns at 'but'"]]
        votes = set(split.agrees_with)
        outcome = HOLDS if votes == {"the 'but'"} else FAILS if votes == {"last sentiment word"} else UNCLEAR
        said = "; ".join(f"\"{r['sentence']}\" {r['p(positive)']:.0%} positive (read {r['read as']})"
                         for _, r in split.iterrows())
        sentences.append(
            f"A control the explainer's sentence cannot give (its 'but' clause is also its last sentiment word, as in "
            f"every training review): sentences where the two part, read by the LSTM trained at T = {T}: {said}. "
            + ("It turns at 'but' itself." if outcome == HOLDS else
               "It follows the last sentiment word, not the 'but': the long review shows it keeps the last "
               "sentiment it read, and the 'but' is not what it reads." if outcome == FAILS else
               "The readings do not side clearly with either."))
        checks["lstm"].append(Check(f"the LSTM trained at T = {T} turns at 'but' itself, not at the last sentiment "
                                    "word (the control sentences)", outcome))
    for kind, name in (("lstm", "an LSTM"), ("rnn", "a vanilla RNN")):
        if not checks[kind]:
            sentences.append(f"No {name[name.index(' ') + 1:]} here learned the task, so its part of the claim "
                             "cannot be tested fairly.")
            checks[kind].append(Check(f"{name} that learned the task carries the 'but' over {filler} neutral words "
                                      "(none here did)", UNCLEAR))
    return told(sentences, checks["lstm"] + checks["rnn"])


def _control_tables(results: dict[str, RunResult]) -> list[Table]:
    """The control sentences read by the LSTM of the long review (T = 100), with both hypotheses' predictions."""
    long = results[X.BUT_LONG]
    if "lstm" not in long.runs:
        return []
    frame = control_readings(long).rename(columns={"agrees_with": "agrees with"})
    return [Table("controls", f"**The controls** ({len(CONTROLS)} sentences, read by the LSTM trained at T = "
                  f"{long.task.seq_len}): what each reading predicts, and what it read (p(positive) after the last "
                  f"word; within {UNDECIDED} of 0.5 is neutral).", frame, csv="long_review_controls.csv")]


CHAPTER = Chapter(
    5, "long", "The long review",
    "The same sentence followed by many neutral words: the vanilla RNN loses the \"but\" on the "
    "way, the LSTM's cell carries it to the end.", (X.BUT_SHORT, X.BUT_LONG), X.BUT_LONG, tell_long,
    charts=("long_review",), filler=True, tables=_control_tables)
