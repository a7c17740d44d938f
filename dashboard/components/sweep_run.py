"""The sweep on the page: a background job with a progress bar and a Stop, charts that fill in as
runs finish, and the table.

A sweep is a `core.jobs.SweepJob` on the server's job queue: its runs train in a pool of threads
(one per core) outside the page's script runs, during the job's chunks (the queue shares its worker
between sessions), each finished run is written to the run store at once, and the page polls the
job in a fragment. Stop keeps every finished run; starting the same sweep again reuses them. On a first open the page shows the most recent sweep of the run
store, or, with an empty store, the default grid with an estimate of its duration.
"""
from __future__ import annotations

import os

import streamlit as st

from core.charts.sweep import sweep_charts
from core.config import config_hash
from core.executors import make_executor
from core.jobs import SweepJob
from core.store import RunStore
from core.sweep import (DEFAULT_LENGTHS, DEFAULT_SEEDS, SweepConfig, aggregate, default_sweep, estimate_seconds,
                        last_sweep, sweep_from_store)
from dashboard.components import owned, proof
from dashboard.components.plain import md
from dashboard.components.chart import show_chart

ACTIVE = "sweep-active"  # the SweepConfig on screen
JOB = "sweep-job"  # the session's sweep job, while it runs
LAST = "sweep-last"  # what the last run of it said (reused / trained counts)
POLL_S = 2.0  # the progress bar's redraw while a sweep runs
CHART_POLL_S = 5.0  # ... and the charts' (rebuilt only when a run has finished): as the lab's, so that the
# page costs the runs little of the cores they share (docs/speed.md)
LIVE_CHARTS = "sweep-live-charts"  # (job id, finished runs, chart items) drawn last


def start(sweep: SweepConfig, store: RunStore) -> None:
    st.session_state[ACTIVE] = sweep
    st.session_state.pop(LAST, None)
    # threads, not processes: in a Streamlit server `__main__` is the app script, which a spawned
    # worker would import (and so run the app) on start-up
    job = SweepJob(sweep, store, executor_factory=lambda: make_executor("threads"), owner=owned.owner())
    if not owned.submit(JOB, job, what="The sweep did not start"):
        owned.show_notes()


def stop() -> None:
    job = owned.get(JOB)
    if job is not None:
        job.stop()


def busy() -> bool:
    return owned.running(JOB)


def show(store: RunStore) -> None:
    """The sweep on screen: the running one (polled), else the last one this session or the store
    knows, else the default grid with its estimated duration."""
    if owned.get(JOB) is not None:
        live(store)
        live_charts()
        return
    sweep: SweepConfig | None = st.session_state.get(ACTIVE)
    if sweep is None:
        sweep = last_sweep(store)
        if sweep is not None:
            st.session_state[ACTIVE] = sweep
            st.caption("The most recent sweep of the run store (its finished runs); change the grid above and "
                       "press **Start sweep** to run another.")
    if sweep is None and store.from_reference([config_hash(c) for c in default_sweep().jobs()]):
        sweep = default_sweep()  # a first open with an empty store: the default grid, from the reference
        st.session_state[ACTIVE] = sweep
    if sweep is None:
        workers = os.cpu_count() or 1
        st.info("No sweep yet. The form above holds the default grid: first token at T = "
                f"{', '.join(map(str, DEFAULT_LENGTHS))}, vanilla RNN and LSTM, seeds "
                f"{', '.join(map(str, DEFAULT_SEEDS))}. Press **Start sweep** to run it: about "
                f"{_minutes(estimate_seconds(default_sweep(), workers, store))} on this machine's {workers} "
                "cores (measured; runs that reach the target stop early). The chart fills in as runs finish.")
        return
    table = sweep_from_store(sweep, store)
    n = len(sweep.jobs())
    if ref := store.from_reference(table["hash"].tolist() if not table.empty else []):
        st.caption(f"{ref} of these {len(table)} runs: {md(store.reference.origin())} (shipped with the lab, not "
                   "trained on this machine; they carry no seconds, so the cost chart is drawn only for runs "
                   "trained here). **Start sweep** on this grid reuses them."
                   + (f" {proved}" if (proved := proof.line_for([h for h in table["hash"] if store.reference.has(h)])) else ""))
    if LAST in st.session_state:
        st.success(st.session_state[LAST])
    elif len(table) < n:
        st.warning(f"{len(table)} of {n} runs of this grid are in the run store; start the same sweep again to "
                   "train the rest.")
    _charts_and_table(table, "sweep")


@st.fragment(run_every=POLL_S)
def live(store: RunStore) -> None:
    job: SweepJob | None = owned.get(JOB)
    if job is None:
        return
    if job.ended:
        _finish(job)
        st.rerun()
    n = len(job.sweep.jobs())
    if waiting := owned.queued_line(job, "the sweep starts by itself"):
        st.info(waiting)
        return
    p = job.progress
    rows = job.rows()
    frac = p.fraction if p is not None else len(rows) / max(n, 1)
    text = p.message if p is not None else f"{n} runs: looking in the run store..."
    st.progress(min(frac, 1.0), text=text)
    st.caption(f"{len(rows)} of {n} runs done; the charts fill in as runs finish (longest runs first, one "
               "per core). Finished runs are saved at once: Stop keeps them.")


@st.fragment(run_every=CHART_POLL_S)
def live_charts() -> None:
    """The charts and table of the runs finished so far, built again only when another has finished."""
    job: SweepJob | None = owned.get(JOB)
    if job is None or job.ended or owned.ahead(job):
        return
    rows = job.rows()
    if rows.empty:
        return
    cached = st.session_state.get(LIVE_CHARTS)
    if cached is None or cached[:2] != (job.id, len(rows)):
        cached = (job.id, len(rows), sweep_charts(rows))
        st.session_state[LIVE_CHARTS] = cached
    _charts_and_table(rows, "sweep-live", downloads=False, items=cached[2])


def _finish(job: SweepJob) -> None:
    r = job.result
    if job.error:
        st.session_state[LAST] = md(job.error)  # errors quote what they met: shown as text
    elif r is not None:
        st.session_state[LAST] = (f"{len(r.table)} runs: {r.reused} reused from the run store, {r.trained} trained "
                                  f"in {r.wall_s:.0f} s" + (f", {r.failed} failed: {md(r.errors[0])}" if r.failed else "")
                                  + (" - stopped; finished runs are kept" if r.stopped else "")
                                  + (f". {owned.gone_line(job)}" if job.gone else ""))
    st.session_state.pop(LIVE_CHARTS, None)
    owned.forget(JOB)


def _charts_and_table(table, key: str, downloads: bool = True, items=None) -> None:
    if table.empty:
        return
    for item in items if items is not None else sweep_charts(table):
        show_chart(item, key=f"{key}-{item.name}", downloads=downloads)
    agg = aggregate(table)
    if agg.empty:
        return
    compact = agg[["name", "seq_len", "seeds", "metric_mean", "metric_min", "metric_max", "reached",
                   "steps_mean", "wall_mean"]].rename(columns={
        "name": "model", "seq_len": "T", "metric_mean": "mean", "metric_min": "min", "metric_max": "max",
        "reached": "seeds at target", "steps_mean": "steps to target", "wall_mean": "s per run"})
    st.dataframe(compact, hide_index=True, key=f"{key}-table")
    if downloads:
        st.download_button("Download sweep.csv", table.to_csv(index=False), "sweep.csv", "text/csv",
                           on_click="ignore", key=f"{key}-download")


def _minutes(s: float) -> str:
    return f"{s:.0f} s" if s < 90 else f"{s / 60:.1f} minutes"
