"""A job this session owns: submit it to the server's queue, poll it, take its result, forget it.

The training page, the tour and the sweep page all keep their background jobs through this one
component: one owner id per browser session (OWNER), one list of one-line notes to show on the next
run (NOTES), one way to open the run store (a problem with it is a note, never an exception), and
the same words for a queued job. Each caller keeps its job under its own key ("lab-...",
"story-...", "sweep-..."), which this component stores and forgets.

The queue stops a job whose page has not polled it for core.jobs.GONE_S seconds (a closed tab), so
each poll of a job here `touch`es it, and `heartbeat()` (called by app.py on every page) keeps the
session's jobs alive while the visitor looks at a page that does not poll them: a fragment that
reruns every HEARTBEAT_S seconds while the session holds a job, and only then. A fragment's timer
runs in the browser, so it stops when the tab closes (public Streamlit, no session internals).
"""
from __future__ import annotations

import uuid

import streamlit as st

from core.jobs import GONE_S, QUEUED, Job, QueueFull, default_queue
from core.store import RunStore
from dashboard.components.plain import md

OWNER = "owned-owner"  # this browser session's id on the job queue
NOTES = "owned-notes"  # one-line problems met on the way, shown once on the next run
HELD = "owned-held"  # every job this session keeps alive (its own, and the tour's it waits for)
HEARTBEAT_S = 30.0  # well inside GONE_S, and a browser throttles a hidden tab's timers to once a minute


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
    job.touch()
    try:
        default_queue().submit(job)
    except QueueFull as e:
        note(f"{what}: {e}.")
        return False
    st.session_state[key] = job
    hold(job)
    return True


def hold(job: Job) -> None:
    """Keep a job alive while this session is (one it did not submit itself: a tour job it waits for)."""
    job.touch()
    held = st.session_state.setdefault(HELD, [])
    if not any(j is job for j in held):
        held.append(job)


def heartbeat() -> None:
    """On every page: touch the session's jobs now and every HEARTBEAT_S seconds while any runs."""
    held = [j for j in st.session_state.get(HELD, []) if not j.ended]
    st.session_state[HELD] = held
    for j in held:
        j.touch()
    if held:
        _beat()


@st.fragment(run_every=HEARTBEAT_S)
def _beat() -> None:
    for j in st.session_state.get(HELD, []):
        j.touch()


def gone_line(job: Job) -> str | None:
    """Why the queue stopped the job, if its page was away (a sleeping tab that came back), else None."""
    if not job.gone:
        return None
    return (f"The server stopped this job: its page had not been seen for {GONE_S / 60:.0f} minutes (a closed or "
            "sleeping tab). What it finished is kept.")


def get(key: str) -> Job | None:
    j = st.session_state.get(key)
    if j is not None:
        j.touch()  # every poll of a job says its page is alive
    return j


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


__all__ = ["owner", "note", "show_notes", "store", "submit", "hold", "heartbeat", "gone_line", "get", "running", "ahead", "queued_line", "forget",
           "forget_job", "OWNER", "NOTES", "HELD", "HEARTBEAT_S"]
