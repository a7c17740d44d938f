"""Nothing silently wrong: folders prove they are whole, every word is accounted for, and no
worker outlives the sweep that started it."""
from __future__ import annotations

import io
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.cli import main
from core.config import config_hash
from core.runio import RunFolderError, load_run
from core.store import RunStore, StoreError
from core.sweep import SweepFolderError, load_sweep
from core.tasks import TASKS, tokenize

ROOT = Path(__file__).resolve().parent.parent
TINY = ["--task", "first_token", "--seq-len", "5", "--hidden-size", "2", "--batch-size", "4",
        "--steps", "30", "--eval-every", "5", "--quiet"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("rel") / "run"
    assert main(["train", *TINY, "--no-store", "--out", str(out)]) == 0
    return out


def _cut(f: Path, keep: float = 0.5) -> None:
    b = f.read_bytes()
    f.write_bytes(b[: int(len(b) * keep)])


# --- fault 1: a truncated run folder is refused -------------------------------------------------
def test_truncated_metrics_is_refused_by_export_in_one_line(run_dir, tmp_path, capsys):
    cut = tmp_path / "cut"
    shutil.copytree(run_dir, cut)
    _cut(cut / "metrics.csv")
    code = main(["export", "--run", str(cut), "--out", str(tmp_path / "x"), "--formats", "csv"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "metrics.csv is truncated or was changed after the run" in err
    rows = len((run_dir / "metrics.csv").read_text().splitlines()) - 1
    assert f"of {rows} rows" in err
    assert not (tmp_path / "x" / "learning_curves.csv").exists()


@pytest.mark.parametrize("name", ["config.json", "metrics.csv", "steps.csv", "grad_probes.csv", "summary.json",
                                  "traces.npz", "weights.npz"])
def test_every_file_of_a_run_is_vouched_for(run_dir, tmp_path, name):
    cut = tmp_path / "cut"
    shutil.copytree(run_dir, cut)
    _cut(cut / name, 0.9)
    with pytest.raises(RunFolderError, match=f"{name} is truncated or was changed after the run") as e:
        load_run(cut)
    assert "\n" not in str(e.value)
    (cut / name).unlink()
    with pytest.raises(RunFolderError, match=f"{name} is missing"):
        load_run(cut)


def test_a_changed_file_of_the_same_size_is_refused(run_dir, tmp_path):
    cut = tmp_path / "cut"
    shutil.copytree(run_dir, cut)
    text = (cut / "metrics.csv").read_text()
    (cut / "metrics.csv").write_text(text.replace("lstm", "lsmt", 1))
    with pytest.raises(RunFolderError, match="metrics.csv is truncated or was changed"):
        load_run(cut)


def test_a_run_killed_while_writing_is_refused(run_dir, tmp_path):
    """save_run marks the folder first; the manifest is written last."""
    half = tmp_path / "half"
    shutil.copytree(run_dir, half)
    (half / "manifest.json").write_text(json.dumps({"version": 1, "complete": False}))
    with pytest.raises(RunFolderError, match="was not finished writing"):
        load_run(half)


def test_a_folder_from_before_manifests_gets_a_structural_check(run_dir, tmp_path):
    old = tmp_path / "old"
    shutil.copytree(run_dir, old)
    (old / "manifest.json").unlink()
    assert set(load_run(old).runs) == {"rnn", "lstm"}  # a whole old folder is still read
    m = pd.read_csv(old / "metrics.csv")
    m[m.model == "rnn"].to_csv(old / "metrics.csv", index=False)  # whole rows, but no LSTM rows
    with pytest.raises(RunFolderError, match="evaluation rows of lstm"):
        load_run(old)
    m.to_csv(old / "metrics.csv", index=False)
    _cut(old / "metrics.csv", 0.97)  # cut mid-row
    with pytest.raises(RunFolderError, match="metrics.csv is truncated"):
        load_run(old)


def test_sweep_folder_proves_it_is_whole(tmp_path, capsys):
    out = tmp_path / "sw"
    assert main(["sweep", "--task", "first_token", "--lengths", "5", "--seeds", "0", "--models", "rnn",
                 "--steps", "5", "--hidden-size", "2", "--batch-size", "4", "--quiet", "--no-store",
                 "--out", str(out)]) == 0
    listed = json.loads((out / "manifest.json").read_text())["files"]
    assert {"sweep.csv", "sweep.json"} <= set(listed) and len(listed) > 2  # the charts' data too
    load_sweep(out)
    chart = next(n for n in listed if n not in ("sweep.csv", "sweep.json"))
    _cut(out / chart)
    with pytest.raises(SweepFolderError, match=f"{chart} is truncated or was changed"):
        load_sweep(out)
    capsys.readouterr()
    assert main(["export", "--run", str(out), "--out", str(tmp_path / "x"), "--formats", "csv"]) == 2
    assert chart in capsys.readouterr().err


# --- the run store's blobs ---------------------------------------------------------------------
def _stored(tmp_path):
    store_dir = tmp_path / "store"
    assert main(["train", *TINY, "--models", "lstm", "--store", str(store_dir), "--out", str(tmp_path / "r")]) == 0
    return RunStore(store_dir), load_run(tmp_path / "r").config


def test_a_changed_blob_in_the_store_is_refused(tmp_path, capsys):
    store, cfg = _stored(tmp_path)
    assert store.get(cfg.single("lstm")) is not None
    buf = io.BytesIO()
    np.savez(buf, **{"w/0/weight_hh_l0": np.zeros((8, 2), np.float32)})  # a valid .npz, not this run's
    with sqlite3.connect(store.path) as conn:
        conn.execute("UPDATE model_runs SET arrays = ?", (buf.getvalue(),))
    with pytest.raises(StoreError, match="truncated or was changed") as e:
        store.get(cfg.single("lstm"))
    assert "\n" not in str(e.value)
    capsys.readouterr()
    code = main(["train", *TINY, "--models", "lstm", "--reuse", "--store", str(store.folder),
                 "--out", str(tmp_path / "again")])
    assert code == 2 and "truncated or was changed" in capsys.readouterr().err


def test_a_cut_blob_of_an_old_row_is_refused(tmp_path):
    store, cfg = _stored(tmp_path)
    with sqlite3.connect(store.path) as conn:  # a row as schema version 1 wrote it: no length, no hash
        conn.execute("UPDATE model_runs SET arrays = substr(arrays, 1, length(arrays) / 2), "
                     "blob_bytes = NULL, blob_sha256 = NULL, record_sha256 = NULL, row_sha256 = NULL")
    with pytest.raises(StoreError, match="cannot be read"):
        store.get(cfg.single("lstm"))


def test_a_version_1_store_is_migrated(tmp_path):
    store, cfg = _stored(tmp_path)
    with sqlite3.connect(store.path) as conn:
        conn.execute("ALTER TABLE model_runs DROP COLUMN blob_bytes")
        conn.execute("ALTER TABLE model_runs DROP COLUMN blob_sha256")
        conn.execute("ALTER TABLE model_runs DROP COLUMN trusted")
        conn.execute("ALTER TABLE model_runs DROP COLUMN record_sha256")
        conn.execute("ALTER TABLE model_runs DROP COLUMN row_sha256")
        conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    again = RunStore(store.folder)
    assert again.schema_version() == 4
    h = config_hash(cfg.single("lstm"))
    assert again.get(cfg.single("lstm")) is None  # not served before `store verify` reproduces it
    assert again.get_by_hash(h, trusted_only=False) is not None  # an old row: read whole, structurally checked


# --- fault 2: every word accounted for ----------------------------------------------------------
@pytest.mark.parametrize("text,tokens", [
    ("I loved the movie, but the ending was disappointing",
     ["i", "loved", "the", "movie", ",", "but", "the", "ending", "was", "disappointing"]),
    ("i loved the movie , but the ending was disappointing",
     ["i", "loved", "the", "movie", ",", "but", "the", "ending", "was", "disappointing"]),
    ("ñandú", ["ñandú"]),
    ("the 😀 movie", ["the", "😀", "movie"]),
    ("終わり ﷽", ["終わり", "﷽"]),
    ("Great!  end.", ["great!", "end", "."]),
])
def test_tokenize_keeps_every_word(text, tokens):
    assert tokenize(text) == tokens


def test_no_character_is_dropped_or_rewritten():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=300, deadline=None)
    @given(st.text())
    def check(text):
        assert "".join(tokenize(text)) == "".join(text.lower().split())

    check()


def test_unknown_words_are_named_never_rewritten():
    from core.config import TaskConfig

    task = TASKS["sentiment_but"](TaskConfig(name="sentiment_but", seq_len=20))
    task.encode_text("I loved the movie, but the ending was disappointing")
    for word in ("ñandú", "😀", "終わり", "﷽"):
        with pytest.raises(ValueError, match="not in the task's vocabulary") as e:
            task.encode_text(f"i loved the {word} movie")
        assert word in str(e.value)


# --- fault 3: no orphaned workers ---------------------------------------------------------------
def _children(pid: int) -> set[int]:
    out: set[int] = set()
    for f in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            out |= {int(c) for c in f.read_text().split()}
        except OSError:
            pass
    return out


def _descendants(pid: int) -> set[int]:
    found, todo = set(), [pid]
    while todo:
        for c in _children(todo.pop()) - found:
            found.add(c)
            todo.append(c)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")  # a zombie has ended; only its exit status is left


# CI is Linux: there the test always runs (a skip under CI would prove nothing)
@pytest.mark.skipif(not Path("/proc/self/task").exists() and not os.environ.get("CI"), reason="needs Linux /proc")
def test_killed_process_sweep_leaves_no_worker(tmp_path):
    env = {**os.environ, "LAB_DATA_DIR": str(tmp_path / "store")}
    cmd = [sys.executable, "-m", "core", "sweep", "--task", "first_token", "--lengths", "5,6", "--seeds", "0",
           "--models", "rnn,lstm", "--steps", "100000", "--patience", "0", "--hidden-size", "2",
           "--batch-size", "4", "--executor", "process", "--workers", "2", "--no-store", "--quiet",
           "--out", str(tmp_path / "sw")]
    sweep = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: set[int] = set()
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and len(workers) < 3:  # two workers + the resource tracker
            workers |= _descendants(sweep.pid)
            assert sweep.poll() is None, "the sweep ended before it was killed"
            time.sleep(0.2)
        assert len(workers) >= 2, f"the sweep started no pool ({workers})"
        time.sleep(3)  # let the workers import torch and start training
        workers |= _descendants(sweep.pid)
        sweep.send_signal(signal.SIGKILL)
        sweep.wait(timeout=10)
        killed_at = time.monotonic()
        while time.monotonic() - killed_at < 5 and any(_alive(p) for p in workers):
            time.sleep(0.1)
        left = [p for p in workers if _alive(p)]
        assert not left, f"{len(left)} of {len(workers)} processes outlived the killed sweep by 5 s"
    finally:
        for p in workers:  # clean up after a failure, by pid: only processes this test started
            if _alive(p):
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if sweep.poll() is None:
            sweep.kill()
