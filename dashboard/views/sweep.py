"""Sweep sequence length: how long a memory can each model learn? Accuracy against T over seeds."""
import streamlit as st

from core.store import RunStore, StoreError
from dashboard.components.export import export_sweep_report
from dashboard.components.sweep_form import sweep_form
from dashboard.components.sweep_run import run_live, show_results

st.title("Sweep sequence length")
st.write("Train every model at every sequence length T and seed, and see where each stops "
         "remembering. Each run is one model, one T, one seed; the band shows the spread over seeds.")

try:
    store = RunStore()
except StoreError as e:
    st.error(f"The run store cannot be used: {e}")
    st.stop()

sweep = sweep_form()
if sweep is not None:
    run_live(sweep, store)
show_results(store)
export_sweep_report(store)  # HTML report and ZIP of the sweep on screen
