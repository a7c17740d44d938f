"""The training loop: every chosen model sees the same batches, step by step, in lockstep.

It reports snapshots (through `iterate`, a generator, or a callback), can be asked to stop
between steps and keeps what it has; it never prints and never touches a UI. A model whose loss
turns non-finite is marked `diverged` and dropped; the others go on.

Determinism: each model's data stream is seeded by the run seed alone, and its initial weights
by (seed, kind) alone, so a model's numbers do not depend on which models train beside it, nor on
whether they train one after the other or each in its own thread.
"""
from __future__ import annotations

import dataclasses
import math
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np
import torch

from core.config import RunConfig, rule
from core.models import SeqModel, build_model, n_params, state_arrays
from core.results import ModelRun, RunResult
from core.tasks import make_task


@dataclass(frozen=True)
class Snapshot:
    model: str
    step: int
    loss: float  # mean training loss since the previous snapshot
    eval_loss: float
    metric: float  # on the held-out batch
    grad_norm: float  # global gradient norm (before clipping) at this step
    elapsed_s: float  # this model's own training + evaluation time so far
    reached: bool


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device cuda was asked for but no CUDA GPU is available")
    return torch.device(name)


def checkpoint_steps(steps: int, n: int) -> list[int]:
    """Step 0 plus about n evenly spaced steps up to the last one."""
    return sorted({round(k * steps / n) for k in range(n + 1)})


def make_optimizer(name: str, params, lr: float) -> torch.optim.Optimizer:
    if name == "adam":
        return torch.optim.Adam(params, lr=lr)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    return torch.optim.SGD(params, lr=lr, momentum=0.9)


class Trainer:
    """Train the config's models on one data stream. Usage:

        trainer = Trainer(cfg)
        for snap in trainer.iterate():   # or trainer.advance(50) for a chunk of steps
            ...
        result = trainer.result()

    With `parallel` (default: when there are several models and several cores) each model trains
    in its own thread, each thread running torch with one intra-op thread: torch releases the GIL
    in its kernels, so two small models use both cores (measured: docs/speed.md). Every model
    draws its batches from its own generator seeded with the run seed, so it sees exactly the
    batches it would see alone, and the numbers do not depend on how it was scheduled. Threads
    advance in chunks of at most one evaluation interval and meet between chunks, which is where
    stop, pause and progress reports happen.

    `extend(steps)` raises the step budget of a finished or paused run: it continues with the same
    optimizer state and data stream, and gives the numbers of one run trained for that many steps.
    """

    def __init__(self, cfg: RunConfig, parallel: bool | None = None,
                 resume: tuple[RunResult, dict[str, np.ndarray]] | None = None):
        one_compute_thread()
        self.cfg, tr = cfg, cfg.train
        self.device = resolve_device(tr.device)
        self.task = make_task(cfg.task)
        self.eval_x, self.eval_y = (t.to(self.device) for t in self.task.eval_batch())
        self.ckpt_steps = set(checkpoint_steps(tr.steps, tr.n_checkpoints))
        self.step = 0
        n_models = len(cfg.models)
        self.parallel = (n_models > 1 and (os.cpu_count() or 1) > 1) if parallel is None else parallel
        self._stop = threading.Event()
        self._hold = threading.Event()  # interrupt(): return from the current iterate() early
        self.models: dict[str, SeqModel] = {}
        self.opts: dict[str, torch.optim.Optimizer] = {}
        self.gens: dict[str, torch.Generator] = {}
        self.runs: dict[str, ModelRun] = {}
        self._loss_sum: dict[str, float] = {}
        self._loss_n: dict[str, int] = {}
        self._held: dict[str, int] = {}
        for kind in cfg.models:
            model = build_model(kind, self.task, cfg.model, tr.seed).to(self.device)
            self.models[kind] = model
            self.gens[kind] = torch.Generator().manual_seed(tr.seed)  # the same stream for every model
            self.runs[kind] = ModelRun(kind=kind, config=cfg.single(kind), n_params=n_params(model))
            self._loss_sum[kind], self._loss_n[kind], self._held[kind] = 0.0, 0, 0
        self._pending: list[Snapshot] = []
        if resume is not None:
            self._restore(*resume)
            return
        for kind in self.models:  # the untrained starting point
            self._pending.append(self._evaluate(kind, first=True))
            self._checkpoint(kind)

    def _opt(self, kind: str) -> torch.optim.Optimizer:
        """The model's optimizer, made at its first training step: the first Adam of a process
        costs ~0.7 s (torch imports its compiler), which the step-0 evaluation need not wait for."""
        if kind not in self.opts:
            self.opts[kind] = make_optimizer(self.cfg.train.optimizer, self.models[kind].parameters(),
                                             self.cfg.train.lr)
        return self.opts[kind]

    # --- resuming from a run folder -------------------------------------------------------------
    def state(self) -> dict[str, np.ndarray]:
        """What a run folder needs, beside the runs, to train on exactly as this trainer would:
        each model's optimizer state and data-stream position, and the loop's counters. Plain
        arrays ('opt/KIND/PARAM/NAME', 'gen/KIND', 'loop/KIND'), never pickles."""
        out: dict[str, np.ndarray] = {"step": np.array(self.step)}
        for kind in self.models:
            for idx, st in self._opt(kind).state_dict()["state"].items():
                for name, v in st.items():
                    out[f"opt/{kind}/{idx}/{name}"] = (v.detach().cpu().numpy() if torch.is_tensor(v)
                                                        else np.asarray(v))
            out[f"gen/{kind}"] = self.gens[kind].get_state().numpy()
            out[f"loop/{kind}"] = np.array([self._loss_sum[kind], self._loss_n[kind], self._held[kind]],
                                           dtype=np.float64)
        return out

    def _restore(self, result: RunResult, state: dict[str, np.ndarray]) -> None:
        """Carry on from a saved run: weights of each model's last checkpoint, its optimizer state,
        generator and counters (see state())."""
        self.step = int(state["step"])
        for kind in self.models:
            run = result.runs[kind]
            last = max(run.checkpoints)
            if last != run.steps_run and run.status != "diverged":
                raise ValueError(f"{kind}: the last kept weights (step {last}) are not those of step {run.steps_run}")
            self.models[kind].load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in run.checkpoints[last].items()})
            opt_state = self._opt(kind).state_dict()
            per_param: dict[int, dict[str, torch.Tensor]] = {}
            for key, v in state.items():
                parts = key.split("/")
                if parts[0] == "opt" and parts[1] == kind:
                    per_param.setdefault(int(parts[2]), {})[parts[3]] = torch.from_numpy(np.array(v))
            opt_state["state"] = per_param
            self.opts[kind].load_state_dict(opt_state)
            self.gens[kind].set_state(torch.from_numpy(np.array(state[f"gen/{kind}"])))
            loss_sum, loss_n, held = state[f"loop/{kind}"].tolist()
            self._loss_sum[kind], self._loss_n[kind], self._held[kind] = loss_sum, int(loss_n), int(held)
            run.config = self.cfg.single(kind)
            self.runs[kind] = run

    # --- control -----------------------------------------------------------------------
    @property
    def active(self) -> list[str]:
        return [k for k, r in self.runs.items() if r.status == "running"]

    @property
    def done(self) -> bool:
        return not self.active

    def stop(self) -> None:
        """Ask the loop to end after the current step (chunk, in parallel); what was done is kept."""
        self._stop.set()

    def interrupt(self) -> None:
        """Make the iterate() in progress return at its next step (chunk, in parallel) without
        ending the run: a pause. iterate() trains nothing more until resume()."""
        self._hold.set()

    def resume(self) -> None:
        self._hold.clear()

    def extend(self, steps: int) -> None:
        """Continue to `steps` in all: finished and stopped models resume (diverged ones stay so).
        Checkpoints already kept stay; the new stretch keeps its own, evenly spaced."""
        steps = rule("train", "steps").check("steps", steps)  # the bound of a new run holds for a continued one
        if steps <= self.step:
            raise ValueError(f"steps must be more than the {self.step} already trained, got {steps}")
        old = self.cfg.train.steps
        self.cfg = self.cfg.replace(train=dataclasses.replace(self.cfg.train, steps=steps))
        self.ckpt_steps |= {s for s in checkpoint_steps(steps, self.cfg.train.n_checkpoints) if s > old}
        self._stop.clear()
        for kind, run in self.runs.items():
            if run.status in ("finished", "stopped"):
                run.status = "running"
                run.config = self.cfg.single(kind)
                self._held[kind] = 0

    # --- the loop ------------------------------------------------------------------------
    def iterate(self, max_steps: int | None = None) -> Iterator[Snapshot]:
        """Train up to `max_steps` more steps (default: to the end), yielding snapshots."""
        tr = self.cfg.train
        yield from self._drain()
        limit = tr.steps if max_steps is None else min(tr.steps, self.step + max_steps)
        while self.active:
            if self._stop.is_set():  # checked first, so stop() then advance(0) ends the run here
                self._finish("stopped")
                yield from self._drain()
                return
            if self.step >= limit or self._hold.is_set():
                break
            if self.parallel and len(self.active) > 1:
                # meet at the next evaluation (or the limit): stop and reports happen between chunks
                to = min(limit, (self.step // tr.eval_every + 1) * tr.eval_every)
                self._train_parallel(to)
            else:
                self.step += 1
                for kind in self.active:
                    self._pending += self._train_model(kind, self.step)
            yield from self._drain()
        if self.step >= tr.steps and self.active:
            self._finish("finished")
            yield from self._drain()

    def advance(self, max_steps: int | None = None) -> list[Snapshot]:
        return list(self.iterate(max_steps))

    def run(self, callback: Callable[[Snapshot], object] | None = None) -> RunResult:
        for snap in self.iterate():
            if callback is not None and callback(snap) is False:
                self.stop()
        if self.active:  # stopped by the callback after the last step
            self._finish("stopped")
        return self.result()

    def result(self) -> RunResult:
        return RunResult(config=self.cfg, runs=self.runs)

    def close(self) -> None:
        """Nothing is left running: each parallel chunk's threads end with the chunk."""

    def _drain(self) -> Iterator[Snapshot]:
        while self._pending:
            yield self._pending.pop(0)

    def _train_parallel(self, to: int) -> None:
        """Every active model trains steps self.step+1 .. to in its own thread; snapshots are
        merged in the order a sequential loop gives (step, then model)."""
        kinds = self.active
        start = self.step

        def chunk(kind: str) -> list[Snapshot]:
            out: list[Snapshot] = []
            for step in range(start + 1, to + 1):
                if self.runs[kind].status != "running":
                    break
                out += self._train_model(kind, step)
            return out

        # a pool per chunk (an evaluation interval, ~0.5 s; threads cost ~0.1 ms): no pool outlives
        # the chunk, so nothing can be handed to a pool another thread has shut down
        with ThreadPoolExecutor(max_workers=len(kinds), thread_name_prefix="trainer") as pool:
            futures = [pool.submit(chunk, k) for k in kinds]  # one model per thread, one core each
            try:
                wait(futures)
            finally:  # also on Ctrl-C in this thread: the models reach `to` all the same, so say so
                wait(futures)
                order = {k: i for i, k in enumerate(self.cfg.models)}
                merged = [s for f in futures for s in f.result()]
                self._pending += sorted(merged, key=lambda s: (s.step, order[s.model]))
                self.step = to

    def _train_model(self, kind: str, step: int) -> list[Snapshot]:
        """One training step of one model (and its evaluation and checkpoint when due)."""
        one_compute_thread()  # whichever thread this step runs in
        tr = self.cfg.train
        model, opt, run = self.models[kind], self._opt(kind), self.runs[kind]
        x, y = self.task.sample(tr.batch_size, self.gens[kind])
        x, y = x.to(self.device), y.to(self.device)
        max_norm = tr.clip if tr.clip > 0 else math.inf
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = self.task.loss(self.task.outputs(model, x, y), y)  # a decoder is fed y (teacher forcing)
        lv = loss.item()
        if math.isfinite(lv):
            loss.backward()
            gn = float(torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm, foreach=True))
        else:
            gn = math.nan
        if not (math.isfinite(lv) and math.isfinite(gn)):
            run.steps.append({"step": step, "loss": lv, "grad_norm": gn, "clipped": False})
            run.status, run.steps_run = "diverged", step
            run.elapsed_s += time.perf_counter() - t0
            return []
        opt.step()
        run.elapsed_s += time.perf_counter() - t0
        run.steps_run = step
        run.steps.append({"step": step, "loss": lv, "grad_norm": gn, "clipped": gn > max_norm})
        self._loss_sum[kind] += lv
        self._loss_n[kind] += 1
        out = []
        if step % tr.eval_every == 0 or step == tr.steps:
            snap = self._evaluate(kind, step=step)
            out.append(snap)
            if snap.reached and tr.patience:
                self._held[kind] += 1
                if self._held[kind] >= tr.patience:
                    run.status = "finished"
            elif tr.patience:
                self._held[kind] = 0
        if step in self.ckpt_steps or run.status != "running":
            self._checkpoint(kind, step)
        return out

    @torch.no_grad()
    def _evaluate(self, kind: str, first: bool = False, step: int | None = None) -> Snapshot:
        one_compute_thread()
        step = self.step if step is None else step
        model, run = self.models[kind], self.runs[kind]
        t0 = time.perf_counter()
        model.eval()
        out = self.task.outputs(model, self.eval_x)  # a decoder writes on its own (greedy)
        eval_loss = self.task.loss(out, self.eval_y).item()
        metric = self.task.score(out, self.eval_y)
        model.train()
        run.elapsed_s += time.perf_counter() - t0
        n = self._loss_n[kind]
        loss = self._loss_sum[kind] / n if n else eval_loss
        self._loss_sum[kind], self._loss_n[kind] = 0.0, 0
        gn = run.steps[-1]["grad_norm"] if run.steps else math.nan
        reached = self.task.reached(metric)
        if reached and run.steps_to_target is None and not first:
            run.steps_to_target, run.seconds_to_target = step, round(run.elapsed_s, 3)
        row = {"step": step, "loss": loss, "eval_loss": eval_loss, "metric": metric,
               "grad_norm": gn, "elapsed_s": round(run.elapsed_s, 4)}
        run.evals.append({**row, **self.task.extra_scores(out, self.eval_y)})  # e.g. exact_match
        return Snapshot(model=kind, reached=reached, **row)

    def _checkpoint(self, kind: str, step: int | None = None) -> None:
        step = self.step if step is None else step
        run, model = self.runs[kind], self.models[kind]
        if step in run.checkpoints:
            return
        # weights only (~0.1 ms); probes are computed from them when asked (inspection.grad_frame)
        run.checkpoints[step] = state_arrays(model)

    def _finish(self, status: str) -> None:
        for kind in self.active:
            run = self.runs[kind]
            if not run.evals or run.evals[-1]["step"] != self.step:
                self._pending.append(self._evaluate(kind))
            run.status = status
            self._checkpoint(kind)
        self.close()


COMPUTE_THREADS = 1  # torch intra-op threads of every computation a run's numbers come from


def one_compute_thread() -> None:
    """The lab's one process-wide torch setting: one intra-op thread, set where it is not set yet,
    never put back. Measured here: the same config trained with 2 intra-op threads ends with other
    weights than with 1 (reductions split another way), so with torch's default a run's numbers
    would depend on the machine's cores and on what another thread set a moment before. Parallel
    work comes from model threads and worker processes instead. Called by every thread that
    trains or evaluates (torch keeps OpenMP's count per thread), and by the entry points."""
    if torch.get_num_threads() != COMPUTE_THREADS:  # this thread's count (a ~0.1 us check)
        torch.set_num_threads(COMPUTE_THREADS)


def train(cfg: RunConfig, callback: Callable[[Snapshot], object] | None = None) -> RunResult:
    """Train to the end (or until the callback returns False) and return the result."""
    return Trainer(cfg).run(callback)
