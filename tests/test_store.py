"""Run store: round trip, reuse rules, a killed writer, schema versions, two processes at once."""
import math
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import core.store as store_mod
from core.config import ModelConfig, RunConfig, TaskConfig, TrainConfig, config_hash, validate
from core.results import ModelRun
from core.store import RunStore, StoreError
from core.trainer import train
from tests.conftest import ROOT, run_cli

TINY = validate(RunConfig(task=TaskConfig(seq_len=8), model=ModelConfig(hidden_size=8),
                          train=TrainConfig(steps=30, eval_every=10, n_checkpoints=2), models=("rnn", "lstm")))

# A subprocess that builds model runs by hand (no training: fast), with `size` random floats of
# weights so a write takes a noticeable time, and puts them in the store given as argv[1].
FAKE = textwrap.dedent("""
    import sys, numpy as np
    sys.path.insert(0, {root!r})
    from core.config import RunConfig, TaskConfig, TrainConfig, validate
    from core.results import ModelRun
    from core.store import RunStore

    def fake_run(seed, size):
        cfg = validate(RunConfig(task=TaskConfig(seq_len=8), train=TrainConfig(seed=seed, steps=10))).single("lstm")
        w = np.random.default_rng(seed).standard_normal(size).astype(np.float32)
        ev = [{{"step": 10, "loss": 1.0, "eval_loss": 1.0, "metric": 0.5, "grad_norm": 1.0, "elapsed_s": 0.1}}]
        return ModelRun(kind="lstm", config=cfg, evals=ev, checkpoints={{10: {{"w": w}}}}, status="finished",
                        steps_run=10, elapsed_s=0.1)
""").format(root=str(ROOT))


def py(code: str, *args, **kw):
    return subprocess.Popen([sys.executable, "-c", FAKE + textwrap.dedent(code), *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def fake_cfg(seed: int) -> RunConfig:
    return validate(RunConfig(task=TaskConfig(seq_len=8), train=TrainConfig(seed=seed, steps=10))).single("lstm")


def integrity(path) -> str:
    with sqlite3.connect(path) as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]


def test_round_trip_keeps_every_number(tmp_path):
    result = train(TINY)
    store = RunStore(tmp_path)
    hashes = store.put_result(result)
    assert hashes == [config_hash(TINY.single("rnn")), config_hash(TINY.single("lstm"))]
    again = RunStore(tmp_path)  # a fresh handle reads what the first wrote
    back, missing = again.get_result(TINY)
    assert missing == [] and list(back.runs) == ["rnn", "lstm"]
    for kind, run in result.runs.items():
        got = back.runs[kind]
        assert got.config == run.config and got.status == "finished" and got.steps_run == 30
        assert [e["metric"] for e in got.evals] == [e["metric"] for e in run.evals]
        assert [s["loss"] for s in got.steps] == [s["loss"] for s in run.steps]
        assert sorted(got.checkpoints) == sorted(run.checkpoints)
        for step, w in run.checkpoints.items():
            for name, v in w.items():
                np.testing.assert_array_equal(got.checkpoints[step][name], v)
        assert got.summary() == run.summary()
    s = again.get_summaries(hashes + ["000000000000"])
    assert set(s) == set(hashes)
    assert s[hashes[1]]["final_metric"] == result.runs["lstm"].final_metric
    table = again.summaries("first_token")
    assert len(table) == 2 and set(table.kind) == {"rnn", "lstm"} and len(again) == 2
    assert again.summaries("adding").empty


def test_reuse_rules(tmp_path):
    store = RunStore(tmp_path)
    result = train(TINY)
    result.runs["rnn"].status = "stopped"  # an incomplete run is never reused
    assert store.put_result(result) == [config_hash(TINY.single("lstm"))]
    found, missing = store.get_result(TINY)
    assert missing == ["rnn"] and list(found.runs) == ["lstm"]
    assert store.has(TINY.single("lstm")) and not store.has(TINY.single("rnn"))
    other = TINY.replace(train=TrainConfig(steps=30, eval_every=10, n_checkpoints=2, seed=1))
    assert store.get(other.single("lstm")) is None  # another seed is another experiment
    cpu = TINY.replace(train=TrainConfig(steps=30, eval_every=10, n_checkpoints=2, device="cpu"))
    assert store.get(cpu.single("lstm")) is not None  # the device is not part of the experiment
    with pytest.raises(ValueError, match="single-model"):
        store.get(TINY)


def test_writer_killed_inside_a_transaction_leaves_a_usable_store(tmp_path):
    store = RunStore(tmp_path)
    store.put(ModelRun(kind="lstm", config=fake_cfg(0), status="finished"))
    p = py("""
        store = RunStore(sys.argv[1])
        with store._write() as conn:   # the store's own write path, killed before COMMIT
            conn.execute("DELETE FROM model_runs")
            conn.execute("INSERT INTO model_runs (hash, kind, task, seq_len, seed, status, config, summary, "
                             "record, arrays, created) SELECT 'half', kind, task, seq_len, seed, status, config, "
                         "summary, record, arrays, created FROM model_runs")
            print("inside", flush=True)
            import time; time.sleep(60)
    """, tmp_path)
    assert p.stdout.readline().strip() == "inside"
    p.send_signal(signal.SIGKILL)
    p.wait(timeout=10)
    assert integrity(store.path) == "ok"
    back = RunStore(tmp_path)
    assert len(back) == 1 and back.has(fake_cfg(0))  # the half-done delete never happened
    t0 = time.perf_counter()
    back.put(ModelRun(kind="lstm", config=fake_cfg(1), status="finished"))  # no stale lock left
    assert time.perf_counter() - t0 < 5 and len(back) == 2


def test_writer_killed_in_a_write_loop_loses_no_saved_run(tmp_path):
    RunStore(tmp_path)
    p = py("""
        store = RunStore(sys.argv[1])
        for seed in range(1000):
            store.put(fake_run(seed, 300_000))
            print(seed, flush=True)   # reported as saved only after put returned
    """, tmp_path)
    saved = []
    while len(saved) < 4:
        line = p.stdout.readline()
        assert line, p.stderr.read()
        saved.append(int(line))
    time.sleep(0.07)  # land somewhere inside a later write
    p.send_signal(signal.SIGKILL)
    p.wait(timeout=10)
    saved += [int(x) for x in p.stdout.read().split()]
    store = RunStore(tmp_path)
    assert integrity(store.path) == "ok"
    for seed in saved:
        run = store.get(fake_cfg(seed))
        assert run is not None, seed
        np.testing.assert_array_equal(
            run.checkpoints[10]["w"], np.random.default_rng(seed).standard_normal(300_000).astype(np.float32))
    assert len(store) in (len(saved), len(saved) + 1)  # at most the run whose `put` had not returned


def test_two_processes_write_and_read_at_once(tmp_path):
    RunStore(tmp_path)
    code = """
        store = RunStore(sys.argv[1])
        first = int(sys.argv[2])
        for seed in range(first, first + 6):
            store.put(fake_run(seed, 50_000))
            assert store.get(fake_run(seed, 1).config) is not None
            store.summaries()
        print("ok")
    """
    procs = [py(code, tmp_path, first) for first in (0, 100)]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0 and out.strip() == "ok", err
    store = RunStore(tmp_path)
    assert len(store) == 12
    assert all(store.has(fake_cfg(s)) for s in [*range(6), *range(100, 106)])


def _set_version(path, v):
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(v),))


def test_newer_or_unknown_schema_is_refused_in_one_line(tmp_path):
    store = RunStore(tmp_path)
    assert store.schema_version() == store_mod.SCHEMA_VERSION
    _set_version(store.path, store_mod.SCHEMA_VERSION + 98)
    with pytest.raises(StoreError, match="newer than this lab") as e:
        RunStore(tmp_path)
    assert "\n" not in str(e.value)
    _set_version(store.path, 0)  # older, with no migration written for it
    with pytest.raises(StoreError, match="cannot migrate version 0"):
        RunStore(tmp_path)


def test_older_schema_is_migrated_and_keeps_its_runs(tmp_path, monkeypatch):
    store = RunStore(tmp_path)
    store.put(ModelRun(kind="lstm", config=fake_cfg(3), status="finished"))
    v = store_mod.SCHEMA_VERSION

    def add_note(conn):
        conn.execute("ALTER TABLE model_runs ADD COLUMN note TEXT")

    monkeypatch.setattr(store_mod, "SCHEMA_VERSION", v + 1)
    monkeypatch.setitem(store_mod.MIGRATIONS, v, add_note)
    newer = RunStore(tmp_path)
    assert newer.schema_version() == v + 1
    with sqlite3.connect(newer.path) as conn:
        assert "note" in [r[1] for r in conn.execute("PRAGMA table_info(model_runs)")]
    assert newer.has(fake_cfg(3))

    def broken(conn):
        conn.execute("ALTER TABLE model_runs ADD COLUMN other TEXT")
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(store_mod, "SCHEMA_VERSION", v + 2)
    monkeypatch.setitem(store_mod.MIGRATIONS, v + 1, broken)
    with pytest.raises(StoreError):
        RunStore(tmp_path)
    with sqlite3.connect(newer.path) as conn:  # the failed migration changed nothing
        assert "other" not in [r[1] for r in conn.execute("PRAGMA table_info(model_runs)")]
        assert conn.execute("SELECT value FROM meta").fetchone()[0] == str(v + 1)


def test_a_file_that_is_not_a_store_is_refused(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "runs.sqlite").write_bytes(b"this is not a database, " * 100)
    with pytest.raises(StoreError, match="not a run store"):
        RunStore(tmp_path / "a")
    (tmp_path / "b").mkdir()
    with sqlite3.connect(tmp_path / "b" / "runs.sqlite") as conn:
        conn.execute("CREATE TABLE something_else (x)")
    with pytest.raises(StoreError, match="not a run store of this lab"):
        RunStore(tmp_path / "b")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="cannot create the run store folder"):
        RunStore(blocker / "sub")


def test_nan_metric_survives_as_nan(tmp_path):
    store = RunStore(tmp_path)
    ev = [{"step": 1, "loss": math.nan, "eval_loss": math.nan, "metric": math.nan, "grad_norm": math.nan,
           "elapsed_s": 0.0}]
    store.put(ModelRun(kind="lstm", config=fake_cfg(5), evals=ev, status="diverged", steps_run=1))
    run = store.get(fake_cfg(5))
    assert run.status == "diverged" and math.isnan(run.final_metric)
    assert store.get_summaries([config_hash(fake_cfg(5))])[config_hash(fake_cfg(5))]["final_metric"] is None


# --- trust: rows written before runs followed from their config alone ------------------------------
def _as_schema_2(path) -> None:
    """Turn a store file into what schema version 2 wrote: no `trusted` column."""
    with sqlite3.connect(path) as conn:
        for col in ("trusted", "record_sha256", "row_sha256"):
            conn.execute(f"ALTER TABLE model_runs DROP COLUMN {col}")
        conn.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")


def _tamper_loss(path, h) -> None:
    """Change one evaluation's loss in a row's record, as a raced run would have differed."""
    import json

    with sqlite3.connect(path) as conn:
        record = json.loads(conn.execute("SELECT record FROM model_runs WHERE hash = ?", (h,)).fetchone()[0])
        record["evals"][-1]["loss"] += 0.25
        conn.execute("UPDATE model_runs SET record = ? WHERE hash = ?", (json.dumps(record), h))


def verify_cli(store_dir, *args, here: bool = True):
    """`python -m core store verify` (in this process unless here=False: tests/conftest.py::run_cli)."""
    argv = ["store", "verify", "--store", str(store_dir), "--quiet", *args]
    if here:
        return run_cli(*argv)
    return subprocess.run([sys.executable, "-m", "core", *argv], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_rows_of_schema_2_are_not_served_until_verified_and_verify_keeps_what_reproduces(tmp_path):
    store = RunStore(tmp_path)
    result = train(TINY)
    rnn, lstm = (config_hash(TINY.single(k)) for k in ("rnn", "lstm"))
    store.put_result(result)
    _as_schema_2(store.path)
    _tamper_loss(store.path, lstm)

    old = RunStore(tmp_path)  # migrated to the newest: both rows kept, neither served
    assert old.schema_version() == store_mod.SCHEMA_VERSION == 4 and len(old) == 2
    assert old.untrusted() == 2 and "2 stored run(s)" in old.notice()
    assert old.get(TINY.single("rnn")) is None and not old.has(TINY.single("lstm"))
    assert old.get_summaries([rnn, lstm]) == {}

    p = verify_cli(tmp_path, here=False)
    assert p.returncode == 1, p.stderr
    lines = p.stdout.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith(lstm) and "evaluation 30: loss" in lines[0]
    assert "replaced by the run trained now" in lines[0]
    assert "verified 2 of 2 stored run(s): 1 gave the same numbers, 1 did not" in lines[1]
    after = RunStore(tmp_path)
    assert after.untrusted() == 0 and after.notice() is None
    for kind in ("rnn", "lstm"):  # served again, with the numbers the config gives
        got = after.get(TINY.single(kind))
        assert got is not None and got.evals[-1]["loss"] == result.runs[kind].evals[-1]["loss"]
    assert verify_cli(tmp_path).returncode == 0


def test_verify_reports_a_trusted_row_that_does_not_reproduce_and_leaves_it(tmp_path):
    store = RunStore(tmp_path)
    store.put_result(train(TINY.replace(models=("rnn",))))
    h = config_hash(TINY.single("rnn"))
    _tamper_loss(store.path, h)
    p = verify_cli(tmp_path, "--sample", "1")
    assert p.returncode == 1 and p.stdout.startswith(h) and "replaced" not in p.stdout
    assert "Traceback" not in p.stderr
    assert verify_cli(tmp_path, "--sample", "-1").returncode == 2


def test_the_dashboard_says_in_one_line_that_older_runs_will_be_trained_again(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("LAB_DATA_DIR", str(tmp_path))
    store = RunStore(tmp_path)
    store.put(ModelRun(kind="lstm", config=fake_cfg(3), status="finished"))
    _as_schema_2(store.path)
    at = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=60)
    at.switch_page("views/inside.py").run()
    assert not at.exception
    said = [c.value for c in at.sidebar.caption if "trained again when first used" in c.value]
    assert len(said) == 1 and said[0].startswith(":material/info: 1 stored run(s)")
