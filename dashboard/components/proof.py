"""Proved on this machine: the server retrains the shipped reference on its job queue at the lowest
priority (core.reference.prove), and pages say, beside a reference result, whether it reproduced.

`start()` is called by the app on every run; it starts the server's proving job once per process
(not when LAB_PROVE=off, or without a reference). `line(runs)` is the one line a page shows,
`source(runs)` where runs come from. Both quote the reference's manifest and the proofs file (files
on disk, outside text), so both come escaped for Markdown (plain.md). `notice()` says in one line,
on every page, when the reference has files that do not match their manifest (those runs are not
served; the rest of the lab goes on).
"""
from __future__ import annotations

import os

import streamlit as st

from core.shipped import shipped, source_line
from core.reference.prove import proof_line, seeds_line, start as start_proving
from dashboard.components.plain import md


def start() -> None:
    if os.environ.get("LAB_PROVE", "on").strip().lower() not in ("off", "0", "no"):
        start_proving(shipped())


def _escaped(text: str | None) -> str | None:
    return None if text is None else md(text)


def line(runs) -> str | None:
    """For the reference runs among `runs`: reproduced here, being reproduced, or the difference."""
    return _escaped(proof_line([r.hash for r in runs if getattr(r, "source", "")]))


def seeds(by_seed: dict[int, list]) -> str | None:
    """For a chapter's runs seed by seed (reference runs only): how many seeds reproduced here."""
    return _escaped(seeds_line({s: [r.hash for r in runs if getattr(r, "source", "")] for s, runs in by_seed.items()}))


def line_for(hashes: list[str]) -> str | None:
    return _escaped(proof_line(hashes))


def source(runs) -> str | None:
    """'Reference run, built with torch ... on ...: shipped with the lab, ...' (None: none of `runs`
    comes from the reference), escaped."""
    return _escaped(source_line(runs))


def origin() -> str | None:
    """The reference's origin line, escaped (None without a reference)."""
    ref = shipped()
    return None if ref is None else md(ref.origin())


def notice() -> None:
    """One line in the sidebar while the shipped reference is damaged (a file that does not match
    its manifest, an index or manifest of the wrong shape): what is not served, and that the lab
    trains those runs here instead."""
    ref = shipped()
    if ref is not None and ref.problems:
        st.sidebar.caption(":material/warning: " + md(ref.notice()))


__all__ = ["start", "line", "line_for", "source", "origin", "notice"]
