"""What every chapter of the tour is made of: the `Chapter` object (its experiments, its claim, how it is
told, the charts and tables its page adds) and the words the chapters share.

A chapter is one module of core/story/chapters/ with a `CHAPTER = Chapter(...)` (found there by its
number; core/story/chapters/__init__.py). It names the experiments it needs (core.story.runs:
one home for each run's config), its `teller` builds the sentences and the verdict from the trained
results, its `charts` name builders of core.charts.story (which sits a layer above), its `tables`
give the frames its page shows beside them. The tour, its report, the interview and the shipped
reference read the chapters; nothing else names a chapter.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import pandas as pd

from core.results import (DIVERGED, OUTCOME_WORDS, PENDING, REACHED, ModelRun, RunResult, format_metric, outcome,
                          reach_phrase, verdict as outcome_sentence)
from core.story.evidence import FAILS, HOLDS, MISSING, PART, Check, over_seeds, verdict_of
from core.story.measures import FILLER
from core.story import runs as _runs
from core.story.runs import seeded


@dataclass
class Told:
    """A chapter told with its models: the sentences, the parts of the claim checked (each stated
    in a sentence), the chapter's outcome (evidence.HOLDS, FAILS, PART, UNCLEAR or MISSING) and the
    verdict in one line."""

    sentences: list[str]
    checks: list[Check] = field(default_factory=list)
    outcome: str = MISSING
    verdict: str = ""
    seeds: tuple[int, ...] = (0,)  # the seeds told (the sentences are the first's; the checks pool them all)

    @property
    def holds(self) -> bool | None:
        """True: every part holds; False: a part does not hold; None: no clear answer or no runs."""
        return True if self.outcome == HOLDS else False if self.outcome in (FAILS, PART) else None


def told(sentences: list[str], checks: list[Check]) -> Told:
    outcome, line = verdict_of(checks)
    return Told(sentences, list(checks), outcome, line)


# --- words shared by the chapters -------------------------------------------------------------
def reach(run: ModelRun, result: RunResult) -> str:
    """core.results' outcome words with the tour's numbers: 'reached the target (99%) at training step
    225' / 'learned part of it: ended at 51% after 500 steps, short of the 99% target (chance 12.5%)'."""
    task = result.task
    target = format_metric(task.target, task)
    o = outcome(run, task)
    if o == REACHED:
        return f"{OUTCOME_WORDS[o]} ({target}) at training step {run.steps_to_target:,}"
    if o in (DIVERGED, PENDING):
        return reach_phrase(run, task)
    chance = f"{task.chance * 100:.3g}%" if task.metric == "accuracy" else f"MSE {task.chance:.3g}"
    return (f"{OUTCOME_WORDS[o]}: ended at {format_metric(run.final_metric, task)} after {run.steps_run:,} steps, "
            f"short of the {target} target (chance {chance})")


def where(result: RunResult) -> str:
    return f"{result.task.title} at T = {result.task.seq_len}"


def line(result: RunResult) -> str:
    return f"{where(result)}: " + "; ".join(f"the {r.title} {reach(r, result)}" for r in result.runs.values()) + "."


def learned(result: RunResult, kind: str) -> bool | None:
    """Whether the model reached its task's target (None: the run has no such model)."""
    run = result.runs.get(kind)
    return None if run is None else run.steps_to_target is not None


def read_first(result: RunResult, kinds: tuple[str, ...] = ("lstm",)) -> list[str]:
    """For each of `kinds` that did not reach its target: its outcome in core.results' words, said
    before the chapter draws conclusions from it."""
    return [f"Read this first: {outcome_sentence(result.runs[k], result.task)} Its numbers below are those of a "
            "model that did not learn its task." for k in kinds if learned(result, k) is False]



@dataclass(frozen=True)
class Table:
    """A table a chapter's page shows beside its charts: a line introducing it (Markdown, worded
    here), the frame, and a file name when the page offers it as CSV (`full`: every row, when the
    page shows a few)."""

    key: str
    intro: str
    frame: pd.DataFrame
    csv: str | None = None
    full: pd.DataFrame | None = None
    csv_label: str = "Every row (CSV)"


@dataclass(frozen=True)
class Chapter:
    """One chapter of the tour. `teller(*results)` (results in `needs` order; with `filler=` when
    `filler` is set) tells it; `charts` name its chart builders in core.charts.story; `tables(results)`
    gives the tables its page adds; `links_every_run`: its page links every experiment of the tour."""

    number: int
    key: str
    title: str
    claim: str  # what the explainer says, in words (no numbers: those come from the models)
    needs: tuple[str, ...]  # experiment names (core.story.runs), in the order the chapter shows them
    lab: str  # the experiment its "try it in the lab" link opens
    teller: Callable[..., Told]
    charts: tuple[str, ...] = ()
    tables: Callable[[dict[str, RunResult]], list[Table]] = field(default=lambda results: [])
    equations: tuple[str, ...] = ()  # keys of EQUATIONS this chapter measures (each key in one chapter)
    filler: bool = False  # the page offers the neutral-words slider; teller and charts take `filler`
    links_every_run: bool = False
    cell: tuple[tuple[str, int, str], ...] = ()  # links to /cell: (experiment, step t from 1, what it says)
    weights: bool = True  # its checks, charts or links read its runs' weights; False: evaluations only (the
    # shipped reference then keeps no checkpoint of its runs: core.reference.build.plan)

    def tell_seed(self, results: dict[str, RunResult], seed: int = 0, filler: int = FILLER) -> Told:
        """The chapter told with one seed's results (results[seeded(name, seed)] for each of `needs`)."""
        runs = [results[seeded(n, seed)] for n in self.needs]
        return self.teller(*runs, filler=filler) if self.filler else self.teller(*runs)

    def seeds_in(self, results: dict[str, RunResult]) -> list[int]:
        """The seeds whose every run of the chapter is in `results`."""
        return [s for s in range(_runs.SEEDS) if all(seeded(n, s) in results for n in self.needs)]

    def tell(self, results: dict[str, RunResult], filler: int = FILLER) -> Told:
        """The chapter told with its trained results: the sentences of seed 0 (results[name] for every name
        in `needs`: the runs the page draws), each check pooled over every seed in `results`
        (core.story.evidence.over_seeds) and the verdict from the pooled checks, with its counts."""
        seeds = [0] + [s for s in self.seeds_in(results) if s != 0]
        tolds = [self.tell_seed(results, s, filler) for s in seeds]
        first = tolds[0]
        if not first.checks:
            return first
        checks = over_seeds([t.checks for t in tolds])
        outcome, line = verdict_of(checks)
        n = len(seeds)
        sentences = list(first.sentences)
        if n > 1:
            sentences.append(f"The numbers above are seed 0's, the runs the charts draw; the verdict counts all {n} "
                             "seeds, each trained and checked the same way (the seeds chart below shows each).")
        return Told(sentences, checks, outcome, line, tuple(seeds))
