"""Sweep: the CLI on a tiny grid, reuse from the store, executors agree, stop keeps finished runs,
charts computed two ways, the sweep folder round trip, and the page through AppTest."""
import json
import os
import subprocess
import sys
import threading

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.config import ConfigError, ModelConfig, RunConfig, TrainConfig
from core.executors import InProcessExecutor, ProcessExecutor, ThreadExecutor
from core.store import RunStore
from core.charts.sweep import sweep_charts
from core.sweep import COLUMNS, SweepFolderError, load_sweep, make_sweep, run_sweep, save_sweep, sweep_from_store
from tests.conftest import ROOT, run_cli

BASE = RunConfig(model=ModelConfig(hidden_size=8), train=TrainConfig(steps=30, eval_every=10, n_checkpoints=2))


def cli(*args):
    return subprocess.run([sys.executable, "-m", "core", "sweep", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


def test_sweep_cli_writes_the_table_and_reuses_runs(tmp_path):
    args = ["--lengths", "8,10", "--seeds", "0,1", "--models", "rnn,lstm", "--steps", "30", "--eval-every", "10",
            "--hidden-size", "8", "--store", str(tmp_path / "s"), "--quiet"]
    p = cli(*args, "--out", str(tmp_path / "a"))
    assert p.returncode == 0, p.stderr
    assert "8 runs: 0 reused from the run store, 8 trained" in p.stdout
    df = pd.read_csv(tmp_path / "a" / "sweep.csv")
    assert list(df.columns[:len(COLUMNS)]) == COLUMNS and len(df) == 8
    assert set(df.status) == {"finished"} and set(df.seq_len) == {8, 10} and set(df.seed) == {0, 1}
    assert (df.chance == 1 / 8).all() and df.metric.between(0, 1).all() and (df.wall_s > 0).all()
    for name in ("sweep_metric", "sweep_steps", "sweep_wall"):
        assert (tmp_path / "a" / f"{name}.csv").exists()
    info = json.loads((tmp_path / "a" / "sweep.json").read_text())
    assert info["lengths"] == [8, 10] and info["trained"] == 8 and info["base"]["train"]["steps"] == 30
    assert info["base"]["train"]["patience"] == 3  # the sweep's default: stop runs that hold the target
    again = run_cli("sweep", *args, "--out", str(tmp_path / "b"))
    assert again.returncode == 0 and "8 runs: 8 reused from the run store, 0 trained" in again.stdout
    df2 = pd.read_csv(tmp_path / "b" / "sweep.csv")
    pd.testing.assert_frame_equal(df.drop(columns="reused"), df2.drop(columns="reused"))
    assert df2.reused.all() and not df.reused.any()


def test_sweep_cli_bad_input_is_one_line_without_traceback(tmp_path):
    p = run_cli("sweep", "--out", str(tmp_path / "x"), "--no-store", "--lengths", "1,8")
    assert p.returncode == 2 and "lengths must be between 2 and 1000" in p.stderr
    assert "Traceback" not in p.stderr and len(p.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("args,message", [
    (["--lengths", "8,x"], "lengths must be whole numbers"),
    (["--seeds", ""], "seeds: give at least one"),
    (["--seq-len", "8"], "a sweep takes --lengths and --seeds"),
    (["--workers", "-2"], "--workers must be 0"),
    (["--executor", "spark"], "invalid choice"),
    (["--seeds", "0,1,2,3,4,5,6,7,8,9", "--models", "rnn,lstm,gru", "--lengths", ",".join(map(str, range(2, 40)))],
     "at most 600"),
    (["--executor", "ray", "--address", "127.0.0.1:1", "--lengths", "8", "--seeds", "0"], "cannot reach the Ray"),
])
def test_sweep_bad_input_is_one_line(args, message, tmp_path, capsys):
    from core.cli import main  # in-process: the same entry point as `python -m core`, without a new torch import

    try:
        code = main(["sweep", "--out", str(tmp_path / "x"), "--no-store", "--steps", "2", "--quiet", *args])
    except SystemExit as e:  # argparse's own errors
        code = e.code
    err = capsys.readouterr().err
    assert code == 2 and message in err, err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "x" / "sweep.csv").exists()


def test_reuse_counts_only_the_missing_runs(tmp_path):
    store = RunStore(tmp_path)
    first = run_sweep(make_sweep(BASE, "8", "0"), store)
    assert (first.reused, first.trained) == (0, 2)
    second = run_sweep(make_sweep(BASE, "8,10", "0"), store)
    assert (second.reused, second.trained) == (2, 2)
    assert list(second.table.reused) == [True, True, False, False]
    row = second.table[(second.table.seq_len == 8) & (second.table.model == "lstm")].iloc[0]
    assert row.metric == first.table[first.table.model == "lstm"].metric.iloc[0]
    other = run_sweep(make_sweep(BASE.replace(model=ModelConfig(hidden_size=9)), "8", "0"), store)
    assert other.reused == 0  # any other setting is another experiment


def test_executors_give_the_same_numbers(tmp_path):
    sweep = make_sweep(BASE, "8", "3")
    a = run_sweep(sweep, RunStore(tmp_path / "a"), InProcessExecutor())
    b = run_sweep(sweep, RunStore(tmp_path / "b"), ProcessExecutor(workers=2))
    c = run_sweep(sweep, RunStore(tmp_path / "c"), ThreadExecutor(workers=2))
    assert b.executor == "process" and b.trained == 2 and c.executor == "threads" and c.trained == 2
    cols = ["model", "seq_len", "seed", "metric", "steps_to_target", "steps_run", "status", "hash"]
    pd.testing.assert_frame_equal(a.table[cols], b.table[cols])
    pd.testing.assert_frame_equal(a.table[cols], c.table[cols])
    for cfg in sweep.jobs():
        ra = RunStore(tmp_path / "a").get(cfg)
        for other in ("b", "c"):
            rb = RunStore(tmp_path / other).get(cfg)
            assert [s["loss"] for s in ra.steps] == [s["loss"] for s in rb.steps]
            for k, v in ra.checkpoints[30].items():
                np.testing.assert_array_equal(v, rb.checkpoints[30][k])


def test_stop_keeps_finished_runs_and_the_next_sweep_resumes(tmp_path):
    store = RunStore(tmp_path)
    sweep = make_sweep(BASE, "8,10", "0")
    stop = threading.Event()
    seen = []

    def on_progress(p):
        seen.append(p)
        if p.row is not None:  # stop as soon as the first run has finished
            stop.set()

    result = run_sweep(sweep, store, on_progress=on_progress, stop=stop)
    assert result.stopped and result.trained == 1 and len(store) == 1
    assert list(result.table.status) == ["finished"]
    # longest runs first (T=10 before T=8), so a pool's last runs are short ones
    assert seen[0].index == 1 and seen[0].total == 4 and "run 1 of 4 · T=10 · Vanilla RNN · seed 0" in seen[0].message
    fractions = [p.fraction for p in seen]
    assert fractions == sorted(fractions) and 0 < fractions[-1] <= 0.5
    assert any(p.eta_s is not None for p in seen)
    assert len(sweep_from_store(sweep, store)) == 1
    rest = run_sweep(sweep, store)
    assert (rest.reused, rest.trained, rest.stopped) == (1, 3, False) and len(store) == 4


def _table(rows):
    base = {"task": "first_token", "chance": 0.125, "target": 0.99, "wall_s": 1.0, "status": "finished",
            "steps_run": 100, "hash": "h", "reused": False}
    return pd.DataFrame([{**base, **r} for r in rows])


def test_sweep_charts_aggregate_over_seeds():
    rows = [{"model": m, "seq_len": T, "seed": s, "metric": met, "steps_to_target": st}
            for m, T, s, met, st in [("lstm", 10, 0, 1.0, 50), ("lstm", 10, 1, 0.98, None), ("lstm", 10, 2, 1.0, 70),
                                     ("rnn", 10, 0, 0.5, None), ("rnn", 10, 1, 0.3, None),
                                     ("lstm", 100, 0, 0.9, None), ("rnn", 100, 0, 0.12, None)]]
    rows.append({"model": "rnn", "seq_len": 100, "seed": 1, "metric": 0.99, "steps_to_target": None,
                 "status": "stopped"})
    sweep = _table(rows)
    items = sweep_charts(sweep)
    assert [i.name for i in items] == ["sweep_metric", "sweep_steps", "sweep_wall"]
    m = items[0].data.set_index(["model", "seq_len"])
    done = sweep[sweep.status == "finished"].groupby(["model", "seq_len"]).metric
    assert np.allclose(m.metric_mean, done.mean().loc[m.index]) and (m.metric_min == done.min().loc[m.index]).all()
    assert m.loc[("rnn", 100), "seeds"] == 1  # the stopped run is left out, and the caption says so
    assert "1 run(s) that did not complete" in items[0].caption
    s = items[1].data.set_index(["model", "seq_len"])
    assert s.loc[("lstm", 10), "reached"] == 2 and s.loc[("lstm", 10), "steps_mean"] == 60
    assert "LSTM at T = 10: 2 of 3 seeds" in items[1].caption
    spec = items[0].chart.to_dict()
    assert "log" in json.dumps(spec) and "0.125" in json.dumps(spec)  # log T axis, chance rule
    assert sweep_charts(sweep.iloc[0:0]) == []


def test_sweep_folder_round_trip(tmp_path):
    store = RunStore(tmp_path / "s")
    result = run_sweep(make_sweep(BASE, "8", "0"), store)
    save_sweep(tmp_path / "out", result.table, result.info())
    df, info = load_sweep(tmp_path / "out")
    assert info["task"] == "first_token" and info["models"] == ["rnn", "lstm"] and info["reused"] == 0
    pd.testing.assert_frame_equal(df[COLUMNS], result.table[COLUMNS], check_dtype=False)
    (tmp_path / "bad").mkdir()
    with pytest.raises(SweepFolderError, match="not a readable sweep folder"):
        load_sweep(tmp_path / "bad")
    with pytest.raises(ConfigError, match="seeds must be whole numbers"):
        make_sweep(BASE, "8", "0.5")


def finish_sweep(at: AppTest, timeout: float = 120) -> None:
    """Rerun the page (as its polling fragment would) until the session's sweep job has ended."""
    import time

    from dashboard.components import sweep_run

    deadline = time.monotonic() + timeout
    while sweep_run.JOB in at.session_state and time.monotonic() < deadline:
        time.sleep(0.2)
        at.run()
    assert sweep_run.JOB not in at.session_state


def test_sweep_page_trains_a_tiny_grid_and_then_reuses_it():
    at = AppTest.from_file(str(ROOT / "dashboard" / "views" / "sweep.py"), default_timeout=120)
    at.run()
    assert not at.exception and "Start sweep" in [b.label for b in at.button]
    at.text_input(key="sweep-lengths").input("8,10")
    at.text_input(key="sweep-seeds").input("0")
    at.number_input(key="sweep-steps").set_value(20)
    at.number_input(key="sweep-hidden").set_value(8)
    assert "No sweep yet" in at.info[0].value and "about" in at.info[0].value  # default grid, estimated
    at.button(key="sweep-start").click().run()
    assert not at.exception
    finish_sweep(at)
    assert "4 runs: 0 reused from the run store, 4 trained" in at.success[0].value
    assert len(at.get("vega_lite_chart")) == 3 and len(at.dataframe) == 1
    assert "Report (HTML)" in [b.label for b in at.get("download_button")]
    at.button(key="sweep-start").click().run()
    finish_sweep(at)
    assert "4 runs: 4 reused from the run store, 0 trained" in at.success[0].value
    fresh = AppTest.from_file(str(ROOT / "dashboard" / "views" / "sweep.py"), default_timeout=120).run()
    assert "most recent sweep" in " ".join(c.value for c in fresh.caption)  # a new session sees it at once
    assert len(fresh.get("vega_lite_chart")) == 3
    at.text_input(key="sweep-lengths").input("8,nope")
    at.button(key="sweep-start").click().run()
    assert not at.exception and "lengths must be whole numbers" in at.error[0].value


def test_a_sweep_of_starts_keys_rows_and_charts_by_variant(tmp_path):
    """'rnn,rnn:irnn,lstm,lstm:zero': one single-model run per variant, a column naming each
    row's init, one colour and one line per variant, and the bare kinds are today's runs."""
    store = RunStore(tmp_path / "s")
    plain = run_sweep(make_sweep(BASE, "8", "0"), store)  # rnn, lstm at their defaults
    sweep = make_sweep(BASE, "8", "0", "rnn,rnn:irnn,lstm:chrono,lstm:zero,rnn:irnn")
    assert sweep.models == ("rnn", "rnn:irnn", "lstm", "lstm:zero")  # canonical, no repeats
    assert sweep.base.models == ("rnn", "lstm")
    result = run_sweep(sweep, store)
    t = result.table
    assert result.reused == 2 and result.trained == 2  # the bare kinds were found in the store
    assert list(t["variant"]) == ["rnn", "rnn:irnn", "lstm", "lstm:zero"]
    assert list(t["init"]) == ["default", "irnn", "chrono", "zero"]
    assert set(plain.table["hash"]) <= set(t["hash"]) and t["hash"].nunique() == 4
    items = sweep_charts(t)
    names = list(items[0].data["name"])
    assert names == ["Vanilla RNN", "Vanilla RNN (IRNN init)", "LSTM", "LSTM (zero init)"]
    spec = json.dumps(items[0].chart.to_dict())
    assert "Vanilla RNN (IRNN init)" in spec and "LSTM (zero init)" in spec
    save_sweep(tmp_path / "out", t, result.info())
    df, info = load_sweep(tmp_path / "out")
    assert info["models"] == ["rnn", "rnn:irnn", "lstm", "lstm:zero"] and list(df["init"]) == list(t["init"])
    from core.charts.export import sweep_reproduce_command
    assert "--models rnn,rnn:irnn,lstm,lstm:zero" in sweep_reproduce_command(info)
    # a sweep.csv written before variants loads with its kinds and the base's inits
    t.drop(columns=["init", "variant"]).to_csv(tmp_path / "out" / "sweep.csv", index=False)
    (tmp_path / "out" / "manifest.json").unlink()  # such a folder also predates manifests
    old, _ = load_sweep(tmp_path / "out")
    assert list(old["variant"]) == list(t["model"]) and list(old["init"]) == ["default", "default", "chrono", "chrono"]


def test_sweep_cli_takes_kind_colon_init(tmp_path):
    p = run_cli("sweep", "--lengths", "8", "--seeds", "0", "--models", "rnn:orthogonal,gru:chrono", "--steps", "10",
                "--eval-every", "5", "--hidden-size", "8", "--no-store", "--quiet", "--out", str(tmp_path / "a"))
    assert p.returncode == 0, p.stderr
    assert "Vanilla RNN (orthogonal init)" in p.stdout and "GRU (chrono init)" in p.stdout
    df = pd.read_csv(tmp_path / "a" / "sweep.csv")
    assert list(df["init"]) == ["orthogonal", "chrono"] and list(df["variant"]) == ["rnn:orthogonal", "gru:chrono"]
    bad = run_cli("sweep", "--models", "rnn:chrono", "--no-store", "--out", str(tmp_path / "b"))
    assert bad.returncode == 2 and "unknown rnn init 'chrono'" in bad.stderr


def test_sweep_page_offers_every_start():
    at = AppTest.from_file(str(ROOT / "dashboard" / "views" / "sweep.py"), default_timeout=120)
    at.run()
    box = at.multiselect(key="sweep-models")
    assert {"Vanilla RNN (IRNN init)", "Vanilla RNN (orthogonal init)", "GRU (chrono init)",
            "LSTM (zero init)"} <= set(box.options)
    box.set_value(["rnn", "rnn:irnn"])
    at.text_input(key="sweep-lengths").input("8")
    at.text_input(key="sweep-seeds").input("0")
    at.number_input(key="sweep-steps").set_value(10)
    at.number_input(key="sweep-hidden").set_value(8)
    at.button(key="sweep-start").click().run()
    finish_sweep(at)
    assert not at.exception and "2 runs:" in at.success[0].value
    shown = at.dataframe[0].value
    assert list(shown["model"]) == ["Vanilla RNN", "Vanilla RNN (IRNN init)"]


def test_a_sweep_whose_every_run_failed_says_so_without_a_traceback(tmp_path):
    import torch

    # CI has no GPU: there the test always runs (a skip under CI would prove nothing)
    if torch.cuda.is_available() and not os.environ.get("CI"):  # pragma: no cover - there the runs train
        pytest.skip("this machine has a CUDA GPU")
    p = run_cli("sweep", "--lengths", "5", "--seeds", "0", "--models", "rnn", "--steps", "5", "--eval-every", "5",
                "--hidden-size", "4", "--device", "cuda", "--no-store", "--quiet", "--executor", "inprocess",
                "--out", str(tmp_path / "sw"))
    assert p.returncode == 1 and "Traceback" not in p.stderr, p.stderr
    assert "1 failed" in p.stdout and "no CUDA GPU" in p.stdout
    assert (tmp_path / "sw" / "sweep.csv").exists()
