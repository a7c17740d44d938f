"""Gradients through time: how strongly the answer's loss reaches back to each hidden state."""
import streamlit as st

from core.charts.inside import grad_norm_item, grad_through_time_item
from core.inspection import decay_table
from dashboard.components import connectivity, inspect_source
from dashboard.components.chart import show_chart

st.title("Gradients through time")
st.markdown("Training adjusts a weight by how much the loss at the last step depends on it. For an input "
            "seen at step t, that signal has to travel back through h_T, h_(T-1), ... h_t. In a vanilla "
            "RNN every step back multiplies it by the recurrent weights and a tanh slope, so it shrinks "
            "exponentially; the LSTM's cell state adds instead of multiplying, so it can carry back.")

result = inspect_source.pick_result()
if result is None:
    st.stop()

step = inspect_source.step_picker(result, "gradients")
with st.spinner("Probing the checkpoints..."):
    item = grad_through_time_item(result, step)
show_chart(item, "gradients-through-time")

st.subheader("How much of the signal reaches the first step, before and after training")
for line in decay_table(result)["summary"]:  # initialisation and the last checkpoint, whatever the slider says
    st.markdown(f"- {line}")

st.subheader("Gradient norm over training")
show_chart(grad_norm_item(result), "gradients-norm")

st.subheader("Connectivity: which inputs each read-out depends on")
connectivity.show(result, step, "gradients-connectivity")
