"""Chapter 9's charts (core.story.chapters.translation): token accuracy against sentence length per
encoder-decoder, and the copying-memory result. Registered as chapter builders in core.charts.story."""
from __future__ import annotations

import altair as alt
import pandas as pd

from core.charts import CHANCE_COLOR, TARGET_COLOR, ChartItem, finalize
from core.charts.inside import WIDE
from core.results import RunResult
from core.story.chapters.translation import accuracy_frame, copying_frame

# one colour per line of the chapter (the kinds' own colours for the two models without attention)
LINE_COLORS = {"rnn": "#d62728", "lstm": "#1f77b4", "lstm+rev": "#9467bd", "rnn+att": "#ff7f0e",
               "lstm+att": "#17becf", "gru": "#2ca02c", "gru+att": "#8c564b", "rnn+rev": "#e377c2"}


def _scale(df: pd.DataFrame) -> alt.Scale:
    lines = list(dict.fromkeys(df.line))
    names = [df[df.line == k].name.iloc[0] for k in lines]
    return alt.Scale(domain=names, range=[LINE_COLORS.get(k, "#7f7f7f") for k in lines])


def lengths_item(results: list[RunResult], name: str = "translation_lengths") -> ChartItem:
    """Token accuracy at each source length, one line per model (attention dashed), chance in grey."""
    df = accuracy_frame(results)
    df = df.assign(attention=df.line.str.endswith("+att").map({True: "with attention", False: "one vector"}))
    lengths = sorted(df["T"].unique().tolist())
    x = alt.X("T:Q", title="source sentence length T (words)", scale=alt.Scale(domain=[min(lengths), max(lengths)]),
              axis=alt.Axis(values=lengths, format="d"))
    lines = alt.Chart(df).mark_line(point=alt.OverlayMarkDef(size=60)).encode(
        x=x, y=alt.Y("token_accuracy:Q", title="token accuracy (words right)", scale=alt.Scale(domain=[0, 1]),
                     axis=alt.Axis(format="%")),
        color=alt.Color("name:N", title="model", scale=_scale(df), legend=alt.Legend(columns=2, labelLimit=320)),
        strokeDash=alt.StrokeDash("attention:N", title=None, legend=None, scale=alt.Scale(
            domain=["one vector", "with attention"], range=[[1, 0], [6, 3]])),
        tooltip=["name:N", "T:Q", alt.Tooltip("token_accuracy:Q", format=".1%", title="token accuracy"),
                 alt.Tooltip("exact_match:Q", format=".1%", title="exact match"), "steps:Q"])
    chance = alt.Chart(df.drop_duplicates("T")).mark_line(color=CHANCE_COLOR, strokeDash=[2, 2]).encode(
        x=x, y="chance:Q", tooltip=[alt.Tooltip("chance:Q", format=".1%")])
    chart = finalize(alt.vconcat(alt.layer(chance, lines).properties(width=WIDE, height=280)),
                     title="Translation: accuracy against sentence length",
                     subtitle=["One line per model (dashed: with attention), seed 0",
                               "Grey dotted: chance, the best guess that knows the grammar but not the sentence"])
    return ChartItem(name=name, title="Accuracy against sentence length", chart=chart, data=df,
                     caption=("Token accuracy (the share of words translated right) on the held-out sentences at "
                              f"each source length T = {', '.join(map(str, lengths))}, for each encoder-decoder. "
                              "Without attention the decoder starts from one vector, the encoder's last state; "
                              "with attention it reads every encoder state. Hover for exact match (whole sentences "
                              "right) and the steps each model trained."))


def copying_item(results: list[RunResult], name: str = "copying_limit") -> ChartItem:
    """The copying task at one delay: each model's token accuracy as a bar, chance and target as rules."""
    df = copying_frame(results)
    T = int(df["T"].iloc[0]) if len(df) else 0
    bars = alt.Chart(df).mark_bar(height=26).encode(
        x=alt.X("token_accuracy:Q", title="token accuracy (symbols copied right)", scale=alt.Scale(domain=[0, 1]),
                axis=alt.Axis(format="%")),
        y=alt.Y("name:N", title=None, sort=None, axis=alt.Axis(labelLimit=320)),
        color=alt.Color("name:N", scale=_scale(df), legend=None),
        tooltip=["name:N", alt.Tooltip("token_accuracy:Q", format=".1%", title="token accuracy"),
                 alt.Tooltip("exact_match:Q", format=".1%", title="exact match"), "steps:Q"])
    chance = alt.Chart(df.head(1)).mark_rule(color=CHANCE_COLOR, strokeDash=[4, 4], size=2).encode(
        x="chance:Q", tooltip=[alt.Tooltip("chance:Q", format=".1%", title="chance")])
    target = alt.Chart(pd.DataFrame({"target": [0.99]})).mark_rule(color=TARGET_COLOR, strokeDash=[6, 3]).encode(
        x="target:Q")
    chart = finalize(alt.vconcat(alt.layer(bars, chance, target).properties(width=WIDE,
                                                                          height=max(240, 44 * max(len(df), 1)))),
                     title=f"Copying after T = {T} steps: the LSTM's limit",
                     subtitle=["Seed 0; grey dashed: chance (one symbol of 8), yellow dashed: the 99% target"])
    return ChartItem(name=name, title="Copying: the limit", chart=chart, data=df,
                     caption=(f"Ten symbols to copy back after blanks up to T = {T} steps (the copying-memory task "
                              "of Arjovsky, Shah & Bengio 2016): the share of symbols written back right by the "
                              "LSTM alone and by the LSTM with attention, both from the zero forget-gate start."))
