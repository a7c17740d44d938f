"""Widgets of the "Inside the LSTM" page: the example picker, the explainer's step-by-step table
(with a sentence the user types, for sentiment_but) and the forget-gate arithmetic. All numbers
come from core.inspection; these functions only lay them out."""
from __future__ import annotations

import streamlit as st
import torch

from core.config import config_hash
from core.inspection import (EXPLAINER_SENTENCE, default_focus_step, forget_arithmetic, sentiment_table,
                             showcase, step_table)
from core.results import RunResult
from dashboard.components.plain import md

SHOWN_UNITS = 8
NUMBERS = "%.4f"


def example_picker(result: RunResult) -> tuple[torch.Tensor, int]:
    """The held-out showcase examples and the index the user picked."""
    x, _, labels = showcase(result.task)
    idx = st.selectbox("Example (held out, one per class where possible)", range(len(labels)),
                       format_func=lambda i: labels[i], key=f"inside-example-{config_hash(result.config)}")
    return x, int(idx or 0)


def _table(df, key: str) -> None:
    if "t" in df.columns:  # time steps count from 1 on screen, as in the charts (the library's from 0)
        df = df.assign(t=df.t + 1)
    cols = {c: st.column_config.NumberColumn(c, format=NUMBERS) for c in df.columns
            if df[c].dtype.kind == "f"}
    st.dataframe(df, hide_index=True, column_config=cols, key=key)


def step_table_section(result: RunResult, kind: str, step: int, x: torch.Tensor, example: int) -> None:
    task = result.task
    st.subheader("Step by step")
    st.caption("One row per input: the mean gates over units, ||c_t||, ||h_t||, and the answer the model's head "
               "would give if the sequence ended at that step (it was trained to answer at the last step only).")
    _table(step_table(result, kind, step, x, example), "inside-step-table")
    if task.name != "sentiment_but":
        return
    text = st.text_input("Your own sentence, in the task's words", value=EXPLAINER_SENTENCE,
                         key="inside-sentence", help="Lower case; commas and full stops are words too.")
    try:
        table = sentiment_table(result, text, kind, step)
    except ValueError as e:
        st.warning(md(str(e)))  # it quotes the typed words
        return
    _table(table, "inside-sentence-table")
    last = table.iloc[-1]
    st.markdown(f"After the last word the {'LSTM' if kind == 'lstm' else kind.upper()} reads **{last['predicted']}** "
                f"({last['confidence']:.0%} sure).")


def forget_section(result: RunResult, step: int, x: torch.Tensor, example: int) -> None:
    st.subheader("The forget gate, with the model's numbers")
    T = x.shape[1]
    t = st.slider("Time step t (from 1, as in the charts)", 1, T, value=default_focus_step(result.task, x, example) + 1,
                  key=f"inside-forget-t-{config_hash(result.config)}")
    word = result.task.render(x[example : example + 1])[0][t - 1]
    df = forget_arithmetic(result, x, t - 1, step, example)  # the library indexes steps from 0
    st.markdown(f"At t = {t} (input **{word}**): f_t = σ(W_f·[h_(t-1), x_t] + b_f), and the cell keeps "
                f"f_t ⊙ c_(t-1) of what it held. Mean f_t over all {len(df)} units: "
                f"**{df['f_t = σ(z)'].mean():.3f}**.")
    top = df.reindex(df["c_t"].abs().sort_values(ascending=False).index).head(SHOWN_UNITS)
    st.caption(f"The {min(SHOWN_UNITS, len(df))} units with the largest |c_t|; download all {len(df)}.")
    _table(top, "inside-forget-table")
    st.download_button("All units (CSV)", data=df.to_csv(index=False).encode(), mime="text/csv",
                       file_name=f"forget_gate_step{step}_t{t}.csv", on_click="ignore",
                       icon=":material/download:", key="inside-forget-csv")
