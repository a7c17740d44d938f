from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent  # on sys.path through pytest.ini's `pythonpath`


@pytest.fixture(autouse=True)
def _isolated_store(tmp_path, monkeypatch):
    """Every test gets its own run store, never the user's data/ folder."""
    monkeypatch.setenv("LAB_DATA_DIR", str(tmp_path / "store"))
    yield


@pytest.fixture(autouse=True, scope="session")
def _threads():
    torch.set_num_threads(2)
    yield


@pytest.fixture(autouse=True)
def _no_job_left_running():
    """A test's background jobs end with it: the queue runs one job at a time, so a job left
    running would hold up every later test's jobs."""
    yield
    from core import jobs

    q = jobs.default_queue()
    for j in q.jobs():
        j.stop()
    q.wake()
    for j in q.jobs():
        q.wait(j, timeout=60)
        q.forget(j)
