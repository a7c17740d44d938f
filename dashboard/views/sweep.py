"""Sweep sequence length: how long a memory can each model learn? Accuracy against T over seeds."""
import streamlit as st

from core.store import RunStore, StoreError
from dashboard.components import sweep_run
from dashboard.components.export import export_sweep_report
from dashboard.components.plain import md
from dashboard.components.sweep_form import sweep_form

st.title("Sweep sequence length")
st.write("Train every model at every sequence length T and seed, and see where each stops "
         "remembering. Each run is one model, one T, one seed; the band shows the spread over seeds.")

try:
    store = RunStore()
except StoreError as e:
    st.error(md(f"The run store cannot be used: {e}"))
    st.stop()

sweep = sweep_form(busy=sweep_run.busy())
if sweep is not None:
    sweep_run.start(sweep, store)
if sweep_run.busy():
    st.button("Stop (keeps finished runs)", key="sweep-stop", on_click=sweep_run.stop)
sweep_run.show(store)
if not sweep_run.busy():
    export_sweep_report(store)  # HTML report and ZIP of the sweep on screen
