"""Same config, same numbers, on every path.

A run's numbers depend on its config and its platform, nothing else: not on the thread that trains it,
nor on what other threads do at the same moment. These tests force the races that broke it (two model
builds, two whole runs, a sweep in threads, all started at the same instant) and hold every (kind, init)
to the weights and metrics main gave before runs owned their random state (tests/fingerprints.py,
tests/data/same_numbers.json): bit for bit on a platform that has a recording (an Intel Xeon and an AMD
EPYC, torch 2.13.0 CPU), within a tolerance that a changed draw cannot pass on any other.
"""
import json
import threading

import pandas as pd
import pytest
import torch

from core.config import ModelConfig, RunConfig, TaskConfig, TrainConfig, validate
from core.executors import InProcessExecutor, ThreadExecutor
from core.models import build_model
from core.sweep import make_sweep, run_sweep
from core.tasks import make_task
from benchmarks.same_numbers import GRID, thread_sweeps_that_differ
from core.trainer import Trainer, train
from tests.fingerprints import (CASES, FILE, build, digest, evaluations, model_cases, platform_key, run_config,
                                run_mismatches, weight_mismatches, weight_values)

RECORDED = json.loads(FILE.read_text())
BITS = RECORDED["bits"].get(platform_key())  # None: this platform has no recording of its own
VALUES = RECORDED["values"]


def _cfg(kind, field, init, task="first_token", T=20, hidden=64):
    return validate(RunConfig(task=TaskConfig(name=task, seq_len=T),
                              model=ModelConfig(hidden_size=hidden, **{field: init}), models=(kind,)))


# --- the stored past is kept -------------------------------------------------------------------------
@pytest.mark.parametrize("kind,field,init", CASES)
def test_initial_weights_are_those_main_gave_before(kind, field, init):
    for key, cfg, seed in model_cases(kind, field, init):
        m = build(cfg, seed)
        if BITS is not None:
            assert digest(m) == BITS["weights"][key], key
        assert weight_mismatches(weight_values(m), VALUES["weights"][key]) == [], key


@pytest.mark.parametrize("kind,field,init", CASES)
def test_training_metrics_are_those_main_gave_before(kind, field, init):
    key = f"{kind}:{init}"
    got = evaluations(run_config(kind, field, init))
    if BITS is not None:
        assert got == BITS["runs"][key]
    assert run_mismatches(got, VALUES["runs"][key]) == []


def test_the_tolerance_lets_other_cpus_through_and_stops_a_changed_draw():
    """Off its own platform a run is held to the tolerance: every recorded platform's exact numbers pass it
    against the values, and a changed seed, a weight moved by 1e-4 or a learning rate 3% off do not."""
    for platform, bits in RECORDED["bits"].items():
        for key, want in VALUES["runs"].items():
            assert run_mismatches(bits["runs"][key], want) == [], (platform, key)
    key, cfg, seed = next(model_cases("lstm", "forget_init", "chrono"))
    assert key.endswith("seed=0")
    assert weight_mismatches(weight_values(build(cfg, seed + 1)), VALUES["weights"][key])  # another draw
    m = build(cfg, seed)
    with torch.no_grad():
        next(iter(m.parameters())).view(-1)[0] += 1e-4  # one weight of thousands, moved a little
    assert weight_mismatches(weight_values(m), VALUES["weights"][key])
    assert run_mismatches(evaluations(run_config("lstm", "forget_init", "chrono", lr=0.00309)),
                          VALUES["runs"]["lstm:chrono"])


def test_building_a_model_leaves_torchs_global_generator_alone():
    cfg = _cfg("lstm", "forget_init", "chrono")
    torch.manual_seed(123)
    state = torch.get_rng_state()
    a = build_model("lstm", make_task(cfg.task), cfg.model, 0)
    assert torch.equal(torch.get_rng_state(), state)  # nothing drawn from, nothing reseeded
    torch.manual_seed(999)  # whatever the global generator holds, the weights are the run's
    b = build_model("lstm", make_task(cfg.task), cfg.model, 0)
    assert digest(a) == digest(b)


# --- races forced with a barrier -----------------------------------------------------------------------
def _at_once(*fns, repeat: int):
    """Run the functions in threads that start each round at the same instant; their results."""
    out = [[] for _ in fns]
    barrier = threading.Barrier(len(fns))

    def loop(i):
        for _ in range(repeat):
            barrier.wait()
            out[i].append(fns[i]())

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(len(fns))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def test_two_builds_at_the_same_instant_get_the_weights_of_builds_alone():
    cfgs = [_cfg("rnn", "rnn_init", "orthogonal"), _cfg("lstm", "forget_init", "chrono")]
    tasks = [make_task(c.task) for c in cfgs]
    alone = [digest(build_model(c.models[0], t, c.model, s)) for c, t, s in zip(cfgs, tasks, (0, 1))]
    together = _at_once(*(lambda c=c, t=t, s=s: digest(build_model(c.models[0], t, c.model, s))
                          for c, t, s in zip(cfgs, tasks, (0, 1))), repeat=150)
    for i, got in enumerate(together):
        bad = sum(g != alone[i] for g in got)
        assert bad == 0, f"{bad} of {len(got)} concurrent builds of {cfgs[i].models[0]} got other weights"


def test_two_runs_started_at_the_same_instant_give_the_numbers_of_runs_alone():
    base = dict(model=ModelConfig(hidden_size=8), train=TrainConfig(steps=10, eval_every=5, n_checkpoints=2))
    cfgs = [validate(RunConfig(task=TaskConfig(seq_len=8), models=("rnn",), **base)),
            validate(RunConfig(task=TaskConfig(seq_len=8), models=("lstm",), **base))]

    def numbers(cfg):
        run = Trainer(cfg, parallel=False).run().runs[cfg.models[0]]
        return [s["loss"] for s in run.steps], [e["metric"] for e in run.evals]

    alone = [numbers(c) for c in cfgs]
    together = _at_once(*(lambda c=c: numbers(c) for c in cfgs), repeat=15)
    for i, got in enumerate(together):
        assert all(g == alone[i] for g in got), cfgs[i].models[0]


COLS = ["model", "seq_len", "seed", "metric", "steps_to_target", "steps_run", "status", "hash"]


def test_a_thread_sweep_of_18_runs_equals_the_in_process_sweep_every_time():
    assert len(make_sweep(GRID, "6,8,10", "0,1,2").jobs()) == 18
    assert thread_sweeps_that_differ(repeats=4) == 0  # python -m benchmarks.same_numbers: 20


def test_a_sweep_in_four_threads_gives_the_same_table():
    sweep = make_sweep(GRID, "6,8", "0,1")
    a = run_sweep(sweep, None, InProcessExecutor()).table[COLS]
    b = run_sweep(sweep, None, ThreadExecutor(workers=4)).table[COLS]
    pd.testing.assert_frame_equal(a, b)
