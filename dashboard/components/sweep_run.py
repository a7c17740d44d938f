"""Run a sweep on the page with a progress bar and a Stop, and show its charts and table.

The sweep runs in this script run, in-process, one run at a time. Every finished run is written
to the run store at once, so Stop (which reruns the page and so interrupts the sweep at its next
progress update) keeps all finished runs: the page then redraws the grid from the store, and
starting the same sweep again reuses them. The active sweep is kept per browser session.
"""
from __future__ import annotations

import streamlit as st

from core.charts.sweep import sweep_charts
from core.store import RunStore
from core.sweep import SweepConfig, SweepResult, aggregate, run_sweep, sweep_from_store
from dashboard.components.chart import show_chart

ACTIVE = "sweep-active"  # the SweepConfig on screen
LAST = "sweep-last"  # what the last complete run of it said (reused / trained counts)


def run_live(sweep: SweepConfig, store: RunStore) -> SweepResult:
    st.session_state[ACTIVE] = sweep
    st.session_state.pop(LAST, None)
    st.button("Stop (keeps finished runs)", key="sweep-stop")
    bar = st.progress(0.0, text=f"{len(sweep.jobs())} runs: looking in the run store...")
    result = run_sweep(sweep, store, on_progress=lambda p: bar.progress(p.fraction, text=p.message))
    bar.empty()
    st.session_state[LAST] = (f"{len(result.table)} runs: {result.reused} reused from the run store, "
                              f"{result.trained} trained in {result.wall_s:.0f} s"
                              + (f", {result.failed} failed: {result.errors[0]}" if result.failed else ""))
    return result


def show_results(store: RunStore) -> None:
    sweep: SweepConfig | None = st.session_state.get(ACTIVE)
    if sweep is None:
        st.info("Choose the grid above and press **Start sweep**. Runs already in the run store are "
                "shown at once, not trained again.")
        return
    table = sweep_from_store(sweep, store)
    n = len(sweep.jobs())
    if LAST in st.session_state:
        st.success(st.session_state[LAST])
    else:
        st.warning(f"Stopped: {len(table)} of {n} runs finished and are kept in the run store; start the "
                   "same sweep again to train the rest.")
    if table.empty:
        return
    for item in sweep_charts(table):
        show_chart(item, key=f"sweep-{item.name}")
    agg = aggregate(table)
    compact = agg[["name", "seq_len", "seeds", "metric_mean", "metric_min", "metric_max", "reached",
                   "steps_mean", "wall_mean"]].rename(columns={
        "name": "model", "seq_len": "T", "metric_mean": "mean", "metric_min": "min", "metric_max": "max",
        "reached": "seeds at target", "steps_mean": "steps to target", "wall_mean": "s per run"})
    st.dataframe(compact, hide_index=True, key="sweep-table")
    st.download_button("Download sweep.csv", table.to_csv(index=False), "sweep.csv", "text/csv",
                       on_click="ignore", key="sweep-download")
