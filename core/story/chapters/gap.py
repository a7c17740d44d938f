"""Chapter 1, the gap: a vanilla RNN learns a short gap and not a long one; the LSTM learns both."""
from __future__ import annotations


from core.results import RunResult, verdict as outcome_sentence
from core.story import runs as X
from core.config import init_of
from core.story.base import Chapter, Told, learned, line, reach, told
from core.story.evidence import Check, outcome_of


def _model_words(run, cfg) -> str:
    """'the LSTM (hidden 64, 21,512 parameters, chrono start)': what a comparison of models is made between."""
    start = init_of(run.kind, cfg.model)
    return (f"the {run.title} (hidden {cfg.model.hidden_size}, {run.n_params:,} parameters"
            + (f", {start} start)" if start else ")"))


def tell_gap(short: RunResult, long: RunResult, matched: RunResult | None = None) -> Told:
    sentences = [line(short), line(long)]
    rnn = long.runs.get("rnn")
    if rnn is not None and not learned(long, "rnn"):
        sentences.append(f"At T = {long.task.seq_len}, in the lab's words: {outcome_sentence(rnn, long.task)}")
    if learned(short, "rnn") is False:
        sentences.append(f"At T = {short.task.seq_len} the RNN did not reach the target either, so here the "
                         "short gap was not enough to make it learn in this budget.")
    if rnn is None or "lstm" not in long.runs:
        return told(sentences, [])
    T = long.task.seq_len
    big = matched.runs.get("rnn") if matched is not None else None
    compared = [_model_words(rnn, long.config), _model_words(long.runs["lstm"], long.config)]
    if big is not None:
        compared.append(_model_words(big, matched.config))
    sentences.append(f"Compared at T = {T} on the same batches: " + ", ".join(compared[:-1]) + " and "
                     + compared[-1] + ". The LSTM has about four times the RNN's parameters at the same hidden "
                     "size, and its own start.")
    checks = [
        Check(f"the vanilla RNN learns the gap of {short.task.seq_len}", outcome_of(learned(short, "rnn"))),
        Check(f"it does not learn the gap of {T}", outcome_of(not learned(long, "rnn"))),
        Check(f"the LSTM learns the gap of {T}", outcome_of(learned(long, "lstm")))]
    if big is not None:
        sentences.append(f"The control: a vanilla RNN with as many parameters as the LSTM (hidden "
                         f"{matched.config.model.hidden_size}) {reach(big, matched)}" + (
                             ": size alone does not bridge the gap." if not learned(matched, "rnn") else
                             ": here size did what the LSTM's cell does, so the gap is not the RNN's limit at "
                             "this size."))
        checks.append(Check(f"a vanilla RNN as large as the LSTM does not learn the gap of {T} either",
                            outcome_of(not learned(matched, "rnn"))))
    return told(sentences, checks)


CHAPTER = Chapter(
    1, "gap", "The problem: a long gap",
    "A vanilla RNN can connect recent information to the present, but as the gap between the "
    "information and the place it is needed grows, it becomes unable to learn the connection. "
    "LSTMs do not have this problem.", (X.SHORT, X.LONG, X.MATCHED), X.LONG, tell_gap, charts=("curves_each",))
