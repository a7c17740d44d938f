"""The reference's verdicts: every chapter of the tour told from the reference's runs, over its seeds
(core.story: each check pooled with the sign test), written beside the runs as `verdicts.json` when the
reference is built and compared by `reference check`.

A run trained again on another CPU may wander (training on long gaps is chaotic: the same config has
ended at 14% on one CPU and 86% on another); what must reproduce is each chapter's verdict and each
check's pooled outcome. `changed(old, new)` names what did not, one line per chapter.
"""
from __future__ import annotations

from typing import Callable

from core import story
from core.config import RunConfig
from core.results import ModelRun, RunResult

VERDICTS = "verdicts.json"


def results_of(lookup: Callable[[RunConfig], ModelRun | None]) -> dict[str, RunResult]:
    """Every experiment of the tour (each seed) whose every model `lookup` finds, as the pages assemble it."""
    out: dict[str, RunResult] = {}
    for name, cfg in story.all_experiments().items():
        runs = {kind: lookup(cfg.single(kind)) for kind in cfg.models}
        if all(r is not None for r in runs.values()):
            out[name] = RunResult(config=cfg, runs=runs)
    return out


def verdicts(results: dict[str, RunResult]) -> dict[str, dict]:
    """chapter number -> its key, outcome, the seeds told and each check's claim, pooled outcome and
    per-seed outcomes, for every chapter whose seed-0 runs are in `results`."""
    out = {}
    for c in story.CHAPTERS:
        if any(n not in results for n in c.needs):
            continue
        told = story.tell(c, results)
        out[str(c.number)] = {"key": c.key, "outcome": told.outcome, "verdict": told.verdict,
                              "seeds": list(told.seeds),
                              "checks": [{"claim": k.claim, "outcome": k.outcome, "seeds": list(k.seeds)}
                                         for k in told.checks]}
    return out


def changed(old: dict, new: dict) -> list[str]:
    """One line for each chapter of `new` whose outcome or a check's pooled outcome differs from `old`
    (a chapter only one of them has is named too)."""
    lines = []
    for n in sorted(set(old) | set(new), key=lambda x: int(x) if str(x).isdigit() else 0):
        a, b = old.get(n), new.get(n)
        if a is None or b is None:
            lines.append(f"chapter {n}: {'not in the reference' if a is None else 'not told here'}")
            continue
        parts = []
        if a.get("outcome") != b.get("outcome"):
            parts.append(f"{a.get('outcome')} -> {b.get('outcome')}")
        was = {c.get("claim"): c for c in a.get("checks", [])}
        for c in b.get("checks", []):
            o = was.get(c["claim"])
            if o is None:
                parts.append(f"new check {c['claim']!r}")
            elif o.get("outcome") != c["outcome"]:
                parts.append(f"{c['claim']!r}: {o.get('outcome')} ({_count(o)}) -> {c['outcome']} ({_count(c)})")
        if parts:
            lines.append(f"chapter {n} ({b.get('key')}): " + "; ".join(parts))
    return lines


def _count(c: dict) -> str:
    seeds = c.get("seeds") or []
    return f"holds in {sum(o == story.HOLDS for o in seeds)} of {len(seeds)} seeds"


__all__ = ["VERDICTS", "results_of", "verdicts", "changed"]
