"""Keep every page behind app.py's navigation.

Streamlit 1.67 decides at start-up that a folder named `pages` beside the main script is an
old-style multipage app, and keeps thinking so until `st.navigation` has run once. So the first
visitor of a fresh server who opens a page's address directly (say /gradients) gets that page run
on its own, without app.py: the wrong sidebar, no page config, and (with `streamlit run`) no
project root on sys.path. `through_app()` clears that flag and reruns, so app.py routes the page.
"""
from __future__ import annotations

import streamlit as st


def through_app() -> None:
    from streamlit.runtime.pages_manager import PagesManager  # pinned streamlit==1.67.0

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()
