"""Chapter 8, real data: the explainer's weather and stock-price examples, each claim checked (core.story.realdata)."""
from __future__ import annotations

from core.registry import TASKS
from core.results import RunResult
from core.story import realdata, runs as X
from core.story.base import Chapter, Told, read_first, told
from core.story.evidence import Check


# --- chapter 8: real data ------------------------------------------------------------------------
REAL_CLAIMS = ("early-month days help the LSTM's forecast more than the vanilla RNN's",
               "the LSTM looks further back than the vanilla RNN",
               "the forget gate drops a storm day",
               "a model beats the zero-return forecast of next month's stock return")


def tell_real(*results: RunResult) -> Told:
    """The explainer's two real examples, each of its claims checked on the runs (core.story.realdata):
    the weather at several window lengths T, the stocks at several T."""
    weather = [r for r in results if r.task.name == "weather"]
    stocks = [r for r in results if r.task.name == "stocks"]
    cs = realdata.checks(weather, stocks)
    month = next((r for r in weather if r.task.seq_len == realdata.LOOKBACK_T), weather[0])
    sentences = read_first(month, ("lstm", "rnn")) + [f"({'abcd'[i]}) {c.verdict}" for i, c in enumerate(cs)]
    return told(sentences, [Check(claim, realdata.outcome_word(c)) for claim, c in zip(REAL_CLAIMS, cs)])


def _label(task: str, T: int) -> str:
    return f"{TASKS[task].title}, from the last {T} {TASKS[task].seq_len_unit}"


# the runs the checks read, defined here and built on use: every T of each series, three models side by side
NAMES = tuple(X.define(name, lambda name=name: realdata.experiments()[name], _label(task, T))
              for task, names, lengths in (("weather", realdata.WEATHER_NAMES, realdata.WEATHER_LENGTHS),
                                           ("stocks", realdata.STOCKS_NAMES, realdata.STOCKS_LENGTHS))
              for name, T in zip(names, lengths))

CHAPTER = Chapter(
    8, "real", "Real data: the weather and the stock price",
    "Predict tomorrow's weather from the last month: the RNN might forget the early-month patterns "
    "that matter for seasonal trends; the LSTM's forget gate removes anomalies like a single storm day, "
    "its cell keeps the seasonal trend and its output gate focuses on this week. For stock prices it "
    "ignores one-off noise and combines old and current trends to predict the next price.",
    NAMES, f"weather_{realdata.LOOKBACK_T}", tell_real, charts=("real_checks",))
