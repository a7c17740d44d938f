"""Fair share of the job queue's one worker between sessions (core.jobs).

Jobs work in chunks of about half a second. Before each chunk the queue asks `Share.pick` which
session goes next: the one that has used the least compute lately. Each session's use is the seconds
its chunks took, decaying by half every HALF_LIFE_S seconds, so:

- a session that has just arrived (no use yet) goes first, and a short job of its own finishes in
  about the time it takes alone, plus the chunk in flight when it came: a visitor training 100,000
  steps has used far more;
- two sessions that both train for long alternate chunk by chunk (the one that used less goes next:
  each gets half of the worker);
- a session's use is forgotten as it decays, so a visitor who trained a long run an hour ago is
  not held back now.

Ties (two sessions that have used nothing) go to the session served longest ago, then to the one
named first. Within one session, its jobs run oldest first (core.jobs). Nothing here depends on what
a job computes: interleaving chunks changes when a run trains, never its numbers.
"""
from __future__ import annotations

import math
import time
from typing import Callable, Iterable

HALF_LIFE_S = 20.0  # a session's use halves in this long: a newcomer catches up within ~this time


class Share:
    """Decayed compute per owner (a browser session, "cli", the tour), and whose turn it is."""

    def __init__(self, half_life_s: float = HALF_LIFE_S, clock: Callable[[], float] = time.monotonic):
        self.half_life_s = half_life_s
        self._clock = clock
        self._used: dict[str, tuple[float, float]] = {}  # owner -> (seconds, as of this time)
        self._served: dict[str, int] = {}  # owner -> the turn it last had
        self._turns = 0

    def used(self, owner: str) -> float:
        """Seconds of compute the owner used, each second weighted by 2^(-age / half life)."""
        seconds, at = self._used.get(owner, (0.0, self._clock()))
        return seconds * math.exp2(-(self._clock() - at) / self.half_life_s)

    def charge(self, owner: str, seconds: float) -> None:
        """The owner's chunk just took `seconds`."""
        self._used[owner] = (self.used(owner) + max(0.0, seconds), self._clock())

    def order(self, owners: Iterable[str]) -> list[str]:
        """Owners in the order they get the worker: least used first, then served longest ago."""
        names = list(dict.fromkeys(owners))
        first = {o: i for i, o in enumerate(names)}
        return sorted(names, key=lambda o: (round(self.used(o), 6), self._served.get(o, -1), first[o]))

    def pick(self, owners: Iterable[str]) -> str | None:
        """The owner whose chunk runs next (and note that it had its turn)."""
        ranked = self.order(owners)
        if not ranked:
            return None
        self._turns += 1
        self._served[ranked[0]] = self._turns
        return ranked[0]

    def forget(self, keep: Iterable[str]) -> None:
        """Drop owners not in `keep` whose use has decayed to nothing (bounded memory on a long-lived server)."""
        keep = set(keep)
        for o in [o for o in self._used if o not in keep and self.used(o) < 1e-3]:
            self._used.pop(o, None)
            self._served.pop(o, None)


__all__ = ["Share", "HALF_LIFE_S"]
