"""The interview's chart: the measured figures of an answer as bars, the learner's guess beside them
(slider questions), each labelled with its value."""
from __future__ import annotations

import altair as alt

from core.charts import WIDTH, ChartItem, finalize
from core.story.interview import Answer, Question, chart_frame

GUESS_COLOR, MEASURED_COLOR = "#ff7f0e", "#1f77b4"


def answer_item(q: Question, a: Answer, guess: float | str | None, prompt: str) -> ChartItem:
    df = chart_frame(q, a, guess)
    fmt = ".2f" if q.unit not in ("%", " orders") else ".0f" if q.unit == "%" else ".1f"
    base = alt.Chart(df).encode(
        y=alt.Y("label:N", title=None, sort=list(df.label)),
        x=alt.X("value:Q", title=(q.unit.strip() or "value"), scale=alt.Scale(zero=True)),
        tooltip=[alt.Tooltip("label:N", title="what"), alt.Tooltip("value:Q", format=".3g"), "who:N"])
    bars = base.mark_bar().encode(color=alt.Color("who:N", title=None, scale=alt.Scale(
        domain=["your guess", "measured"], range=[GUESS_COLOR, MEASURED_COLOR])))
    labels = base.mark_text(align="left", dx=4).encode(text=alt.Text("value:Q", format=fmt))
    chart = alt.layer(bars, labels).properties(width=WIDTH + 120, height=28 * max(1, len(df)))
    return ChartItem(name=f"interview_q{q.number}", title=f"Question {q.number}", data=df,
                     chart=finalize(chart, title=f"{q.number}. {q.area}", subtitle="Measured in the lab's own runs"),
                     caption=f"{prompt} Measured: {a.shown}." + (f" Your guess: {q.fmt(guess)}." if guess is not None
                                                                 else ""))
