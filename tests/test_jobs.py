"""Jobs: training and sweeps on a worker thread, one at a time, oldest first; pause, step, play,
continue and stop; the numbers are those of the plain trainer whichever way a run was scheduled."""
from __future__ import annotations

import time

import pytest

from core import jobs
from core.config import ModelConfig, RunConfig, TaskConfig, TrainConfig, validate
from core.executors import InProcessExecutor
from core.jobs import JobQueue, QueueFull, SweepJob, TrainJob
from core.store import RunStore
from core.sweep import make_sweep
from core.trainer import train


def cfg(steps=60, seed=0, models=("rnn", "lstm")) -> RunConfig:
    return validate(RunConfig(task=TaskConfig(seq_len=8), model=ModelConfig(hidden_size=8),
                              train=TrainConfig(steps=steps, eval_every=10, batch_size=16, seed=seed), models=models))


def numbers(result):
    return {k: [(e["step"], e["metric"], e["loss"]) for e in r.evals] for k, r in result.runs.items()}


def wait_for(cond, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_job_gives_the_numbers_of_the_plain_trainer_and_saves_before_it_ends():
    q = JobQueue()
    store = RunStore()
    j = q.submit(TrainJob(cfg(), store=lambda: store))
    assert q.wait(j) and j.state == jobs.FINISHED
    assert numbers(j.result()) == numbers(train(cfg()))
    assert sorted(j.saved) and store.get_result(cfg())[1] == []  # on disk once it says finished


def test_jobs_run_one_at_a_time_oldest_first():
    q = JobQueue()
    a = TrainJob(cfg(steps=200, seed=1), pause_at=0)  # holds its place until it pauses at step 0
    b = TrainJob(cfg(seed=2))
    c = TrainJob(cfg(seed=3))
    q.submit(a)
    q.submit(b)
    q.submit(c)
    assert q.ahead(c) in (1, 2)  # a is at step 0 or paused; b is ahead of c in any case
    q.wait(b)
    q.wait(c)
    assert b.state == c.state == jobs.FINISHED and a.state == jobs.PAUSED  # a paused job gives way
    assert b.created <= c.created
    a.play()
    q.wake()
    assert q.wait(a) and a.state == jobs.FINISHED


def test_pause_step_play_stop():
    q = JobQueue()
    j = TrainJob(cfg(steps=1000), pause_at=0)
    q.submit(j)
    q.wait(j)
    assert j.state == jobs.PAUSED and j.step == 0 and [e["step"] for e in j.result().runs["lstm"].evals] == [0]
    j.step_once()
    q.wake()
    wait_for(lambda: j.state == jobs.PAUSED and j.step == 10)
    j.step_once()
    q.wake()
    wait_for(lambda: j.state == jobs.PAUSED and j.step == 20)
    j.play()
    q.wake()
    wait_for(lambda: j.step > 40)
    j.pause()
    wait_for(lambda: j.state == jobs.PAUSED)
    at = j.step
    time.sleep(0.3)
    assert j.step == at  # a paused job does not train
    j.stop()
    q.wake()
    assert q.wait(j) and j.state == jobs.STOPPED
    assert {r.status for r in j.result().runs.values()} == {"stopped"}
    # what was trained equals the first `at` steps of an uninterrupted run
    whole = train(cfg(steps=1000))
    for k, evals in numbers(j.result()).items():
        assert evals[:-1] == numbers(whole)[k][: len(evals) - 1]


def test_continue_a_finished_job():
    q = JobQueue()
    j = q.submit(TrainJob(cfg(steps=30)))
    q.wait(j)
    j.extend(60)
    q.submit(j)
    assert q.wait(j) and j.state == jobs.FINISHED and j.step == 60
    assert numbers(j.result()) == numbers(train(cfg(steps=60)))


def test_a_full_queue_refuses_with_one_line():
    q = JobQueue(max_waiting=1)
    first = TrainJob(cfg(steps=100_000))
    q.submit(first)
    q.submit(TrainJob(cfg(seed=1)))
    with pytest.raises(QueueFull, match="the lab is busy: 2 jobs are waiting"):
        q.submit(TrainJob(cfg(seed=2)))
    first.stop()


def test_a_failing_job_keeps_what_it_trained(monkeypatch):
    from core.trainer import Trainer

    real = Trainer._train_model

    def broken(self, kind, step):
        if step > 15:
            raise RuntimeError("boom")
        return real(self, kind, step)

    monkeypatch.setattr(Trainer, "_train_model", broken)
    q = JobQueue()
    j = q.submit(TrainJob(cfg()))
    assert q.wait(j) and j.state == jobs.FAILED and "Training failed at step" in j.error and "boom" in j.error
    assert {r.status for r in j.result().runs.values()} == {"stopped"}
    assert max(e["step"] for e in j.result().runs["rnn"].evals) == 10


def test_a_sweep_job_fills_in_as_runs_finish():
    store = RunStore()
    base = cfg(steps=20)
    sweep = make_sweep(base, "6,8", "0")
    q = JobQueue()
    seen: list[int] = []
    j = SweepJob(sweep, store, executor_factory=InProcessExecutor)
    q.submit(j)
    while not j.ended:
        seen.append(len(j.rows()))
        time.sleep(0.01)
    assert j.state == jobs.FINISHED and len(j.rows()) == 4 and j.result.trained == 4
    assert seen == sorted(seen) and len(set(seen)) > 1  # rows arrived one by one
    again = SweepJob(sweep, store, executor_factory=InProcessExecutor)
    q.submit(again)
    q.wait(again)
    assert again.result.reused == 4 and len(again.rows()) == 4  # from the store, at once


def test_a_waiting_job_takes_what_another_job_stored_meanwhile():
    """The tour and the lab may queue the same experiment: the second one to run trains nothing."""
    store = RunStore()
    q = JobQueue()
    first = TrainJob(cfg(seed=5), store=lambda: store)
    second = TrainJob(cfg(seed=5), store=lambda: store, recheck_store=True)
    q.submit(first)
    q.submit(second)
    assert q.wait(first) and q.wait(second)
    assert second.state == jobs.FINISHED and second.trainer is None and set(second.reused) == {"rnn", "lstm"}
    assert numbers(second.result()) == numbers(first.result())
