import os
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent  # on sys.path through pytest.ini's `pythonpath`
# The shipped reference (core.reference) is off in tests, here and in every server or command a test
# starts: a test that trains the default experiment means to train it. tests/test_reference.py turns
# it on where it is the subject.
os.environ["LAB_REFERENCE"] = "off"


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
