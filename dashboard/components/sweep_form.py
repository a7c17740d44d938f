"""The sweep's controls: task, lengths, models, seeds and the training budget, in one form.

A model here is a variant: a kind at its default start, or a kind with another initialisation
('Vanilla RNN (IRNN init)'), so one sweep compares what each start buys against T.

Returns a validated core SweepConfig when the user presses Start, else None; a bad value is
shown as one line. The grid keeps the sweep's caps (core.sweep: runs, steps in all) and each run the
lab's memory limit (core.config.MAX_RUN_GB). Keys start with "sweep-" (this component owns them).
"""
from __future__ import annotations

import streamlit as st

from core.config import MAX_RUN_GB, ConfigError, ModelConfig, RunConfig, TaskConfig, TrainConfig, variant_choices, variant_label
from core.tasks import TASKS, task_names
from dashboard.components.controls import field_input
from dashboard.components.plain import md
from core.sweep import (DEFAULT_LENGTHS, DEFAULT_PATIENCE, DEFAULT_SEEDS, DEFAULT_STEPS, MAX_RUNS, MAX_SWEEP_STEPS,
                        SweepConfig, make_sweep)


def sweep_form(busy: bool = False) -> SweepConfig | None:
    with st.form("sweep-form", border=True):
        c1, c2, c3 = st.columns(3)
        task = c1.selectbox("Task", task_names(), key="sweep-task", format_func=lambda n: TASKS[n].title,
                            disabled=busy)
        lengths = c2.text_input("Sequence lengths T", ",".join(map(str, DEFAULT_LENGTHS)), key="sweep-lengths",
                                help="Comma-separated, e.g. 10,25,50,100,200 (days for the weather, at most "
                                     f"{TASKS['weather'].max_seq_len}; months for stocks, at most "
                                     f"{TASKS['stocks'].max_seq_len}, e.g. 6,12,24)", disabled=busy)
        seeds = c3.text_input("Seeds", ",".join(map(str, DEFAULT_SEEDS)), key="sweep-seeds",
                              help="Comma-separated; every seed is a separate run of every model", disabled=busy)
        c4, c5, c6, c7 = st.columns(4)
        models = c4.multiselect("Models", variant_choices(), default=["rnn", "lstm"], key="sweep-models",
                                format_func=variant_label, disabled=busy,
                                help="Each model at its default start, or with another initialisation "
                                     "(IRNN, orthogonal, chrono, ...): pick several starts of one model to "
                                     "see what each buys against T. Every one is a separate run.")
        # label, bounds, step and help from each field's rule (core.config)
        steps = field_input(c5, "train", "steps", "sweep-steps", DEFAULT_STEPS, disabled=busy)
        hidden = field_input(c6, "model", "hidden_size", "sweep-hidden", ModelConfig.hidden_size, disabled=busy)
        patience = field_input(c7, "train", "patience", "sweep-patience", DEFAULT_PATIENCE, disabled=busy)
        st.caption(f"At most {MAX_RUNS} runs and {MAX_SWEEP_STEPS:,} training steps in all (runs x steps); "
                   f"each run must fit in {MAX_RUN_GB:g} GB of memory, as a run in the lab must.")
        started = st.form_submit_button("Start sweep", type="primary", disabled=busy, key="sweep-start")
    if not started:
        return None
    kinds = tuple(dict.fromkeys(m.partition(":")[0] for m in models))
    base = RunConfig(task=TaskConfig(name=task), model=ModelConfig(hidden_size=int(hidden)),
                     train=TrainConfig(steps=int(steps), patience=int(patience)), models=kinds)
    try:
        return make_sweep(base, lengths, seeds, tuple(models), max_gb=MAX_RUN_GB)
    except ConfigError as e:
        st.error(md(str(e)))
        return None
