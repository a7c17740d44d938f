"""The floor: the least a Streamlit page of this lab could cost. It imports what every page of the lab
imports (torch, pandas, altair) and draws one Altair line chart. `python -m benchmarks.first_chart`
serves it beside the lab and divides the lab's times by its time.

    streamlit run benchmarks/floor_app.py
"""
import altair as alt
import pandas as pd
import streamlit as st
import torch

st.title("Floor app")
steps = torch.arange(0, 500, 25)
df = pd.DataFrame({"step": steps.tolist(), "accuracy": (1 - torch.exp(-steps / 150.0)).tolist()})
st.altair_chart(alt.Chart(df).mark_line().encode(x="step:Q", y="accuracy:Q"))
