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
from core.inspection import (EXPLAINER_SENTENCE, decay_table, example_traces, resolve_step, sentence_table,
                             showcase)
from core.results import ModelRun, RunResult, format_metric


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
            "so it shrinks exponentially with the distance; the LSTM's additive cell state lets it flow.",
            ("long",), "long"),
    Chapter(3, "belt", "The cell state, a conveyor belt",
            "The cell state runs straight down the chain with only minor linear interactions; the forget "
            "gate decides what to keep (1: keep it all), so information can ride along unchanged.",
            ("long",), "long"),
    Chapter(4, "start", "Where the forget gate starts",
            "The explainer says the LSTM remembers by design. Training has to find that design: here is "
            "the same LSTM with its forget gate started at PyTorch's default instead of the lab's.",
            ("long", "zero_forget"), "zero_forget"),
    Chapter(5, "but", "\"I loved the movie, but the ending was disappointing\"",
            "When a new subject arrives (here: \"but\"), the forget gate lets the LSTM drop the old "
            "sentiment and take the new one.", ("but_short", "but_long"), "but_long"),
)
BY_NUMBER = {c.number: c for c in CHAPTERS}
DIP = 0.05  # a forget-gate dip counts when the sentence's lowest mean gate is this far below its mean


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
    holds = None
    if "rnn" in lost and "lstm" in lost:
        r, m = lost["rnn"], lost["lstm"]
        holds = bool(all(not math.isnan(v) for v in (*r, *m)) and r[0] > m[0] + 1 and r[1] > m[1] + 1)
    return Told(sentences, holds, _verdict(
        holds, "the RNN's signal fades by many more orders of magnitude than the LSTM's, before and after training.",
        "the RNN's signal does not fade by much more than the LSTM's here (the numbers above)."))


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
    reached = run.steps_to_target is not None
    holds = bool(reached and end["best"] >= 0.5)
    if not reached:
        sentences.append(f"This LSTM {reach(run, long)}, so its cell is not shown remembering the answer.")
    return Told(sentences, holds, _verdict(
        holds, "units with a forget gate near 1 carry the cell value across the whole gap, and the model answers "
               "from it.",
        "no unit of this LSTM keeps half of its cell across the gap while answering right."))


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
                         f"{np.mean(f):.2f} over the sentence); at \"but\" it is {f[words.index('but')]:.2f}. " + (
                             "That is the dip the explainer describes." if dip else
                             f"That is no clear dip in the \"but\" clause (less than {DIP} below the mean, or "
                             "elsewhere): this LSTM turns its answer round without visibly clearing its cell."))
    if flips.get("rnn"):
        sentences.append("The vanilla RNN turns round too: at this length the sentence needs no cell state.")
    parts = {"the LSTM turns its answer round at the \"but\" clause": flips.get("lstm"),
             "its forget gate dips there": dip,
             f"it learns the {long.task.seq_len}-word reviews": _reached(long, "lstm"),
             f"the vanilla RNN does not learn the {long.task.seq_len}-word reviews": _reached(long, "rnn") is False}
    holds = None if dip is None else all(parts.values())
    yes = [p for p, ok in parts.items() if ok]
    no = [p for p, ok in parts.items() if not ok]
    return Told(sentences, holds, _verdict(holds, "; ".join(yes) + ".", "not all of it. " + (
        "What holds: " + "; ".join(yes) + ". " if yes else "") + "What does not: " + "; ".join(no) + "."))


def tell(chapter: Chapter, results: dict[str, RunResult]) -> Told:
    """The chapter told with its trained results (results[name] for every name in chapter.needs)."""
    r = [results[n] for n in chapter.needs]
    return {"gap": tell_gap, "gradients": tell_gradients, "belt": tell_belt, "start": tell_start,
            "but": tell_but}[chapter.key](*r)


__all__ = ["CHAPTERS", "BY_NUMBER", "Chapter", "Told", "experiments", "needed", "tell", "reach",
           "forget_retention"]
