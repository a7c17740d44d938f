"""Build and check the shipped reference (`python -m core reference build | check`).

`plan()` collects every run the front pages need from where those runs are defined: the tour's
`core.story.experiments()`, the lab's default experiment (`RunConfig()`, the tour's "long") and the
default sweep (`core.sweep.default_sweep()`), each as a single-model config keyed by its hash.

What is kept (the folder stays under MAX_BYTES):
- the lab's default experiment: every checkpoint (the Gradients and Inside pages slide over them);
- the tour's other runs: the first and the last checkpoint (what the chapters read) and every
  gradient probe; the checkpoints between are left out (LEFT_OUT says so in the index);
- the runs of a chapter that reads accuracies only (`Chapter.weights` False: translation): their
  histories and evaluations, no checkpoint;
- the default sweep's runs: their summaries only (the sweep page draws from summaries).

`check()` trains runs again here and compares (AGREES / DIFFERS per run); see `compare`.
"""
from __future__ import annotations

import math
import platform
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from core import story
from core.config import RunConfig, config_hash, validate
from core.executors import make_executor
from core.shipped import INDEX, MANIFEST, Reference, dumps, sha256, write_npz
from core.registry import TASKS
from core.results import ModelRun, differences, run_to_record
from core.sweep import default_sweep, row_from_summary, run_cost, table
from core.tasks.real import RealSeriesTask
from core.reference.verdicts import VERDICTS, changed, results_of, verdicts

MAX_BYTES = 17_000_000  # every seed of the tour (core.story.runs.SEEDS) with its first and last weights
# Tolerance when this machine's torch or CPU differ from the build's (other kernels may round
# differently): steps to target equal, final metric within this much (accuracy: 1 point of 100;
# MSE: 10% of the reference value).
ACCURACY_TOL, MSE_REL_TOL = 0.01, 0.10
QUICK_RUNS = 3  # `check --quick`: the cheapest runs, one of each kind first


@dataclass(frozen=True)
class Planned:
    cfg: RunConfig  # single-model
    group: str  # "lab:default", "tour:<experiment>", "sweep:default"
    keep: str  # "all", "ends" (first and last checkpoint), "last" (the last checkpoint), "none" (histories
    # and evaluations, no weights) or "summary"
    steps: bool = True  # False (the seeds other than 0): no training step rows, and the first checkpoint's weights
    # are not stored but rebuilt from the config when read (core.shipped: the same bits on the build's platform)

    @property
    def hash(self) -> str:
        return config_hash(self.cfg)


def plan() -> list[Planned]:
    """Every run of the reference, each config once (the lab's default is also the tour's "long")."""
    out: dict[str, Planned] = {}
    default = validate(RunConfig())
    for kind in default.models:
        c = default.single(kind)
        out[config_hash(c)] = Planned(c, "lab:default", "all")
    for name, cfg in story.all_experiments().items():  # each experiment on every seed (core.story.runs.SEEDS)
        # the real-data chapter reads its runs' last weights only (its checks and charts), so it keeps
        # only those: the reference stays under its 5 MB
        keep = "last" if issubclass(TASKS[cfg.task.name], RealSeriesTask) else "ends"
        if not story.reads_weights(name):  # a chapter of accuracies only (Chapter.weights): its evaluations
            keep = "none"
        for kind in cfg.models:
            c = cfg.single(kind)
            # seeds other than 0 feed the verdicts (their checks read their weights and evaluations); no page
            # draws their training steps, so those rows are left out (the reference stays under MAX_BYTES)
            out.setdefault(config_hash(c), Planned(c, f"tour:{name}", keep, steps=story.runs.AT not in name))
    for name, cfg in story.runs.cell_grus().items():  # /cell's GRUs: its diagram and trace read the last weights
        c = cfg.single("gru")
        out.setdefault(config_hash(c), Planned(c, f"cell:{name}", "ends"))
    for c in default_sweep().jobs():
        out.setdefault(config_hash(c), Planned(c, "sweep:default", "summary"))
    return list(out.values())


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def platform_info() -> dict:
    return {"torch": torch.__version__, "numpy": np.__version__, "python": platform.python_version(),
            "cpu": cpu_name(), "machine": platform.machine()}


def train_all(cfgs: list[RunConfig], workers: int = 2, say: Callable[[str], object] = lambda s: None,
              stop: threading.Event | None = None) -> list[ModelRun]:
    """Train single-model configs (longest first on `workers` threads; each run's numbers depend on
    its config alone, so neither the order nor the pool changes them); the runs in `cfgs` order."""
    stop = stop or threading.Event()
    order = sorted(range(len(cfgs)), key=lambda i: -run_cost(cfgs[i]))
    ex = make_executor("threads" if workers > 1 else "inprocess", workers=workers)
    runs: dict[int, ModelRun] = {}
    t0 = time.perf_counter()
    events = ex.run([cfgs[i] for i in order], stop)
    try:
        for ev in events:
            if ev.kind != "done":
                continue
            if ev.run is None:
                raise RuntimeError(f"a reference run failed: {ev.error}")
            i = order[ev.index]
            runs[i] = ev.run
            c = cfgs[i]
            say(f"{len(runs)}/{len(cfgs)} {c.models[0]} {c.task.name} T={c.task.seq_len} seed={c.train.seed} "
                f"({time.perf_counter() - t0:.0f} s)")
    finally:
        events.close()
        ex.close()
    if len(runs) != len(cfgs):
        raise RuntimeError("stopped before every reference run was trained")
    return [runs[i] for i in range(len(cfgs))]


def kept_steps(run: ModelRun, keep: str) -> list[int]:
    steps = sorted(run.checkpoints)
    if keep == "all":
        return steps
    if keep == "ends":
        return sorted({steps[0], steps[-1]}) if steps else []
    if keep == "last":
        return steps[-1:]
    return []  # "none", "summary"


def no_seconds(meta: dict) -> dict:
    """A run's record without wall-clock seconds (they differ from build to build)."""
    meta = dict(meta, elapsed_s=None, seconds_to_target=None)
    meta["evals"] = [dict(e, elapsed_s=None) for e in meta["evals"]]
    return meta


def summary_of(run: ModelRun) -> dict:
    """The run's summary as the store keeps it, without seconds (also in its words: 'at step 225')."""
    quiet = ModelRun(kind=run.kind, config=run.config, evals=run.evals, status=run.status, steps_run=run.steps_run,
                     steps_to_target=run.steps_to_target, seconds_to_target=None, n_params=run.n_params)
    return dict(quiet.summary(), elapsed_s=None)


@dataclass(frozen=True)
class Reused:
    """A run taken from an earlier build on this platform (`build --reuse`): its index entry, and its run
    as that build serves it (None for a summary-only run)."""

    entry: dict
    run: ModelRun | None


def write(folder: Path, planned: list[Planned], runs: list[ModelRun | Reused], built: str) -> dict:
    """Write the reference folder from trained (or reused) runs; returns the manifest."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "runs").mkdir(exist_ok=True)
    for old in (folder / "runs").iterdir():  # a rebuild leaves no run of an older plan behind
        old.unlink()
    index: dict[str, dict] = {}
    names: list[str] = []
    sweep_rows = []
    served: dict[str, ModelRun] = {}  # what the pages will read: each run with its kept checkpoints
    for p, run in zip(planned, runs):
        h = p.hash
        if isinstance(run, Reused):  # checked by reusable(): the same keep, the same files
            entry = {k: v for k, v in run.entry.items()
                     if k not in ("record", "arrays", "steps_left_out", "checkpoints_rebuilt")}
            entry["group"] = p.group
            keep = entry["checkpoints_kept"]
            run = run.run
        else:
            keep = kept_steps(run, p.keep)
            entry = {"group": p.group, "config": p.cfg.to_dict(), "summary": summary_of(run),
                     "checkpoints_kept": keep,
                     "checkpoints_left_out": [s for s in sorted(run.checkpoints) if s not in keep]}
        rebuilt: list[int] = []
        if run is not None and not p.steps:
            run = ModelRun(**{**run.__dict__, "steps": []})
            entry["steps_left_out"] = True
            rebuilt = [0] if 0 in keep else []
            if rebuilt:
                entry["checkpoints_rebuilt"] = rebuilt
        if run is not None:
            served[h] = trimmed(run, keep)
        if p.keep != "summary":
            meta, arrays = run_to_record(run)
            arrays = {k: v for k, v in arrays.items() if not k.startswith("w/") or
                      (int(k.split("/")[1]) in keep and int(k.split("/")[1]) not in rebuilt)}
            entry["record"], entry["arrays"] = f"runs/{h}.json", f"runs/{h}.npz"
            (folder / entry["record"]).write_text(dumps(no_seconds(meta)))
            write_npz(folder / entry["arrays"], arrays)
            names += [entry["record"], entry["arrays"]]
        else:
            sweep_rows.append(row_from_summary(p.cfg, entry["summary"], reused=False))
        index[h] = entry
    (folder / INDEX).write_text(dumps(index))
    names.append(INDEX)
    (folder / VERDICTS).write_text(dumps(verdicts(results_of(lambda c: served.get(config_hash(c))))))
    names.append(VERDICTS)
    if sweep_rows:
        df = table(sweep_rows).drop(columns=["reused"])
        df.to_csv(folder / "sweep.csv", index=False, lineterminator="\n")
        names.append("sweep.csv")
    files = {n: {"bytes": (folder / n).stat().st_size, "sha256": sha256(folder / n)} for n in sorted(names)}
    manifest = {**platform_info(), "built": built, "runs": len(planned), "files": files,
                "command": "python -m core reference build",
                "left_out": "wall-clock seconds (elapsed_s, seconds_to_target, each evaluation's elapsed_s) are "
                            "null; the tour's runs other than the lab's default keep their first and last "
                            "checkpoint only, the real-data chapter's runs their last; the default sweep's runs "
                            "keep their summary only",
                "bytes": sum(f["bytes"] for f in files.values())}
    (folder / MANIFEST).write_text(dumps(manifest))
    total = manifest["bytes"] + (folder / MANIFEST).stat().st_size
    if total > MAX_BYTES:
        raise RuntimeError(f"the reference is {total:,} bytes, over the {MAX_BYTES:,} allowed")
    return manifest


def trimmed(run: ModelRun, keep: list[int]) -> ModelRun:
    """The run as the reference serves it: only its kept checkpoints."""
    return ModelRun(**{**run.__dict__, "checkpoints": {k: v for k, v in run.checkpoints.items() if k in keep}})


def reusable(old: Reference, p: Planned) -> Reused | None:
    """Run `p` as an earlier build on this platform has it, when that build kept what this plan keeps
    (bit-identical numbers: the same torch and CPU; the same checkpoints kept, or the summary); else None."""
    e = old.index.get(p.hash)
    if e is None or not same_platform(old) or (p.steps and e.get("steps_left_out")):
        return None
    if p.keep == "summary":
        return Reused(e, None) if not e.get("record") else None
    run = old.get(p.hash) if e.get("record") else None
    if run is None:
        return None
    every = sorted(set(e["checkpoints_kept"]) | set(e["checkpoints_left_out"]))
    want = kept_steps(ModelRun(**{**run.__dict__, "checkpoints": dict.fromkeys(every)}), p.keep)
    kept = sorted(e["checkpoints_kept"])
    if not set(want) <= set(kept):
        return None
    # a build that kept more is served as this plan keeps it: the same numbers, fewer checkpoints
    e = dict(e, checkpoints_kept=want, checkpoints_left_out=[s for s in every if s not in want])
    return Reused(e, run)


def build(folder: Path, built: str, workers: int = 2, say: Callable[[str], object] = print,
          reuse: Path | None = None) -> dict:
    """Train every planned run (or, with `reuse`, take those an earlier build on this torch and CPU
    holds as this plan keeps them: training them again would give the same bits) and write the folder."""
    planned = plan()
    old = Reference(reuse) if reuse is not None else None
    taken = {i: r for i, p in enumerate(planned) if old is not None and (r := reusable(old, p)) is not None}
    todo = [i for i in range(len(planned)) if i not in taken]
    say(f"training {len(todo)} reference runs on {workers} worker(s)" +
        (f"; {len(taken)} taken from {reuse}" if taken else ""))
    trained = dict(zip(todo, train_all([planned[i].cfg for i in todo], workers=workers, say=say)))
    return write(folder, planned, [taken.get(i) or trained[i] for i in range(len(planned))], built)


# --- checking -------------------------------------------------------------------------------------
AGREES, DIFFERS = "agrees", "differs"


def same_platform(ref: Reference) -> bool:
    """Bit-identical numbers are demanded where this machine runs the build's torch on the build's CPU."""
    here = platform_info()
    return all(ref.manifest.get(k) == here[k] for k in ("torch", "cpu"))


def compare(ref: Reference, h: str, again: ModelRun, exact: bool) -> tuple[str, str]:
    """(AGREES or DIFFERS, one short phrase). Exact: every step, evaluation, kept weight and the
    summary's numbers equal, bit for bit (`core.results.differences`). Otherwise (another torch or
    CPU): the same status and steps to target, and the final metric within the tolerance. On both, a
    run whose files do not match the manifest (every file is checked, Reference) differs."""
    e = ref.index[h]
    if e.get("record") and ref.get(h) is None:  # on any platform: a damaged file is no agreement
        return DIFFERS, "its files in the reference do not match the manifest or cannot be read"
    s = e["summary"]
    task_acc = s.get("metric_name") == "accuracy"
    final = again.final_metric
    ref_final = math.nan if s.get("final_metric") is None else float(s["final_metric"])
    if exact:
        stored = ref.get(h)
        if stored is not None:
            again_kept = ModelRun(**{**again.__dict__,
                                     "checkpoints": {k: v for k, v in again.checkpoints.items()
                                                     if k in e["checkpoints_kept"]},
                                     "steps": [] if e.get("steps_left_out") else again.steps})
            diff = differences(stored, again_kept)
        else:  # a summary-only run: its numbers as the summary has them
            diff = [f"{k} {s.get(k)} -> {v}" for k, v in (("status", again.status), ("steps_run", again.steps_run),
                                                          ("steps_to_target", again.steps_to_target))
                    if s.get(k) != v]
            if not (final == ref_final or (math.isnan(final) and math.isnan(ref_final))):
                diff.append(f"final metric {ref_final!r} -> {final!r}")
        return (AGREES, "bit-identical") if not diff else (DIFFERS, "; ".join(diff[:3]))
    tol = ACCURACY_TOL if task_acc else MSE_REL_TOL * abs(ref_final)
    lo, hi, n = spread(ref, h)
    problems = []
    if again.status != s.get("status"):
        problems.append(f"status {s.get('status')} -> {again.status}")
    if again.steps_to_target != s.get("steps_to_target"):
        problems.append(f"steps to target {s.get('steps_to_target')} -> {again.steps_to_target}")
    if not abs(final - ref_final) <= tol:
        problems.append(f"final metric {ref_final:.4g} -> {final:.4g} (tolerance {tol:.2g})")
    if not problems:
        return AGREES, f"within tolerance (final metric {ref_final:.4g} -> {final:.4g}, steps to target equal)"
    if n > 1 and again.status == s.get("status") and lo - tol <= final <= hi + tol:
        return AGREES, (f"wandered inside its {n} seeds' spread: final metric {ref_final:.4g} -> {final:.4g}, the "
                        f"seeds ran {lo:.4g}-{hi:.4g}" + (f"; {problems[0]}" if "steps" in problems[0] else ""))
    return DIFFERS, "; ".join(problems) + (f"; outside its {n} seeds' spread {lo:.4g}-{hi:.4g}" if n > 1 else "")


def _unseeded(config: dict) -> str:
    c = {k: dict(v) if isinstance(v, dict) else v for k, v in config.items()}
    c.get("train", {}).pop("seed", None)
    return dumps(c)


def spread(ref: Reference, h: str) -> tuple[float, float, int]:
    """(lowest, highest final metric, runs) over the reference runs that are run `h` on another seed
    (and `h` itself): the spread a run trained again on another CPU may wander inside."""
    key = _unseeded(ref.index[h]["config"])
    finals = [float(e["summary"]["final_metric"]) for e in ref.index.values()
              if e["summary"].get("final_metric") is not None and _unseeded(e["config"]) == key]
    return (min(finals), max(finals), len(finals)) if finals else (math.nan, math.nan, 0)


def quick_selection(ref: Reference, n: int = QUICK_RUNS) -> list[str]:
    """The n cheapest runs to train (steps the reference run took x (T + 8)), taking one full run (with
    histories and weights) and one summary-only run first, so both kinds of comparison are exercised."""
    def cost(h: str) -> float:
        e = ref.index[h]
        return (e["summary"].get("steps_run") or 1) * (e["config"]["task"]["seq_len"] + 8)
    hs = sorted(ref.index, key=cost)
    full = [h for h in hs if ref.index[h].get("record")][:1]
    summary = [h for h in hs if not ref.index[h].get("record")][:1]
    rest = [h for h in hs if h not in full + summary]
    return (full + summary + rest)[:n]


def check(ref: Reference, hashes: list[str], workers: int = 2,
          say: Callable[[str], object] = print) -> int:
    """Train `hashes` again here and print one line per run; the number of runs that differ."""
    exact = same_platform(ref)
    how = ("bit-identical numbers (same torch and CPU as the build)" if exact else
           f"same status and steps to target, final metric within {ACCURACY_TOL:.0%} (accuracy) or "
           f"{MSE_REL_TOL:.0%} (MSE): this machine's torch or CPU differ from the build's")
    say(f"checking {len(hashes)} of {len(ref.index)} reference runs against {ref.origin()}; agreeing means {how}")
    cfgs = [RunConfig.from_dict(ref.index[h]["config"]) for h in hashes]
    for c, h in zip(cfgs, hashes):
        if config_hash(c) != h:
            raise RuntimeError(f"reference run {h}: its config hashes to {config_hash(c)} in this lab")
    runs = train_all(cfgs, workers=workers)
    bad = 0
    for h, c, run in zip(hashes, cfgs, runs):
        verdict, why = compare(ref, h, run, exact)
        bad += verdict == DIFFERS
        say(f"{h} {ref.index[h]['group']:16s} {c.models[0]:4s} {c.task.name} T={c.task.seq_len} "
            f"seed={c.train.seed}: {verdict} ({why})")
    say(f"{len(hashes) - bad} of {len(hashes)} agree" + (f", {bad} differ" if bad else ""))
    return bad + check_verdicts(ref, dict(zip(hashes, runs)), say)


def check_verdicts(ref: Reference, again: dict[str, ModelRun], say: Callable[[str], object] = print) -> int:
    """Tell every chapter whose runs (every seed) were all trained again here and compare its verdict
    with the reference's (verdicts.json): the number of chapters whose outcome or a check's changed."""
    old = ref.read_json(VERDICTS)
    if not isinstance(old, dict):
        say(f"the reference has no readable {VERDICTS}: verdicts not compared")
        return 1
    new = verdicts(results_of(lambda c: again.get(config_hash(c))))
    every = {n for n in new if set(new[n]["seeds"]) == set(old.get(n, {}).get("seeds", []))}
    if not every:
        say("verdicts: no chapter had every seed of its runs trained again here (a full check compares them)")
        return 0
    lines = changed({n: old[n] for n in every if n in old}, {n: new[n] for n in every})
    for line in lines:
        say(f"verdict changed: {line}")
    said = ", ".join(sorted(every, key=int))
    say(f"verdicts of chapters {said} over their seeds: " + ("all reproduced" if not lines else
                                                             f"{len(lines)} changed"))
    return len(lines)


def built_date() -> str:
    return time.strftime("%Y-%m-%d", time.gmtime())


__all__ = ["plan", "build", "write", "check", "check_verdicts", "spread", "compare", "quick_selection", "same_platform", "platform_info",
           "train_all", "Planned", "MAX_BYTES", "ACCURACY_TOL", "MSE_REL_TOL", "AGREES", "DIFFERS", "built_date"]
