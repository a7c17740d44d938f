"""Measure every chart's plotted height and whether it fits the window, at 1400 and 1000 px wide, on a
fresh server reading the shipped reference (nothing trains). A script that prints figures, not a test.

    python -m benchmarks.chart_sizes

Per chart: `plot` = the tallest vertical axis line in its SVG (the main plotted area's height, px; a
faceted chart reports one facet), `strip` = the shortest (a strip or small multiple beside it), `right` = the SVG's right edge and `title_right` its title's, against
the window's width (a title right of the window is cut). Canvas-rendered charts (the heatmaps) are
listed with their drawn height and right edge (they are not scaled to the column).
"""
from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.test_browser import browser_page, streamlit_server, wait_idle  # noqa: E402

PAGES = [f"/?chapter={i}" for i in range(1, 8)] + ["/train", "/gradients", "/inside", "/sweep"]
JS = """() => [...document.querySelectorAll("[data-testid='stVegaLiteChart']")].map(e => {
  const s = e.querySelector('svg');
  if (!s) { const c = e.querySelector('canvas').getBoundingClientRect();
            return {canvas: true, height: Math.round(c.height), right: Math.round(c.right)}; }
  const v = [...s.querySelectorAll('.role-axis-domain')].map(d => d.getBoundingClientRect())
    .filter(b => b.height > b.width).map(b => Math.round(b.height));
  const t = [...s.querySelectorAll('.role-title')].map(d => Math.round(d.getBoundingClientRect().right));
  return {plot: Math.max(0, ...v), strip: Math.min(...v), right: Math.round(s.getBoundingClientRect().right),
          title_right: Math.max(0, ...t)}; })"""


def main() -> int:
    with tempfile.TemporaryDirectory() as d:
        env = {"LAB_REFERENCE": str(ROOT / "reference"), "LAB_PROVE": "off"}
        with streamlit_server(Path(d) / "store", Path(d) / "streamlit.log", env=env) as url:
            with browser_page() as page:
                for width in (1400, 1000):
                    page.set_viewport_size({"width": width, "height": 1000})
                    for path in PAGES:
                        page.goto(url + path)
                        wait_idle(page)
                        time.sleep(1.0)  # the last chart's render
                        charts = page.evaluate(JS)
                        cut = [c for c in charts if c["right"] > width or c.get("title_right", 0) > width]
                        low = [c for c in charts if not c.get("canvas") and c["plot"] < 150]
                        print(f"{width} {path:12s} {json.dumps(charts)}"
                              f"{'  PAST THE WINDOW' if cut else ''}{'  UNDER 150 PX' if low else ''}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
