"""Several people at once: eight browser sessions on one server, each training its own small
config at the same moment while a ninth trains 100,000 steps. Every session gets its own result (its
own sequence length in its verdicts) while the long run goes on and keeps progressing (the queue
shares its worker between sessions, core.share), every run is stored, and the server's memory stays
bounded."""
from __future__ import annotations

import re
import sqlite3
import time
from pathlib import Path

from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, IDLE, click, streamlit_server

N = 8
MAX_RSS_MB = 2500  # measured ~700-900 MB for the server after the eight runs


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _hog_step(page) -> int:
    """The step the long run's progress bar shows ('Step 1,234 of 100,000 · ...')."""
    text = page.locator("text=/Step [\\d,]+ of 100,000/").first.inner_text()
    return int(re.search(r"Step ([\d,]+) of", text).group(1).replace(",", ""))


def test_eight_sessions_train_at_once_and_each_gets_its_own_result(tmp_path):
    from playwright.sync_api import sync_playwright

    lengths = [5 + i for i in range(N)]  # a different config per session
    with streamlit_server(tmp_path / "store", tmp_path / "server.log", with_process=True) as (url, proc):
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                hog = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
                hog.goto(f"{url}/train?seq_len=20&steps=100000&hidden_size=8&batch_size=16&models=rnn,lstm")
                hog.wait_for_selector("text=Not trained yet", timeout=120_000)
                hog.wait_for_selector(IDLE, timeout=120_000)
                click(hog, "train")
                hog.wait_for_selector("text=/Step [1-9][\\d,]* of 100,000/", timeout=120_000)
                pages = []
                for T in lengths:  # one browser context each: its own cookies, its own Streamlit session
                    page = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
                    page.goto(f"{url}/train?seq_len={T}&steps=40&hidden_size=8&batch_size=16&models=rnn,lstm")
                    pages.append(page)
                for page in pages:
                    page.wait_for_selector("text=Not trained yet", timeout=120_000)
                    page.wait_for_selector(IDLE, timeout=120_000)
                for page in pages:  # as close to the same moment as one driver can click
                    click(page, "train")
                hog_before = _hog_step(hog)
                for T, page in zip(lengths, pages):
                    page.wait_for_selector("text=Trained just now", timeout=120_000)
                    page.wait_for_selector(IDLE, timeout=60_000)
                    for kind in ("rnn", "lstm"):
                        card = page.locator(f"[class*='st-key-verdict-{kind}']").first
                        card.wait_for(timeout=60_000)
                        assert f"over {T} steps" in card.inner_text(), (T, card.inner_text())
                    assert page.locator("[data-testid='stException']").count() == 0
                # the eight did not wait for the long run, and it went on while they trained
                deadline = time.monotonic() + 30
                while _hog_step(hog) <= hog_before:
                    assert time.monotonic() < deadline, "the 100,000-step run stopped progressing"
                    time.sleep(0.5)
                assert hog.locator("text=Trained just now").count() == 0
                rss = _rss_mb(proc.pid)
            finally:
                browser.close()
    with sqlite3.connect(tmp_path / "store" / "runs.sqlite") as conn:
        rows = conn.execute("SELECT seq_len, kind, status FROM model_runs").fetchall()
    assert sorted(rows) == sorted((T, k, "finished") for T in lengths for k in ("lstm", "rnn"))  # nothing lost
    assert rss < MAX_RSS_MB, f"server holds {rss:.0f} MB after {N} sessions"
    assert "Traceback" not in (tmp_path / "server.log").read_text()
