"""The page's own CSS, added once per script run by the app (before any element).

- Charts never wider than their column: a chart drawn wider (two panels side by side, ~780 px, in a
  ~540 px column at a 1000 px window with the sidebar open) is scaled down to the column's width
  instead of running past the window with its title cut; SVG scales with its viewBox, so the marks
  stay sharp and hoverable. A chart drawn on a canvas (Streamlit picks the canvas for charts of over
  2,000 marks, e.g. the cell-state heatmaps) is not scaled, since Vega's canvas would then place its
  tooltips wrong: it scrolls sideways inside its column instead of running past the window.
- Still while a job is polled: no CSS animations outside a spinner. Every polling redraw animated the
  "running" indicator, which a browser without a GPU paints on the CPU cores that training needs
  (python -m benchmarks.page_training, docs/speed.md). A spinner keeps turning: it is the only sign that
  its work goes on. Transitions stay: Streamlit fades an element that a rerun has not redrawn yet only
  after a delay, and without transitions every redraw blinked.
"""
from __future__ import annotations

import streamlit as st

CSS = """<style>
[data-testid="stVegaLiteChart"], [data-testid="stVegaLiteChart"] > div, [data-testid="stVegaLiteChart"] .vega-embed {
  max-width: 100%;
}
[data-testid="stVegaLiteChart"] svg.marks { max-width: 100%; height: auto; }
[data-testid="stVegaLiteChart"]:has(canvas) { overflow-x: auto; }
:not([data-testid="stSpinner"], [data-testid="stSpinner"] *) { animation: none !important; }
:not([data-testid="stSpinner"], [data-testid="stSpinner"] *)::before,
:not([data-testid="stSpinner"], [data-testid="stSpinner"] *)::after { animation: none !important; }
</style>"""


def apply() -> None:
    """Once per script run, before any element (the app calls it)."""
    st.html(CSS)


__all__ = ["apply", "CSS"]
