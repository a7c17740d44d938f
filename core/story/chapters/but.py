"""Chapter 4, the sentence: "I loved the movie, but the ending was disappointing" read word by word."""
from __future__ import annotations

import numpy as np

from core.inspection import EXPLAINER_SENTENCE, sentence_table
from core.results import RunResult
from core.story import runs as X
from core.story.base import Chapter, Table, Told, line, read_first, told
from core.story.evidence import HOLDS, Check, compare
from core.story.measures import (DIP, UNDECIDED, explainer_comparison, forget_units, positive_column, reading,
                                 turn_word, word_table)


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
    sentences = [line(short), line(long)] + read_first(short, tuple(short.runs))
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



def tables(results: dict[str, RunResult]) -> list[Table]:
    short = results[X.BUT_SHORT]
    out = [Table("word-table", f"**Per word** (models of T = {short.task.seq_len}; t from 1): each model's "
                 "p(positive), the LSTM's mean gates and $\\lVert c_t \\rVert$.", word_table(short))]
    if "lstm" in short.runs:
        out += [Table("forget-units", "**The units whose forget gate changes most at \"but\"** ($f_t$ at the word "
                      "before, $f_t$ at \"but\"):", forget_units(short)),
                Table("explainer", f"**The explainer's table beside the LSTM's reading** (neutral: within {UNDECIDED} "
                      "of 0.5):", explainer_comparison(short))]
    return out


CHAPTER = Chapter(
    4, "but", "The sentence, word by word",
    "Reading \"I loved the movie, but the ending was disappointing\": when a new subject arrives "
    "(here: \"but\"), the forget gate lets the LSTM drop the old sentiment and take the new one.",
    (X.BUT_SHORT, X.BUT_LONG), X.BUT_SHORT, tell_but,
    charts=("sentence_readout", "sentence_connectivity", "curves_last"), tables=tables)
