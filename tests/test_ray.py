"""The Ray executor against a local Ray instance this test starts (2 CPUs) and shuts down.

Two ways in: the CLI as a separate driver joining the instance by `--address` (core travels
through runtime_env py_modules), and RayExecutor inside a process that already called ray.init.
Both must write into the run store the same numbers the in-process executor gives.
"""
import os
import subprocess
import sys

import pandas as pd
import pytest
import ray

from core.config import ModelConfig, RunConfig, TrainConfig
from core.executors import InProcessExecutor, RayExecutor
from core.store import RunStore
from core.sweep import make_sweep, run_sweep
from tests.conftest import ROOT

BASE = RunConfig(model=ModelConfig(hidden_size=8), train=TrainConfig(steps=20, eval_every=10, n_checkpoints=2))
COLS = ["model", "seq_len", "seed", "metric", "steps_run", "status", "hash"]


@pytest.fixture
def local_ray():
    ctx = ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR",
                   object_store_memory=100 * 1024 * 1024)  # small: CI's /dev/shm may be small too
    try:
        yield ctx.address_info["address"]
    finally:
        ray.shutdown()


def test_ray_executor_matches_in_process(local_ray, tmp_path):
    sweep = make_sweep(BASE, "8", "0")
    ref = run_sweep(sweep, RunStore(tmp_path / "ref"), InProcessExecutor())

    p = subprocess.run([sys.executable, "-m", "core", "sweep", "--executor", "ray", "--address", local_ray,
                        "--lengths", "8", "--seeds", "0", "--models", "rnn,lstm", "--steps", "20",
                        "--eval-every", "10", "--n-checkpoints", "2", "--hidden-size", "8", "--patience", "0", "--quiet",
                        "--store", str(tmp_path / "cli"), "--out", str(tmp_path / "out")],
                       cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
                       timeout=300)  # cwd elsewhere: Ray's workers must get `core` from the runtime_env
    assert p.returncode == 0, p.stderr[-2000:]
    assert "2 runs: 0 reused from the run store, 2 trained" in p.stdout and "(ray)" in p.stdout
    got = pd.read_csv(tmp_path / "out" / "sweep.csv")
    pd.testing.assert_frame_equal(got[COLS], ref.table[COLS], check_dtype=False)
    assert len(RunStore(tmp_path / "cli")) == 2

    joined = run_sweep(make_sweep(BASE.replace(models=("lstm",)), "8", "0"), RunStore(tmp_path / "joined"),
                       RayExecutor())  # this process already runs Ray: the executor joins it
    assert joined.executor == "ray" and joined.trained == 1 and ray.is_initialized()
    lstm = ref.table[ref.table.model == "lstm"].reset_index(drop=True)
    pd.testing.assert_frame_equal(joined.table[COLS], lstm[COLS])
    run = RunStore(tmp_path / "joined").get(next(c for c in sweep.jobs() if c.models == ("lstm",)))
    assert run is not None and run.steps_run == 20
