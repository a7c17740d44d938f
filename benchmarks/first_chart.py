"""Benchmark: health -> first drawn chart, for the floor app (benchmarks/floor_app.py) and for the lab's
`/`, `/train` and `/sweep`, each on a fresh `streamlit run` with an empty run store, in one run with
chromium already running. A script that prints figures, not a test.

    python -m benchmarks.first_chart                 # 2 rounds, the shipped reference on
    python -m benchmarks.first_chart --rounds 3 --reference off

The clock starts when the server answers /_stcore/health and stops when the page's first
`stVegaLiteChart` has a canvas or svg drawn. Rounds are interleaved (floor, /, /train, /sweep, floor,
...) so that the machine's load falls on every target alike. Prints each time, the median per target
and, last, its ratio to the floor's median; a page that drew no chart within --timeout counts as inf.
"""
from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.test_browser holds the server and browser helpers

from playwright.sync_api import TimeoutError as PlaywrightTimeout  # noqa: E402

from benchmarks import print_ratios  # noqa: E402
from tests.test_browser import browser_page, streamlit_server  # noqa: E402

CHART = "[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg"
TARGETS = {"floor": ("benchmarks/floor_app.py", ""), "/": ("dashboard/app.py", "/"),
           "/train": ("dashboard/app.py", "/train"), "/sweep": ("dashboard/app.py", "/sweep")}


def first_chart(page, script: str, path: str, env: dict, log: Path, timeout_s: float) -> float:
    with tempfile.TemporaryDirectory() as store:
        with streamlit_server(Path(store), log, script=script, env=env) as url:
            t0 = time.perf_counter()
            page.goto(f"{url}{path}")
            try:
                page.wait_for_selector(CHART, timeout=timeout_s * 1000)
            except PlaywrightTimeout:  # e.g. /sweep with no reference and an empty store: no chart at all
                return math.inf
            return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--reference", default=None, help="LAB_REFERENCE for the lab's servers (default: the shipped one)")
    p.add_argument("--timeout", type=float, default=300, help="seconds to wait for a chart")
    p.add_argument("--log", default="/tmp/first_chart_streamlit.log")
    args = p.parse_args(argv)
    env = {"LAB_REFERENCE": args.reference} if args.reference else {}
    times: dict[str, list[float]] = {k: [] for k in TARGETS}
    with browser_page() as page:
        page.goto("about:blank")  # chromium is up before the first clock starts
        for r in range(args.rounds):
            for name, (script, path) in TARGETS.items():
                t = first_chart(page, script, path, env, Path(args.log), args.timeout)
                times[name].append(t)
                print(f"round {r + 1} {name:7s} health -> first chart {t:5.1f} s", flush=True)
    print_ratios(times, "floor")
    return 0


if __name__ == "__main__":
    sys.exit(main())
