"""The connectivity chart on a page: computed once per run and checkpoint in this session (at T = 100
it costs a few seconds), drawn with the lab's chart widget."""
from __future__ import annotations

import streamlit as st

from core.charts.inside import connectivity_item
from core.config import config_hash
from core.inspection import connectivity_frame
from core.results import RunResult
from dashboard.components.chart import show_chart

CACHE = "connectivity_frames"  # (run's config hash, step) -> connectivity_frame, this session only


def show(result: RunResult, step: int | None, key: str) -> None:
    """Connectivity of every model of `result` at the checkpoint nearest `step`: a slider picks the
    read-out position, each model's strip shows which inputs it depends on."""
    cache = st.session_state.setdefault(CACHE, {})
    k = (config_hash(result.config), id(result), step)
    if k not in cache:
        with st.spinner("Differentiating each read-out with respect to every input..."):
            cache.clear()  # one run's frames at a time: they are T x T per model
            cache[k] = connectivity_frame(result, step=step)
    show_chart(connectivity_item(cache[k], result.task), key)
