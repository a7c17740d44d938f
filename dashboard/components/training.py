"""The live training widget: train the chosen models side by side, redraw as they learn, stop on
request, and show one verdict card per model at the end.

How it survives Streamlit's reruns: the `Job` (a core Trainer plus the models taken from the run
store) lives in this browser session's st.session_state, and the page trains it in short chunks
(about CHUNK_S seconds each), redrawing after each. Any rerun (the Stop button, a visit to another
page) interrupts the script at its next st.* call, which is always between two chunks, so nothing
is half-done; the next run of the page simply carries on from the Trainer's current step. The
Stop button's callback asks the Trainer to stop, so the next chunk ends the run and keeps
everything trained so far.

Finished runs are kept per session (RESULTS, most recent MAX_KEPT) and complete ones in the run
store on disk, so going back to a configuration shows it at once. A model already in the store is
not retrained: a model's numbers depend only on (config, seed, kind).
"""
from __future__ import annotations

import logging
import os
import time
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

import streamlit as st
import torch

from core.charts import ChartItem, color_of, learning_curves, run_charts
from core.config import RunConfig, config_hash, model_title
from core.results import ModelRun, RunResult, format_metric
from core.store import RunStore
from core.tasks import make_task
from core.trainer import Trainer
from dashboard.components.chart import show_chart
from dashboard.components.session import set_current_result

JOB = "lab_train_job"
RESULTS = "lab_train_results"
AUTO = "lab_train_autostart_done"
NOTES = "lab_train_notes"  # one-line problems to show on the next run (e.g. the store is unreadable)
CHUNK_S = 0.4  # seconds of training between two progress updates: Stop answers within about this long
REDRAW_S = 1.0  # at most one chart redraw a second: building and sending one costs ~0.1-0.2 s here
MAX_KEPT = 12  # finished runs kept in a session (each holds ~11 weight checkpoints per model)
# Torch threads while the dashboard trains. These small RNNs are bound by per-time-step overhead,
# so a second thread buys little, and when the 2 cores are shared (other sessions, other programs)
# OpenMP's spinning threads made a step ~30x slower here (43 ms vs 1.4 s at the default config).
TORCH_THREADS = int(os.environ.get("LAB_TORCH_THREADS", "1"))
log = logging.getLogger(__name__)


@contextmanager
def _threads() -> Iterator[None]:
    """torch's thread count is per process: set it for a chunk of training, then put it back."""
    before = torch.get_num_threads()
    torch.set_num_threads(max(1, TORCH_THREADS))
    try:
        yield
    finally:
        torch.set_num_threads(before)


@dataclass
class Job:
    """A run in progress: `trainer` trains the models not found in the store, `reused` holds
    the ones that were."""

    cfg: RunConfig
    trainer: Trainer
    reused: dict[str, ModelRun] = field(default_factory=dict)
    wall_s: float = 0.0  # time spent training in this session (pauses while on another page)
    chunk: int = 5  # steps per chunk, adapted to CHUNK_S after each

    def result(self) -> RunResult:
        runs = {k: self.reused[k] if k in self.reused else self.trainer.runs[k] for k in self.cfg.models}
        return RunResult(config=self.cfg, runs=runs)


@dataclass
class Shown:
    """A result as the page shows it, with where its numbers come from in one sentence."""

    result: RunResult
    origin: str
    stopped: bool = False


# --- session state -----------------------------------------------------------------------
def busy() -> bool:
    return st.session_state.get(JOB) is not None


def _results() -> OrderedDict[str, Shown]:
    return st.session_state.setdefault(RESULTS, OrderedDict())


def _remember(cfg: RunConfig, shown: Shown) -> None:
    kept = _results()
    kept[config_hash(cfg)] = shown
    kept.move_to_end(config_hash(cfg))
    while len(kept) > MAX_KEPT:
        kept.popitem(last=False)


def _note(msg: str) -> None:
    st.session_state.setdefault(NOTES, []).append(msg)


def _store() -> RunStore | None:
    try:
        return RunStore()
    except Exception as e:  # the store is outside state: the lab keeps working without it
        _note(f"The run store cannot be used ({e}); results are kept in this session only.")
        return None


def _stored(cfg: RunConfig) -> tuple[RunResult | None, list[str]]:
    """What the run store holds of `cfg` and which models it lacks."""
    store = _store()
    if store is None:
        return None, list(cfg.models)
    try:
        return store.get_result(cfg)
    except Exception as e:
        log.exception("run store read failed")
        _note(f"The run store could not be read ({type(e).__name__}: {e}); training again instead.")
        return None, list(cfg.models)


def lookup(cfg: RunConfig | None) -> Shown | None:
    """The result of `cfg` if this session or the run store has all of it (no training)."""
    if cfg is None:
        return None
    kept = _results().get(config_hash(cfg))
    if kept is not None:
        return kept
    result, missing = _stored(cfg)
    if result is None or missing:
        return None
    shown = Shown(result, "Loaded from the run store: trained earlier on this machine, not retrained.")
    _remember(cfg, shown)
    return shown


# --- starting and stopping (also used as button callbacks) --------------------------------
def start(cfg: RunConfig) -> None:
    """Begin training `cfg`; models already complete in the store are reused unless every model
    is, in which case the user asked to watch it train again and all are retrained."""
    if busy():
        return
    reused: dict[str, ModelRun] = {}
    kept = _results().get(config_hash(cfg))
    if kept is None or kept.stopped:
        stored, missing = _stored(cfg)
        if stored is not None and missing:
            reused = dict(stored.runs)
    to_train = tuple(k for k in cfg.models if k not in reused)
    try:
        with _threads():
            trainer = Trainer(cfg.replace(models=to_train))
    except Exception as e:  # e.g. out of memory at a huge batch: say so, keep the page alive
        log.exception("could not start training")
        _note(f"Could not start training: {type(e).__name__}: {e}")
        return
    st.session_state[JOB] = Job(cfg=cfg, trainer=trainer, reused=reused)


def request_stop() -> None:
    job = st.session_state.get(JOB)
    if job is not None:
        job.trainer.stop()


def autostart(cfg: RunConfig | None, is_default: bool) -> None:
    """On the first open of the page in a session, train the default experiment unless it is
    already known: the first view then shows something instructive without a click."""
    if st.session_state.get(AUTO):
        return
    st.session_state[AUTO] = True
    if cfg is not None and is_default and not busy() and lookup(cfg) is None:
        start(cfg)


# --- drawing -----------------------------------------------------------------------------
def panel(cfg: RunConfig | None) -> None:
    """The main area: live training if a run is going on, else the known result, else a hint."""
    for msg in dict.fromkeys(st.session_state.pop(NOTES, [])):  # each problem once
        st.error(msg)
    job = st.session_state.get(JOB)
    if job is not None:
        _train_live(job)
        return
    if cfg is None:
        st.info("The sidebar says which control to change before this can train.")
        return
    shown = lookup(cfg)
    if shown is None:
        names = " and ".join(model_title(k, cfg.model) for k in cfg.models)
        st.info(f"Not trained yet. Press **Train** in the sidebar to train {names} side by side on the "
                f"same batches ({cfg.train.steps:,} steps at T = {cfg.task.seq_len}).")
        stored, missing = _stored(cfg)
        if stored is not None and stored.runs:
            have = ", ".join(r.title for r in stored.runs.values())
            st.caption(f"Already in the run store, so not trained again: {have}.")
        return
    set_current_result(shown.result)  # the other pages inspect what is on screen here
    show_result(shown)


def show_result(shown: Shown) -> None:
    st.caption(shown.origin)
    verdict_cards(shown.result)
    for item in run_charts(shown.result):
        show_chart(item, key=f"train-{item.name}")


def verdict_cards(result: RunResult) -> None:
    """One bordered card per model: final metric against chance, time to target, the verdict."""
    summary = result.summary()
    task = result.task
    cols = st.columns(len(summary))
    for col, (kind, s) in zip(cols, summary.items()):
        with col.container(border=True, key=f"verdict-{kind}"):
            st.markdown(f"<span style='color:{color_of(kind)};font-size:1.25rem;font-weight:600'>"
                        f"■ {s['name']}</span>", unsafe_allow_html=True)
            final = s["final_metric"]
            if task.higher_is_better:
                delta = f"{(final - s['chance']) * 100:+.1f} points vs chance"
            else:
                delta = f"{final - s['chance']:+.4f} vs chance"
            st.metric(f"final {s['metric_name']}", format_metric(final, task), delta=delta,
                      delta_color="normal" if task.higher_is_better else "inverse")
            chance = f"{s['chance']:.1%}" if task.higher_is_better else f"MSE {s['chance']:.3f}"
            if s["steps_to_target"] is not None:
                reach = (f"reached the target at step {s['steps_to_target']:,} "
                         f"({s['seconds_to_target']:.1f} s)")
            elif s["status"] == "diverged":
                reach = "diverged"
            else:
                reach = f"did not reach the target in {s['steps_run']:,} steps"
            st.caption(f"Chance {chance} · {reach} · {s['n_params']:,} parameters · status: {s['status']}")
            st.write(s["verdict"])


def _progress_text(job: Job, result: RunResult) -> str:
    step, total = job.trainer.step, job.cfg.train.steps
    text = f"Step {step:,} of {total:,} · {job.wall_s:.1f} s"
    if step and step < total:
        text += f" · about {job.wall_s / step * (total - step):.0f} s left"
    task = result.task
    now = [f"{r.title} {format_metric(r.final_metric, task)}" for r in result.runs.values()]
    return text + " · " + " · ".join(now)


def _reused_note(job: Job) -> str:
    return "Taken from the run store, not retrained: " + ", ".join(model_title(k, job.cfg.model) for k in job.reused) + "."


def _train_live(job: Job) -> None:
    cfg = job.cfg
    names = " and ".join(model_title(k, cfg.model) for k in cfg.models)
    st.subheader(f"Training {names} side by side")
    bar = st.progress(0.0, text="starting")
    note = "Training goes on while this page is open (another page pauses it). Stop keeps what is done."
    if job.reused:
        note += " " + _reused_note(job)
    st.caption(note)
    chart = st.empty()
    task, drawn, n, last = make_task(cfg.task), -1, 0, -REDRAW_S
    while True:
        result = job.result()
        bar.progress(min(job.trainer.step / cfg.train.steps, 1.0), text=_progress_text(job, result))
        metrics = result.metrics_frame()
        if len(metrics) != drawn and time.perf_counter() - last >= REDRAW_S:  # no download buttons live
            drawn, n, last = len(metrics), n + 1, time.perf_counter()
            item = ChartItem(name="learning_curves", title="Learning curves", data=metrics,
                             chart=learning_curves(metrics, task, list(cfg.models),
                                                   titles={k: model_title(k, cfg.model) for k in cfg.models}),
                             caption="Live: redrawn as each evaluation comes in (every "
                                     f"{cfg.train.eval_every} steps).")
            with chart.container():
                show_chart(item, key=f"train-live-{n}", downloads=False)
        if job.trainer.done:
            break
        t0 = time.perf_counter()
        try:
            with _threads():
                job.trainer.advance(job.chunk)
        except Exception as e:  # e.g. out of memory: keep what was trained, say what happened
            log.exception("training failed")
            _note(f"Training failed at step {job.trainer.step:,}: {type(e).__name__}: {e}")
            for run in job.trainer.runs.values():
                if run.status == "running":
                    run.status = "stopped"
        dt = time.perf_counter() - t0
        job.wall_s += dt
        job.chunk = max(1, min(200, round(job.chunk * CHUNK_S / max(dt, 1e-3))))
    _finish(job)
    st.rerun()  # redraw the page with the controls enabled and the finished result


def _finish(job: Job) -> None:
    result, trained = job.result(), job.trainer.result()
    stopped = any(r.status == "stopped" for r in trained.runs.values())
    saved: list[str] = []
    store = _store()
    if store is not None:
        try:
            saved = store.put_result(trained)
        except Exception as e:
            log.exception("run store write failed")
            _note(f"Could not save to the run store ({type(e).__name__}: {e}); kept in this session.")
    step, total = job.trainer.step, job.cfg.train.steps
    if stopped:
        origin = (f"Stopped at step {step:,} of {total:,} after {job.wall_s:.1f} s: everything trained so "
                  "far is shown. Stopped runs stay in this session only; press Train to run it to the end.")
    else:
        origin = f"Trained just now: {step:,} steps in {job.wall_s:.1f} s"
        origin += ", saved in the run store." if saved else "."
    if job.reused:
        origin += " " + _reused_note(job)
    _remember(job.cfg, Shown(result, origin, stopped=stopped))
    set_current_result(result)
    del st.session_state[JOB]


__all__ = ["Job", "Shown", "busy", "lookup", "start", "request_stop", "autostart", "panel", "show_result",
           "verdict_cards"]
