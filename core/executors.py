"""Where a sweep's runs happen. A run is one model on one single-model config: its numbers depend
only on that config (seed included), so runs are independent and any executor gives the same
numbers (tests/test_sweep.py checks it).

- `InProcessExecutor` (default): one run at a time in this process.
- `ProcessExecutor`: a pool of worker processes (spawned, not forked: forking a process that has
  started PyTorch's thread pool can deadlock), one run each at a time.
- `RayExecutor`: each run is a Ray task on an existing cluster (`address`) or a local instance.

Workers send back the run as plain data (`run_to_record`: a JSON-able dict and arrays as `.npz`
bytes) and the driver writes it into the run store, so a remote cluster needs no access to the
store's disk and the store keeps one writer. An executor yields `JobEvent`s; `stop` (a
threading.Event) ends the sweep: queued runs are dropped and a running one stops at its next
evaluation with status "stopped" (never stored, so it is trained again next time).

No orphans: a pool worker ends when the process that started it dies, however it dies (kill -9
included). Each worker runs a thread that watches its parent (when the parent dies the worker is
re-parented, so `os.getppid()` changes) and exits within POLL_PARENT_S; on Linux the kernel also
sends it SIGKILL at once (prctl PR_SET_PDEATHSIG), armed only when the pool is driven from the main
thread, because the kernel ties that signal to the thread that forked the worker. With the workers
gone, multiprocessing's resource tracker reads the end of its pipe and exits too. Ray's local
instance fate-shares its own processes with the driver (Ray sets PR_SET_PDEATHSIG on Linux, a
reaper process elsewhere).
"""
from __future__ import annotations

import ctypes
import io
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from core.config import RunConfig
from core.results import ModelRun, run_from_record, run_to_record

EXECUTORS = ("auto", "inprocess", "threads", "process", "ray")  # auto: a process per core, in-process on one core
POLL_S = 0.5  # how often a waiting driver looks at the stop flag
POLL_PARENT_S = 0.25  # how often a pool worker checks that the process that started it lives
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


@dataclass
class JobEvent:
    kind: str  # "started", "step" (in-process only: training progress), "done" or "idle" (a pool's
    # runs train on and none has finished within POLL_S: lets the driver give way between events)
    index: int  # position in the job list given to the executor
    step: int = 0
    run: ModelRun | None = None  # with "done": the run (finished, diverged or stopped)
    error: str | None = None  # with "done": why the run failed (one line)


def train_one(cfg: RunConfig, should_stop: Callable[[], bool] = lambda: False) -> Iterator[int]:
    """Train one single-model config, yielding the step at every evaluation; the run is the
    generator's return value. `should_stop()` is checked at every evaluation."""
    from core.trainer import Trainer  # late: keeps `import core.executors` light for workers

    if len(cfg.models) != 1:
        raise ValueError("an executor job is a single-model config (cfg.single(kind))")
    trainer = Trainer(cfg)
    for _ in trainer.iterate():
        if should_stop():
            trainer.stop()
        yield trainer.step
    return trainer.result().runs[cfg.models[0]]


def drive(gen: Iterator[int]) -> ModelRun:
    while True:
        try:
            next(gen)
        except StopIteration as done:
            return done.value


class Gate:
    """Lets a sweep's worker threads train only while their job has its turn on the queue
    (core.jobs): a run waits at its start and at every evaluation while the gate is shut, and
    `shut()` returns once every run in flight waits, so the next job trains alone. `release()` opens
    it for good (the sweep is stopped: its runs must reach their stop)."""

    def __init__(self) -> None:
        self._cv = threading.Condition()
        self._open = False
        self._released = False
        self._inside = 0  # runs training now (between two waits)

    def open(self) -> None:
        with self._cv:
            self._open = True
            self._cv.notify_all()

    def shut(self, timeout: float | None = None) -> bool:
        """Shut the gate and wait until no run trains; False if one still did after `timeout`."""
        with self._cv:
            if self._released:
                return True
            self._open = False
            return self._cv.wait_for(lambda: self._inside == 0 or self._released, timeout)

    def release(self) -> None:
        with self._cv:
            self._open = self._released = True
            self._cv.notify_all()

    def enter(self) -> None:
        with self._cv:
            self._cv.wait_for(lambda: self._open)
            self._inside += 1

    def leave(self) -> None:
        with self._cv:
            self._inside -= 1
            self._cv.notify_all()

    def passage(self) -> None:
        """A run between two evaluations: go on if the gate is open, else wait until it opens."""
        with self._cv:
            if self._open:
                return
            self._inside -= 1
            self._cv.notify_all()
            self._cv.wait_for(lambda: self._open)
            self._inside += 1


def run_job(cfg_dict: dict, stop_path: str | None = None, gate: Gate | None = None) -> tuple[dict, bytes]:
    """A job as other processes run it: config as a dict in, the run as plain data out. `gate` (threads
    only): the run trains only while it is open."""
    def should_stop() -> bool:
        if gate is not None:
            gate.passage()
        return bool(stop_path) and os.path.exists(stop_path)

    if gate is not None:
        gate.enter()
    try:
        run = drive(train_one(RunConfig.from_dict(cfg_dict), should_stop=should_stop))
    finally:
        if gate is not None:
            gate.leave()
    meta, arrays = run_to_record(run)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return meta, buf.getvalue()


def run_from_job(meta: dict, blob: bytes) -> ModelRun:
    with np.load(io.BytesIO(blob), allow_pickle=False) as z:
        return run_from_record(meta, {k: z[k] for k in z.files})


def _one_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[-1] if text else ''}"


class InProcessExecutor:
    name = "inprocess"
    workers = 1

    def run(self, jobs: list[RunConfig], stop: threading.Event) -> Iterator[JobEvent]:
        for i, cfg in enumerate(jobs):
            if stop.is_set():
                return
            yield JobEvent("started", i)
            gen = train_one(cfg, should_stop=stop.is_set)
            try:
                while True:
                    try:
                        yield JobEvent("step", i, step=next(gen))
                    except StopIteration as done:
                        run = done.value
                        break
            except (RuntimeError, ValueError) as e:  # e.g. device cuda without a GPU
                yield JobEvent("done", i, error=_one_line(e))
                continue
            yield JobEvent("done", i, step=run.steps_run, run=run)

    def close(self) -> None:
        pass


def _watch_parent(parent: int) -> None:
    while True:
        if os.getppid() != parent:  # re-parented: whoever started us is gone
            os._exit(1)  # no clean-up to do: runs are sent back, never written, by a worker
        time.sleep(POLL_PARENT_S)


def die_with_parent(parent: int, kernel_signal: bool = True) -> None:
    """Make this process end when `parent` dies: a daemon thread that watches the parent (any
    platform) and, on Linux with `kernel_signal`, PR_SET_PDEATHSIG so the kernel kills it at once."""
    if kernel_signal and sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):  # no libc prctl here: the watching thread still works
            pass
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent,), name="lab-parent-watch", daemon=True).start()


def _init_worker(parent: int | None = None, kernel_signal: bool = False) -> None:
    # Ctrl-C in a terminal reaches the whole process group: the driver stops the runs (stop file)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if parent is not None:
        die_with_parent(parent, kernel_signal)


class _PooledExecutor:
    """Shared driver loop for executors that hand out every job at once and collect results in
    the order they finish."""

    name = "pool"
    workers = 1

    def _submit(self, cfg: RunConfig, stop_path: str) -> Future:
        raise NotImplementedError

    def _stop(self, futures: set[Future], stop_path: str) -> None:
        Path(stop_path).touch()  # running jobs stop at their next evaluation
        for f in futures:
            f.cancel()  # queued jobs never start

    def run(self, jobs: list[RunConfig], stop: threading.Event) -> Iterator[JobEvent]:
        # the stop file's folder lives until close(): a run that starts late (a worker still
        # importing torch) must still find the file once the sweep has been stopped
        self._stop_dir = tempfile.mkdtemp(prefix="lab-stop-")
        stop_path = str(Path(self._stop_dir) / "stop")
        futures: dict[Future, int] = {}
        pending: set[Future] = set()
        stopping = False
        try:
            for i, cfg in enumerate(jobs):  # inside the try: a Ctrl-C while workers spawn stops what started
                f = self._submit(cfg, stop_path)
                futures[f] = i
                pending.add(f)
            while pending:
                if stop.is_set() and not stopping:
                    stopping = True
                    self._stop(pending, stop_path)
                done, pending = wait(pending, timeout=POLL_S, return_when=FIRST_COMPLETED)
                if not done:
                    yield JobEvent("idle", -1)
                for f in done:
                    if f.cancelled():
                        continue
                    try:
                        run = run_from_job(*f.result())
                    except Exception as e:  # a failed run is reported, the sweep goes on
                        if not stopping:  # after a stop, a cancelled task's error is no news
                            yield JobEvent("done", futures[f], error=_one_line(e))
                        continue
                    yield JobEvent("done", futures[f], step=run.steps_run, run=run)
        finally:
            if pending:  # left early (Ctrl-C, SIGTERM): runs in flight stop at their next evaluation
                self._stop(pending, stop_path)

    def _remove_stop_dir(self) -> None:
        d = getattr(self, "_stop_dir", None)
        if d is not None:
            shutil.rmtree(d, ignore_errors=True)
            self._stop_dir = None


class ProcessExecutor(_PooledExecutor):
    name = "process"

    def __init__(self, workers: int = 2):
        self.workers = max(1, int(workers))
        self.pool: ProcessPoolExecutor | None = None  # made by the first run(), in its thread

    def run(self, jobs: list[RunConfig], stop: threading.Event) -> Iterator[JobEvent]:
        if self.pool is None:
            # workers are spawned by submit(), in this thread: the kernel's parent-death signal
            # fires when the forking *thread* ends, so it is armed only from the main thread
            main = threading.current_thread() is threading.main_thread()
            self.pool = ProcessPoolExecutor(self.workers, mp_context=get_context("spawn"), initializer=_init_worker,
                                            initargs=(os.getpid(), main))
        yield from super().run(jobs, stop)

    def _submit(self, cfg: RunConfig, stop_path: str) -> Future:
        return self.pool.submit(run_job, cfg.to_dict(), stop_path)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
        self._remove_stop_dir()


class ThreadExecutor(_PooledExecutor):
    """Runs in threads of this process, one torch thread each: torch releases the GIL in its
    kernels, so two small runs use two cores (as the trainer's model threads do). What the
    dashboard uses: a Streamlit server's `__main__` is the app script, and a spawned process
    worker would run the app again when it starts (multiprocessing re-imports `__main__`).

    Plain threads, at most `workers` running at once, not concurrent.futures' ThreadPoolExecutor:
    when the process ends, the interpreter joins that pool's threads before any other code can
    tell their runs to stop, so a sweep in flight held the process open until its runs ended.
    These threads stop at their run's next evaluation once the sweep is stopped (jobs.JobQueue)."""

    name = "threads"

    def __init__(self, workers: int = 2, gate: Gate | None = None):
        self.workers = max(1, int(workers))
        self.gate = gate  # set by a sweep job: its runs train only during its chunks
        self._slots = threading.Semaphore(self.workers)
        self._threads: list[threading.Thread] = []

    def _submit(self, cfg: RunConfig, stop_path: str) -> Future:
        future: Future = Future()

        def work() -> None:
            with self._slots:
                if not future.set_running_or_notify_cancel():  # cancelled while it waited
                    return
                try:
                    future.set_result(run_job(cfg.to_dict(), stop_path, self.gate))
                except BaseException as e:  # handed to the driver, which reports it in one line
                    future.set_exception(e)

        t = threading.Thread(target=work, name="sweep-run", daemon=False)
        self._threads.append(t)
        t.start()
        return future

    def close(self) -> None:
        for t in self._threads:
            t.join()
        self._threads.clear()
        self._remove_stop_dir()


class RayExecutor(_PooledExecutor):
    """Each run is a Ray task asking for `cpus_per_run` CPUs. Connects to `address` (an existing
    cluster, e.g. "ray://head:10001" or "10.0.0.5:6379"), or to the instance this process already
    started, or starts a local one. The `core` package travels with the job (runtime_env
    py_modules), so the cluster's workers need only the packages of requirements.txt."""

    name = "ray"

    def __init__(self, address: str | None = None, cpus_per_run: int = 1):
        try:
            import ray
        except ImportError:
            raise RuntimeError("the ray executor needs Ray: pip install -r requirements.txt") from None
        self.ray = ray
        self.cpus_per_run = max(1, int(cpus_per_run))
        env = {"py_modules": [str(Path(__file__).resolve().parent)],
               "env_vars": {"OMP_NUM_THREADS": "1"}}  # runs compute with one torch thread anyway
        self._owned = not ray.is_initialized()
        if self._owned:
            if address:
                check_reachable(address)
            try:
                ray.init(address=address or None, runtime_env=env, include_dashboard=False,
                         log_to_driver=False, logging_level="ERROR")
            except (ConnectionError, TimeoutError, ValueError) as e:
                raise RuntimeError(f"cannot reach the Ray cluster at {address or 'a new local instance'}: "
                                   f"{_one_line(e)}") from None
        self._remote = ray.remote(num_cpus=self.cpus_per_run, max_retries=1)(run_job)
        if not self._owned:
            # joined a session the caller started: Ray uploads packages only at ray.init, so point
            # the workers at this checkout (true for a local instance or a shared file system)
            root = str(Path(__file__).resolve().parent.parent)
            path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
            self._remote = self._remote.options(runtime_env={"env_vars": {**env["env_vars"], "PYTHONPATH": path}})
        self.workers = max(1, int(ray.cluster_resources().get("CPU", 1)) // self.cpus_per_run)
        self._refs: list = []

    def _submit(self, cfg: RunConfig, stop_path: str) -> Future:
        ref = self._remote.remote(cfg.to_dict(), None)
        self._refs.append(ref)
        return ref.future()

    def _stop(self, futures: set[Future], stop_path: str) -> None:
        for ref in self._refs:  # remote workers cannot see a local stop file: cancel the tasks
            self.ray.cancel(ref, force=True)
        super()._stop(futures, stop_path)

    def close(self) -> None:
        self._remove_stop_dir()
        if self._owned and self.ray.is_initialized():
            self.ray.shutdown()


def check_reachable(address: str, timeout_s: float = 5.0) -> None:
    """Fail in seconds, with one line, where `ray.init` would retry an unreachable head for minutes."""
    hostport = address.split("://", 1)[-1].rstrip("/")
    if hostport in ("auto", "local") or ":" not in hostport:
        return
    host, _, port = hostport.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout_s):
            pass
    except (OSError, ValueError) as e:
        raise RuntimeError(f"cannot reach the Ray cluster at {address}: {getattr(e, 'strerror', None) or e}") from None


def make_executor(name: str = "auto", workers: int = 0, address: str | None = None):
    """An executor by name (EXECUTORS); `workers` sizes the pool (default: one per core); every run
    computes with one torch thread (trainer.one_compute_thread). `auto` (the default) is
    the process pool with one worker per core where there are several cores: the default sweep
    then takes about half the time (docs/speed.md)."""
    if name == "auto":
        name = "process" if (workers or os.cpu_count() or 1) > 1 else "inprocess"
    if name == "inprocess":
        return InProcessExecutor()
    if name == "threads":
        return ThreadExecutor(workers or max(1, os.cpu_count() or 1))
    if name == "process":
        return ProcessExecutor(workers or max(1, os.cpu_count() or 1))
    if name == "ray":
        return RayExecutor(address)
    raise ValueError(f"unknown executor {name!r}; choose from {', '.join(EXECUTORS)}")
