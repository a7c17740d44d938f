"""Proved on this machine: the server retrains the shipped reference on its job queue at the lowest
priority (core.reference.prove), and pages say, beside a reference result, whether it reproduced.

`start()` is called by the app on every run; it starts the server's proving job once per process
(not when LAB_PROVE=off, or without a reference). `line(runs)` is the one line a page shows.
"""
from __future__ import annotations

import os

from core.shipped import shipped
from core.reference.prove import proof_line, start as start_proving


def start() -> None:
    if os.environ.get("LAB_PROVE", "on").strip().lower() not in ("off", "0", "no"):
        start_proving(shipped())


def line(runs) -> str | None:
    """For the reference runs among `runs`: reproduced here, being reproduced, or the difference."""
    return proof_line([r.hash for r in runs if getattr(r, "source", "")])


def line_for(hashes: list[str]) -> str | None:
    return proof_line(hashes)


__all__ = ["start", "line", "line_for"]
