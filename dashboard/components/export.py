"""The "Export report" widget: one self-contained HTML report and a ZIP of every chart (PNG, SVG)
and its data (CSV) with config.json, for the current run or a sweep.

Both files are made only when their button is clicked (on Streamlit's download thread) and a
click does not rerun the page, so the page stays fast and nothing is trained again.
"""
from __future__ import annotations

import hashlib
import json
import threading
from typing import Callable

import pandas as pd
import streamlit as st

from core.charts import export
from core.results import RunResult
from core.store import RunStore


class _Once:
    """Build the report once for both buttons (a click does not rerun, so they share it)."""

    def __init__(self, make: Callable[[], export.Report]):
        self._make, self._lock, self._report = make, threading.Lock(), None

    def __call__(self) -> export.Report:
        with self._lock:
            if self._report is None:
                self._report = self._make()
            return self._report


def export_report(result: RunResult | None = None, sweep: tuple[pd.DataFrame, dict] | None = None,
                  key: str = "export") -> None:
    """Download buttons for a run's report (`result`) or a sweep's (`sweep` = (rows, config) as
    core.sweep.load_sweep returns them). `key` must be unique on the page."""
    st.subheader("Export report")
    if result is None and sweep is None:
        st.info("Train a run first: the report is made from its results.")
        return
    if result is not None:
        report = _Once(lambda: export.run_report(result))
        stem = f"lab-report-{export.config_hash(result.config)}"
        what = "configuration, verdicts, learning curves, gradients through time and the LSTM's cell state and gates"
    else:
        df, cfg = sweep
        report = _Once(lambda: export.sweep_report(df, cfg))
        digest = hashlib.sha256(json.dumps(cfg, sort_keys=True, default=str).encode()).hexdigest()
        stem = f"lab-sweep-report-{digest[:8]}"
        what = "sweep configuration, accuracy against sequence length and the sweep table"
    st.caption(f"One HTML file that opens offline ({what}, each chart with its caption), and a ZIP of "
               "every chart as PNG and SVG, its data as CSV and `config.json` to run the experiment again.")
    with st.container(horizontal=True, gap="small", key=f"{key}-buttons"):
        st.download_button("Report (HTML)", data=lambda: export.report_html(report()).encode(),
                           file_name=f"{stem}.html", mime=export.MIME["html"], key=f"{key}-html",
                           icon=":material/description:", on_click="ignore",
                           help="Configuration, verdicts and every chart, interactive, in one file")
        st.download_button("Charts and data (ZIP)", data=lambda: export.report_zip(report()),
                           file_name=f"{stem}.zip", mime=export.MIME["zip"], key=f"{key}-zip",
                           icon=":material/folder_zip:", on_click="ignore",
                           help="Every chart as PNG (2x) and SVG, its data as CSV, and config.json")


def export_sweep_report(store: RunStore, key: str = "sweep-export") -> None:
    """The widget for the sweep on screen on the sweep page: the finished runs of its grid that
    the run store holds (what its charts show). Draws nothing while no sweep has results."""
    from core.sweep import sweep_from_store
    from dashboard.components.sweep_run import ACTIVE  # the sweep page's sweep on screen

    sweep = st.session_state.get(ACTIVE)
    if sweep is None:
        return
    table = sweep_from_store(sweep, store)
    if not table.empty:
        export_report(sweep=(table, sweep.to_dict()), key=key)
