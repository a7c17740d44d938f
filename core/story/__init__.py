"""The story: the classic LSTM explainer's claims, one chapter each, told with models trained here.

A chapter names the experiments it needs (`experiments()`: short names -> RunConfig), the claim
it checks in the explainer's own terms, the LSTM equations it measures (each shown once in the
tour) and which experiment its "try it in the lab" link opens. `tell(chapter, results)` builds the
chapter's sentences and verdict from the trained results (core.story.chapters): no sentence carries
a fixed number, a difference is called only beyond a stated margin (core.story.evidence), and where
the claim does not hold in these models, the text says so. The measurements live in
core.story.measures; the charts drawn beside them in core.charts.story.
"""
from __future__ import annotations

from dataclasses import dataclass

from core.config import ModelConfig, RunConfig, TaskConfig, TrainConfig, validate
from core.results import RunResult
from core.story import realdata
from core.story.chapters import (Told, reach, tell_arithmetic, tell_belt, tell_but, tell_gap, tell_gradients,
                                 tell_long, tell_real, tell_start, tell_turn)
from core.story.evidence import FAILS, HOLDS, MISSING, PART, UNCLEAR, Check, compare
from core.story.measures import (DIP, EXPLAINER_READING, FILLER, GATE_MARGIN, MAX_FILLER, ORDERS_MARGIN, UNDECIDED,
                                 arithmetic_at, dropped_share, explainer_comparison, forget_retention, forget_units,
                                 gate_summary, holding_units, long_review_table, long_text, most_dropped, reading,
                                 turn_word, unit_traces, word_table)

COUNTING = ("Counting: time steps and words are numbered from 1 (t = 1 is the first input; $h_0 = c_0 = 0$ is "
            "the start before it), in every sentence, table and chart of the tour; units are numbered from 0.")

# The LSTM's six equations (PyTorch's nn.LSTM, gate order i, f, g, o; the explainer's notation), each
# shown once in the tour, beside the chapter that measures it (Chapter.equations).
EQUATIONS = {
    "f": r"f_t = \sigma(W_f \cdot [h_{t-1}, x_t] + b_f)",
    "i": r"i_t = \sigma(W_i \cdot [h_{t-1}, x_t] + b_i)",
    "g": r"\tilde{c}_t = \tanh(W_c \cdot [h_{t-1}, x_t] + b_c)",
    "c": r"c_t = f_t \odot c_{t-1} + i_t \odot \tilde{c}_t",
    "o": r"o_t = \sigma(W_o \cdot [h_{t-1}, x_t] + b_o)",
    "h": r"h_t = o_t \odot \tanh(c_t)",
}


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
        # the 1997 LSTM (no forget gate: f_t = 1, the cell can only add) on the long review: "why not addition?"
        "no_forget": validate(RunConfig(task=TaskConfig(name="sentiment_but", seq_len=100),
                                        model=ModelConfig(forget_init="none"), models=("lstm",),
                                        train=TrainConfig(steps=600))),
        # the real examples: weather_T and stocks_T (core.story.realdata), trained last
        **realdata.experiments(),
    }


@dataclass(frozen=True)
class Chapter:
    number: int
    key: str
    title: str
    claim: str  # what the explainer says, in words (no numbers: those come from the models)
    needs: tuple[str, ...]  # experiment names, in the order the chapter shows them
    lab: str  # the experiment its "try it in the lab" link opens
    equations: tuple[str, ...] = ()  # keys of EQUATIONS this chapter measures (each key in one chapter)


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
            "the output gate what to read out.", ("long",), "long", equations=("i", "g", "c", "o", "h")),
    Chapter(4, "but", "The sentence, word by word",
            "Reading \"I loved the movie, but the ending was disappointing\": when a new subject arrives "
            "(here: \"but\"), the forget gate lets the LSTM drop the old sentiment and take the new one.",
            ("but_short", "but_long"), "but_short"),
    Chapter(5, "long", "The long review",
            "The same sentence followed by many neutral words: the vanilla RNN loses the \"but\" on the "
            "way, the LSTM's cell carries it to the end.", ("but_short", "but_long"), "but_long"),
    Chapter(6, "arithmetic", "The forget gate's arithmetic",
            r"$f_t = \sigma(W_f \cdot [h_{t-1}, x_t] + b_f)$, then $f_t \odot c_{t-1}$: each unit of the cell is "
            "multiplied by a number between 0 (forget) and 1 (keep). At \"but\" the old sentiment should be "
            "dropped. Why multiply and not add? An LSTM whose cell can only add (the 1997 LSTM, before the "
            "forget gate) cannot drop anything.", ("but_long", "no_forget"), "no_forget", equations=("f",)),
    Chapter(7, "turn", "Your turn",
            "The explainer says the LSTM remembers by design. Training has to find that design: the one "
            "control to try next is where the forget gate starts.", ("long", "zero_forget"), "zero_forget"),
    Chapter(8, "real", "Real data: the weather and the stock price",
            "Predict tomorrow's weather from the last month: the RNN might forget the early-month patterns "
            "that matter for seasonal trends; the LSTM's forget gate removes anomalies like a single storm day, "
            "its cell keeps the seasonal trend and its output gate focuses on this week. For stock prices it "
            "ignores one-off noise and combines old and current trends to predict the next price.",
            (*realdata.WEATHER_NAMES, *realdata.STOCKS_NAMES), f"weather_{realdata.LOOKBACK_T}"),
)
BY_NUMBER = {c.number: c for c in CHAPTERS}


def needed(chapters=CHAPTERS) -> list[str]:
    """Every experiment the chapters need, each once, in chapter order (what the tour trains first)."""
    return list(dict.fromkeys(n for c in chapters for n in c.needs))


def tell(chapter: Chapter, results: dict[str, RunResult], filler: int = FILLER) -> Told:
    """The chapter told with its trained results (results[name] for every name in chapter.needs);
    `filler`: the neutral words after the sentence in "The long review"."""
    r = [results[n] for n in chapter.needs]
    if chapter.key == "long":
        return tell_long(*r, filler=filler)
    return {"gap": tell_gap, "gradients": tell_gradients, "belt": tell_belt, "turn": tell_turn,
            "but": tell_but, "arithmetic": tell_arithmetic, "real": tell_real}[chapter.key](*r)


__all__ = ["CHAPTERS", "BY_NUMBER", "Chapter", "Told", "Check", "experiments", "needed", "tell", "reach",
           "COUNTING", "EQUATIONS", "HOLDS", "FAILS", "PART", "UNCLEAR", "MISSING", "compare", "reading", "turn_word",
           "forget_retention", "gate_summary", "holding_units", "unit_traces", "word_table", "forget_units",
           "EXPLAINER_READING", "explainer_comparison", "long_review_table", "long_text", "arithmetic_at",
           "most_dropped", "dropped_share", "FILLER", "MAX_FILLER", "UNDECIDED", "DIP", "GATE_MARGIN",
           "ORDERS_MARGIN", "tell_gap", "tell_gradients", "tell_belt", "tell_but", "tell_long", "tell_arithmetic",
           "tell_start", "tell_turn", "tell_real", "realdata"]
