"""The tour's one rule for "holds": a difference is called only when it is larger than a stated margin.

Every chapter checks the explainer's claims as differences between two measured values ("the input
gate is larger at the information than elsewhere"). `compare(measured, against, margin)` decides:

- HOLDS when measured - against > margin (the difference the claim predicts, clearly);
- FAILS when against - measured > margin (the opposite, clearly);
- UNCLEAR otherwise: the two are within the margin of each other, "no clear difference".

The margin is either a fixed effect size that the chapter states in its text, or, when a value was
measured once per seed, the spread of the difference over the seeds (whichever is larger). A claim
that is a model's outcome (reached the target or not) is not a difference: it comes from
core.results, with its one threshold. A chapter's verdict is `verdict_of(checks)`, the checks it
states in its sentences, so the verdict can say nothing its sentences do not.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

HOLDS, FAILS, UNCLEAR = "holds", "does not hold", "no clear difference"
PART, MISSING = "holds in part", "cannot say"  # a chapter's outcome only: its checks disagree / a run is missing


@dataclass(frozen=True)
class Difference:
    """Two measured values, the margin the difference had to clear, and the outcome."""

    measured: float
    against: float
    margin: float
    outcome: str

    @property
    def gap(self) -> float:
        return self.measured - self.against

    def words(self, fmt: str = ".3f") -> str:
        """'a difference of 0.012, within the margin of 0.05: no clear difference' (or 'larger than')."""
        if math.isnan(self.gap):
            return "a difference that cannot be measured, so no clear difference"
        size = "an unbounded difference" if math.isinf(self.gap) else f"a difference of {abs(self.gap):{fmt}}"
        if self.outcome == UNCLEAR:
            return f"{size}, within the margin of {self.margin:{fmt}}, so no clear difference"
        return f"{size}, larger than the margin of {self.margin:{fmt}}"


def _mean(v: float | Sequence[float]) -> tuple[float, np.ndarray]:
    a = np.atleast_1d(np.asarray(v, dtype=np.float64))
    return (float(a.mean()) if a.size else float("nan")), a


def compare(measured: float | Sequence[float], against: float | Sequence[float], margin: float) -> Difference:
    """Is `measured` larger than `against` by more than `margin`? Values may be one per seed (equal
    lengths): their means are compared, and the margin is at least the spread (max - min) of the
    per-seed difference. A NaN on either side is UNCLEAR; infinite values compare as numbers."""
    m, ms = _mean(measured)
    a, as_ = _mean(against)
    if ms.size > 1 and ms.size == as_.size:
        d = ms - as_
        if np.isfinite(d).all():
            margin = max(margin, float(d.max() - d.min()))
    with np.errstate(invalid="ignore"):
        gap = m - a
    if math.isnan(gap):
        outcome = UNCLEAR
    elif gap > margin:
        outcome = HOLDS
    elif -gap > margin:
        outcome = FAILS
    else:
        outcome = UNCLEAR
    return Difference(m, a, float(margin), outcome)


def flipped(outcome: str) -> str:
    """The outcome of the opposite claim ('keeps' checked, 'loses' claimed): HOLDS and FAILS swap."""
    return {HOLDS: FAILS, FAILS: HOLDS}.get(outcome, outcome)


def outcome_of(ok: bool | None) -> str:
    """A yes/no finding (a model reached its target or not) as an outcome; None: UNCLEAR."""
    return UNCLEAR if ok is None else HOLDS if ok else FAILS


@dataclass(frozen=True)
class Check:
    """One part of a chapter's claim, in the explainer's words, and what the numbers said of it."""

    claim: str
    outcome: str


def combine(outcomes: Sequence[str]) -> str:
    """A chapter's outcome from its checks: HOLDS when all hold, FAILS when none holds and one fails,
    UNCLEAR when all are unclear, PART otherwise; MISSING with no checks."""
    s = set(outcomes)
    if not s:
        return MISSING
    if s == {HOLDS}:
        return HOLDS
    if s == {UNCLEAR}:
        return UNCLEAR
    return FAILS if HOLDS not in s else PART


HEADLINES = {HOLDS: "Holds here", FAILS: "Does not hold here", PART: "Holds in part here",
             UNCLEAR: "No clear difference here", MISSING: "These models cannot say"}


def verdict_of(checks: Sequence[Check]) -> tuple[str, str]:
    """(outcome, the verdict line): 'Holds here: a; b.' or 'Holds in part here. a: holds; b: does
    not hold; c: no clear difference.'"""
    outcome = combine([c.outcome for c in checks])
    if outcome == MISSING:
        return outcome, f"{HEADLINES[MISSING]}: a run the chapter needs is missing."
    if outcome == HOLDS:
        return outcome, f"{HEADLINES[HOLDS]}: " + "; ".join(c.claim for c in checks) + "."
    parts = "; ".join(f"{c.claim}: {c.outcome}" for c in checks)
    return outcome, f"{HEADLINES[outcome]}. {parts[:1].upper()}{parts[1:]}."


__all__ = ["HOLDS", "FAILS", "UNCLEAR", "PART", "MISSING", "Difference", "compare", "flipped", "outcome_of",
           "Check", "combine", "verdict_of"]
