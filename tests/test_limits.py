"""The lab's limits hold on every path, not only on a new run's form: the steps rule (core.config) on
the lab's More steps, a resumed run and the CLI; the memory limit on a sweep's runs as on a lab run;
the sweep's caps on the page and in the CLI; a checkpoint step that does not exist. Each is refused in
one line (the CLI: exit 2, no traceback). Tiny configs throughout."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from core.config import (MAX_RUN_GB, ConfigError, ModelConfig, RunConfig, TaskConfig, TrainConfig, memory_gb,
                         more_steps, rule, validate)
from core.jobs import JobQueue, TrainJob
from core.sweep import MAX_SWEEP_STEPS, make_sweep
from core.trainer import Trainer
from dashboard.components import controls
from dashboard.components.plain import unescape
from tests.conftest import ROOT, run_cli

TINY = ["--task", "sentiment_but", "--seq-len", "4", "--hidden-size", "2", "--batch-size", "4", "--quiet", "--no-store"]
HI = int(rule("train", "steps").hi)


def refused(p, *words: str) -> None:
    """Exit 2, one line on stderr that says `words`, no traceback."""
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in p.stderr, p.stderr
    assert len(lines[0]) < 200, lines[0]
    for w in words:
        assert w in lines[0], lines[0]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("limits") / "run"
    assert run_cli("train", *TINY, "--steps", "20", "--out", str(out)).returncode == 0
    return out


def tiny(steps=20) -> RunConfig:
    return validate(RunConfig(task=TaskConfig(seq_len=6), model=ModelConfig(hidden_size=8),
                              train=TrainConfig(steps=steps, eval_every=10, batch_size=8)))


# --- the steps rule on every path ---------------------------------------------------------------
def test_more_steps_keeps_the_steps_rule_in_all():
    assert more_steps(20, 100) == 120 and more_steps(0, HI) == HI
    with pytest.raises(ConfigError, match=f"20 steps trained \\+ 100,000 more would be 100,020; a run trains at most "
                                          f"{HI:,} steps in all"):
        more_steps(20, 100_000)
    for bad in (0, -5, "inf", "nan", 2.5, "1e99"):
        with pytest.raises(ConfigError, match="more steps must be"):
            more_steps(20, bad)


def test_a_trainer_and_a_job_cannot_be_extended_past_the_rule():
    t = Trainer(tiny())
    t.advance(20)
    with pytest.raises(ConfigError, match=f"steps must be between 1 and {HI}, got 1000000000"):
        t.extend(10**9)
    assert t.cfg.train.steps == 20  # refused before anything changed
    q = JobQueue()
    j = q.submit(TrainJob(tiny()))
    assert q.wait(j)
    with pytest.raises(ValueError, match="at most"):
        j.extend(more_steps(j.step, HI))
    assert j.cfg.train.steps == 20 and j.ended


def test_resume_keeps_the_steps_rule(run_dir):
    refused(run_cli("train", "--resume", str(run_dir), "--steps", "1e9", "--quiet", "--no-store"),
            f"--steps must be between 1 and {HI}, got 1e9")
    refused(run_cli("train", "--resume", str(run_dir), "--steps", "inf", "--quiet", "--no-store"),
            "--steps must be a whole number, got 'inf'")
    refused(run_cli("train", "--resume", str(run_dir), "--steps", "10", "--quiet", "--no-store"),
            "--steps must be more than the 20 steps")


def test_export_refuses_a_step_the_run_did_not_keep(run_dir, tmp_path):
    refused(run_cli("export", "--run", str(run_dir), "--out", str(tmp_path / "x"), "--formats", "csv",
                    "--step", "999999"), "--step must be between 0 and 20")
    refused(run_cli("inspect", "--run", str(run_dir), "--out", str(tmp_path / "y"), "--step", "999999"),
            "--step must be between 0 and 20")  # the same rule, one home (core.inspection.check_step)
    ok = run_cli("export", "--run", str(run_dir), "--out", str(tmp_path / "z"), "--formats", "csv", "--step", "10")
    assert ok.returncode == 0, ok.stderr


# --- sweeps -------------------------------------------------------------------------------------------
def test_sweep_lengths_and_caps_are_refused_in_one_line():
    refused(run_cli("sweep", "--lengths", "1e99", "--no-store", "--quiet"), "got 1e+99")
    refused(run_cli("sweep", "--seeds", "1e99", "--no-store", "--quiet"), "got 1e+99")
    refused(run_cli("sweep", "--steps", str(HI), "--lengths", "10,20", "--seeds", "0,1,2,3,4,5", "--no-store",
                    "--quiet"), f"24 runs x {HI:,} steps", f"at most {MAX_SWEEP_STEPS:,} in all")


def test_a_sweep_is_capped_in_steps_in_all():
    base = tiny(steps=MAX_SWEEP_STEPS // 10)
    assert len(make_sweep(base, "6,8,10,12,14", "0").jobs()) == 10  # exactly at the cap
    with pytest.raises(ConfigError, match=f"would train 12 runs x {MAX_SWEEP_STEPS // 10:,} steps"):
        make_sweep(base, "6,8,10,12,14,16", "0")


def test_a_sweep_run_passes_the_same_memory_check_as_a_lab_run():
    """Where the lab's memory limit falls (batch 64, hidden 1024), a sweep's longest run is refused
    exactly when the lab refuses that run."""
    base = validate(RunConfig(model=ModelConfig(hidden_size=1024), train=TrainConfig(steps=10, batch_size=64)))
    edge = next(T for T in range(5, 1001) if memory_gb(base.replace(task=TaskConfig(seq_len=T))) > MAX_RUN_GB)
    for T in (edge - 1, edge):
        values = {**controls.values_of(base.replace(task=TaskConfig(seq_len=T)))}
        try:
            controls.config_from_values(values)
            lab_ok = True
        except ConfigError:
            lab_ok = False
        try:
            make_sweep(base, f"10,{T}", "0", max_gb=MAX_RUN_GB)
            sweep_ok = True
        except ConfigError as e:
            sweep_ok = False
            assert f"T = {T}" in str(e) and "GB" in str(e)
        assert lab_ok == sweep_ok == (T < edge), T
    make_sweep(base, f"10,{edge}", "0")  # the CLI has no memory limit (as for a lab run)


def test_the_sweep_page_refuses_a_grid_over_its_limits():
    at = AppTest.from_file(str(ROOT / "dashboard" / "views" / "sweep.py"), default_timeout=120).run()
    assert f"{MAX_SWEEP_STEPS:,} training steps in all" in " ".join(c.value for c in at.caption)
    at.text_input(key="sweep-lengths").input("801,1000")
    at.number_input(key="sweep-hidden").set_value(1024)
    at.number_input(key="sweep-steps").set_value(10)
    at.button(key="sweep-start").click().run()
    assert not at.exception and "GB of memory" in at.error[0].value and "sweep-job" not in at.session_state
    at.number_input(key="sweep-hidden").set_value(8)
    at.number_input(key="sweep-steps").set_value(HI)
    at.button(key="sweep-start").click().run()
    assert not at.exception and f"at most {MAX_SWEEP_STEPS:,} in all" in at.error[0].value


# --- the lab's More steps -------------------------------------------------------------------------------
def test_more_steps_past_the_limit_is_refused_and_the_sidebar_keeps_its_steps():
    from tests.test_app import TINY as LAB, app, click, texts

    at = app(**{**LAB, "steps": "20"})
    click(at, "train")
    assert "Trained just now: 20 steps" in texts(at)
    at.number_input(key="more_steps").set_value(HI).run()
    at.button(key="continue").click().run()
    assert not at.exception
    assert [unescape(e.value) for e in at.error] == [f"Cannot continue: 20 steps trained + {HI:,} more would be {HI + 20:,}; "
                                           f"a run trains at most {HI:,} steps in all."]
    assert at.number_input(key="steps").value == 20 and "Trained just now: 20 steps" in texts(at)
