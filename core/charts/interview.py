"""The interview's chart: the measured figures of an answer as bars, the learner's guess beside them
(slider questions), each labelled with its value."""
from __future__ import annotations

import altair as alt

from core.charts import WIDTH, ChartItem, finalize
from core.story.interview import Answer, Question, chart_frame

GUESS_COLOR, MEASURED_COLOR = "#ff7f0e", "#1f77b4"


AXIS = {"%": "percent", " orders": "orders of magnitude lost", "": "value"}


def answer_item(q: Question, a: Answer, guess: float | str | None, prompt: str) -> ChartItem:
    df = chart_frame(q, a, guess)
    unit = str(a.figures.unit.iloc[0]) if len(a.figures) else q.unit
    fmt = {"%": ".0f", " orders": ".1f"}.get(unit, ".3f")
    who = [w for w in ("your guess", "measured") if w in set(df.who)]
    base = alt.Chart(df).encode(
        y=alt.Y("label:N", title=None, sort=list(df.label), axis=alt.Axis(labelLimit=260)),
        x=alt.X("value:Q", title=AXIS.get(unit, unit.strip()), scale=alt.Scale(zero=True)),
        tooltip=[alt.Tooltip("label:N", title="what"), alt.Tooltip("value:Q", format=".3g"), "who:N"])
    bars = base.mark_bar().encode(color=alt.Color("who:N", title=None, scale=alt.Scale(
        domain=who, range=[GUESS_COLOR if w == "your guess" else MEASURED_COLOR for w in who])))
    labels = base.mark_text(align="left", dx=4).encode(text=alt.Text("value:Q", format=fmt))
    # in a vconcat: Streamlit stretches a single view and squeezes it into its height (core.charts.story)
    chart = alt.vconcat(alt.layer(bars, labels).properties(width=WIDTH + 120, height=28 * max(1, len(df))))
    return ChartItem(name=f"interview_q{q.number}", title=f"Question {q.number}", data=df,
                     chart=finalize(chart, title=f"{q.number}. {q.area}", subtitle="Measured in the lab's own runs"),
                     caption=f"{prompt} Measured: {a.shown}." + (f" Your guess: {q.fmt(guess)}." if guess is not None
                                                                 else ""))
