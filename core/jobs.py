"""Training runs and sweeps as jobs: they run on a worker thread owned by the process (the
dashboard's server), outside any page's script run, publish what they have done so far, and are
polled by whoever shows them. They never touch a UI.

A `JobQueue` runs one chunk at a time (a training job already uses both cores, one model per
thread; a sweep's worker threads are let through a gate only during its chunks, core.executors.Gate),
so never two jobs train at once. A job works in chunks (about CHUNK_S seconds of training), between
which it can be paused, stepped, continued or stopped, and between which the queue shares the worker
between sessions (core.share): the session that has used the least compute lately runs the next
chunk, so a visitor's short job is not held up by another's 100,000-step run, and two long runs
alternate. Within a session, its jobs run oldest first, and `ahead(job)` says how many of its own are
in front. A `background` job (the server retraining the shipped reference, core.reference.prove)
runs only while no other job waits, and gives way to one at its next chunk.

Limits per visitor: the queue holds at most `max_waiting` jobs in all and `max_per_owner` of one
session (MAX_PER_OWNER), and a job whose page has not been seen for GONE_S seconds is stopped (its
session is gone: a closed tab); pages `touch()` their jobs each time they poll them.

A training job saves every model it completes (finished or diverged) to the run store before it
reports itself done, so a job killed with its server keeps every run it reported finished.

When the process ends (Ctrl-C or SIGTERM of `streamlit run`, a script or test that returns while
jobs run), the queue ends with it, cleanly: a watcher sees the main thread end and stops every
job; the worker (not a daemon, so the interpreter waits for it) lets the job in flight end its
chunk, saves its completed models, and returns. No thread is left inside torch while the
interpreter finalizes (that aborted the process: "terminate called without an active exception").
"""
from __future__ import annotations

import itertools
import logging
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Generator

import pandas as pd

from core.config import RunConfig
from core.executors import Gate
from core.results import ModelRun, RunResult
from core.share import Share
from core.store import RunStore
from core.sweep import Progress, SweepConfig, SweepResult, sweep_from_store, sweep_steps, table
from core.trainer import Trainer

log = logging.getLogger(__name__)

QUEUED, RUNNING, PAUSED, FINISHED, STOPPED, FAILED = "queued", "running", "paused", "finished", "stopped", "failed"
ENDED = (FINISHED, STOPPED, FAILED)
CHUNK_S = 0.5  # seconds of training between two checks of pause / stop (and two published snapshots)
PARK_S = 60.0  # at the end of its chunk a sweep waits at most this long for its runs to reach an evaluation


KEEP_ENDED_S = 3600.0  # an ended job waits this long for its page to take its result
MAX_PER_OWNER = 4  # jobs one session may have waiting, running or paused at once: a page holds one run
# and one sweep per session; the tour's jobs (shared by sessions, one owner) are at most 4 in flight
GONE_S = 180.0  # a job whose page has not polled it for this long is stopped: its session is gone. A
# page beats at least once a minute (dashboard.components.owned), even in a background tab a browser throttles


class QueueFull(RuntimeError):
    """More jobs wait than the queue holds; the message is one line for a person."""


_ids = itertools.count(1)


@dataclass
class Job:
    """What every job has: who owns it, where it stands, and one line on what went wrong."""

    owner: str = ""  # a browser session (or "cli"): a session sees only its own jobs
    id: int = field(default_factory=lambda: next(_ids))
    state: str = QUEUED
    error: str | None = None
    pause_asked: bool = False  # the worker pauses the job once its chunk in flight is over
    created: float = field(default_factory=time.time)
    ended_at: float | None = None
    wall_s: float = 0.0  # seconds spent working (not waiting in the queue, not paused)
    seen: float | None = None  # when its page last polled it (time.monotonic); None: no page watches it
    gone: bool = False  # stopped because its page was gone for GONE_S
    # lowest priority: runs only while no other job waits, gives way to one at its next chunk, and is
    # never counted as "ahead" of a person's job (the server's retraining of the reference)
    background = False

    @property
    def ended(self) -> bool:
        return self.state in ENDED

    def touch(self) -> None:
        """Its page is alive and polls it (the queue stops a job its page left GONE_S ago)."""
        self.seen = time.monotonic()

    def work(self) -> bool:  # pragma: no cover - every job defines it
        """Do one chunk; True when the job has nothing more to do."""
        raise NotImplementedError

    def stop(self) -> None:  # pragma: no cover
        raise NotImplementedError


class TrainJob(Job):
    """Train the models of `cfg` that `reused` does not already hold (taken from the run store).

    Controls (thread-safe, callable from any thread): pause(), play(), step() (train to the next
    evaluation, then pause), extend(steps) (continue a finished or paused run to `steps` in all,
    with the optimizer state kept), stop(). `result()` is the latest published snapshot.
    """

    def __init__(self, cfg: RunConfig, reused: dict[str, ModelRun] | None = None, owner: str = "",
                 store: Callable[[], RunStore | None] | None = None, parallel: bool | None = None,
                 pause_at: int | None = None, recheck_store: bool = False):
        super().__init__(owner=owner)
        self.cfg = cfg
        self.reused = dict(reused or {})
        self.to_train = tuple(k for k in cfg.models if k not in self.reused)
        self._store = store
        self._parallel = parallel
        self.trainer: Trainer | None = None
        self._lock = threading.Lock()
        self._pause_at = pause_at  # pause once the trainer reaches this step (0: right after step 0)
        self._recheck = recheck_store  # look in the store again when the job starts (it may have waited)
        self._stop_asked = False
        self._chunk = 5  # steps per chunk, adapted to CHUNK_S
        self._published = RunResult(config=cfg, runs=dict(self.reused))
        self.started = threading.Event()  # set once step 0 is evaluated and published
        self.saved: list[str] = []  # models written to the run store
        self.notes: list[str] = []  # one-line problems met on the way (e.g. the store is unwritable)

    # --- what pages read ------------------------------------------------------------------
    @property
    def step(self) -> int:
        return self.trainer.step if self.trainer is not None else 0

    @property
    def total(self) -> int:
        return self.trainer.cfg.train.steps if self.trainer is not None else self.cfg.train.steps

    def result(self) -> RunResult:
        return self._published

    # --- controls ---------------------------------------------------------------------------
    def pause(self) -> None:
        """Pause: a queued job at once, a running one when its chunk in flight has ended (the
        trainer is interrupted at its next step): PAUSED always means nothing is training."""
        with self._lock:
            if self.state in (QUEUED, RUNNING):
                self.pause_asked = True
                if self.state == QUEUED:
                    self.state = PAUSED
                if self.trainer is not None:
                    self.trainer.interrupt()

    def play(self) -> None:
        with self._lock:
            if self.state == PAUSED:
                self._pause_at = None
                self.pause_asked = False
                self.state = QUEUED
                if self.trainer is not None:
                    self.trainer.resume()

    def step_once(self) -> None:
        """Train one evaluation interval (from wherever it stands), then pause."""
        with self._lock:
            if self.state in (PAUSED, QUEUED):
                every = self.cfg.train.eval_every
                self._pause_at = min(self.total, (self.step // every + 1) * every)
                self.pause_asked = False
                self.state = QUEUED
                if self.trainer is not None:
                    self.trainer.resume()

    def extend(self, steps: int) -> None:
        """Continue to `steps` training steps in all (more than already trained)."""
        with self._lock:
            if self.trainer is None or self.state not in (PAUSED, FINISHED, STOPPED):
                raise ValueError("only a paused or ended run can be continued")
            self.trainer.extend(steps)
            self.trainer.resume()
            self.cfg = self.cfg.replace(train=self.trainer.cfg.train)
            self._pause_at = None
            self.pause_asked = False
            self.state = QUEUED

    def stop(self) -> None:
        """End the run, keeping what was trained; the worker does it at its next chunk (a paused
        job is queued again for that), so the trainer is only ever touched by one thread."""
        with self._lock:
            if self.ended:
                return
            self._stop_asked = True
            self.pause_asked = False
            if self.trainer is not None:
                self.trainer.stop()
                self.trainer.resume()
            if self.state == PAUSED:
                self.state = QUEUED

    # --- the worker's side ---------------------------------------------------------------------
    def work(self) -> bool:
        t0 = time.perf_counter()
        try:
            if self._stop_asked and self.trainer is None:  # stopped before it began
                self.started.set()
                return True
            if self.pause_asked and not self._stop_asked:  # paused before this chunk began
                return False
            if self.trainer is None and self._recheck and self._take_stored():
                self._publish()
                self.started.set()
                return True  # everything was stored while this job waited: nothing to train
            if self.trainer is None:  # build and evaluate step 0: the first chart comes from this
                self.trainer = Trainer(self.cfg.replace(models=self.to_train), parallel=self._parallel)
                self._publish()
                self.started.set()
                self._maybe_pause()
                return False
            limit = None
            if self._pause_at is not None:
                limit = max(0, self._pause_at - self.trainer.step)
            n = self._chunk if limit is None else min(self._chunk, limit)
            c0 = time.perf_counter()
            self.trainer.advance(n)
            dt = time.perf_counter() - c0
            self._chunk = max(1, min(200, round(self._chunk * CHUNK_S / max(dt, 1e-3))))
            self._publish()
            if self.trainer.done:
                self._save()
                return True
            self._maybe_pause()
            return False
        finally:
            self.wall_s += time.perf_counter() - t0

    def _take_stored(self) -> bool:
        """Reuse models another job stored while this one waited; True if none is left to train."""
        try:
            store = self._store() if self._store is not None else None
            found, _ = store.get_result(self.cfg.replace(models=self.to_train)) if store else (None, None)
        except Exception:  # the store is a convenience here: train instead
            return False
        if found is not None and found.runs:
            self.reused.update(found.runs)
            self.to_train = tuple(k for k in self.cfg.models if k not in self.reused)
        return not self.to_train

    def _maybe_pause(self) -> None:
        if self._pause_at is not None and self.trainer is not None and self.trainer.step >= self._pause_at:
            with self._lock:
                self._pause_at = None
                self.pause_asked = True  # the queue marks it PAUSED once this chunk is over

    def failed(self, e: BaseException) -> None:
        """The worker met an exception: keep what was trained (as stopped), say what happened."""
        self.started.set()
        step = self.step
        self.error = f"Training failed at step {step:,}: {type(e).__name__}: {e}"
        if self.trainer is not None:
            for run in self.trainer.runs.values():
                if run.status == "running":
                    run.status = "stopped"
            self._publish()

    def end_state(self) -> str:
        if self.error:
            return FAILED
        if self.trainer is None and not self.to_train:
            return FINISHED  # all taken from the store
        runs = self.trainer.runs.values() if self.trainer is not None else []
        return STOPPED if self._stop_asked or any(r.status == "stopped" for r in runs) else FINISHED

    def _publish(self) -> None:
        """A consistent copy of the runs for readers on other threads (lists copied, arrays shared)."""
        runs: dict[str, ModelRun] = {}
        trained = self.trainer.runs if self.trainer is not None else {}
        for k in self.cfg.models:
            if k in self.reused:
                runs[k] = self.reused[k]
            elif k in trained:
                r = trained[k]
                runs[k] = ModelRun(kind=r.kind, config=r.config, evals=list(r.evals), steps=list(r.steps),
                                   checkpoints=dict(r.checkpoints), grad_probes=dict(r.grad_probes),
                                   status=r.status, steps_run=r.steps_run, elapsed_s=r.elapsed_s,
                                   steps_to_target=r.steps_to_target, seconds_to_target=r.seconds_to_target,
                                   n_params=r.n_params)
        self._published = RunResult(config=self.cfg, runs=runs)

    def _save(self) -> None:
        if self._store is None or self.trainer is None:
            return
        try:
            store = self._store()
            if store is None:
                return
            self.saved = store.put_result(self.trainer.result())
        except Exception as e:  # the store is outside state: the run is kept in memory all the same
            log.exception("run store write failed")
            self.notes.append(f"Could not save to the run store ({type(e).__name__}: {e}); kept in this session.")


class SweepJob(Job):
    """Run a sweep grid (reusing the store's runs) through an executor, in chunks like a training
    job: `rows()` fills in as runs finish, `progress` is the latest report. A thread pool's runs
    train only during the job's chunks (core.executors.Gate); a process pool's are not held."""

    def __init__(self, sweep: SweepConfig, store: RunStore | None, executor_factory: Callable[[], Any],
                 owner: str = ""):
        super().__init__(owner=owner)
        self.sweep = sweep
        self._store = store
        self._executor_factory = executor_factory
        self._stop = threading.Event()
        self._gate = Gate()
        self._steps: Generator[None, None, SweepResult] | None = None
        self._rows: list[dict] = []
        self.progress: Progress | None = None
        self.result: SweepResult | None = None

    def rows(self) -> pd.DataFrame:
        return table(list(self._rows))

    def stop(self) -> None:
        self._stop.set()
        self._gate.release()  # runs waiting for their turn go on to their stop
        if self.state == QUEUED and self._steps is None:
            self.state = STOPPED
            self.ended_at = time.time()

    def _report(self, p: Progress) -> None:
        self.progress = p
        if p.row is not None:
            self._rows.append(p.row)

    def work(self) -> bool:
        t0 = time.perf_counter()
        try:
            if self._steps is None:
                if self._store is not None:  # reused runs are shown at once
                    self._rows.extend(sweep_from_store(self.sweep, self._store).to_dict("records"))
                executor = self._executor_factory()
                if hasattr(executor, "gate"):
                    executor.gate = self._gate
                self._steps = sweep_steps(self.sweep, self._store, executor, on_progress=self._report,
                                          stop=self._stop)
            self._gate.open()
            try:
                while time.perf_counter() - t0 < CHUNK_S:
                    next(self._steps)
            except StopIteration as done:
                self.result = done.value
                return True
            finally:
                self._gate.shut(PARK_S)
            return False
        finally:
            self.wall_s += time.perf_counter() - t0

    def failed(self, e: BaseException) -> None:
        self._gate.release()
        self.error = f"The sweep failed: {type(e).__name__}: {e}"

    def end_state(self) -> str:
        if self.error:
            return FAILED
        return STOPPED if self.result is None or self.result.stopped else FINISHED


WATCH_S = 0.1  # how often the watcher looks whether the main thread has ended


class JobQueue:
    """One worker thread; each chunk goes to the session that has used the least compute lately
    (core.share), a session's own jobs oldest first; a paused job gives way."""

    def __init__(self, max_waiting: int = 8, max_per_owner: int = MAX_PER_OWNER, gone_s: float = GONE_S,
                 share: Share | None = None):
        self.max_waiting = max_waiting
        self.max_per_owner = max_per_owner
        self.gone_s = gone_s
        self._share = share or Share()
        self._jobs: list[Job] = []
        self._cv = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closing = False

    def submit(self, job: Job) -> Job:
        with self._cv:
            self._reap()
            waiting = [j for j in self._jobs if j.state in (QUEUED, RUNNING) and j is not job and not j.background]
            if len(waiting) > self.max_waiting:
                raise QueueFull(f"the lab is busy: {len(waiting)} jobs are waiting; try again in a minute")
            mine = [j for j in self._jobs if j.owner == job.owner and not j.ended and j is not job and not j.background]
            if not job.background and len(mine) >= self.max_per_owner:
                raise QueueFull(f"this session already has {len(mine)} jobs waiting or running (at most "
                                f"{self.max_per_owner}); stop one or wait for one to end")
            if job not in self._jobs:
                self._jobs.append(job)
            self._start()
            self._cv.notify_all()
        return job

    def _reap(self) -> None:
        """Under the lock: stop every job whose page is gone, and drop ended jobs no page will take
        (a closed tab's after GONE_S, any after KEEP_ENDED_S)."""
        now, wall = time.monotonic(), time.time()
        for j in self._jobs:
            if j.seen is not None and not j.ended and not j.gone and now - j.seen > self.gone_s:
                j.gone = True
                log.info("job %s stopped: its page was last seen %.0f s ago", j.id, now - j.seen)
                j.stop()
        self._jobs = [j for j in self._jobs if not j.ended or (
            (j.ended_at is None or wall - j.ended_at < KEEP_ENDED_S) and (j.seen is None or now - j.seen <= self.gone_s))]

    def wake(self) -> None:
        """Call after play / step / extend of a job: the worker looks for work again."""
        with self._cv:
            self._start()
            self._cv.notify_all()

    def ahead(self, job: Job) -> int:
        """How many jobs must end before this one starts (0 when it runs or is next): its own
        session's older jobs (other sessions' jobs share the worker with it, they do not go first);
        for a background job, every person's job."""
        with self._cv:
            if job.state != QUEUED:
                return 0
            runnable = [j for j in self._jobs if j.state in (QUEUED, RUNNING)]
            if job.background:
                before = [j for j in runnable if not j.background or j.created < job.created]
            else:
                mine = [j for j in runnable if j.owner == job.owner and not j.background]
                before = mine[:mine.index(job)] if job in mine else []
            return len([j for j in before if j is not job])

    def jobs(self, owner: str | None = None) -> list[Job]:
        with self._cv:
            return [j for j in self._jobs if owner is None or j.owner == owner]

    def forget(self, job: Job) -> None:
        """Drop an ended job from the list (its owner has taken its result)."""
        with self._cv:
            if job.ended and job in self._jobs:
                self._jobs.remove(job)

    def wait(self, job: Job, timeout: float = 60.0) -> bool:
        """Block until the job has ended or paused (tests, the CLI); True if it did."""
        deadline = time.monotonic() + timeout
        with self._cv:
            while not (job.ended or job.state == PAUSED):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cv.wait(min(left, 0.2))
        return True

    # --- the worker --------------------------------------------------------------------------------
    def close(self, timeout: float = 4.0) -> bool:
        """Stop every job and end the worker once the chunk in flight is over (its job's completed
        models are saved); True if the worker ended within `timeout`. The queue takes no more work."""
        with self._cv:
            self._closing = True
            jobs = list(self._jobs)
            self._cv.notify_all()
        for j in jobs:
            j.stop()
        t = self._thread
        if t is not None and t is not threading.current_thread():
            t.join(timeout)
            return not t.is_alive()
        return True

    def _start(self) -> None:
        if self._closing:
            return
        if self._thread is None or not self._thread.is_alive():
            # not a daemon: the interpreter waits for it, and the watcher makes it end (above)
            self._thread = threading.Thread(target=self._loop, name="lab-jobs", daemon=False)
            self._thread.start()
            threading.Thread(target=self._watch, name="lab-jobs-watch", daemon=True).start()

    def _watch(self) -> None:
        main = threading.main_thread()
        while main.is_alive() and not self._closing:
            time.sleep(WATCH_S)
        if not self._closing:
            self.close(timeout=0)  # the worker ends by itself; the interpreter joins it

    def _next(self) -> Job | None:
        # each session's oldest runnable job is a candidate, and the session that has used the least
        # lately gets the chunk (core.share); a background job only when no person's job waits (it
        # keeps its state and carries on from where it gave way)
        self._reap()
        runnable = [j for j in self._jobs if j.state in (QUEUED, RUNNING)]
        pool = [j for j in runnable if not j.background] or runnable
        first: dict[str, Job] = {}
        for j in pool:
            first.setdefault(j.owner, j)
        self._share.forget(first)
        owner = self._share.pick(first)
        return None if owner is None else first[owner]

    def _loop(self) -> None:
        while True:
            with self._cv:
                job = self._next()
                while job is None:
                    if self._closing:
                        return
                    self._cv.wait(WATCH_S * 5)
                    job = self._next()
                if job.state == QUEUED:
                    job.state = RUNNING
            t0 = time.monotonic()
            try:
                done = job.work()
                if self._closing and not done:  # stopped: one more call ends it and saves what completed
                    job.stop()
                    done = job.work()
            except Exception as e:  # a job's failure is its own, never the queue's
                if self._closing or sys.is_finalizing() or "interpreter shutdown" in str(e):
                    return  # the process is exiting under a running job: nothing to report to
                log.exception("job %s failed", job.id)
                job.failed(e)
                done = True
            with self._cv:
                self._share.charge(job.owner, time.monotonic() - t0)
                if done:
                    job.state = job.end_state()
                    job.ended_at = time.time()
                elif job.pause_asked and job.state in (RUNNING, QUEUED):
                    job.state = PAUSED
                self._cv.notify_all()


_default: JobQueue | None = None
_default_lock = threading.Lock()


def default_queue() -> JobQueue:
    """The process's queue (the dashboard's server shares it between browser sessions)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = JobQueue()
        return _default
