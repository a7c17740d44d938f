"""Chapter 1, the gap: a vanilla RNN learns a short gap and not a long one; the LSTM learns both."""
from __future__ import annotations


from core.results import RunResult, verdict as outcome_sentence
from core.story import runs as X
from core.story.base import Chapter, Told, learned, line, told
from core.story.evidence import Check, outcome_of


def tell_gap(short: RunResult, long: RunResult) -> Told:
    sentences = [line(short), line(long)]
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


CHAPTER = Chapter(
    1, "gap", "The problem: a long gap",
    "A vanilla RNN can connect recent information to the present, but as the gap between the "
    "information and the place it is needed grows, it becomes unable to learn the connection. "
    "LSTMs do not have this problem.", (X.SHORT, X.LONG), X.LONG, tell_gap, charts=("curves_each",))
