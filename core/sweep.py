"""Sweep: the final metric against sequence length T, per model, over seeds.

A sweep is a grid (lengths x seeds x models) of single-model runs that share every other
setting (`SweepConfig.base`). Runs already in the run store are reused, not trained again; the
others go through an executor (core.executors) and each is written to the store as soon as it
finishes, so a stopped or killed sweep keeps every finished run and the next one resumes.

A model of a sweep is a variant: a kind, or a kind with its initialisation ('rnn:irnn',
'lstm:zero'), so one sweep answers what each start buys against T. Each variant is a single-model
config with that init set (`core.config.with_variant`); a bare kind is exactly today's run.

The result is one table, a row per run:
    task, model, init, seq_len, seed, metric, chance, steps_to_target, wall_s, status,
    then target, steps_run, hash, reused and variant ('rnn' or 'rnn:irnn': what charts group by).
`metric` is the held-out metric at the run's last evaluation; `wall_s` the run's own training
and evaluation seconds (for a reused run: when it was trained); `status` finished, diverged,
stopped (not kept) or failed.

A sweep folder (`save_sweep` / `load_sweep`): `sweep.csv` (that table), `sweep.json` (the
sweep's config and how it ran), each chart's data as `<chart name>.csv` and, written last,
`manifest.json` (each file's size, sha256 and rows; see core.runio): `load_sweep` refuses a folder
that does not match it, and checks the structure of a folder written before manifests existed.
"""
from __future__ import annotations

import dataclasses
import json
import math
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Generator

import pandas as pd

from core.config import (ConfigError, ModelConfig, RunConfig, check_memory, config_hash, parse_variants, rule,
                         seq_len_range, validate, variant_label, variant_of, with_variant)
from core.executors import InProcessExecutor
from core.models import init_of
from core.runio import begin_folder, check_folder, check_writable, ends_with_newline, write_manifest
from core.store import REUSABLE, RunStore
from core.tasks import TASKS

COLUMNS = ["task", "model", "init", "seq_len", "seed", "metric", "chance", "steps_to_target", "wall_s", "status"]
EXTRA = ["target", "steps_run", "hash", "reused", "variant"]
ADDED = ("init", "variant")  # columns a sweep.csv written before variants lacks (filled on load)
DEFAULT_LENGTHS = (10, 25, 50, 100, 200)
DEFAULT_SEEDS = (0, 1, 2)
DEFAULT_STEPS = 1500  # the sweep: enough for the RNN to show its ceiling at every T
# Stop a run once it has held the target for 3 evaluations: the default sweep then trains 18,050
# steps instead of 45,000 (266 s instead of 666 s here), and every run's steps to target and
# verdict are unchanged (docs/speed.md: sweep). --patience 0 trains every run to the end.
DEFAULT_PATIENCE = 3
MAX_RUNS = 600  # a grid larger than this is almost surely a typo (e.g. seeds 0..1000)
# Training steps in all (runs x steps) a sweep may ask for, on the page and in the CLI: 22 times the
# default sweep's 45,000 (30 runs x 1,500). One visitor's sweep shares the server's queue with
# everyone's jobs (core.jobs), but it should still end within a day, not in weeks.
MAX_SWEEP_STEPS = 1_000_000


class SweepFolderError(ValueError):
    """A folder that is not a readable sweep; the message is one line."""


@dataclass(frozen=True)
class SweepConfig:
    base: RunConfig  # every setting but seq_len and seed; base.models are the kinds swept
    lengths: tuple[int, ...] = DEFAULT_LENGTHS
    seeds: tuple[int, ...] = DEFAULT_SEEDS
    variants: tuple[str, ...] = ()  # 'rnn', 'rnn:irnn', ... (empty: base.models as they are)

    @property
    def models(self) -> tuple[str, ...]:
        return self.variants or self.base.models

    def jobs(self) -> list[RunConfig]:
        """Single-model configs, shortest T first so the first answers come early."""
        out = []
        for T in self.lengths:
            for seed in self.seeds:
                cfg = self.base.replace(task=_replace(self.base.task, seq_len=T),
                                        train=_replace(self.base.train, seed=seed))
                out += [with_variant(cfg, v) for v in self.models]
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"task": self.base.task.name, "lengths": list(self.lengths), "models": list(self.models),
                "seeds": list(self.seeds), "base": self.base.to_dict()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "SweepConfig":
        return make_sweep(RunConfig.from_dict(d["base"]), d["lengths"], d["seeds"], d.get("models"))


def default_sweep() -> SweepConfig:
    """The default grid (first_token, RNN and LSTM, DEFAULT_LENGTHS x DEFAULT_SEEDS, DEFAULT_STEPS with
    DEFAULT_PATIENCE): what the sweep page's form offers and the CLI's defaults, and what the shipped
    reference (core.shipped) holds."""
    base = RunConfig()
    base = base.replace(train=dataclasses.replace(base.train, steps=DEFAULT_STEPS, patience=DEFAULT_PATIENCE))
    return make_sweep(base, DEFAULT_LENGTHS, DEFAULT_SEEDS)


def _replace(obj, **kw):
    return dataclasses.replace(obj, **kw)


def parse_ints(name: str, text: str | list | tuple) -> tuple[int, ...]:
    """'10,25, 50' -> (10, 25, 50); sorted, without repeats; one-line ConfigError otherwise."""
    parts = [p.strip() for p in text.split(",")] if isinstance(text, str) else list(text)
    parts = [p for p in parts if p != ""]
    if not parts:
        raise ConfigError(f"{name}: give at least one whole number, e.g. 10,25,50")
    out = []
    for p in parts:
        try:
            f = float(p)
        except (TypeError, ValueError):
            raise ConfigError(f"{name} must be whole numbers separated by commas, got {p!r}") from None
        if not math.isfinite(f) or f != int(f):
            raise ConfigError(f"{name} must be whole numbers separated by commas, got {p!r}")
        out.append(int(f))
    return tuple(sorted(set(out)))


def _shown(n: int) -> str:
    """A whole number as a refusal echoes it: 1e99 typed is '1e+99', not a 100-digit integer."""
    return str(n) if abs(n) < 10**12 else f"{n:.3g}"


def make_sweep(base: RunConfig, lengths, seeds, variants=None, max_gb: float | None = None) -> SweepConfig:
    """Validate a sweep at the edge: every grid point must be a valid config, the whole grid at most
    MAX_RUNS runs and MAX_SWEEP_STEPS steps in all, and with `max_gb` (the dashboard's
    core.config.MAX_RUN_GB) its largest run must fit that memory, as a lab run must. `variants`
    ('rnn, rnn:irnn,lstm:zero'; default base.models) are written canonically: 'lstm:chrono' is 'lstm'
    when chrono is the default, and a variant named twice runs once."""
    variants = parse_variants(base.models if variants is None else variants)
    kinds = tuple(dict.fromkeys(v.partition(":")[0] for v in variants))
    lengths, seeds = parse_ints("lengths", lengths), parse_ints("seeds", seeds)
    if base.task.name in TASKS:  # the grid sets T per run: the base's own T only has to be one the task holds
        lo, hi = seq_len_range(base.task.name)
        if isinstance(base.task.seq_len, int) and not lo <= base.task.seq_len <= hi:  # stocks from T=100
            base = base.replace(task=_replace(base.task, seq_len=min(max(lengths[0], lo), hi)))
    base = validate(base.replace(models=kinds))
    variants = tuple(dict.fromkeys(variant_of(with_variant(base, v)) for v in variants))
    lo, hi = seq_len_range(base.task.name)
    for T in lengths:
        if not lo <= T <= hi:
            raise ConfigError(f"lengths must be between {lo} and {hi} for {base.task.name}, got {_shown(T)}")
    seed_rule = rule("train", "seed")
    for s in seeds:
        if not seed_rule.lo <= s <= seed_rule.hi:
            raise ConfigError(f"seeds must be between {seed_rule.lo:g} and {seed_rule.hi:g}, got {_shown(s)}")
    n = len(lengths) * len(seeds) * len(variants)
    if n > MAX_RUNS:
        raise ConfigError(f"the sweep has {n} runs; at most {MAX_RUNS} at once")
    if n * base.train.steps > MAX_SWEEP_STEPS:
        raise ConfigError(f"the sweep would train {n} runs x {base.train.steps:,} steps = {n * base.train.steps:,} "
                          f"steps; at most {MAX_SWEEP_STEPS:,} in all (fewer runs or fewer steps)")
    if max_gb is not None:  # the longest T needs the most
        check_memory(base.replace(task=_replace(base.task, seq_len=max(lengths))), max_gb,
                     what=f"a step of the sweep's run at T = {max(lengths)}")
    return SweepConfig(base=base, lengths=lengths, seeds=seeds, variants=variants)


# --- rows of the table -----------------------------------------------------------------
def _num(v) -> float:
    return math.nan if v is None else float(v)


def row_from_summary(cfg: RunConfig, s: dict, reused: bool) -> dict[str, Any]:
    kind = cfg.models[0]
    return {"task": cfg.task.name, "model": kind, "init": init_of(kind, cfg.model) or "",
            "seq_len": cfg.task.seq_len, "seed": cfg.train.seed,
            "metric": _num(s.get("final_metric")), "chance": _num(s.get("chance")),
            "steps_to_target": s.get("steps_to_target"), "wall_s": _num(s.get("elapsed_s")),
            "status": s.get("status", "finished"), "target": _num(s.get("target")),
            "steps_run": s.get("steps_run"), "hash": config_hash(cfg), "reused": reused,
            "variant": variant_of(cfg)}


def table(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=COLUMNS + EXTRA)
    df["steps_to_target"] = df["steps_to_target"].astype("Int64")  # missing = never reached
    df["steps_run"] = df["steps_run"].astype("Int64")
    return df


# --- running ------------------------------------------------------------------------------
def run_cost(cfg: RunConfig) -> float:
    """Relative cost of a run: a step costs a fixed overhead plus a share per time step."""
    return cfg.train.steps * (cfg.task.seq_len + 8)


@dataclass
class Progress:
    """What a progress bar shows: run i of n, the current T and model, elapsed and remaining."""

    index: int  # 1-based: the how-manyth run this is to start (reused runs count first)
    total: int
    done: int  # runs finished (trained or reused)
    reused: int
    seq_len: int
    model: str  # the kind
    seed: int
    elapsed_s: float
    eta_s: float | None  # None until a run has given a rate
    fraction: float
    row: dict | None = None  # set when a run has just finished
    variant: str = ""  # 'rnn:irnn' when the sweep names a start (default: the kind)

    @property
    def message(self) -> str:
        left = f" · about {_clock(self.eta_s)} left" if self.eta_s is not None else ""
        what = f"T={self.seq_len} · {variant_label(self.variant or self.model)} · seed {self.seed}"
        if self.row is None:  # a run is training (in-process executors report it)
            head = f"run {self.index} of {self.total} · {what}"
        else:  # a run has finished (pools finish runs in any order)
            head = f"{self.done} of {self.total} done · last: {what}"
        return f"{head} · {_clock(self.elapsed_s)} elapsed{left}"


def _clock(s: float) -> str:
    s = int(round(s))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


@dataclass
class SweepResult:
    config: SweepConfig
    table: pd.DataFrame
    reused: int
    trained: int
    failed: int
    stopped: bool
    wall_s: float
    executor: str
    errors: list[str] = field(default_factory=list)

    def info(self) -> dict[str, Any]:
        return {**self.config.to_dict(), "n_runs": len(self.config.jobs()), "reused": self.reused,
                "trained": self.trained, "failed": self.failed, "stopped": self.stopped,
                "wall_s": round(self.wall_s, 2), "executor": self.executor}


def run_sweep(sweep: SweepConfig, store: RunStore | None = None, executor=None,
              on_progress: Callable[[Progress], object] | None = None,
              stop: threading.Event | None = None) -> SweepResult:
    """Run the grid: reuse what the store has, train the rest, save each finished run at once."""
    steps = sweep_steps(sweep, store, executor, on_progress, stop)
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value


def sweep_steps(sweep: SweepConfig, store: RunStore | None = None, executor=None,
                on_progress: Callable[[Progress], object] | None = None,
                stop: threading.Event | None = None) -> Generator[None, None, SweepResult]:
    """`run_sweep` one event at a time: it yields after each of the executor's events (a run started,
    trained on, finished, or half a second of nothing) and returns the SweepResult, so that a job
    can run it in chunks between other sessions' (core.jobs)."""
    executor = executor or InProcessExecutor()
    stop = stop or threading.Event()
    if store is not None:
        remember_sweep(store, sweep)
    jobs = sweep.jobs()
    n = len(jobs)
    found = store.get_summaries([config_hash(c) for c in jobs]) if store is not None else {}
    rows: dict[int, dict] = {i: row_from_summary(c, found[config_hash(c)], True)
                             for i, c in enumerate(jobs) if config_hash(c) in found}
    # longest runs first: with a pool of workers the last run to start is then a short one, so the
    # cores stay busy to the end (the table is written in grid order all the same)
    todo = sorted((i for i in range(n) if i not in rows), key=lambda i: -run_cost(jobs[i]))
    order = {i: k for k, i in enumerate(todo)}  # "run k of n" counts in the order runs start
    reused, trained, failed, errors = len(rows), 0, 0, []
    remaining_cost = sum(run_cost(jobs[i]) for i in todo)
    done_cost, partial = 0.0, 0.0
    t0 = time.perf_counter()

    def report(i: int, row: dict | None = None) -> None:
        if on_progress is None:
            return
        elapsed = time.perf_counter() - t0
        spent = done_cost + partial
        eta = elapsed * (remaining_cost - partial) / spent if spent > 0 else None
        c = jobs[i]
        total_cost = done_cost + remaining_cost
        frac = (done_cost + partial) / total_cost if total_cost else 1.0
        on_progress(Progress(index=reused + order.get(i, 0) + 1, total=n, done=len(rows), reused=reused, seq_len=c.task.seq_len,
                             model=c.models[0], seed=c.train.seed, elapsed_s=elapsed,
                             eta_s=None if eta is None else max(0.0, eta), fraction=min(1.0, frac), row=row,
                             variant=variant_of(c)))

    if reused and on_progress is not None and todo:
        report(todo[0])
    events = executor.run([jobs[i] for i in todo], stop)
    try:
        for ev in events:
            yield
            if ev.kind == "idle":  # a pool's runs are training: nothing to count yet
                continue
            i = todo[ev.index]
            cfg = jobs[i]
            if ev.kind == "step":
                partial = run_cost(cfg) * ev.step / cfg.train.steps
                report(i)
                continue
            if ev.kind == "started":
                partial = 0.0
                report(i)
                continue
            remaining_cost -= run_cost(cfg)
            # a run stopped early by patience costs what it ran, not what it was planned
            done_cost += run_cost(cfg) * ((ev.run.steps_run if ev.run else 0) / cfg.train.steps)
            partial = 0.0
            if ev.run is None:
                failed += 1
                errors.append(ev.error or "failed")
                rows[i] = {**row_from_summary(cfg, {"status": "failed"}, False), "status": "failed"}
            else:
                if ev.run.status in REUSABLE:
                    if store is not None:
                        store.put(ev.run)
                    trained += 1
                rows[i] = row_from_summary(cfg, ev.run.summary(), False)
            report(i, rows[i])
    finally:
        events.close()  # left early (Ctrl-C): the executor stops its runs in flight first
        executor.close()
    return SweepResult(config=sweep, table=table([rows[i] for i in sorted(rows)]), reused=reused,
                       trained=trained, failed=failed, stopped=stop.is_set(),
                       wall_s=time.perf_counter() - t0, executor=getattr(executor, "name", "custom"),
                       errors=errors)


LAST_SWEEP = "last_sweep.json"  # beside the run store: the grid of the most recent sweep
# Seconds of one core per unit of run_cost, measured on the default sweep here: 3.8 million units
# in 75 s on 2 workers (patience 3: the LSTM's runs stop early, the RNN's mostly do not). A grid
# whose runs rarely reach the target takes longer (an RNN alone at T=200: ~1.2e-4 s per unit).
SECONDS_PER_COST = 4e-5


def estimate_seconds(sweep: SweepConfig, workers: int = 1, store: RunStore | None = None) -> float:
    """About how long the grid takes on this machine, the store's runs not counted."""
    jobs = sweep.jobs()
    found = store.get_summaries([config_hash(c) for c in jobs]) if store is not None else {}
    cost = sum(run_cost(c) for c in jobs if config_hash(c) not in found)
    return cost * SECONDS_PER_COST / max(1, workers)


def remember_sweep(store: RunStore, sweep: SweepConfig) -> None:
    """Note the grid beside the run store, so a page opened later can show the most recent sweep."""
    path = store.folder / LAST_SWEEP
    tmp = path.with_suffix(".tmp")
    try:
        tmp.write_text(json.dumps(sweep.to_dict()))
        tmp.replace(path)  # atomic: a reader sees the old grid or the new one
    except OSError:
        pass  # a convenience, not a record: the runs themselves are in the store


def last_sweep(store: RunStore) -> SweepConfig | None:
    """The grid of the most recent sweep run with this store, or None."""
    try:
        return SweepConfig.from_dict(json.loads((store.folder / LAST_SWEEP).read_text()))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def sweep_from_store(sweep: SweepConfig, store: RunStore) -> pd.DataFrame:
    """The rows of the grid the store already holds (what a stopped sweep kept)."""
    jobs = sweep.jobs()
    found = store.get_summaries([config_hash(c) for c in jobs])
    return table([row_from_summary(c, found[config_hash(c)], True) for c in jobs if config_hash(c) in found])


# --- summaries and folders --------------------------------------------------------------------
def completed(sweep: pd.DataFrame) -> pd.DataFrame:
    """The completed runs (finished or diverged; a stopped run is incomplete), with display names."""
    out = sweep[sweep["status"].isin(REUSABLE)].copy()
    if "variant" not in out:
        out["variant"] = out["model"]
    out["name"] = out["variant"].map(variant_label)
    return out


def aggregate(sweep: pd.DataFrame) -> pd.DataFrame:
    """One row per (variant, T) over seeds: the metric's mean, min and max, how many seeds reached
    the target, the steps they took (mean, min, max) and wall seconds per run (mean, min, max).
    Variants keep the order they first appear in (the order the sweep named them)."""
    df = completed(sweep)
    order = {v: i for i, v in enumerate(dict.fromkeys(df["variant"]))}
    rows = []
    for (_, variant, T), g in df.assign(_o=df["variant"].map(order)).groupby(["_o", "variant", "seq_len"], sort=True):
        m, hit = g["metric"].dropna(), g["steps_to_target"].dropna()
        rows.append({
            "model": g["model"].iloc[0], "variant": variant, "init": g["init"].iloc[0] if "init" in g else "",
            "name": g["name"].iloc[0], "seq_len": int(T), "seeds": len(g),
            "metric_mean": m.mean(), "metric_min": m.min(), "metric_max": m.max(),
            "chance": g["chance"].iloc[0], "target": g["target"].iloc[0] if "target" in g else float("nan"),
            "reached": len(hit), "steps_mean": hit.mean() if len(hit) else float("nan"),
            "steps_min": hit.min() if len(hit) else float("nan"), "steps_max": hit.max() if len(hit) else float("nan"),
            "wall_mean": g["wall_s"].mean(), "wall_min": g["wall_s"].min(), "wall_max": g["wall_s"].max(),
        })
    return pd.DataFrame(rows)


def save_sweep(out: str | Path, result_table: pd.DataFrame, info: dict[str, Any],
               write_extra: Callable[[Path], list[str]] | None = None) -> Path:
    """Write sweep.csv and sweep.json (`info`: SweepResult.info() or at least SweepConfig.to_dict()),
    then `write_extra(folder)` (the charts' data, written by whoever draws the charts: the CLI;
    it returns the names it wrote), then the manifest of them all."""
    path = check_writable(out)
    begin_folder(path)
    result_table.to_csv(path / "sweep.csv", index=False)
    (path / "sweep.json").write_text(json.dumps(info, indent=2))
    extra = list(write_extra(path)) if write_extra is not None else []
    write_manifest(path, ["sweep.csv", "sweep.json", *extra])
    return path


def _check_sweep_structure(path: Path, df: pd.DataFrame, info: dict[str, Any]) -> None:
    """A sweep folder written before manifests existed: sweep.csv ends with a whole row, no row has
    an empty task, model, seq_len, seed or status, and a sweep that was not stopped has every run."""
    f = path / "sweep.csv"
    if not ends_with_newline(f):
        raise SweepFolderError(f"{f} is truncated: its last row is cut off")
    for col in ("task", "model", "seq_len", "seed", "status"):
        empty = int(df[col].isna().sum())
        if empty:
            raise SweepFolderError(f"{f} is truncated or damaged: {empty} rows with an empty {col}")
    n = info.get("n_runs")
    if isinstance(n, int) and not info.get("stopped") and len(df) != n:
        raise SweepFolderError(f"{f} is truncated or was changed after the sweep: {len(df)} of {n} rows")


def load_sweep(folder: str | Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read a sweep folder back: (the table of sweep.csv, the dict of sweep.json)."""
    path = Path(folder)
    whole = check_folder(path, SweepFolderError)
    try:
        info = json.loads((path / "sweep.json").read_text())
        df = pd.read_csv(path / "sweep.csv")
    except (OSError, ValueError) as e:
        raise SweepFolderError(f"{folder} is not a readable sweep folder: {e}") from None
    missing = [c for c in COLUMNS if c not in df.columns and c not in ADDED]
    if missing or not isinstance(info, dict):
        raise SweepFolderError(f"{folder}/sweep.csv lacks the columns {', '.join(missing) or '(sweep.json)'}")
    if not whole:
        _check_sweep_structure(path, df, info)
    for c in ("steps_to_target", "steps_run"):
        if c in df.columns:
            df[c] = df[c].astype("Int64")
    if "variant" not in df.columns:  # written before variants: every row is its kind at the base's init
        df["variant"] = df["model"]
    if "init" not in df.columns:
        model = ModelConfig(**info.get("base", {}).get("model", {})) if isinstance(info, dict) else ModelConfig()
        df.insert(df.columns.get_loc("model") + 1, "init", [init_of(k, model) or "" for k in df["model"]])
    df["init"] = df["init"].fillna("")
    return df, info
