"""Many visitors on one queue: chunks are shared between sessions (core.share), one session's jobs are
capped, a job whose page is gone is stopped, and no interleaving changes a run's numbers. Tiny
models on the queue itself (no browser); every timing bound allows for a loaded machine."""
from __future__ import annotations

import threading
import time

import pytest

from core import jobs
from core.config import ModelConfig, RunConfig, TaskConfig, TrainConfig, validate
from core.executors import Gate, ThreadExecutor
from core.jobs import JobQueue, QueueFull, SweepJob, TrainJob
from core.share import Share
from core.sweep import make_sweep, run_sweep
from core.executors import InProcessExecutor
from core.trainer import train


def cfg(steps=60, seed=0) -> RunConfig:
    return validate(RunConfig(task=TaskConfig(seq_len=8), model=ModelConfig(hidden_size=8),
                              train=TrainConfig(steps=steps, eval_every=10, batch_size=16, seed=seed)))


def numbers(result):
    return {k: [(e["step"], e["metric"], e["loss"]) for e in r.evals] for k, r in result.runs.items()}


def wait_for(cond, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


class Recorded(Share):
    """The share of the queue, remembering whose chunk each turn was."""

    def __init__(self):
        super().__init__()
        self.turns: list[str] = []

    def pick(self, owners):
        who = super().pick(owners)
        if who is not None:
            self.turns.append(who)
        return who


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(jobs, "CHUNK_S", 0.02)  # ~10 tiny steps a chunk: many turns in a short test


def test_the_least_used_session_goes_next_and_use_decays():
    now = [0.0]
    s = Share(half_life_s=10.0, clock=lambda: now[0])
    s.charge("a", 4.0)
    assert s.order(["a", "b"]) == ["b", "a"]  # a newcomer first
    s.charge("b", 1.0)
    assert s.pick(["a", "b"]) == "b"
    now[0] = 10.0
    assert s.used("a") == pytest.approx(2.0) and s.used("b") == pytest.approx(0.5)
    assert s.order(["c", "d"]) == ["c", "d"]  # a tie: named first
    s.pick(["c", "d"])
    assert s.order(["c", "d"]) == ["d", "c"]  # ... then served longest ago
    now[0] = 1000.0
    s.forget(["b"])
    assert "a" not in s._used and "b" in s._used  # decayed owners are dropped, kept ones stay


def test_a_short_job_of_a_second_session_finishes_while_a_huge_one_runs():
    """The issue's probe: tab A trains 100,000 steps, tab B's 50-step job does not wait for it."""
    share = Recorded()
    q = JobQueue(share=share)
    hog = q.submit(TrainJob(cfg(steps=100_000), owner="a"))
    wait_for(lambda: hog.wall_s > 3.0)  # A has used the worker for a while (B needs far less: ~0.2 s)
    before, turns_before = hog.step, len(share.turns)
    small = q.submit(TrainJob(cfg(steps=50, seed=1), owner="b"))
    assert q.ahead(small) == 0  # not behind A's run
    assert q.wait(small, timeout=60) and small.state == jobs.FINISHED
    wait_for(lambda: hog.step > before)  # and A goes on
    # B had used less than A, so B had every chunk from its first to its last: A none in between,
    # and at most the one in flight when B came (its finish: alone time plus a chunk)
    during = share.turns[turns_before:]
    first_b, last_b = during.index("b"), len(during) - 1 - during[::-1].index("b")
    assert first_b <= 1 and "a" not in during[first_b:last_b], during
    assert numbers(small.result()) == numbers(train(cfg(steps=50, seed=1)))
    hog.stop()
    q.wake()
    assert q.wait(hog) and hog.state == jobs.STOPPED


def test_two_long_jobs_alternate_and_keep_their_numbers(small_chunks):
    share = Recorded()
    q = JobQueue(share=share)
    a = q.submit(TrainJob(cfg(steps=100, seed=2), owner="a"))
    b = q.submit(TrainJob(cfg(steps=100, seed=3), owner="b"))
    wait_for(lambda: a.ended or b.ended)
    first, other = (a, b) if a.ended else (b, a)
    used_first, used_other = first.wall_s, other.wall_s
    assert q.wait(a) and q.wait(b)
    assert a.state == b.state == jobs.FINISHED
    # the worker was shared: when one ended, the other had had about as much of it (not none)
    assert used_other >= 0.5 * used_first, (used_first, used_other, share.turns)
    assert sum(x != y for x, y in zip(share.turns, share.turns[1:])) >= 3, share.turns
    # chunks of two runs interleaved: each run's numbers are those of the run trained alone
    assert numbers(a.result()) == numbers(train(cfg(steps=100, seed=2)))
    assert numbers(b.result()) == numbers(train(cfg(steps=100, seed=3)))


def test_one_session_holds_only_so_many_jobs():
    q = JobQueue(max_per_owner=2)
    mine = [q.submit(TrainJob(cfg(seed=s), owner="x", pause_at=0)) for s in (1, 2)]
    with pytest.raises(QueueFull, match=r"this session already has 2 jobs waiting or running \(at most 2\)"):
        q.submit(TrainJob(cfg(seed=3), owner="x"))
    other = q.submit(TrainJob(cfg(seed=4), owner="y"))  # another session is not held back
    assert q.wait(other) and other.state == jobs.FINISHED
    for j in mine:
        j.stop()
    q.wake()
    assert all(q.wait(j) for j in mine)
    q.submit(TrainJob(cfg(seed=3), owner="x"))  # ended jobs free the place


def test_a_job_whose_page_is_gone_is_stopped_and_frees_the_queue():
    """Ten tabs that pressed Train and closed: their jobs end, and a new visitor gets in."""
    q = JobQueue(max_waiting=1, gone_s=0.5)
    left = [TrainJob(cfg(steps=100_000, seed=s), owner=f"tab{s}") for s in (1, 2)]
    for j in left:
        j.touch()
        q.submit(j)
    paused = TrainJob(cfg(steps=100_000, seed=3), owner="tab3", pause_at=0)
    paused.touch()
    with pytest.raises(QueueFull):
        q.submit(paused)
    kept = TrainJob(cfg(steps=100_000, seed=4), owner="alive")  # its page polls it
    wait_for(lambda: all(j.ended for j in left), timeout=30)
    assert all(j.state == jobs.STOPPED and j.gone for j in left)
    kept.touch()
    q.submit(kept)
    stop_beating = threading.Event()

    def beat():
        while not stop_beating.is_set():
            kept.touch()
            time.sleep(0.05)

    t = threading.Thread(target=beat, daemon=True)
    t.start()
    try:
        time.sleep(1.5)  # three times gone_s
        assert not kept.ended and kept.step > 0
        assert not any(j in q.jobs() for j in left)  # ended jobs no page will take are dropped
    finally:
        stop_beating.set()
        t.join()
    wait_for(lambda: kept.ended, timeout=30)  # its page stopped beating: it is stopped as well
    assert kept.gone and kept.state == jobs.STOPPED


def test_a_paused_job_of_a_gone_session_is_stopped_too():
    q = JobQueue(gone_s=0.3)
    j = TrainJob(cfg(steps=1000), owner="x", pause_at=0)
    j.touch()
    q.submit(j)
    wait_for(lambda: j.state == jobs.PAUSED)
    wait_for(lambda: j.ended, timeout=30)
    assert j.gone and j.state == jobs.STOPPED


def test_an_untouched_job_is_never_taken_for_gone():
    """The CLI, tests and the server's own jobs have no page: they run as long as they need."""
    q = JobQueue(gone_s=0.01)
    j = q.submit(TrainJob(cfg(steps=60)))
    assert q.wait(j) and j.state == jobs.FINISHED and not j.gone


def test_the_gate_lets_runs_train_only_while_open():
    gate = Gate()
    count = [0]
    stop = threading.Event()

    def run():
        gate.enter()
        try:
            while not stop.is_set():
                gate.passage()
                count[0] += 1
                time.sleep(0.001)
        finally:
            gate.leave()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    time.sleep(0.1)
    assert count[0] == 0  # shut from the start
    gate.open()
    wait_for(lambda: count[0] > 5)
    assert gate.shut(timeout=5)
    at = count[0]
    time.sleep(0.1)
    assert count[0] == at  # parked
    stop.set()
    gate.release()
    t.join(5)
    assert not t.is_alive()


def test_a_sweep_shares_the_worker_and_keeps_its_numbers(small_chunks):
    """A sweep in a thread pool (the page's executor) takes chunks in turn with another session's
    training, and its runs give the numbers of the same sweep run alone in one process."""
    share = Recorded()
    q = JobQueue(share=share)
    sweep = make_sweep(cfg(steps=40), "6,8", "0")
    hog = q.submit(TrainJob(cfg(steps=100_000, seed=9), owner="a"))
    wait_for(lambda: hog.wall_s > 0.3)
    sj = q.submit(SweepJob(sweep, None, executor_factory=lambda: ThreadExecutor(2), owner="b"))
    assert q.wait(sj, timeout=120) and sj.state == jobs.FINISHED
    assert not hog.ended and "b" in share.turns
    hog.stop()
    q.wake()
    q.wait(hog)
    alone = run_sweep(sweep, None, InProcessExecutor())
    cols = ["model", "seq_len", "seed", "metric", "steps_run"]
    got = sj.result.table[cols].sort_values(cols[:3]).reset_index(drop=True)
    assert got.equals(alone.table[cols].sort_values(cols[:3]).reset_index(drop=True))


def test_a_stopped_sweep_lets_its_waiting_runs_go():
    """A sweep stopped between its chunks (its runs parked at the gate) ends: nothing waits forever."""
    q = JobQueue()
    sweep = make_sweep(cfg(steps=5000), "6,8", "0")
    hog = q.submit(TrainJob(cfg(steps=100_000, seed=9), owner="a"))
    sj = q.submit(SweepJob(sweep, None, executor_factory=lambda: ThreadExecutor(2), owner="b"))
    wait_for(lambda: sj.wall_s > 0.5)
    sj.stop()
    assert q.wait(sj, timeout=60) and sj.state == jobs.STOPPED
    hog.stop()
    q.wake()
    assert q.wait(hog)


def test_every_page_of_a_session_keeps_its_jobs_alive():
    """The heartbeat: a page that does not poll the session's sweep (Gradients) still touches it, and
    registers the fragment that touches it again every HEARTBEAT_S while it runs."""
    from streamlit.testing.v1 import AppTest

    from dashboard.components import owned, sweep_run
    from tests.conftest import ROOT

    at = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=120)
    at.switch_page("views/sweep.py").run()
    at.text_input(key="sweep-lengths").input("8")
    at.text_input(key="sweep-seeds").input("0")
    at.number_input(key="sweep-steps").set_value(100_000)
    at.number_input(key="sweep-hidden").set_value(8)
    at.button(key="sweep-start").click().run()
    j = at.session_state[sweep_run.JOB]
    assert not j.ended and any(h is j for h in at.session_state[owned.HELD])
    j.seen = time.monotonic() - 100  # unseen for a while, not yet for GONE_S
    at.switch_page("views/gradients.py").run()
    assert not at.exception and time.monotonic() - j.seen < 30 and not j.ended
    j.stop()
    assert jobs.default_queue().wait(j)
    at.run()
    assert not at.session_state[owned.HELD]  # an ended job is no longer held


def test_a_page_that_comes_back_after_its_job_was_stopped_says_why(monkeypatch):
    from tests.test_app import TINY, app, job_of

    monkeypatch.setattr(jobs.default_queue(), "gone_s", 0.5)
    at = app(**{**TINY, "steps": "100000"})
    at.button(key="train").click().run()
    j = job_of(at)
    wait_for(lambda: j.ended, timeout=30)  # no page run touches it meanwhile: a sleeping tab
    at.run()
    assert not at.exception and j.gone
    from dashboard.components.plain import unescape
    assert any(unescape(e.value).startswith("The server stopped this job: its page had not been seen for")
               for e in at.error)
    assert "Stopped at step" in " ".join(c.value for c in at.caption)
