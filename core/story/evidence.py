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

**Over seeds.** Training on long gaps is chaotic: one seed can learn where another does not. Every
experiment of the tour is trained on SEEDS seeds (core.story.runs), each check is made on each seed,
and `over_seeds` pools them with a sign test: a check HOLDS over n seeds when k of them hold and the
chance of k or more holding out of n, were holding and failing equally likely (a fair coin), is at
most ALPHA (one-sided binomial tail); FAILS likewise with the seeds that fail; otherwise it is UNCLEAR,
"not settled". With five seeds that takes 5 of 5 (1/32 = 0.031); 4 of 5 (6/32 = 0.19) is not settled.
Fewer than MIN_SEEDS seeds can settle nothing at ALPHA, so a check measured on fewer (a lab that has
trained one seed so far) is called only when every seed agrees, and its words say how many there
were. Where a check is a measured difference, its per-seed values are kept, and the words give their
mean with a 95% Student-t interval (mean +- t(0.975, n-1) * sd / sqrt(n)): the spread the count stands on.
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
    """One part of a chapter's claim, in the explainer's words, and what the numbers said of it. On one
    seed: its outcome, and the measured difference (`value`, `margin`) when it is one. Pooled over seeds
    (`over_seeds`): the outcome over seeds, and each seed's outcome and value in `seeds` / `values`."""

    claim: str
    outcome: str
    value: float | None = None
    margin: float | None = None
    seeds: tuple[str, ...] = ()
    values: tuple[float, ...] = ()

    @classmethod
    def of(cls, claim: str, d: Difference) -> "Check":
        """A check made by `compare`: its outcome, with the difference and its margin kept."""
        return cls(claim, d.outcome, d.gap, d.margin)

    @property
    def pooled(self) -> bool:
        return bool(self.seeds)

    @property
    def count(self) -> tuple[int, int]:
        """(seeds whose check came out as the pooled outcome, or held when unsettled; seeds)."""
        if not self.seeds:
            return (1, 1)
        side = self.outcome if self.outcome in (HOLDS, FAILS) else HOLDS
        return sum(o == side for o in self.seeds), len(self.seeds)

    def seed_words(self) -> str:
        """'holds in 5 of 5 seeds' / 'holds in 3 of 5 seeds: not settled' / 'does not hold in 5 of 5 seeds',
        with the mean difference and its t interval when the check is a measured difference."""
        k, n = self.count
        if self.outcome in (HOLDS, FAILS):
            out = f"{self.outcome} in {k} of {n} seed{'s' if n != 1 else ''}"
        else:
            j = sum(o == FAILS for o in self.seeds)
            out = f"holds in {k} of {n} seed{'s' if n != 1 else ''}" + (f", fails in {j}" if j else "") + ": not settled"
        if len(self.values) >= 2:
            m, lo, hi = t_interval(self.values)
            if math.isfinite(lo) and math.isfinite(hi):
                out += f" (difference {m:.3g}, 95% interval {lo:.3g} to {hi:.3g}" + (
                    f", margin {self.margin:.3g})" if self.margin is not None else ")")
        return out


ALPHA = 0.05  # the sign test's level: a count of seeds settles a claim when chance alone would give it this rarely
MIN_SEEDS = 5  # the fewest seeds where a count can settle a claim at ALPHA (5 of 5: 1/32)
# Student-t 0.975 quantiles for 1..10 degrees of freedom (a 95% two-sided interval)
T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228)


def tail(k: int, n: int) -> float:
    """P(X >= k) for X ~ Binomial(n, 1/2): the chance of k or more of n seeds agreeing by a coin's toss."""
    return sum(math.comb(n, i) for i in range(k, n + 1)) / 2 ** n


def t_interval(values: Sequence[float]) -> tuple[float, float, float]:
    """(mean, low, high): the mean of per-seed values with its 95% Student-t interval."""
    a = np.asarray(values, dtype=np.float64)
    a = a[np.isfinite(a)]
    if a.size < 2:
        m = float(a.mean()) if a.size else float("nan")
        return m, float("nan"), float("nan")
    q = T975[min(a.size - 1, len(T975)) - 1] if a.size - 1 <= len(T975) else 1.96
    half = q * float(a.std(ddof=1)) / math.sqrt(a.size)
    return float(a.mean()), float(a.mean()) - half, float(a.mean()) + half


def settled(outcomes: Sequence[str]) -> str:
    """The outcome over seeds (the rule above): HOLDS / FAILS when the count clears the sign test (or,
    with fewer than MIN_SEEDS seeds, when every seed agrees), else UNCLEAR."""
    n = len(outcomes)
    if n == 0:
        return MISSING
    for side in (HOLDS, FAILS):
        k = sum(o == side for o in outcomes)
        if (n >= MIN_SEEDS and tail(k, n) <= ALPHA) or (n < MIN_SEEDS and k == n):
            return side
    return UNCLEAR


def over_seeds(per_seed: Sequence[Sequence[Check]]) -> list[Check]:
    """Each check pooled over the seeds that made it: `per_seed[s]` is seed s's checks (the first seed's
    claims are the ones said; a seed whose checks do not line up with them, say a missing run, is left
    out of that check)."""
    if not per_seed:
        return []
    first = per_seed[0]
    out = []
    for c in first:  # matched by claim: a seed may make fewer checks (a model that did not learn is not counted)
        same = [next(x for x in cs if x.claim == c.claim) for cs in per_seed if any(x.claim == c.claim for x in cs)]
        outcomes = tuple(x.outcome for x in same)
        values = tuple(float(x.value) for x in same if x.value is not None)
        out.append(Check(c.claim, settled(outcomes), c.value, c.margin, outcomes,
                         values if len(values) == len(same) else ()))
    return out


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
SEED_HEADLINES = {HOLDS: "Holds", FAILS: "Does not hold", PART: "Holds in part", UNCLEAR: "Not settled",
                  MISSING: "These models cannot say"}


def _seeds(checks: Sequence[Check]) -> str:
    ns = sorted({c.count[1] for c in checks})
    return f"{ns[0]} seed{'s' if ns[0] != 1 else ''}" if len(ns) == 1 else f"{ns[0]}-{ns[-1]} seeds"


def verdict_of(checks: Sequence[Check]) -> tuple[str, str]:
    """(outcome, the verdict line): 'Holds here: a; b.' or 'Holds in part here. a: holds; b: does
    not hold; c: no clear difference.' Checks pooled over seeds say their counts: 'Holds in 5 of 5
    seeds: a; b.' / 'Holds in part (5 seeds). A: holds in 5 of 5 seeds; b: holds in 3 of 5 seeds: not
    settled.'"""
    outcome = combine([c.outcome for c in checks])
    if outcome == MISSING:
        return outcome, f"{HEADLINES[MISSING]}: a run the chapter needs is missing."
    if any(c.pooled for c in checks):
        if outcome in (HOLDS, FAILS) and len({c.count for c in checks}) == 1:
            k, n = checks[0].count
            return outcome, (f"{SEED_HEADLINES[outcome]} in {k} of {n} seed{'s' if n != 1 else ''}: "
                             + "; ".join(c.claim for c in checks) + ".")
        parts = "; ".join(f"{c.claim}: {c.seed_words()}" for c in checks)
        return outcome, f"{SEED_HEADLINES[outcome]} (over {_seeds(checks)}). {parts[:1].upper()}{parts[1:]}."
    if outcome == HOLDS:
        return outcome, f"{HEADLINES[HOLDS]}: " + "; ".join(c.claim for c in checks) + "."
    parts = "; ".join(f"{c.claim}: {c.outcome}" for c in checks)
    return outcome, f"{HEADLINES[outcome]}. {parts[:1].upper()}{parts[1:]}."


__all__ = ["HOLDS", "FAILS", "UNCLEAR", "PART", "MISSING", "Difference", "compare", "flipped", "outcome_of",
           "Check", "combine", "verdict_of", "over_seeds", "settled", "tail", "t_interval", "ALPHA", "MIN_SEEDS",
           "lab_over_seeds"]


# --- the lab's experiment over several seeds ----------------------------------------------------------
def lab_over_seeds(rows, higher_is_better: bool, target: float, margin: float) -> tuple[list[dict], list[str]]:
    """The lab's experiment trained from several seeds (rows with model, name, seed, metric,
    steps_to_target, one per model and seed): per model its final metric's mean with the 95% t
    interval, range and how many seeds reached `target`; and for each pair of models, "X ends better
    than Y" checked on each seed (beyond `margin`, the metric's stated threshold) and pooled with the
    sign test. Returns (one summary row per model, the lines that say the counts)."""
    models = list(dict.fromkeys(rows["model"]))
    names = dict(zip(rows["model"], rows["name"]))
    summary, lines = [], []
    for m in models:
        g = rows[rows["model"] == m]
        mean, lo, hi = t_interval(g["metric"].tolist())
        reached = int(g["steps_to_target"].notna().sum())
        summary.append({"model": names[m], "seeds": len(g), "mean": mean, "95% low": lo, "95% high": hi,
                        "lowest": float(g["metric"].min()), "highest": float(g["metric"].max()),
                        "reached the target": f"{reached} of {len(g)}"})
    by_seed = rows.pivot_table(index="seed", columns="model", values="metric", aggfunc="first")
    for i, a in enumerate(models):
        for b in models[i + 1:]:
            both = by_seed[[a, b]].dropna()
            if len(both) < 2:
                continue
            sign = 1.0 if higher_is_better else -1.0
            x, y = (b, a) if sign * both[b].mean() > sign * both[a].mean() else (a, b)  # the better one first
            outs = [compare(sign * u, sign * v, margin).outcome for u, v in zip(both[x], both[y])]
            pooled = over_seeds([[Check(f"the {names[x]} ends better than the {names[y]}", o)] for o in outs])[0]
            lines.append(f"{pooled.claim[:1].upper()}{pooled.claim[1:]}: {pooled.seed_words()} "
                         f"(each seed's final metric, beyond a margin of {margin:g}).")
    return summary, lines
