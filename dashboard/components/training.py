"""The live training widget: train the chosen models side by side as a background job, redraw
as they learn, play / pause / step / continue / reset / stop, and one verdict card per model.

The run is a `core.jobs.TrainJob` on the server's job queue (`core.jobs.default_queue()`): it trains
on the queue's worker thread, outside this page's script runs, so it carries on while the user
looks at another page, and a rerun (a click, a widget change) never interrupts it. The session
keeps a reference to its own job (JOB); pages poll it in a fragment that redraws every POLL_S
seconds and reruns the whole page when the job pauses or ends. With several sessions training at
once, they share the queue's worker chunk by chunk (core.share); a job waits only behind this session's
own earlier jobs, and the page says how many.

Finished runs are kept per session (RESULTS, most recent MAX_KEPT) and complete ones in the run
store on disk (the job writes them before it reports itself done), so going back to a
configuration shows it at once. A model already in the store is not retrained: a model's numbers
depend only on (config, seed, kind).
"""
from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass

import streamlit as st

from core.charts import ChartItem, color_of, learning_curves, run_charts
from core.config import RunConfig, config_hash, model_title, more_steps
from core.jobs import PAUSED, QUEUED, TrainJob, default_queue
from core.results import ModelRun, RunResult, format_metric
from core.store import RunStore
from dashboard.components import owned, proof
from dashboard.components.chart import show_chart
from dashboard.components.session import set_current_result

JOB = "lab-job"  # the session's job on screen (running, queued or paused), kept by `owned`
LAST = "lab-last-job"  # the session's last ended job: it can be continued for more steps
RESULTS = "lab-results"
AUTO = "lab-autostart-done"
PAUSED_DRAWN = "lab-paused-drawn"  # (job id, step) of the pause the page has redrawn for
LIVE_CHART = "lab-live-chart"  # the live chart drawn last, with what it was drawn from
POLL_S = 2.0  # how often a page with a job in progress redraws its progress bar
CHART_POLL_S = 5.0  # ... and its learning curves (measured: docs/speed.md)
FIRST_CHART_WAIT_S = 2.0  # a new run's page waits this long at most for its step-0 evaluation
MAX_KEPT = 12  # finished runs kept in a session (each holds ~11 weight checkpoints per model)
log = logging.getLogger(__name__)


@dataclass
class Shown:
    """A result as the page shows it, with where its numbers come from in one sentence."""

    result: RunResult
    origin: str
    stopped: bool = False


# --- session state -----------------------------------------------------------------------
def _results() -> OrderedDict[str, Shown]:
    return st.session_state.setdefault(RESULTS, OrderedDict())


def _remember(cfg: RunConfig, shown: Shown) -> None:
    kept = _results()
    kept[config_hash(cfg)] = shown
    kept.move_to_end(config_hash(cfg))
    while len(kept) > MAX_KEPT:
        kept.popitem(last=False)


def _stored(cfg: RunConfig) -> tuple[RunResult | None, list[str]]:
    """What the run store holds of `cfg` and which models it lacks."""
    store = owned.store()
    if store is None:
        return None, list(cfg.models)
    try:
        return store.get_result(cfg)
    except Exception as e:
        log.exception("run store read failed")
        owned.note(f"The run store could not be read ({type(e).__name__}: {e}); training again instead.")
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
    shown = Shown(result, _origin(result))
    _remember(cfg, shown)
    return shown


def _origin(result: RunResult) -> str:
    """Where a result taken without training comes from, in one line: the run store (trained earlier
    on this machine) or the reference shipped with the lab (core.shipped), or both."""
    ref = proof.source(result.runs.values())
    if ref is None:
        return "Loaded from the run store: trained earlier on this machine, not retrained."
    proved = proof.line(result.runs.values())
    ref += f" {proved}" if proved else ""
    if all(r.source for r in result.runs.values()):
        return ref + " Press **Train** to train it here."
    return "Loaded from the run store (trained earlier on this machine); " + ref[0].lower() + ref[1:]


# --- the job (the sidebar's buttons call these) ------------------------------------------------
def job() -> TrainJob | None:
    return owned.get(JOB)


def busy() -> bool:
    """A run is queued, training or paused: the controls that would change it are disabled."""
    return owned.running(JOB)


def paused() -> bool:
    j = job()
    return j is not None and j.state == PAUSED


def _submit(j: TrainJob) -> None:
    owned.submit(JOB, j)


def _new_job(cfg: RunConfig, reuse: bool = True, pause_at: int | None = None) -> TrainJob:
    """A job for `cfg`: models complete in the store are reused (unless every model is, in which
    case the user asked to watch it train again, or `reuse` is off)."""
    reused: dict[str, ModelRun] = {}
    recheck = False
    if reuse:
        kept = _results().get(config_hash(cfg))
        if kept is None or kept.stopped:
            stored, missing = _stored(cfg)
            if stored is not None and missing:
                reused = dict(stored.runs)
                recheck = True  # a job ahead in the queue may store the rest (the tour trains this one too)
    return TrainJob(cfg, reused=reused, owner=owned.owner(), store=RunStore, pause_at=pause_at, recheck_store=recheck)


def start(cfg: RunConfig) -> None:
    """Train `cfg` (the Train button)."""
    if not busy():
        _submit(_new_job(cfg))


def step(cfg: RunConfig) -> None:
    """Train one evaluation interval, then pause (the Step button): of the paused run, or of a new one."""
    j = job()
    if j is not None and j.state == PAUSED:
        j.step_once()
        default_queue().wake()
    elif not busy():
        j = _new_job(cfg)
        j.step_once()
        _submit(j)


def toggle_pause() -> None:
    """Pause a running run, or play a paused one (the Pause / Play button)."""
    j = job()
    if j is None or j.ended:
        return
    if j.state == PAUSED:
        j.play()
        default_queue().wake()
    else:
        j.pause()


def request_stop() -> None:
    j = job()
    if j is not None:
        j.stop()
        default_queue().wake()


def reset(cfg: RunConfig) -> None:
    """Back to the same initialisation (the Reset button): the run on screen is dropped and a new
    one is built and paused at step 0, ready for Play or Step."""
    j = job()
    if j is not None and not j.ended:
        j.stop()
    st.session_state.pop(JOB, None)
    st.session_state.pop(LAST, None)
    _results().pop(config_hash(cfg), None)
    _submit(_new_job(cfg, reuse=False, pause_at=0))  # build, evaluate step 0, pause


def can_continue(cfg: RunConfig | None) -> bool:
    """The run on screen was trained in this session and can train on (optimizer state kept)."""
    j = st.session_state.get(LAST) if not busy() else job()
    return cfg is not None and j is not None and j.trainer is not None and (
        j.state == PAUSED or (j.ended and j.cfg == cfg))


def continue_for(more: int) -> None:
    """Train the run on screen `more` steps further (the Continue button)."""
    j = job() if busy() else st.session_state.get(LAST)
    if j is None or j.trainer is None:
        return
    try:
        j.extend(more_steps(j.trainer.step, more))  # at most the steps rule's bound in all
    except ValueError as e:
        owned.note(f"Cannot continue: {e}.")
        return
    st.session_state["steps"] = j.cfg.train.steps  # the sidebar now describes the longer run
    st.session_state.pop(LAST, None)
    _submit(j)


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
    """The main area: the run in progress, else the known result, else a hint."""
    owned.show_notes()
    if job() is not None:
        live()
        live_chart()
        if job() is not None:
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


def _running_job() -> TrainJob | None:
    """The session's job if it has not ended; an ended one is taken in (its result kept) and the
    whole page reruns to show it."""
    j = job()
    if j is not None and j.ended:
        _finish(j)
        st.rerun()
    return j


@st.fragment(run_every=POLL_S)
def live() -> None:
    """The session's job as it stands: progress, queue position, the learning curves so far. Redrawn
    every POLL_S seconds on its own; when the job ends (or pauses) the whole page reruns."""
    j = _running_job()
    if j is None:
        return
    result = j.result()
    cfg = j.cfg
    names = " and ".join(model_title(k, cfg.model) for k in cfg.models)
    if waiting := owned.queued_line(j, "this session's earlier jobs train first (other visitors' share the "
                                         "cores with it), and it starts by itself"):
        st.subheader(f"Waiting to train {names}")
        st.info(waiting)
        return
    st.subheader(f"{'Paused' if j.state == PAUSED else 'Training'} {names} side by side")
    st.progress(min(j.step / max(j.total, 1), 1.0), text=_progress_text(j, result))
    note = ("Training runs on the server, so it carries on while you look at another page. "
            "Pause, Step and Stop are in the sidebar; Stop keeps what is done.")
    if j.reused:
        note += " " + _reused_note(j)
    st.caption(note)
    if j.state == PAUSED and not st.session_state.get(PAUSED_DRAWN) == (j.id, j.step):
        st.session_state[PAUSED_DRAWN] = (j.id, j.step)
        st.rerun()  # the sidebar's buttons and the chart follow the pause


@st.fragment(run_every=CHART_POLL_S)
def live_chart() -> None:
    """The learning curves so far, redrawn less often than the progress bar: on this 2-core machine
    every redraw also costs the browser a re-render, and redrawing each second made the default
    run train at half speed (docs/speed.md)."""
    j = job()
    if j is None or j.ended or owned.ahead(j):
        return
    draw_live(j, key="train-live", cache=LIVE_CHART)


def draw_live(j: TrainJob, key: str, cache: str) -> None:
    """A job's learning curves so far, from step 0 (the lab's live chart; the tour's chapters draw
    theirs with it). `cache`: the session-state key that keeps the chart between redraws."""
    item = live_item(j, cache)
    if item is None and j.started.wait(FIRST_CHART_WAIT_S):  # step 0 comes within ~0.2 s: draw it now
        item = live_item(j, cache)
    if item is None:
        st.caption("Building the models and evaluating them at step 0...")
        return
    show_chart(item, key=key, downloads=False)


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
            st.caption(f"Chance {chance} · {s['reach']} · {s['n_params']:,} parameters · status: {s['status']}")
            st.write(s["verdict"])


@st.fragment(run_every=POLL_S)
def sidebar_status() -> None:
    """On the other pages: the session's run in progress, in one line with a bar, redrawn as it
    learns. When it ends, its result becomes the one the inspection pages show (the page reruns)."""
    j = _running_job()
    if j is None:
        return
    with st.container(border=True, key="train-status"):
        what = "Paused" if j.state == PAUSED else "Queued" if j.state == QUEUED else "Training"
        st.progress(min(j.step / max(j.total, 1), 1.0), text=f"{what}: step {j.step:,} of {j.total:,}")
        st.page_link("views/train.py", label="Watch it learn", icon=":material/compare_arrows:")


def live_item(j: TrainJob, cache: str = LIVE_CHART) -> ChartItem | None:
    """The learning curves of a job so far; built again only when a new evaluation has come in."""
    result = j.result()
    n = sum(len(r.evals) for r in result.runs.values())
    cached = st.session_state.get(cache)
    if cached is not None and cached[0] == (j.id, n):
        return cached[1]
    item = curves_item(result, j.total, "Live: redrawn as each evaluation comes in (every "
                                        f"{j.cfg.train.eval_every} steps); step 0 is the untrained start.")
    if item is not None:
        st.session_state[cache] = ((j.id, n), item)
    return item


def curves_item(result: RunResult, steps: int, caption: str) -> ChartItem | None:
    """A run's learning curves along a fixed axis of `steps` (None before its first evaluation)."""
    metrics = result.metrics_frame()
    if metrics.empty:
        return None
    cfg = result.config
    return ChartItem(name="learning_curves", title="Learning curves", data=metrics, caption=caption,
                     chart=learning_curves(metrics, result.task, list(cfg.models),
                                           titles={k: model_title(k, cfg.model) for k in cfg.models}, steps=steps))


def _progress_text(j: TrainJob, result: RunResult) -> str:
    step, total = j.step, j.total
    text = f"Step {step:,} of {total:,} · {j.wall_s:.1f} s"
    if step and step < total and j.state != PAUSED:
        text += f" · about {j.wall_s / step * (total - step):.0f} s left"
    task = result.task
    now = [f"{r.title} {format_metric(r.final_metric, task)}" for r in result.runs.values()]
    return text + (" · " + " · ".join(now) if now else "")


def _reused_note(j: TrainJob) -> str:
    ref = proof.source(j.reused.values())
    if ref is not None and all(r.source for r in j.reused.values()):
        return "Not retrained: " + ref[0].lower() + ref[1:]
    return "Taken from the run store, not retrained: " + ", ".join(model_title(k, j.cfg.model) for k in j.reused) + "."


def _finish(j: TrainJob) -> None:
    """The job has ended: keep its result in the session, say where its numbers come from."""
    result = j.result()
    if gone := owned.gone_line(j):
        owned.note(gone)
    for msg in j.notes:
        owned.note(msg)
    if j.error:
        owned.note(j.error)
    stopped = any(r.status == "stopped" for r in result.runs.values())
    step, total = j.step, j.total
    if j.trainer is None and not j.to_train and not j.error:  # another job stored it while this one waited
        origin = "Loaded from the run store: trained on this machine while this run waited, not retrained."
    elif stopped:
        origin = (f"Stopped at step {step:,} of {total:,} after {j.wall_s:.1f} s: everything trained so "
                  "far is shown. Stopped runs stay in this session only; press Train to run it to the end.")
    else:
        origin = f"Trained just now: {step:,} steps in {j.wall_s:.1f} s"
        origin += ", saved in the run store." if j.saved else "."
    if j.reused and j.to_train:
        origin += " " + _reused_note(j)
    _remember(j.cfg, Shown(result, origin, stopped=stopped))
    set_current_result(result)
    st.session_state[LAST] = j
    owned.forget(JOB)


__all__ = ["Shown", "busy", "paused", "job", "lookup", "start", "step", "toggle_pause", "request_stop", "reset",
           "can_continue", "continue_for", "autostart", "panel", "live", "show_result", "verdict_cards", "draw_live",
           "live_item", "curves_item", "CHART_POLL_S"]
