"""Benchmark: what an open page costs a run that trains. The lab's default experiment (first_token,
T = 100, RNN + LSTM, 500 steps) trained headless (a TrainJob on a JobQueue in a fresh process, no
server, no browser) against the same job trained by a fresh `streamlit run` whose /train page is open
in chromium (empty run store, reference off, so the page starts it itself and polls it to the end:
"page opening"), and once more with the Train button on the loaded page ("page open": polling only).
A script that prints figures, not a test.

    python -m benchmarks.page_training               # 3 rounds, interleaved (headless, page, ...)
    python -m benchmarks.page_training --rounds 1
    python -m benchmarks.page_training --defaults   # and with Streamlit's defaults for the options we turn off
    python -m benchmarks.page_training --sweep --rounds 1   # a 12-run sweep: headless, and from the sweep page

Both figures are the job's own `wall_s` (seconds spent training, evaluation included, not queued): the
page's is read off its "Trained just now: 500 steps in X s" line. Prints each round, the medians and
their ratio (the issue's target: page / headless <= 1.3).
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.test_browser holds the server and browser helpers

from benchmarks import print_ratios  # noqa: E402

DONE = re.compile(r"Trained just now: ([\d,]+) steps in ([\d.]+) s")
SWEPT = re.compile(r"(\d+) trained in (\d+) s")
# --sweep: a grid of 12 runs (first_token, T = 25, 50, 100, RNN + LSTM, seeds 0 and 1, the page's other
# defaults), trained by the sweep page's thread executor
SWEEP_LENGTHS, SWEEP_SEEDS = "25,50,100", "0,1"


def sweep_config():
    from core.config import RunConfig, TaskConfig, TrainConfig
    from core.sweep import DEFAULT_PATIENCE, DEFAULT_STEPS, make_sweep

    base = RunConfig(task=TaskConfig(name="first_token"), train=TrainConfig(steps=DEFAULT_STEPS,
                                                                            patience=DEFAULT_PATIENCE))
    return make_sweep(base, SWEEP_LENGTHS, SWEEP_SEEDS, ("rnn", "lstm"))


def headless_sweep_once() -> float:
    """The grid as the sweep page runs it (a SweepJob on a queue, a thread per core), nothing else running."""
    from core.executors import make_executor
    from core.jobs import JobQueue, SweepJob
    from core.trainer import one_compute_thread

    one_compute_thread()
    queue = JobQueue()
    job = queue.submit(SweepJob(sweep_config(), None, executor_factory=lambda: make_executor("threads")))
    if not queue.wait(job, timeout=1200):
        raise RuntimeError("the headless sweep did not end within 1200 s")
    queue.close()
    return job.result.wall_s


def sweep_page(page, log: Path) -> tuple[float, float, float]:
    """The grid started from the sweep page (reference off, empty store), polled to its end."""
    from tests.test_browser import click, streamlit_server, wait_idle

    with tempfile.TemporaryDirectory() as store:
        with streamlit_server(Path(store), log, env={"LAB_REFERENCE": "off", "LAB_PROVE": "off"}) as url:
            page.goto(f"{url}/sweep")
            wait_idle(page)
            page.locator(".st-key-sweep-lengths input").fill(SWEEP_LENGTHS)
            page.locator(".st-key-sweep-seeds input").fill(SWEEP_SEEDS)
            server0, browser0 = cpu_s("streamlit"), cpu_s("chromium")
            click(page, "sweep-start")
            page.wait_for_selector("text=/\\d+ trained in \\d+ s/", timeout=1_200_000)
            server, browser = cpu_s("streamlit") - server0, cpu_s("chromium") - browser0
            m = SWEPT.search(page.inner_text("body"))
            if m is None or int(m.group(1)) != len(sweep_config().jobs()):
                raise RuntimeError(f"the sweep page did not train the grid: {m and m.group(0)}")
            return float(m.group(2)), server, browser


def headless_once() -> float:
    """The default experiment as a job on a queue of its own, nothing else running; its wall_s."""
    from core.config import RunConfig
    from core.jobs import JobQueue, TrainJob
    from core.trainer import one_compute_thread

    one_compute_thread()  # as the server does at start (app.py)
    queue = JobQueue()
    job = queue.submit(TrainJob(RunConfig()))
    if not queue.wait(job, timeout=600):
        raise RuntimeError("the headless job did not end within 600 s")
    queue.close()
    return job.wall_s


def headless(flag: str = "--headless-once") -> tuple[float, float]:
    """(the job's wall_s, the process's CPU s)."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with tempfile.TemporaryDirectory() as store:
        out = subprocess.run([sys.executable, "-m", "benchmarks.page_training", flag], cwd=ROOT,
                             env={**_env(), "LAB_DATA_DIR": store}, capture_output=True, text=True, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return float(out.stdout.strip().splitlines()[-1]), cpu


def _env() -> dict:
    return {**os.environ, "LAB_REFERENCE": "off", "LAB_PROVE": "off"}


def cpu_s(match: str) -> float:
    """CPU seconds (user + system) used so far by the live processes whose command line holds `match`."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            if match not in (d / "cmdline").read_bytes().decode(errors="replace"):
                continue
            fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


# Streamlit's own defaults for the two server options .streamlit/config.toml turns off (as environment
# variables, which override the file): what the page cost before they were turned off.
STREAMLIT_DEFAULTS = {"STREAMLIT_RUNNER_POST_SCRIPT_GC": "true", "STREAMLIT_SERVER_FILE_WATCHER_TYPE": "auto"}


def with_page(page, log: Path, path: str = "/train", env: dict | None = None) -> list[tuple[float, float, float]]:
    """Two runs of the default experiment with the page open: the one the page starts on its first open
    (it trains while the page loads) and the same run again, started with the Train button on the loaded
    page (polling only). For each: (the job's wall_s, the server's CPU s, chromium's CPU s) from the
    start to the run's end."""
    from tests.test_browser import click, streamlit_server, wait_idle

    runs = []
    with tempfile.TemporaryDirectory() as store:
        with streamlit_server(Path(store), log, env={"LAB_REFERENCE": "off", "LAB_PROVE": "off", **(env or {})}) as url:
            for i in range(2):
                server0, browser0 = cpu_s("streamlit"), cpu_s("chromium")
                if i == 0:
                    page.goto(f"{url}{path}")
                else:  # every model is in the store: Train trains them all again, to be watched
                    click(page, "train")
                    page.wait_for_selector("[data-testid='stProgress']", timeout=60_000)
                page.wait_for_selector("text=Trained just now", timeout=600_000)
                server, browser = cpu_s("streamlit") - server0, cpu_s("chromium") - browser0
                m = DONE.search(page.inner_text("body"))
                if m is None:
                    raise RuntimeError("the page's 'Trained just now' line has no time")
                runs.append((float(m.group(2)), server, browser))
                wait_idle(page)
    return runs


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--defaults", action="store_true",
                   help="also measure the page with Streamlit's default runner.postScriptGC and server.fileWatcherType")
    p.add_argument("--log", default="/tmp/page_training_streamlit.log")
    p.add_argument("--sweep", action="store_true", help="a 12-run sweep from the sweep page instead")
    p.add_argument("--headless-once", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--headless-sweep-once", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.headless_once:
        print(headless_once())
        return 0
    if args.headless_sweep_once:
        print(headless_sweep_once())
        return 0
    if args.sweep:
        return main_sweep(args)
    from tests.test_browser import browser_page

    variants = {"": {}, " (Streamlit's defaults)": STREAMLIT_DEFAULTS} if args.defaults else {"": {}}
    times: dict[str, list[float]] = {"headless": []}
    with browser_page() as page:
        page.goto("about:blank")
        for r in range(args.rounds):
            wall, cpu = headless()
            times["headless"].append(wall)
            print(f"round {r + 1} headless      {wall:5.1f} s (the whole process, imports included: {cpu:.1f} CPU s)",
                  flush=True)
            for suffix, env in variants.items():
                for name, (wall, server, browser) in zip(("page opening", "page open"),
                                                         with_page(page, Path(args.log), env=env)):
                    times.setdefault(name + suffix, []).append(wall)
                    print(f"round {r + 1} {name + suffix:13s} {wall:5.1f} s (start to end: server {server:.1f} CPU s, "
                          f"chromium {browser:.1f} CPU s)", flush=True)
                page.goto("about:blank")
    print_ratios(times, "headless")
    return 0


def main_sweep(args) -> int:
    from tests.test_browser import browser_page

    times: dict[str, list[float]] = {"headless sweep": [], "sweep page open": []}
    with browser_page() as page:
        page.goto("about:blank")
        for r in range(args.rounds):
            wall, cpu = headless("--headless-sweep-once")
            times["headless sweep"].append(wall)
            print(f"round {r + 1} headless sweep  {wall:5.1f} s ({cpu:.1f} CPU s)", flush=True)
            wall, server, browser = sweep_page(page, Path(args.log))
            times["sweep page open"].append(wall)
            print(f"round {r + 1} sweep page open {wall:5.1f} s (server {server:.1f} CPU s, chromium {browser:.1f} "
                  "CPU s)", flush=True)
            page.goto("about:blank")
    print_ratios(times, "headless sweep")
    return 0


if __name__ == "__main__":
    sys.exit(main())
