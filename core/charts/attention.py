"""Where an encoder-decoder looked: its attention weights as a grid, output words down, source
words across (from core.inspection.attention_frame)."""
from __future__ import annotations

import altair as alt
import pandas as pd

from core.charts import WIDTH, ChartItem, finalize


def attention_chart(df: pd.DataFrame) -> alt.Chart:
    """One row per word written, one column per source word; darker: more weight. A word written
    wrong is named with the word expected."""
    d = df.copy()
    d["row"] = [f"{t + 1}. {w}" if w == e else f"{t + 1}. {w} (not {e})"
                for t, w, e in zip(d.out_t, d.written, d.expected)]
    d["col"] = [f"{s + 1}. {w}" for s, w in zip(d.src_t, d.source)]
    rows, cols = list(dict.fromkeys(d.row)), list(dict.fromkeys(d.col))
    side = max(8, min(24, 2 * WIDTH // max(len(cols), 1)))
    return alt.Chart(d).mark_rect(stroke="white", strokeWidth=0.3).encode(
        x=alt.X("col:N", sort=cols, title="source word (in the sentence's order)"),
        y=alt.Y("row:N", sort=rows, title="word written"),
        color=alt.Color("weight:Q", scale=alt.Scale(scheme="blues", domain=[0, 1]), title="attention"),
        tooltip=["row:N", "col:N", alt.Tooltip("weight:Q", format=".2f")],
    ).properties(width=side * len(cols), height=side * len(rows))


def attention_item(df: pd.DataFrame, model_title: str, step: int, name: str = "attention") -> ChartItem:
    """The chart with its caption: which source word each output word was read from."""
    top = df.loc[df.groupby("out_t").weight.idxmax()] if len(df) else df
    caption = (f"{model_title} at training step {step}: each word written (row) reads a weighted sum of the "
               f"encoder's states; the darkest cell is the source word it weighed most. "
               f"The mean largest weight is {top.weight.mean():.2f}." if len(df) else
               f"{model_title} has no attention: the decoder sees the source only through one vector.")
    lines = caption.replace("; ", ";\n", 1).split("\n")  # two lines: the subtitle is as wide as the grid
    chart = finalize(attention_chart(df), title="Attention: where each word was read from", subtitle=lines)
    return ChartItem(name=name, title=f"Attention weights: {model_title}", chart=chart, data=df, caption=caption)


__all__ = ["attention_chart", "attention_item"]
