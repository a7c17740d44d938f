"""End to end in a real browser: `streamlit run` headless, driven by Playwright in Debian's chromium.

Chromium is required, not optional: `.ci/setup` installs it, and a missing browser fails these
tests (a skip would hide a broken install). Run as a script, this file measures the time from
`streamlit run` to the first chart and to the end of the default experiment:

    python tests/test_browser.py
    python tests/test_browser.py --story /tmp   # the tour, from an empty run store to every chapter
"""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from core.story.chapters import CHAPTERS

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
TINY = "seq_len=8&steps=30&hidden_size=8&batch_size=32&models=rnn,lstm"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def streamlit_server(data_dir: Path, log_path: Path, with_process: bool = False, script: str = "dashboard/app.py",
                     env: dict | None = None) -> Iterator:
    """`streamlit run dashboard/app.py` (or `script`) on a free port with its own run store; yields the
    URL (and the process, with_process=True). `env`: variables set for the server on top of ours."""
    port = free_port()
    env = {**os.environ, "LAB_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1", **(env or {})}
    # the console script, as README says: unlike `python -m`, it puts no project root on sys.path
    exe = Path(sys.executable).parent / "streamlit"
    cmd = [str(exe) if exe.exists() else "streamlit", "run", script, "--server.headless", "true",
           "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.time() + 90
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"streamlit exited with {proc.returncode}: {log_path.read_text()[-2000:]}")
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
                if time.time() > deadline:
                    raise RuntimeError("streamlit did not answer /_stcore/health within 90 s")
                time.sleep(0.25)
            yield (url, proc) if with_process else url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


@contextmanager
def browser_page() -> Iterator:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():  # fail, never skip: CI must have installed it (.ci/setup)
        raise AssertionError(f"{CHROMIUM} not found: install Debian's chromium (bash .ci/setup)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            yield page
        finally:
            browser.close()


def wait_idle(page, timeout_s: float = 120) -> None:
    """Wait until the script has run to the end (it reruns once after training)."""
    page.wait_for_selector(IDLE, timeout=timeout_s * 1000)


def click(page, key: str) -> None:
    """Click the button with this Streamlit key (its container carries the class st-key-KEY)."""
    page.locator(f".st-key-{key} button").first.click()


def assert_no_exception(page) -> None:
    assert page.locator("[data-testid='stException']").count() == 0, page.locator(
        "[data-testid='stException']").first.inner_text()


@pytest.fixture
def server(tmp_path) -> Iterator[str]:
    with streamlit_server(tmp_path / "store", tmp_path / "streamlit.log") as url:
        yield url


def test_train_a_tiny_config_in_the_browser(server, tmp_path):
    with browser_page() as page:
        page.goto(f"{server}/train?{TINY}")
        wait_idle(page)
        page.wait_for_selector("text=Not trained yet", timeout=60_000)
        assert_no_exception(page)

        # move the sequence-length slider one step with the keyboard: 8 -> 9, mirrored in the URL
        thumb = page.locator(".st-key-seq_len input[type='range']")
        assert thumb.input_value() == "8"
        thumb.focus()
        page.keyboard.press("ArrowRight")
        page.wait_for_function("() => new URL(location.href).searchParams.get('seq_len') === '9'",
                               timeout=60_000)
        wait_idle(page)
        assert thumb.input_value() == "9"

        click(page, "train")
        page.wait_for_selector("text=Trained just now", timeout=120_000)
        wait_idle(page)
        # the finished page is drawn by one more rerun: wait for its elements, do not count at once
        charts = page.locator("[data-testid='stVegaLiteChart']")
        charts.first.locator("canvas, svg").first.wait_for(timeout=60_000)
        assert charts.count() >= 1
        for name in ("Vanilla RNN", "LSTM"):
            card = page.locator(f"[class*='st-key-verdict-{'rnn' if name == 'Vanilla RNN' else 'lstm'}']")
            card.first.wait_for(timeout=60_000)
            assert card.count() == 1
            assert re.search(rf"{name} .*(learn|remembered)", card.inner_text())
        assert_no_exception(page)
        page.screenshot(path=str(tmp_path / "trained.png"), full_page=True)
        assert (tmp_path / "trained.png").stat().st_size > 10_000


def test_stop_keeps_what_was_trained(server, tmp_path):
    with browser_page() as page:
        page.goto(f"{server}/train?seq_len=8&steps=100000&hidden_size=8&batch_size=16&models=lstm")
        wait_idle(page)
        click(page, "train")
        page.wait_for_selector("[data-testid='stProgress']", timeout=60_000)
        # the inputs that would change the run are disabled while it trains
        page.wait_for_selector(".st-key-seq_len input[type='range']:disabled", timeout=30_000)
        page.wait_for_selector(".st-key-train button:disabled", timeout=30_000)
        page.wait_for_selector("[data-testid='stVegaLiteChart']", timeout=60_000)
        click(page, "stop")
        page.wait_for_selector("text=Stopped at step", timeout=60_000)
        wait_idle(page)
        text = page.locator("[class*='st-key-verdict-lstm']").inner_text()
        assert "stopped" in text
        assert page.locator("[data-testid='stVegaLiteChart']").count() >= 1
        assert_no_exception(page)
        page.screenshot(path=str(tmp_path / "stopped.png"), full_page=True)


def test_a_page_address_opened_first_goes_through_app(server, tmp_path):
    """The first visitor of a fresh server opens /gradients directly: the page must still be
    routed by app.py (its navigation, its sys.path), not run alone as an old-style pages/ file."""
    with browser_page() as page:
        page.goto(f"{server}/gradients")
        wait_idle(page)
        page.wait_for_selector("h1:has-text('Gradients through time')", timeout=60_000)
        wait_idle(page)
        nav = page.locator("[data-testid='stSidebarNav']").inner_text()
        assert "Train side by side" in nav and "Inside the LSTM" in nav, nav
        assert "app" not in nav.split()
        assert_no_exception(page)
        page.goto(f"{server}/?chapter=2")  # a chapter's own link
        page.wait_for_selector("h2:has-text('2. Why: the gradient vanishes')", timeout=60_000)
        assert_no_exception(page)


def test_the_tour_opens_fills_chapter_1_and_links_to_a_preset_lab(server, tmp_path):
    """A fresh server (empty run store): the landing page is the tour; chapter 1's models train in
    the background (the real configs, ~10-30 s here), their learning curves drawn live, and then the
    chapter's charts appear; its "try it in the lab"
    link opens the training page with that experiment, some controls hidden, shown from the store."""
    with browser_page() as page:
        page.goto(server)
        page.wait_for_selector("h1:has-text('The story')", timeout=60_000)
        page.wait_for_selector("text=fills in when its models have trained", timeout=60_000)
        # while they train, their learning curves are drawn live from step 0, as the lab draws its own
        page.wait_for_selector("text=, live", timeout=120_000)
        page.locator("[data-testid='stVegaLiteChart'] svg.marks").first.wait_for(timeout=120_000)
        # and the page keeps still while it polls: no CSS animation running (a browser without a GPU paints
        # each one on the cores training needs; dashboard/components/page_style.py)
        running = page.evaluate("() => document.getAnimations().filter(a => a.playState === 'running' && "
                                "a instanceof CSSAnimation).map(a => a.animationName)")
        assert running == [], running
        page.wait_for_selector("text=What the models here did", timeout=300_000)
        wait_idle(page)
        charts = page.locator("[data-testid='stVegaLiteChart']")
        charts.first.locator("canvas, svg").first.wait_for(timeout=60_000)
        assert charts.count() >= 2  # learning curves at the short and the long gap
        assert "chapter=1" in page.url
        assert_no_exception(page)
        page.screenshot(path=str(tmp_path / "story.png"), full_page=True)
        page.locator("[data-testid='stPageLink'] a", has_text="Try it in the lab").first.click()
        page.wait_for_selector("h1:has-text('Train a vanilla RNN and an LSTM')", timeout=60_000)
        page.wait_for_selector("text=Loaded from the run store", timeout=60_000)
        wait_idle(page)
        assert "/train" in page.url and "hide=" in page.url and "preset" not in page.url
        assert page.locator(".st-key-lr").count() == 0 and page.locator(".st-key-seq_len").count() == 1
        assert page.locator("text=learning rate 0.003").count() >= 1  # hidden, and still stated
        assert_no_exception(page)


def test_the_interview_commit_see_next_in_the_browser(tmp_path):
    """A fresh server with the shipped reference (as a learner gets it): question 1 asks first and shows
    nothing measured; committing shows the measured answer (the tour's T = 100 run), a chart and what to
    say; "Next question" opens question 2 with its own address. (Its runs training as jobs from an empty
    store: tests/test_interview.py.)"""
    env = {"LAB_REFERENCE": str(ROOT / "reference"), "LAB_PROVE": "off"}
    with streamlit_server(tmp_path / "store", tmp_path / "streamlit.log", env=env) as server, browser_page() as page:
        page.goto(server + "/interview?q=1")
        page.wait_for_selector("h2:has-text('1. Why LSTMs beat RNNs')", timeout=60_000)
        wait_idle(page)
        assert page.locator("text=What to say in an interview").count() == 0
        assert page.locator("[data-testid='stVegaLiteChart']").count() == 0  # nothing before commit
        click(page, "interview-commit-1")
        page.wait_for_selector("text=What to say in an interview", timeout=400_000)
        wait_idle(page)
        page.locator("[data-testid='stVegaLiteChart']").first.locator("canvas, svg").first.wait_for(timeout=60_000)
        assert page.locator("text=Measured in the lab").count() >= 1 and page.locator("text=Your answer").count() >= 1
        assert_no_exception(page)
        page.screenshot(path=str(tmp_path / "interview.png"), full_page=True)
        click(page, "interview-next-1")
        page.wait_for_selector("h2:has-text('2. Why LSTMs beat RNNs')", timeout=60_000)
        wait_idle(page)
        assert "q=2" in page.url and page.locator("text=What to say in an interview").count() == 0
        assert_no_exception(page)


# --- a benchmark, not a test: python tests/test_browser.py --------------------------------------
def measure(out_dir: Path) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as store:
        t0 = time.perf_counter()
        with streamlit_server(Path(store), out_dir / "streamlit.log") as url:
            t_health = time.perf_counter() - t0
            with browser_page() as page:
                page.goto(f"{url}/train")
                page.wait_for_selector("[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg",
                                       timeout=300_000)
                t_chart = time.perf_counter() - t0
                page.wait_for_selector("text=Trained just now", timeout=600_000)
                t_done = time.perf_counter() - t0
                wait_idle(page)
                page.set_viewport_size({"width": 1400, "height": 2000})  # the explainer too
                page.screenshot(path=str(out_dir / "default.png"))
                origin = page.locator("text=Trained just now").first.inner_text()
    print(f"streamlit run -> /_stcore/health answers: {t_health:.1f} s")
    print(f"streamlit run -> first chart in the browser (default experiment training): {t_chart:.1f} s")
    print(f"streamlit run -> default experiment finished: {t_done:.1f} s  ({origin})")
    print(f"screenshot: {out_dir / 'default.png'}")


def measure_story(out_dir: Path) -> None:
    """`streamlit run` on an empty run store -> the tour's chapter 1 drawn, and every chapter filled in."""
    import tempfile

    with tempfile.TemporaryDirectory() as store:
        t0 = time.perf_counter()
        with streamlit_server(Path(store), out_dir / "streamlit.log") as url:
            with browser_page() as page:
                page.goto(url)
                page.wait_for_selector("text=What the models here did", timeout=600_000)
                t_first = time.perf_counter() - t0
                page.wait_for_selector("text=The tour is complete", timeout=900_000)
                t_all = time.perf_counter() - t0
                page.screenshot(path=str(out_dir / "story.png"), full_page=True)
    print(f"streamlit run -> the tour's chapter 1 filled in (empty run store): {t_first:.1f} s")
    print(f"streamlit run -> every chapter filled in: {t_all:.1f} s")


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["--story"]:
        measure_story(Path(args[1]) if len(args) > 1 else Path("/tmp"))
    else:
        measure(Path(args[0]) if args else Path("/tmp"))


# --- every chart readable: the shipped reference draws every page at once --------------
READABLE_PAGES = [f"/?chapter={c.number}" for c in CHAPTERS] + ["/train", "/gradients", "/inside", "/cell", "/sweep"]
# Per SVG chart: its main plotted height (the tallest vertical axis line: a chart's small multiples and
# strips, such as chapter 3's per-unit facets or the gradient-clipping strip, are not its main plot)
# and the right edge of its title. A canvas chart (Streamlit draws charts of over 2,000 marks on a
# canvas, e.g. the cell-state heatmaps) is not scaled: its box must end inside the window, and scroll
# sideways to reach what is wider.
CHART_BOXES = """() => [...document.querySelectorAll("[data-testid='stVegaLiteChart'] svg.marks")].map(s => {
  const v = [...s.querySelectorAll('.role-axis-domain')].map(d => d.getBoundingClientRect())
    .filter(b => b.height > b.width).map(b => b.height);
  const t = [...s.querySelectorAll('.role-title')].map(d => d.getBoundingClientRect().right);
  return {plot: Math.max(0, ...v), title_right: Math.max(0, ...t), right: s.getBoundingClientRect().right}; })"""
CANVAS_BOXES = """() => [...document.querySelectorAll("[data-testid='stVegaLiteChart']:has(canvas)")].map(c => {
  const box = c.getBoundingClientRect(), canvas = c.querySelector('canvas').getBoundingClientRect();
  return {right: box.right, canvas_right: canvas.right, scrolls: c.scrollWidth > c.clientWidth,
          overflow: getComputedStyle(c).overflowX}; })"""


def settled(page, js: str, timeout_s: float = 10.0) -> list:
    """What `js` measures once two readings 0.3 s apart agree (the columns reflow and charts as wide as
    their column draw again after the window changes)."""
    last, deadline = page.evaluate(js), time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        time.sleep(0.3)
        now = page.evaluate(js)
        if now == last:
            return now
        last = now
    return last


def test_every_chart_is_readable_at_1400_and_1000_px(tmp_path):
    """Each page opened once at 1400 px, measured, then narrowed to 1000 px and measured again (the
    charts are scaled by CSS, so a narrower window needs no new page)."""
    env = {"LAB_REFERENCE": str(ROOT / "reference"), "LAB_PROVE": "off"}
    with streamlit_server(tmp_path / "store", tmp_path / "streamlit.log", env=env) as url, browser_page() as page:
        bad = []
        for path in READABLE_PAGES:
            page.set_viewport_size({"width": 1400, "height": 1000})
            page.goto(url + path)
            wait_idle(page)
            page.wait_for_selector("[data-testid='stVegaLiteChart'] svg.marks", timeout=60_000)
            assert_no_exception(page)
            for width in (1400, 1000):  # each measured once its charts stop moving (`settled`)
                if width != 1400:
                    page.set_viewport_size({"width": width, "height": 1000})
                for i, c in enumerate(settled(page, CHART_BOXES)):
                    if c["plot"] < 150 or c["title_right"] > width or c["right"] > width:
                        bad.append(f"{width} px {path} chart {i + 1}: plotted {c['plot']:.0f} px tall, title ends at "
                                   f"{c['title_right']:.0f} px, chart at {c['right']:.0f} px")
                for i, c in enumerate(page.evaluate(CANVAS_BOXES)):
                    hidden = c["canvas_right"] > c["right"] + 1 and not (c["scrolls"] and c["overflow"] in ("auto", "scroll"))
                    if c["right"] > width or hidden:
                        bad.append(f"{width} px {path} canvas chart {i + 1}: box ends at {c['right']:.0f} px, canvas at "
                                   f"{c['canvas_right']:.0f} px, overflow {c['overflow']}")
        assert not bad, "\n".join(bad)


def test_upload_a_csv_and_train_on_it(server, tmp_path):
    """A CSV the lab has never seen: uploaded on /train, it becomes the task, trains, and the chart's
    caption names both baselines drawn (persistence and the training mean)."""
    rows = [f"2024-01-{d:02d},{10 + (d % 5) * 0.7 + (d % 3) * 0.2:.2f}" for d in range(1, 32)]
    rows += [f"2024-02-{d:02d},{9 + (d % 4) * 0.9:.2f}" for d in range(1, 29)]
    path = tmp_path / "my shop.csv"
    path.write_text("day,sales\n" + "\n".join(rows) + "\n")
    with browser_page() as page:
        page.goto(f"{server}/train?seq_len=8&steps=30&hidden_size=8&batch_size=32&models=rnn,lstm")
        wait_idle(page)
        page.get_by_text("Your own data: a CSV file").click()
        page.locator(".st-key-own-upload input[type='file']").set_input_files(str(path))
        page.wait_for_selector("text=Using your file", timeout=60_000)
        wait_idle(page)
        assert "forecasting 'sales', rows ordered by 'day'" in page.locator("[data-testid='stAlert']").first.inner_text()
        click(page, "train")
        page.wait_for_selector("text=Trained just now", timeout=120_000)
        wait_idle(page)
        page.locator("[data-testid='stVegaLiteChart']").first.locator("canvas, svg").first.wait_for(timeout=60_000)
        page.wait_for_selector("text=The dotted rule is the training-mean forecast", timeout=60_000)
        assert "persistence forecast" in page.locator("[class*='st-key-verdict-lstm']").first.inner_text()
        assert_no_exception(page)
