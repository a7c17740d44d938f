"""The story: the classic LSTM explainer's claims, one chapter each, told with models trained here.

A chapter is one object in one module of core/story/chapters/ (core.story.base.Chapter): the
experiments it needs (core.story.runs: short names -> RunConfig), the claim it checks in the
explainer's own terms, the LSTM equations it measures (each shown once in the tour), which
experiment its "try it in the lab" link opens, its charts and its tables. `tell(chapter, results)`
builds the chapter's sentences and verdict from the trained results: no sentence carries
a fixed number, a difference is called only beyond a stated margin (core.story.evidence), and where
the claim does not hold in these models, the text says so. The measurements live in
core.story.measures; the charts drawn beside them in core.charts.story.
"""
from __future__ import annotations

from core.config import RunConfig
from core.results import RunResult
from core.story import realdata, runs as _runs
from core.story.runs import SEEDS
from core.story.base import Chapter, Table, Told, reach
from core.story.chapters import BY_NUMBER, CHAPTERS
from core.story.chapters.arithmetic import tell_arithmetic
from core.story.chapters.belt import tell_belt
from core.story.chapters.but import tell_but
from core.story.chapters.gap import tell_gap
from core.story.chapters.gradients import tell_gradients
from core.story.chapters.long_review import tell_long
from core.story.chapters.real import tell_real
from core.story.chapters.translation import tell_translation
from core.story.chapters.turn import tell_start, tell_turn
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


def needed(chapters=CHAPTERS) -> list[str]:
    """Every experiment the chapters need, each once, in chapter order (what the tour trains first)."""
    return list(dict.fromkeys(n for c in chapters for n in c.needs))


def experiments() -> dict[str, RunConfig]:
    """The runs the tour needs (core.story.runs), hidden 64, seed 0, in the order they are
    defined (tests replace this with tiny configs of the same names)."""
    cfgs, names = _runs.configs(), set(needed())
    return {name: cfg for name, cfg in cfgs.items() if name in names}


def seeded_experiments() -> dict[str, RunConfig]:
    """The tour's experiments on their other seeds ("long@1" ... "long@4": core.story.runs.SEEDS), in
    chapter order after every seed-0 run: the pages draw seed 0 and pool the verdicts over all."""
    base = experiments()
    return {_runs.seeded(n, s): _runs.with_seed(cfg, s) for s in range(1, _runs.SEEDS) for n, cfg in base.items()}


def all_experiments() -> dict[str, RunConfig]:
    """Every run the tour trains: its experiments (seed 0) first, then their other seeds."""
    return {**experiments(), **seeded_experiments()}


def reads_weights(name: str) -> bool:
    """Whether a chapter that needs experiment `name` (or its base, for "long@3") reads its runs' weights."""
    base = _runs.base_name(name)
    return any(ch.weights for ch in CHAPTERS if base in ch.needs)


def label(name: str) -> str:
    """What a "try it in the lab" link to experiment `name` says."""
    return _runs.label(name)


def tell(chapter: Chapter, results: dict[str, RunResult], filler: int = FILLER) -> Told:
    """The chapter told with its trained results (results[name] for every name in chapter.needs);
    `filler`: the neutral words after the sentence in "The long review"."""
    return chapter.tell(results, filler)


__all__ = ["CHAPTERS", "BY_NUMBER", "Chapter", "Table", "Told", "Check", "experiments", "needed",
           "seeded_experiments", "all_experiments", "SEEDS", "tell", "reach", "label",
           "COUNTING", "EQUATIONS", "HOLDS", "FAILS", "PART", "UNCLEAR", "MISSING", "compare", "reading", "turn_word",
           "forget_retention", "gate_summary", "holding_units", "unit_traces", "word_table", "forget_units",
           "EXPLAINER_READING", "explainer_comparison", "long_review_table", "long_text", "arithmetic_at",
           "most_dropped", "dropped_share", "FILLER", "MAX_FILLER", "UNDECIDED", "DIP", "GATE_MARGIN",
           "ORDERS_MARGIN", "tell_gap", "tell_gradients", "tell_belt", "tell_but", "tell_long", "tell_arithmetic",
           "tell_start", "tell_turn", "tell_real", "tell_translation", "realdata"]
