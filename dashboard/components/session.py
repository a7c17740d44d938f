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


@st.cache_data(ttl=60, show_spinner=False)
def _store_notice(folder: str) -> str | None:
    from core.store import RunStore, StoreError

    try:
        return RunStore(folder).notice()
    except StoreError:  # the pages say what is wrong with the store where they use it
        return None


def store_notice() -> None:
    """One line in the sidebar while the store holds runs it will not serve (written before a run's
    numbers followed from its config alone): they are trained again when first used."""
    from core.store import default_dir

    line = _store_notice(str(default_dir()))
    if line:
        st.sidebar.caption(f":material/info: {line[0].upper()}{line[1:]}.")
