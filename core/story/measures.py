"""What the tour measures in the trained models: the cell's retention across a gap, the gates, the
units that hold the information, and the explainer's sentence read word by word (also followed by
neutral filler words, and its forget-gate arithmetic at "but").

Counting: the tour counts time steps and words from 1 (t = 1 is the first input; h_0 = c_0 = 0 is
the start), as the LSTM's equations do; every table here carries that t. Units are numbered from 0,
as in the lab's tables. The library's traces index arrays from 0, so t = index + 1.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

import torch

from core.inspection import (EXPLAINER_SENTENCE, example_traces, forget_arithmetic, model_from_weights, resolve_step,
                             sentence_table, showcase)
from core.results import RunResult
from core.story.evidence import FAILS, HOLDS, compare
from core.tasks import SentimentBut

FILLER = 60  # neutral words after the sentence in "The long review" (the page's slider starts here)
MAX_FILLER = 200
UNDECIDED = 0.1  # a read-out within this of 0.5 is "neutral": no clear sentiment either way
GATE_MARGIN = 0.05  # a difference in a gate's mean (range 0-1) counts beyond a twentieth of the range
DIP = 0.05  # the forget gate's dip, or the share of the cell dropped, counts beyond this
ORDERS_MARGIN = 1.0  # gradients: a difference in orders of magnitude lost counts beyond one order
UNITS_SHOWN = 4  # chapter 3: the units that hold the information, drawn as lines
OUTPUT_MARGIN = 0.05  # the output-gate ablation: the answer needs the gate when accuracy drops by more than this


def reading(p: float) -> str:
    """'positive' / 'negative' / 'neutral' for a p(positive): the one rule, with UNDECIDED as margin."""
    said = compare(p, 0.5, UNDECIDED).outcome
    return "positive" if said == HOLDS else "negative" if said == FAILS else "neutral"


# --- the belt: first_token ----------------------------------------------------------------------
def forget_retention(result: RunResult, step: int | None = None, example: int = 0) -> dict:
    """How much of its cell the LSTM keeps across the gap of a held-out example: for each unit the
    product of f_t over the steps after the example's last information position (the share of the
    cell value written there that survives the forget gates to the end). Returns the best unit's
    share, how many units keep at least half, the mean forget gate over those steps, the units in
    all and the steps counted."""
    task = result.task
    x, _, _ = showcase(task)
    one = x[example : example + 1]
    f = example_traces(result, "lstm", step, one)["f"][0]  # (T, H)
    info = task.info_mask(one)[0].nonzero().flatten()
    after = int(info[-1]) + 1 if len(info) else 0
    kept = np.prod(f[after:].astype(np.float64), axis=0)  # (H,)
    return {"best": float(kept.max()) if kept.size else float("nan"), "half": int((kept >= 0.5).sum()),
            "mean_f": float(f[after:].mean()) if after < len(f) else float("nan"), "units": int(f.shape[1]),
            "steps": int(len(f) - after)}


def gate_summary(result: RunResult, step: int | None = None, example: int = 0,
                 units: list[int] | None = None) -> dict:
    """What the LSTM's three gates did on held-out example `example` (over `units`, default all):
    the mean forget gate over the sequence, the mean input gate at the information positions and
    elsewhere, the mean output gate at the last step (where the answer is read) and elsewhere."""
    task = result.task
    x, _, _ = showcase(task)
    one = x[example : example + 1]
    tr = example_traces(result, "lstm", step, one)
    f, i, o = (tr[k][0].astype(np.float64) for k in ("f", "i", "o"))  # (T, H)
    if units is not None:
        f, i, o = f[:, units], i[:, units], o[:, units]
    info = task.info_mask(one)[0].numpy().astype(bool)
    rest = ~info
    last = np.zeros(len(o), dtype=bool)
    last[-1] = True
    return {"T": int(len(f)), "f_mean": float(f.mean()),
            "i_info": float(i[info].mean()) if info.any() else float("nan"),
            "i_else": float(i[rest].mean()) if rest.any() else float("nan"),
            "o_last": float(o[last].mean()), "o_else": float(o[~last].mean()) if len(o) > 1 else float("nan")}


def holding_units(result: RunResult, step: int | None = None, k: int = UNITS_SHOWN) -> pd.DataFrame:
    """The k LSTM units that hold the information: those whose last cell value differs most between
    the held-out showcase examples (which differ in their information), largest spread first.
    Columns: unit, spread (std of c_T over the examples), c_first and c_last (|c_t| at t = 1 and T
    on example 0), kept (product of f_t after the information on example 0)."""
    x, _, _ = showcase(result.task)
    tr = example_traces(result, "lstm", step, x)
    c, f = tr["c"].astype(np.float64), tr["f"].astype(np.float64)  # (B, T, H)
    spread = c[:, -1].std(axis=0)
    top = np.argsort(-spread, kind="stable")[:k]
    info = result.task.info_mask(x[:1])[0].nonzero().flatten()
    after = int(info[-1]) + 1 if len(info) else 0
    kept = np.prod(f[0, after:], axis=0)
    return pd.DataFrame({"unit": top, "spread": spread[top], "c_first": np.abs(c[0, 0, top]),
                         "c_last": np.abs(c[0, -1, top]), "kept": kept[top]})


def unit_traces(result: RunResult, units: list[int], step: int | None = None) -> pd.DataFrame:
    """c_t, f_t and i_t of the given LSTM units on every showcase example: example, label (the
    example's answer), unit, t (from 1), c, f, i."""
    task = result.task
    x, y, _ = showcase(task)
    tr = example_traces(result, "lstm", step, x)
    rows = []
    for b in range(len(x)):
        for u in units:
            rows.append(pd.DataFrame({"example": b, "label": task.label_name(y[b]), "unit": int(u),
                                      "t": np.arange(1, x.shape[1] + 1), "c": tr["c"][b, :, u],
                                      "f": tr["f"][b, :, u], "i": tr["i"][b, :, u]}))
    return pd.concat(rows, ignore_index=True)


# --- the sentence, word by word -----------------------------------------------------------------
# The explainer's own reading of its sentence, word by word: what the cell keeps, what it adds and
# what the model should say after the word. Data, not a model: the chapter compares it with one.
EXPLAINER_READING = (
    ("i", "nothing yet", "nothing", "neutral"),
    ("loved", "nothing yet", "positive sentiment", "positive"),
    ("the", "positive sentiment", "nothing", "positive"),
    ("movie", "positive sentiment", "the subject: the movie", "positive"),
    (",", "positive sentiment", "nothing", "positive"),
    ("but", "little: the old sentiment is dropped", "a change of subject", "neutral"),
    ("the", "the 'but'", "nothing", "neutral"),
    ("ending", "the 'but'", "the new subject: the ending", "neutral"),
    ("was", "the 'but'", "nothing", "neutral"),
    ("disappointing", "the 'but'", "negative sentiment", "negative"),
)


def positive_column(result: RunResult) -> str:
    return f"p_{result.task.class_names[1]}"


def word_table(result: RunResult, text: str = EXPLAINER_SENTENCE) -> pd.DataFrame:
    """One row per word of `text` (t from 1): every model's p(positive) read out after it (p_<model>)
    and the LSTM's mean forget, input and output gates and ||c_t|| (when the run has an LSTM)."""
    table = sentence_table(result, text)
    pos = positive_column(result)
    kinds = list(dict.fromkeys(table.model))
    first = table[table.model == kinds[0]]
    out = pd.DataFrame({"t": first.t.to_numpy() + 1, "word": first.input.to_numpy()})
    for kind in kinds:
        out[f"p_{kind}"] = table[table.model == kind][pos].to_numpy()
    if "lstm" in kinds:
        lstm = table[table.model == "lstm"]
        for col in ("forget_mean", "input_mean", "output_mean", "c_norm"):
            out[col] = lstm[col].to_numpy()
    return out


def turn_word(p: np.ndarray) -> tuple[int | None, int | None]:
    """(the first word whose reading is positive, the first word after it whose p(positive) is below
    0.5): where a reader that opened positive turns round. Indices from 0; None where there is none."""
    opened = next((j for j, pj in enumerate(p) if reading(float(pj)) == "positive"), None)
    if opened is None:
        return None, None
    return opened, next((j for j in range(opened + 1, len(p)) if p[j] < 0.5), None)


def forget_units(result: RunResult, text: str = EXPLAINER_SENTENCE, word: str = "but", k: int = 5) -> pd.DataFrame:
    """The k LSTM units whose forget gate changes most from the word before `word` to `word`:
    unit, f_before, f_at (the gate at `word`), change (f_at - f_before), largest drop or rise first."""
    x = result.task.encode_text(text)
    words = result.task.render(x)[0]
    if word not in words or words.index(word) == 0:
        raise ValueError(f"'{word}' must be a word of the sentence after its first")
    t = words.index(word)
    f = example_traces(result, "lstm", None, x)["f"][0].astype(np.float64)  # (T, H)
    change = f[t] - f[t - 1]
    top = np.argsort(-np.abs(change), kind="stable")[:k]
    return pd.DataFrame({"unit": top, "f_before": f[t - 1, top], "f_at": f[t, top], "change": change[top]})


def explainer_comparison(result: RunResult, text: str = EXPLAINER_SENTENCE, kind: str = "lstm") -> pd.DataFrame:
    """The explainer's reading (EXPLAINER_READING) beside the model's, row by row: t (from 1), word,
    keep, add, the explainer's output, the model's p(positive) and reading (`reading`), and 'agrees' /
    'differs'. A word the explainer's table does not list gets no expected reading."""
    table = sentence_table(result, text)
    rows = table[table.model == kind]
    p = rows[positive_column(result)].to_numpy()
    out = []
    for j, word in enumerate(rows.input):
        said = EXPLAINER_READING[j] if j < len(EXPLAINER_READING) and EXPLAINER_READING[j][0] == word else None
        got = reading(float(p[j]))
        out.append({"t": j + 1, "word": word, "keep": said[1] if said else "", "add": said[2] if said else "",
                    "explainer_output": said[3] if said else "", "p_positive": float(p[j]), "model_output": got,
                    "verdict": ("agrees" if got == said[3] else "differs") if said else ""})
    return pd.DataFrame(out)


# --- the long review ----------------------------------------------------------------------------
def long_text(filler: int, text: str = EXPLAINER_SENTENCE) -> str:
    """`text` followed by `filler` neutral words of the sentiment task."""
    return " ".join([text, *SentimentBut.filler_words(filler)])


def long_review_table(result: RunResult, filler: int, text: str = EXPLAINER_SENTENCE) -> pd.DataFrame:
    """Every model's p(positive) after each word of `text` followed by `filler` neutral words:
    model, name, t (from 1), input, p_positive (one block of rows per model)."""
    table = sentence_table(result, long_text(filler, text))
    out = table[["model", "name", "t", "input", positive_column(result)]].rename(
        columns={positive_column(result): "p_positive"}).reset_index(drop=True)
    return out.assign(t=out.t + 1)


# --- the forget gate's arithmetic ---------------------------------------------------------------
def arithmetic_at(result: RunResult, text: str = EXPLAINER_SENTENCE, word: str = "but") -> pd.DataFrame:
    """forget_arithmetic of the LSTM at `word` of `text` (every unit), with the word and its t (from 1)."""
    x = result.task.encode_text(text)
    words = result.task.render(x)[0]
    if word not in words:
        raise ValueError(f"'{word}' is not a word of the sentence")
    index = words.index(word)
    df = forget_arithmetic(result, x, index)
    df.insert(0, "word", word)
    df.insert(0, "t", index + 1)
    return df


def dropped_share(table: pd.DataFrame) -> float:
    """1 - ||f_t ⊙ c_{t-1}|| / ||c_{t-1}||: the share of the belt's length the forget gate drops."""
    c, kept = table["c_{t-1}"].to_numpy(), table["f_t ⊙ c_{t-1} (kept)"].to_numpy()
    n = float(np.linalg.norm(c))
    return 1 - float(np.linalg.norm(kept)) / n if n > 0 else float("nan")


def most_dropped(table: pd.DataFrame, k: int = 6) -> pd.DataFrame:
    """The k units that lose most of their cell value at this step, |(1 - f_t) c_{t-1}|, largest first."""
    lost = ((1 - table["f_t = σ(z)"]) * table["c_{t-1}"]).abs()
    return table.loc[lost.sort_values(ascending=False, kind="stable").index[:k]].reset_index(drop=True)


# --- the output gate, ablated -----------------------------------------------------------------------
def output_ablation(result: RunResult, step: int | None = None) -> dict:
    """The trained LSTM's held-out accuracy as it is, and with its output gate forced open (o_t = 1 at
    every step, so h_t = tanh(c_t): the cell is shown whole, the recurrence runs on it): whether the
    answer needs the gate. Returns the two metrics, their drop and the held-out examples counted."""
    run = result.runs["lstm"]
    task = result.task
    model = model_from_weights(run.config, "lstm", run.checkpoints[resolve_step(run, step)])
    x, y = task.eval_batch()
    with torch.no_grad():
        intact = task.score(model(x), y)
        xe = model.encode(x)
        w_ih, w_hh, b_ih, b_hh = model.params()
        h = c = xe.new_zeros(xe.shape[0], model.hidden_size)
        for t in range(xe.shape[1]):
            i, f, g, _ = (xe[:, t] @ w_ih.T + b_ih + h @ w_hh.T + b_hh).chunk(4, 1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.tanh(c)  # o_t = 1
        ablated = task.score(model.head(h), y)
    return {"intact": intact, "ablated": ablated, "drop": intact - ablated, "examples": int(len(y))}


# --- the long review's controls: does the LSTM turn at "but", or follow the last sentiment word? -----
# Sentences the task never generates (in training a "but" clause always carries the opposite sentiment
# and is always the last one), each with what the two readings predict: "last", the sentiment of the
# last sentiment word; "but", the opening clause's sentiment, turned round by a "but".
CONTROLS = (
    ("i loved the movie , the ending was disappointing", "negative", "positive"),  # no "but"
    ("i loved the movie , but the ending was wonderful", "positive", "negative"),  # a "but" that does not turn
    ("i hated the movie , but the ending was wonderful", "positive", "positive"),  # both agree
    (EXPLAINER_SENTENCE, "negative", "negative"),  # both agree
)


def control_readings(result: RunResult, kind: str = "lstm") -> pd.DataFrame:
    """The model's reading after each control sentence (p(positive) after its last word, and the word
    the tour's rule makes of it), beside the two hypotheses' predictions; `agrees_with`: which."""
    rows = []
    for text, last, turn in CONTROLS:
        table = sentence_table(result, text)
        p = float(table[table.model == kind].p_positive.iloc[-1])
        said = reading(p)
        rows.append({"sentence": text, "if it follows the last sentiment word": last, "if it turns at 'but'": turn,
                     "p(positive)": p, "read as": said,
                     "agrees_with": ("both" if said == last == turn else "last sentiment word" if said == last else
                                     "the 'but'" if said == turn else "neither")})
    return pd.DataFrame(rows)
