"""The story: the classic LSTM explainer's claims, one chapter each, told with models trained here.

A chapter names the experiments it needs (`experiments()`: short names -> RunConfig), the claim
it checks in the explainer's own terms, and which experiment its "try it in the lab" link opens.
`tell(chapter, results)` builds the chapter's sentences from the trained results: no sentence
here carries a fixed number, and where the claim does not hold in these models, the text says so
(`Told.holds` is False). The charts drawn beside them live in core.charts.story.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from core.config import ModelConfig, RunConfig, TaskConfig, TrainConfig, validate
import pandas as pd

from core.inspection import (EXPLAINER_SENTENCE, decay_table, example_traces, forget_arithmetic, resolve_step,
                             sentence_table, showcase)
from core.results import ModelRun, RunResult, format_metric
from core.tasks import SentimentBut


def experiments() -> dict[str, RunConfig]:
    """The runs the tour needs, hidden 64, seed 0 (tests replace this with tiny configs). Steps are
    the fewest the calibration allows: the chrono LSTM reaches the target at step 225 on first_token
    at T = 100, both models by step 100 at T = 20 and step 200 on sentiment_but at T = 30, the LSTM
    at step 425 on sentiment_but at T = 100."""
    return {
        "short": validate(RunConfig(task=TaskConfig(seq_len=20), train=TrainConfig(steps=200))),
        "long": validate(RunConfig()),  # the lab's default experiment: one run serves the tour and the lab
        "zero_forget": validate(RunConfig(model=ModelConfig(forget_init="zero"), models=("lstm",))),
        "but_short": validate(RunConfig(task=TaskConfig(name="sentiment_but", seq_len=30),
                                        train=TrainConfig(steps=400))),
        "but_long": validate(RunConfig(task=TaskConfig(name="sentiment_but", seq_len=100),
                                       train=TrainConfig(steps=600))),
    }


@dataclass(frozen=True)
class Chapter:
    number: int
    key: str
    title: str
    claim: str  # what the explainer says, in words (no numbers: those come from the models)
    needs: tuple[str, ...]  # experiment names, in the order the chapter shows them
    lab: str  # the experiment its "try it in the lab" link opens


CHAPTERS = (
    Chapter(1, "gap", "The problem: a long gap",
            "A vanilla RNN can connect recent information to the present, but as the gap between the "
            "information and the place it is needed grows, it becomes unable to learn the connection. "
            "LSTMs do not have this problem.", ("short", "long"), "long"),
    Chapter(2, "gradients", "Why: the gradient vanishes",
            "The learning signal reaching early steps of a vanilla RNN is multiplied at every step back, "
            "so it shrinks exponentially with the distance; the LSTM's additive cell state lets it flow. "
            "It is like being asked about a novel's first chapter after reading the whole book.",
            ("long",), "long"),
    Chapter(3, "belt", "The conveyor belt and its three gates",
            "The cell state runs straight down the chain with only minor linear interactions. Three gates "
            "act on it: the forget gate decides what to keep (1: keep it all), the input gate what to add, "
            "the output gate what to read out.", ("long",), "long"),
    Chapter(4, "but", "The sentence, word by word",
            "Reading \"I loved the movie, but the ending was disappointing\": when a new subject arrives "
            "(here: \"but\"), the forget gate lets the LSTM drop the old sentiment and take the new one.",
            ("but_short", "but_long"), "but_short"),
    Chapter(5, "long", "The long review",
            "The same sentence followed by many neutral words: the vanilla RNN loses the \"but\" on the "
            "way, the LSTM's cell carries it to the end.", ("but_short", "but_long"), "but_long"),
    Chapter(6, "arithmetic", "The forget gate's arithmetic",
            "f_t = σ(W_f·[h_{t-1}, x_t] + b_f), then f_t ⊙ c_{t-1}: each unit of the cell is multiplied by "
            "a number between 0 (forget) and 1 (keep). At \"but\" the old sentiment should be dropped.",
            ("but_long",), "but_long"),
    Chapter(7, "turn", "Your turn",
            "The explainer says the LSTM remembers by design. Training has to find that design: the one "
            "control to try next is where the forget gate starts.", ("long", "zero_forget"), "zero_forget"),
)
BY_NUMBER = {c.number: c for c in CHAPTERS}
DIP = 0.05  # a forget-gate dip counts when the sentence's lowest mean gate is this far below its mean
FILLER = 60  # neutral words after the sentence in "The long review" (the page's slider starts here)
MAX_FILLER = 200
UNDECIDED = 0.1  # a read-out within this of 0.5 counts as neutral when compared with the explainer


@dataclass
class Told:
    """A chapter told with its models: the sentences, whether the claim holds here (None: the
    models cannot say), and the verdict in one line."""

    sentences: list[str]
    holds: bool | None
    verdict: str


def needed(chapters=CHAPTERS) -> list[str]:
    """Every experiment the chapters need, each once, in chapter order (what the tour trains first)."""
    return list(dict.fromkeys(n for c in chapters for n in c.needs))


# --- words shared by the chapters -------------------------------------------------------------
def reach(run: ModelRun, result: RunResult) -> str:
    """'reached the 99% target at step 225' / 'ended at 51% after 500 steps (chance 12.5%)'."""
    task = result.task
    target = format_metric(task.target, task)
    if run.steps_to_target is not None:
        return f"reached the {target} target at training step {run.steps_to_target:,}"
    chance = f"{task.chance * 100:.3g}%" if task.metric == "accuracy" else f"MSE {task.chance:.3g}"
    return (f"ended at {format_metric(run.final_metric, task)} after {run.steps_run:,} steps, short of the "
            f"{target} target (chance {chance})")


def _where(result: RunResult) -> str:
    return f"{result.task.title} at T = {result.task.seq_len}"


def _line(result: RunResult) -> str:
    return f"{_where(result)}: " + "; ".join(f"the {r.title} {reach(r, result)}" for r in result.runs.values()) + "."


def _reached(result: RunResult, kind: str) -> bool | None:
    run = result.runs.get(kind)
    return None if run is None else run.steps_to_target is not None


def _above_chance(run: ModelRun, result: RunResult) -> bool:
    task = result.task
    margin = 0.1 * (task.target - task.chance)  # a tenth of the way from chance to the target
    return (run.final_metric - task.chance) * (1 if task.higher_is_better else -1) > abs(margin)


def _verdict(holds: bool | None, yes: str, no: str) -> str:
    if holds is None:
        return "These models cannot say: a run the chapter needs is missing."
    return ("Holds here: " + yes) if holds else ("Does not hold here: " + no)


# --- the chapters -------------------------------------------------------------------------------
def tell_gap(short: RunResult, long: RunResult) -> Told:
    sentences = [_line(short), _line(long)]
    rnn, lstm = long.runs.get("rnn"), long.runs.get("lstm")
    if rnn is not None and not _reached(long, "rnn") and _above_chance(rnn, long):
        sentences.append(f"The RNN's {format_metric(rnn.final_metric, long.task)} at T = {long.task.seq_len} is "
                         "above chance: it learned part of the connection, not all of it.")
    if _reached(short, "rnn") is False:
        sentences.append(f"At T = {short.task.seq_len} the RNN did not reach the target either, so here the "
                         "short gap was not enough to make it learn in this budget.")
    holds = None if rnn is None or lstm is None else bool(
        _reached(long, "lstm") and not _reached(long, "rnn") and _reached(short, "rnn"))
    return Told(sentences, holds, _verdict(
        holds, f"the RNN learns the short gap and not the long one; the LSTM learns the gap of {long.task.seq_len}.",
        "the RNN and the LSTM do not split as the explainer says (see the numbers above)."))


def _orders_words(orders: float) -> str:
    return "all of it (the gradient underflowed float32)" if math.isinf(orders) else f"{orders:.1f} orders of magnitude"


def _orders(row) -> tuple[float, float]:
    """Orders of magnitude lost from h_T to h_1 at initialisation and at the end (a ratio of 0 is an
    underflow: everything lost)."""
    out = []
    for ratio, orders in ((row.init_ratio, row.init_orders_lost), (row.ratio, row.orders_lost)):
        out.append(math.inf if ratio == 0 else float(orders))
    return out[0], out[1]


def tell_gradients(long: RunResult) -> Told:
    decay = decay_table(long).set_index("model")
    T = long.task.seq_len
    sentences = [f"Over the {T - 1} steps back from the answer to the first input, ||dL/dh_t|| loses:"]
    lost = {}
    for kind, row in decay.iterrows():
        at_init, at_end = _orders(row)
        lost[kind] = (at_init, at_end)
        sentences.append(f"the {row['name']}: {_orders_words(at_init)} at initialisation, "
                         f"{_orders_words(at_end)} after {int(row.step):,} training steps.")
    if lost:
        sentences.append(_novel({decay.loc[k, "name"]: end for k, (_, end) in lost.items()}, T))
    holds = None
    if "rnn" in lost and "lstm" in lost:
        r, m = lost["rnn"], lost["lstm"]
        holds = bool(all(not math.isnan(v) for v in (*r, *m)) and r[0] > m[0] + 1 and r[1] > m[1] + 1)
    return Told(sentences, holds, _verdict(
        holds, "the RNN's signal fades by many more orders of magnitude than the LSTM's, before and after training.",
        "the RNN's signal does not fade by much more than the LSTM's here (the numbers above)."))


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


def gate_summary(result: RunResult, step: int | None = None, example: int = 0) -> dict:
    """What the LSTM's three gates did on held-out example `example`: the mean forget gate over the
    sequence, the mean input gate at the information positions and elsewhere, the mean output gate
    at the last step (where the answer is read) and elsewhere."""
    task = result.task
    x, _, _ = showcase(task)
    one = x[example : example + 1]
    tr = example_traces(result, "lstm", step, one)
    f, i, o = (tr[k][0].astype(np.float64) for k in ("f", "i", "o"))  # (T, H)
    info = task.info_mask(one)[0].numpy().astype(bool)
    rest = ~info
    last = np.zeros(len(o), dtype=bool)
    last[-1] = True
    return {"T": int(len(f)), "f_mean": float(f.mean()),
            "i_info": float(i[info].mean()) if info.any() else float("nan"),
            "i_else": float(i[rest].mean()) if rest.any() else float("nan"),
            "o_last": float(o[last].mean()), "o_else": float(o[~last].mean()) if len(o) > 1 else float("nan")}


def tell_belt(long: RunResult) -> Told:
    run = long.runs.get("lstm")
    if run is None or not run.checkpoints:
        return Told([], None, _verdict(None, "", ""))
    first, last = min(run.checkpoints), resolve_step(run)
    start, end = forget_retention(long, first), forget_retention(long, last)
    sentences = [
        f"On a held-out example, over the {end['steps']} steps after its information, the trained LSTM's forget "
        f"gate averages {end['mean_f']:.3f}; its best unit keeps {end['best']:.1%} of the cell value written at "
        f"the information through the forget gates alone, and {end['half']} of {end['units']} units keep at "
        "least half.",
        f"At initialisation (step {first}) the same numbers were: mean forget gate {start['mean_f']:.3f}, best "
        f"unit {start['best']:.1%}, {start['half']} units keeping half: the lab's chrono start opens the gate "
        "before any training, and training " + (
            "kept it open." if end["half"] >= max(1, start["half"] // 2) else "closed most of it again."),
    ]
    g = gate_summary(long)
    sentences += [
        f"Forget gate (\"before an exam, drop the topics you no longer need\"): here its mean over the "
        f"{g['T']} steps of the example is {g['f_mean']:.3f}" + (
            ", so this LSTM drops little: it keeps nearly everything." if g["f_mean"] >= 0.9 else
            ", so it does drop a good part of its cell at each step." if g["f_mean"] < 0.7 else "."),
        f"Input gate (\"add the formulas to your notes\"): its mean is {g['i_info']:.3f} at the information "
        f"(the first token) against {g['i_else']:.3f} elsewhere: " + (
            "it writes more where the information is, as the explainer says." if g["i_info"] > g["i_else"] else
            "it does not write more at the information than elsewhere; the explainer's picture does not show "
            "here in the mean (individual units may still do it)."),
        f"Output gate (\"use the notes to answer\"): its mean is {g['o_last']:.3f} at the last step, where the "
        f"answer is read, against {g['o_else']:.3f} elsewhere: " + (
            "it opens more where the answer is needed." if g["o_last"] > g["o_else"] else
            "it does not open more at the answer than elsewhere; this LSTM reads its cell all along."),
    ]
    reached = run.steps_to_target is not None
    holds = bool(reached and end["best"] >= 0.5)
    if not reached:
        sentences.append(f"This LSTM {reach(run, long)}, so its cell is not shown remembering the answer.")
    return Told(sentences, holds, _verdict(
        holds, "units with a forget gate near 1 carry the cell value across the whole gap, and the model answers "
               "from it.",
        "no unit of this LSTM keeps half of its cell across the gap while answering right."))


def tell_turn(long: RunResult, zero: RunResult) -> Told:
    """Your turn: what happened from the zero forget-gate start (tell_start), and what to try next."""
    told = tell_start(long, zero)
    plain = zero.runs.get("lstm")
    if plain is not None:
        told.sentences.append(
            "Try next: open the lab with the forget-gate start at `zero` (the link below) and train it longer, or "
            f"shorten T until it learns; from that start, at T = {zero.task.seq_len}, the LSTM here {reach(plain, zero)}. "
            "The other chapters' experiments are one click below.")
    return told


def tell_start(long: RunResult, zero: RunResult) -> Told:
    chrono, plain = long.runs.get("lstm"), zero.runs.get("lstm")
    if chrono is None or plain is None:
        return Told([], None, _verdict(None, "", ""))
    T = zero.task.seq_len
    sentences = [f"{_where(long)}: the {chrono.title} {reach(chrono, long)}; the {plain.title} "
                 f"{reach(plain, zero)}."]
    if plain.checkpoints:
        s0 = forget_retention(zero, min(plain.checkpoints))
        left = s0["mean_f"] ** (T - 1)
        sentences.append(f"At initialisation the zero-init forget gate averages {s0['mean_f']:.2f} (σ(0) = 0.5 plus "
                         f"noise): a cell kept at that rate for {T - 1} steps keeps {left:.2g} of itself, and so "
                         "does the gradient through it.")
    holds = bool(plain.steps_to_target is not None)
    return Told(sentences, holds, _verdict(
        holds, "the LSTM learns the gap from PyTorch's default start too.",
        f"at T = {T}, in {plain.steps_run:,} steps, the LSTM learned the gap only from the chrono start; the "
        "explainer's LSTM keeps information once its forget gate is open, and finding that from a half-closed "
        "start is what failed here."))


def tell_but(short: RunResult, long: RunResult, text: str = EXPLAINER_SENTENCE) -> Told:
    sentences = [_line(short), _line(long)]
    table = sentence_table(short, text)
    words = list(table[table.model == table.model.iloc[0]].input)
    sentiment = f"p_{short.task.class_names[1]}"
    flips = {}
    for kind, rows in table.groupby("model", sort=False):
        p = rows[sentiment].to_numpy()
        opened = rows.input.tolist().index("loved") if "loved" in words else 1
        flips[kind] = bool(p[opened] > 0.5 > p[-1])
        sentences.append(f"Reading \"{text}\" word by word (models of T = {short.task.seq_len}), the "
                         f"{rows.name.iloc[0]} says positive with {p[opened]:.0%} after \"{words[opened]}\" and "
                         f"{p[-1]:.0%} after \"{words[-1]}\": " + (
                             "it turns round at the \"but\" clause." if flips[kind] else "it does not turn round."))
    lstm = table[table.model == "lstm"]
    dip = None
    if len(lstm) and "but" in words:
        f = lstm.forget_mean.to_numpy()
        k, clause = int(np.argmin(f)), words.index("but") - 1  # the clause starts at its comma
        drop = float(np.mean(f) - f[k])
        dip = k >= clause and drop >= DIP
        sentences.append(f"The LSTM's mean forget gate is lowest at \"{words[k]}\" ({f[k]:.2f}, against "
                         f"{np.mean(f):.2f} over the sentence)" + (
                             "" if words[k] == "but" else f"; at \"but\" it is {f[words.index('but')]:.2f}") + ". " + (
                             "That is the dip the explainer describes." if dip else
                             f"That is no clear dip in the \"but\" clause (less than {DIP} below the mean, or "
                             "elsewhere): this LSTM turns its answer round without visibly clearing its cell."))
    if flips.get("rnn"):
        sentences.append("The vanilla RNN turns round too: at this length the sentence needs no cell state.")
    if len(lstm):
        cmp = explainer_comparison(short, text)
        listed = cmp[cmp.verdict != ""]
        differs = listed[listed.verdict == "differs"]
        sentences.append(f"Row by row against the explainer's own table (below), the LSTM's reading agrees on "
                         f"{len(listed) - len(differs)} of {len(listed)} words" + (
                             "." if not len(differs) else "; it differs at " + ", ".join(
                                 f"\"{r.word}\" (explainer: {r.explainer_output}, model: {r.model_output}, "
                                 f"{r.p_positive:.0%})" for r in differs.itertuples()) + "."))
    parts = {"the LSTM turns its answer round at the \"but\" clause": flips.get("lstm"),
             "its forget gate dips there": dip,
             f"it learns the {long.task.seq_len}-word reviews": _reached(long, "lstm"),
             f"the vanilla RNN does not learn the {long.task.seq_len}-word reviews": _reached(long, "rnn") is False}
    holds = None if dip is None else all(parts.values())
    yes = [p for p, ok in parts.items() if ok]
    no = [p for p, ok in parts.items() if not ok]
    return Told(sentences, holds, _verdict(holds, "; ".join(yes) + ".", "not all of it. " + (
        "What holds: " + "; ".join(yes) + ". " if yes else "") + "What does not: " + "; ".join(no) + "."))


# --- the sentence, word by word: tables ---------------------------------------------------------
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


def _reading(p: float) -> str:
    return "neutral" if abs(p - 0.5) <= UNDECIDED else "positive" if p > 0.5 else "negative"


def _positive(result: RunResult) -> str:
    return f"p_{result.task.class_names[1]}"


def word_table(result: RunResult, text: str = EXPLAINER_SENTENCE) -> pd.DataFrame:
    """One row per word of `text`: every model's p(positive) read out after it (p_<model>) and the
    LSTM's mean forget, input and output gates and ||c_t|| (when the run has an LSTM)."""
    table = sentence_table(result, text)
    pos = _positive(result)
    kinds = list(dict.fromkeys(table.model))
    first = table[table.model == kinds[0]]
    out = pd.DataFrame({"t": first.t.to_numpy(), "word": first.input.to_numpy()})
    for kind in kinds:
        out[f"p_{kind}"] = table[table.model == kind][pos].to_numpy()
    if "lstm" in kinds:
        lstm = table[table.model == "lstm"]
        for col in ("forget_mean", "input_mean", "output_mean", "c_norm"):
            out[col] = lstm[col].to_numpy()
    return out


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
    """The explainer's reading (EXPLAINER_READING) beside the model's, row by row: word, keep, add,
    the explainer's output, the model's p(positive) and reading (neutral within UNDECIDED of 0.5),
    and 'agrees' / 'differs'. Rows follow the sentence's words; a word the explainer's table does
    not list gets no expected reading."""
    table = sentence_table(result, text)
    rows = table[table.model == kind]
    p = rows[_positive(result)].to_numpy()
    out = []
    for j, word in enumerate(rows.input):
        said = EXPLAINER_READING[j] if j < len(EXPLAINER_READING) and EXPLAINER_READING[j][0] == word else None
        got = _reading(float(p[j]))
        out.append({"t": j, "word": word, "keep": said[1] if said else "", "add": said[2] if said else "",
                    "explainer_output": said[3] if said else "", "p_positive": float(p[j]), "model_output": got,
                    "verdict": ("agrees" if got == said[3] else "differs") if said else ""})
    return pd.DataFrame(out)


# --- the long review ----------------------------------------------------------------------------
def long_text(filler: int, text: str = EXPLAINER_SENTENCE) -> str:
    """`text` followed by `filler` neutral words of the sentiment task."""
    return " ".join([text, *SentimentBut.filler_words(filler)])


def long_review_table(result: RunResult, filler: int, text: str = EXPLAINER_SENTENCE) -> pd.DataFrame:
    """Every model's p(positive) after each word of `text` followed by `filler` neutral words:
    model, name, t, input, p_positive (one block of rows per model)."""
    table = sentence_table(result, long_text(filler, text))
    return table[["model", "name", "t", "input", _positive(result)]].rename(
        columns={_positive(result): "p_positive"}).reset_index(drop=True)


def tell_long(short: RunResult, long: RunResult, filler: int = FILLER, text: str = EXPLAINER_SENTENCE) -> Told:
    table = long_review_table(long, filler, text)
    n_words = len(table) // max(table.model.nunique(), 1)
    sentences = [_line(long), _line(short)]
    kept = {}
    for kind, rows in table.groupby("model", sort=False):
        p = rows.p_positive.to_numpy()
        end = len(p) - filler - 1  # the sentence's last word
        kept[kind] = bool(p[-1] < 0.5 - UNDECIDED)
        sentences.append(
            f"The {rows.name.iloc[0]} of T = {long.task.seq_len} reads the sentence and {filler} neutral words "
            f"({n_words} in all): p(positive) {p[end]:.0%} after \"{rows.input.iloc[end]}\", {p[-1]:.0%} after the "
            "last word: " + ("it still reads the 'but'." if kept[kind] else
                             f"it is undecided (within {UNDECIDED} of 0.5): the 'but' has faded, or was never read."
                             if p[-1] <= 0.5 + UNDECIDED else "it has lost the 'but' (or never read it)."))
    if _reached(short, "rnn"):
        sentences.append(f"At T = {short.task.seq_len} the vanilla RNN learned these reviews too: its trouble is "
                         "length, not the word 'but'.")
    holds = None if "rnn" not in kept or "lstm" not in kept else bool(kept["lstm"] and not kept["rnn"])
    return Told(sentences, holds, _verdict(
        holds, f"after {filler} neutral words the LSTM still reads the 'but' and the vanilla RNN does not.",
        f"after {filler} neutral words the LSTM " + ("keeps" if kept.get("lstm") else "does not keep") +
        " the 'but' and the vanilla RNN " + ("keeps" if kept.get("rnn") else "does not keep") + " it."))


# --- the forget gate's arithmetic ---------------------------------------------------------------
def arithmetic_at(result: RunResult, text: str = EXPLAINER_SENTENCE, word: str = "but") -> pd.DataFrame:
    """forget_arithmetic of the LSTM at `word` of `text` (every unit), with the word and t added."""
    x = result.task.encode_text(text)
    words = result.task.render(x)[0]
    if word not in words:
        raise ValueError(f"'{word}' is not a word of the sentence")
    t = words.index(word)
    df = forget_arithmetic(result, x, t)
    df.insert(0, "word", word)
    df.insert(0, "t", t)
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


def tell_arithmetic(long: RunResult, text: str = EXPLAINER_SENTENCE) -> Told:
    if "lstm" not in long.runs or not long.runs["lstm"].checkpoints:
        return Told([], None, _verdict(None, "", ""))
    at = arithmetic_at(long, text, "but")
    t = int(at.t.iloc[0])
    words = long.task.render(long.task.encode_text(text))[0]
    before = forget_arithmetic(long, long.task.encode_text(text), t - 1) if t > 0 else None
    u = most_dropped(at, 1).iloc[0]
    f = at["f_t = σ(z)"]
    sentences = [
        f"At \"but\" (word {t + 1}) the LSTM of T = {long.task.seq_len} computes, for each of its {len(at)} units, "
        f"f_t = σ(W_f·h_{{t-1}} + W_f·x_t + b_f). Its forget gates range from {f.min():.2f} to {f.max():.2f} "
        f"(mean {f.mean():.2f}).",
        f"The unit that drops most, unit {int(u.unit)}: W_f·h_{{t-1}} = {u['W_f·h_{t-1}']:.2f}, W_f·x_t = "
        f"{u['W_f·x_t']:.2f}, b_f = {u['b_f']:.2f}, so z = {u['z = W_f·[h_{t-1}, x_t] + b_f']:.2f} and "
        f"f_t = σ(z) = {u['f_t = σ(z)']:.2f}; its cell held c_{{t-1}} = {u['c_{t-1}']:.2f} and keeps "
        f"f_t ⊙ c_{{t-1}} = {u['f_t ⊙ c_{t-1} (kept)']:.2f}.",
    ]
    share = dropped_share(at)
    holds = None
    if before is not None:
        prev = dropped_share(before)
        holds = bool(share > prev + DIP)
        sentences.append(f"Over the whole cell the forget gate drops {share:.0%} of ||c_{{t-1}}|| at \"but\", "
                         f"against {prev:.0%} at \"{words[t - 1]}\" just before.")
    return Told(sentences, holds, _verdict(
        holds, "the forget gate drops clearly more of the cell at \"but\" than at the word before.",
        "the forget gate does not drop clearly more of the cell at \"but\" than at the word before: this LSTM's "
        "clearing is in a few units (the table), not the whole belt."))


def tell(chapter: Chapter, results: dict[str, RunResult], filler: int = FILLER) -> Told:
    """The chapter told with its trained results (results[name] for every name in chapter.needs);
    `filler`: the neutral words after the sentence in "The long review"."""
    r = [results[n] for n in chapter.needs]
    if chapter.key == "long":
        return tell_long(*r, filler=filler)
    return {"gap": tell_gap, "gradients": tell_gradients, "belt": tell_belt, "turn": tell_turn,
            "but": tell_but, "arithmetic": tell_arithmetic}[chapter.key](*r)


__all__ = ["CHAPTERS", "BY_NUMBER", "Chapter", "Told", "experiments", "needed", "tell", "reach",
           "forget_retention", "gate_summary", "word_table", "forget_units", "EXPLAINER_READING",
           "explainer_comparison", "long_review_table", "long_text", "arithmetic_at", "most_dropped", "dropped_share",
           "gate_summary", "FILLER", "MAX_FILLER", "UNDECIDED"]
