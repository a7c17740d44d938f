import contextlib
import io
import os
import subprocess
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent  # on sys.path through pytest.ini's `pythonpath`
# The shipped reference (core.shipped) is off in tests, here and in every server or command a test
# starts: a test that trains the default experiment means to train it. tests/test_reference.py turns
# it on where it is the subject.
os.environ["LAB_REFERENCE"] = "off"


def run_cli(*args: str) -> subprocess.CompletedProcess:
    """`python -m core ARGS` run in this process: the command's own `main`, its exit status, stdout and
    stderr, as `subprocess.run(..., capture_output=True, text=True)` gives them. A process per command
    costs ~1.7 s of imports here, so the suite runs most commands this way; each command's first test
    still starts the real `python -m core` (an exception escaping `main` fails the test here, as a
    traceback on stderr would there)."""
    from core.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as e:  # argparse: --help, or a flag it refuses (its usage line on stderr)
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    return subprocess.CompletedProcess(["python", "-m", "core", *args], code, out.getvalue(), err.getvalue())


@pytest.fixture(autouse=True)
def _isolated_store(tmp_path, monkeypatch):
    """Every test gets its own run store, never the user's data/ folder."""
    monkeypatch.setenv("LAB_DATA_DIR", str(tmp_path / "store"))
    yield


@pytest.fixture(autouse=True, scope="session")
def _threads():
    from core.trainer import one_compute_thread

    one_compute_thread()  # as every entry point does: runs compute with one torch thread
    yield


@pytest.fixture(autouse=True)
def _no_job_left_running():
    """A test's background jobs end with it: the queue runs one job at a time, so a job left
    running would hold up every later test's jobs."""
    from core import jobs

    yield

    q = jobs.default_queue()
    for j in q.jobs():
        j.stop()
    q.wake()
    for j in q.jobs():
        q.wait(j, timeout=60)
        q.forget(j)


@pytest.fixture(autouse=True)
def _main_module_restored():
    """AppTest runs a page as `__main__` and leaves it there; a process pool started afterwards
    would re-import that page in its workers (multiprocessing spawns from `__main__`)."""
    import sys

    main = sys.modules["__main__"]
    yield
    sys.modules["__main__"] = main
