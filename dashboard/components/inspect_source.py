"""Which run the inspection pages look at, and which of its checkpoints.

The user's current run if there is one; else the run store's run of the default experiment (said
so on the page); else a message and a link to the training page.
"""
from __future__ import annotations

import streamlit as st

from core.config import RunConfig, config_hash, validate
from core.inspection import kept_steps
from core.results import RunResult
from core.store import RunStore, StoreError
from dashboard.components import proof
from dashboard.components.session import current_result

DEFAULT_KEY = "inspect_default_result"  # the stored default run, read once per session


def _stored_default() -> RunResult | None:
    if DEFAULT_KEY not in st.session_state:
        try:
            found, missing = RunStore().get_result(validate(RunConfig()))
        except StoreError:
            found, missing = None, ["all"]
        st.session_state[DEFAULT_KEY] = None if missing else found
    return st.session_state[DEFAULT_KEY]


def pick_result() -> RunResult | None:
    """The run to inspect, or None after telling the user how to get one."""
    result = current_result()
    if result is not None and kept_steps(result):
        if (ref := proof.source(result.runs.values())) is not None:
            st.caption(ref + (f" {proved}" if (proved := proof.line(result.runs.values())) else ""))
        return result
    stored = _stored_default()
    if stored is not None and kept_steps(stored):
        ref = proof.source(stored.runs.values())
        st.caption("You have not trained a run in this session yet: showing the "
                   + ("stored run of the default experiment." if ref is None else
                      f"default experiment's {ref[0].lower()}{ref[1:]}")
                   + (f" {proved}" if (proved := proof.line(stored.runs.values())) else ""))
        return stored
    st.info("Nothing to look inside yet: train a run first (the models keep their weights at about ten "
            "checkpoints, and these pages probe them).")
    st.page_link("views/train.py", label="Go to Train side by side", icon="🏁")
    return None


def step_picker(result: RunResult, page: str) -> int:
    """A slider over the kept checkpoints, from initialisation (step 0) to the last one."""
    steps = kept_steps(result)
    if len(steps) == 1:
        st.caption(f"Only one checkpoint was kept: training step {steps[0]}.")
        return steps[0]
    # keyed by the run, so a new run starts at its own last checkpoint
    return st.select_slider("Training step (kept checkpoint)", options=steps, value=steps[-1],
                            key=f"{page}-step-{config_hash(result.config)}",
                            help="Weights as they were at this step of training; 0 is the untrained start.")
