"""The lab's experiment over several seeds: one run is one seed, and training on long gaps is chaotic
(the same config can learn from one seed and not from the next). "Train N seeds" trains the experiment
on screen from seeds s, s+1, ... (a sweep of one length on the job queue, each run kept in the run store,
so the seed already on screen is reused) and says, per model, its final metric's mean with a 95% t
interval, its range and how many seeds reached the target, and for each pair of models how many seeds
show one ending better (core.story.evidence.lab_over_seeds: the sign test the tour uses)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from core.config import MAX_RUN_GB, ConfigError, RunConfig, config_hash
from core.executors import make_executor
from core.jobs import SweepJob
from core.story.evidence import MIN_SEEDS, lab_over_seeds
from core.sweep import completed, make_sweep
from core.tasks.base import make_task
from dashboard.components import owned, plain

JOB = "lab-seeds-job"  # the session's seeds job
COUNT = "lab-seeds-count"  # the seeds control's value
FOR = "lab-seeds-for"  # the config hash of the experiment the seeds job trains
MAX_SEEDS = 10
POLL_S = 2.0
MARGIN = {"accuracy": 0.01}  # a model "ends better" beyond one point of accuracy; MSE: 5% of the lower one
MSE_SHARE = 0.05


def _margin(metric: str, rows: pd.DataFrame) -> float:
    if metric in MARGIN:
        return MARGIN[metric]
    return MSE_SHARE * float(rows["metric"].abs().min())


def panel(cfg: RunConfig | None, busy: bool) -> None:
    """The seeds control and, once trained, the experiment's numbers over its seeds."""
    if cfg is None:
        return
    job = owned.get(JOB)
    mine = job is not None and _same(job, cfg)
    with st.expander("Over several seeds", expanded=mine):
        st.caption(f"The run above is one seed (seed {cfg.train.seed}). Training on a long gap is chaotic: the same "
                   "experiment can learn from one seed and not from the next. Train it from several seeds to see "
                   f"the spread; a comparison settles at {MIN_SEEDS} of {MIN_SEEDS} seeds (a sign test at 5%).")
        st.session_state.setdefault(COUNT, MIN_SEEDS)
        c1, c2 = st.columns([1, 2])
        n = int(c1.number_input("Seeds", 2, MAX_SEEDS, key=COUNT, help="How many seeds to train, from the "
                                "experiment's own seed up (each run is kept, so the one on screen is reused)."))
        if c2.button(f"Train {n} seeds", key="lab-seeds-train", disabled=busy or owned.running(JOB),
                     icon=":material/stacked_line_chart:"):
            _start(cfg, n)
            job = owned.get(JOB)
            mine = job is not None and _same(job, cfg)
        if mine:
            _progress()


def _same(job: SweepJob, cfg: RunConfig) -> bool:
    """Whether the session's seeds job is the experiment on screen's (its config when it was started)."""
    return st.session_state.get(FOR) == config_hash(cfg)


def _start(cfg: RunConfig, n: int) -> None:
    try:
        sweep = make_sweep(cfg, [cfg.task.seq_len], list(range(cfg.train.seed, cfg.train.seed + n)),
                           max_gb=MAX_RUN_GB)
    except ConfigError as e:
        st.error(plain.md(f"Seeds not started: {e}"))
        return
    job = SweepJob(sweep, owned.store("the seeds' runs are kept in this session only"),
                   executor_factory=lambda: make_executor("threads"), owner=owned.owner())
    if owned.submit(JOB, job, what="The seeds did not start"):
        st.session_state[FOR] = config_hash(cfg)


@st.fragment(run_every=POLL_S)
def _progress() -> None:
    job = owned.get(JOB)
    if job is None:
        return
    rows = job.rows()
    done = completed(rows) if len(rows) else rows
    total = len(job.sweep.seeds) * len(job.sweep.variants)
    if not job.ended:
        st.progress(len(done) / max(total, 1), text=f"Seeds: {len(done)} of {total} runs trained")
        if st.button("Stop the seeds", key="lab-seeds-stop"):
            job.stop()
    if job.error:
        st.error(plain.md(job.error))
    if len(done) < 2:
        return
    task = job.sweep.base.task
    t = make_task(task)
    summary, lines = lab_over_seeds(done, t.metric == "accuracy", t.target, _margin(t.metric, done))
    frame = pd.DataFrame(summary)
    st.dataframe(frame, hide_index=True, key="lab-seeds-table", column_config={
        c: st.column_config.NumberColumn(c, format="%.3f") for c in ("mean", "95% low", "95% high", "lowest",
                                                                     "highest")})
    for line in lines:
        st.markdown(plain.md(line))
    if job.ended:
        st.caption(f"{len(done)} of {total} runs ({task.name} at T = {task.seq_len}, seeds "
                   f"{job.sweep.seeds[0]}-{job.sweep.seeds[-1]}); the mean's 95% interval is Student's t over the seeds.")


__all__ = ["panel", "JOB", "COUNT"]
