"""Inside the LSTM: cell state and gates of a chosen example, the step-by-step table, the forget gate."""
import streamlit as st

from core.charts.inside import states_charts
from dashboard.components import inspect_source, inspect_widgets
from dashboard.components.chart import show_chart

st.title("Inside the LSTM")
st.markdown("The LSTM's cell state c_t is a conveyor belt: at each step the forget gate f_t decides how much "
            "of it to keep, the input gate i_t how much of a new candidate to write, and the output gate o_t "
            "how much to show as h_t. Here are those quantities in the trained model, beside the vanilla "
            "RNN's hidden state.")

result = inspect_source.pick_result()
if result is None:
    st.stop()
if "lstm" not in result.runs:
    st.warning("This run has no LSTM: only the hidden states of "
               f"{', '.join(r.title for r in result.runs.values())} are shown. Train with the LSTM to see its gates.")

step = inspect_source.step_picker(result, "inside")
x, example = inspect_widgets.example_picker(result)
for item in states_charts(result, step, example):
    show_chart(item, f"inside-{item.name}")

kind = "lstm" if "lstm" in result.runs else next(iter(result.runs))
inspect_widgets.step_table_section(result, kind, step, x, example)
if "lstm" in result.runs:
    inspect_widgets.forget_section(result, step, x, example)
