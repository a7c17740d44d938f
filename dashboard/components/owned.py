"""A job this session owns: submit it to the server's queue, poll it, take its result, forget it.

The training page, the tour and the sweep page all keep their background jobs through this one
component: one owner id per browser session (OWNER), one list of one-line notes to show on the next
run (NOTES), one way to open the run store (a problem with it is a note, never an exception), and
the same words for a queued job. Each caller keeps its job under its own key ("lab-...",
"story-...", "sweep-..."), which this component stores and forgets.
"""
from __future__ import annotations

import uuid

import streamlit as st

from core.jobs import QUEUED, Job, QueueFull, default_queue
from core.store import RunStore
from dashboard.components.plain import md

OWNER = "owned-owner"  # this browser session's id on the job queue
NOTES = "owned-notes"  # one-line problems met on the way, shown once on the next run


def owner() -> str:
    return st.session_state.setdefault(OWNER, uuid.uuid4().hex)


def note(msg: str) -> None:
    st.session_state.setdefault(NOTES, []).append(msg)


def show_notes() -> None:
    """Each note once, as an error box (as text: a note may quote a file or an error), then forgotten."""
    for msg in dict.fromkeys(st.session_state.pop(NOTES, [])):
        st.error(md(msg))


def store(why: str = "results are kept in this session only") -> RunStore | None:
    """The run store, or None with a note saying so (the pages work without it)."""
    try:
        return RunStore()
    except Exception as e:  # outside state: a read-only disk, a foreign file ...
        note(f"The run store cannot be used ({e}); {why}.")
        return None


def submit(key: str, job: Job, what: str = "Not started") -> bool:
    """Put the job on the queue and keep it under `key`; False (and a note) when the queue is full."""
    try:
        default_queue().submit(job)
    except QueueFull as e:
        note(f"{what}: {e}.")
        return False
    st.session_state[key] = job
    return True


def get(key: str) -> Job | None:
    return st.session_state.get(key)


def running(key: str) -> bool:
    j = get(key)
    return j is not None and not j.ended


def ahead(job: Job) -> int:
    """How many jobs run before this one (0 when it runs or is next)."""
    return default_queue().ahead(job) if job.state == QUEUED else 0


def queued_line(job: Job, then: str) -> str | None:
    """'Queued: 2 jobs ahead; <then>.' while the job waits behind others, else None."""
    n = ahead(job)
    return f"Queued: {n} job{'s' if n > 1 else ''} ahead; {then}." if n else None


def forget(key: str) -> Job | None:
    """Drop the session's job under `key` (its result taken); the queue forgets it too."""
    j = st.session_state.pop(key, None)
    if j is not None:
        default_queue().forget(j)
    return j


def forget_job(job: Job) -> None:
    """The queue forgets an ended job kept elsewhere (e.g. in a dict of the tour's jobs)."""
    default_queue().forget(job)


__all__ = ["owner", "note", "show_notes", "store", "submit", "get", "running", "ahead", "queued_line", "forget",
           "forget_job", "OWNER", "NOTES"]
