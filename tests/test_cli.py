"""CLI: a tiny run writes every file; bad input exits 2 with one line and no traceback."""
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from tests.conftest import ROOT, run_cli


def cli(*args):
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


def test_train_writes_a_run_folder(tmp_path):
    out = tmp_path / "run"
    p = cli("train", "--task", "first_token", "--seq-len", "8", "--models", "rnn,lstm,gru", "--steps", "60",
            "--eval-every", "20", "--hidden-size", "16", "--out", str(out), "--store", str(tmp_path / "s"))
    assert p.returncode == 0, p.stderr
    assert "LSTM" in p.stdout and "final" in p.stdout
    for f in ("config.json", "metrics.csv", "summary.json", "grad_probes.csv", "traces.npz", "steps.csv"):
        assert (out / f).exists(), f
    m = pd.read_csv(out / "metrics.csv")
    assert {"model", "step", "loss", "metric", "grad_norm", "elapsed_s"} <= set(m.columns)
    assert set(m.model) == {"rnn", "lstm", "gru"} and m.step.max() == 60
    s = json.loads((out / "summary.json").read_text())
    assert set(s) == {"rnn", "lstm", "gru"}
    assert {"final_metric", "chance", "steps_run", "steps_to_target", "status"} <= set(s["lstm"])
    assert s["lstm"]["steps_run"] == 60 and s["lstm"]["status"] == "finished"
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["task"]["seq_len"] == 8 and cfg["models"] == ["rnn", "lstm", "gru"] and cfg["hash"]
    g = pd.read_csv(out / "grad_probes.csv")
    assert set(g.t) == set(range(8)) and 0 in set(g.step) and 60 in set(g.step)
    with np.load(out / "traces.npz", allow_pickle=False) as z:
        assert z["lstm/60/f"].shape == (4, 8, 16) and "gru/0/z" in z.files and z["x"].shape == (4, 8)
    again = run_cli("train", "--seq-len", "8", "--models", "rnn,lstm,gru", "--steps", "60", "--eval-every", "20",
                    "--hidden-size", "16", "--out", str(tmp_path / "again"), "--store", str(tmp_path / "s"), "--reuse")
    assert again.returncode == 0 and "reused from the run store: rnn, lstm, gru" in again.stdout


@pytest.mark.parametrize("args,message", [
    (["--task", "nope"], "unknown task"),
    (["--seq-len", "1"], "seq_len must be between"),
    (["--seq-len", "100000"], "seq_len must be between"),
    (["--seq-len", "ten"], "seq_len must be a whole number"),
    (["--hidden-size", "0"], "hidden_size must be between"),
    (["--hidden-size", "-4"], "hidden_size must be between"),
    (["--lr", "abc"], "lr must be a number"),
    (["--lr", "inf"], "lr must be a finite number"),
    (["--lr", "0"], "lr must be greater than 0"),
    (["--models", "rnn,transformer"], "unknown model"),
    (["--out", "/proc/cannot/write/here"], "cannot write to"),
    (["--frobnicate"], "unrecognized arguments"),
])
def test_bad_input_is_one_line_and_status_2(args, message, tmp_path):
    base = ["train", "--steps", "2", "--no-store", "--out", str(tmp_path / "x")]
    p = run_cli(*base, *args)
    assert p.returncode == 2
    assert message in p.stderr
    assert "Traceback" not in p.stderr and len(p.stderr.strip().splitlines()) == 1


def test_resume_carries_a_run_on_with_the_numbers_of_one_long_run(tmp_path, capsys):
    from core.cli import main
    from core.runio import load_run

    common = ["--seq-len", "8", "--hidden-size", "8", "--batch-size", "16", "--eval-every", "10", "--quiet",
              "--no-store"]
    assert main(["train", *common, "--steps", "30", "--out", str(tmp_path / "a")]) == 0
    assert main(["train", "--resume", str(tmp_path / "a"), "--steps", "60", "--quiet", "--no-store",
                 "--out", str(tmp_path / "b")]) == 0
    assert main(["train", *common, "--steps", "60", "--out", str(tmp_path / "long")]) == 0
    b, long = load_run(tmp_path / "b"), load_run(tmp_path / "long")
    drop = ["elapsed_s"]
    assert b.metrics_frame().drop(columns=drop).equals(long.metrics_frame().drop(columns=drop))
    assert b.steps_frame().equals(long.steps_frame())
    assert b.config == long.config and {r.status for r in b.runs.values()} == {"finished"}
    # a resumed folder resumes again; too few steps is one line
    assert main(["train", "--resume", str(tmp_path / "b"), "--steps", "40", "--quiet", "--no-store"]) == 2
    assert "--steps must be more than the 60 steps" in capsys.readouterr().err
