"""The user's current run, kept per browser session (st.session_state, never a shared cache).

Pages that inspect a run (gradients, inside the LSTM, export) read it with `current_result()`;
the training page sets it with `set_current_result()` when a run ends or is loaded from the store.
"""
from __future__ import annotations

import streamlit as st

from core.results import RunResult

KEY = "lab_current_result"


def current_result() -> RunResult | None:
    return st.session_state.get(KEY)


def set_current_result(result: RunResult | None) -> None:
    st.session_state[KEY] = result
