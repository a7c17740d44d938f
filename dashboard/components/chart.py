"""Draw a core ChartItem. Every chart on every page goes through `show_chart`, so whatever a
chart needs beside it (captions, downloads) is added in one place."""
from __future__ import annotations

from typing import Callable

import streamlit as st

from core.charts import ChartItem, export

DOWNLOADS = (  # format, button label, tooltip
    ("png", "PNG", "The chart as a PNG image at 2x resolution, for slides"),
    ("svg", "SVG", "The chart as a vector image, for papers"),
    ("html", "HTML", "The chart as an interactive web page that opens offline"),
    ("csv", "CSV", "The data this chart draws, as a table"),
)


def _deferred(item: ChartItem, fmt: str) -> Callable[[], bytes]:
    # Made only when the button is clicked, on Streamlit's download thread: a PNG or SVG costs
    # ~0.2-1 s to render, which the page must not pay on every rerun for every chart.
    return lambda: export.export_chart(item, fmt)


def download_buttons(item: ChartItem, key: str) -> None:
    """PNG, SVG, HTML and CSV of one chart. A click neither reruns the page nor retrains."""
    with st.container(horizontal=True, gap="small", key=f"{key}-downloads"):
        for fmt, label, tip in DOWNLOADS:
            st.download_button(label, data=_deferred(item, fmt), file_name=f"{item.name}.{fmt}",
                               mime=export.MIME[fmt], key=f"{key}-dl-{fmt}", help=tip,
                               icon=":material/download:", on_click="ignore", type="tertiary")


def show_chart(item: ChartItem, key: str, downloads: bool = True) -> None:
    """`key` must be unique on the page (e.g. f"train-{item.name}"). Pass downloads=False for a
    chart redrawn live while training (its buttons would go stale between redraws)."""
    # theme=None: the chart's own config (core.charts.finalize) so the page matches the export
    st.altair_chart(item.chart, theme=None, key=key)
    st.caption(item.caption)
    if downloads:
        download_buttons(item, key)
