"""Draw a core ChartItem. Every chart on every page goes through `show_chart`, so whatever a
chart needs beside it (captions, downloads) is added in one place."""
from __future__ import annotations

import streamlit as st

from core.charts import ChartItem


def show_chart(item: ChartItem, key: str) -> None:
    """`key` must be unique on the page (e.g. f"train-{item.name}")."""
    # theme=None: the chart's own config (core.charts.finalize) so the page matches the export
    st.altair_chart(item.chart, theme=None, key=key)
    st.caption(item.caption)
