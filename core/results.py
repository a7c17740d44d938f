"""What a training run leaves behind, as plain data: per-model histories, kept checkpoints and
probes, a summary and a verdict in words. No torch modules live here, only arrays and dicts;
probes are computed from the kept weights elsewhere (core.inspection.grad_frame)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.config import RunConfig, config_hash, model_title
from core.tasks import Task, make_task


@dataclass
class ModelRun:
    """One model's share of a run. `config` is the single-model config (what the store keys on)."""

    kind: str
    config: RunConfig
    evals: list[dict] = field(default_factory=list)  # step, loss, eval_loss, metric, grad_norm, elapsed_s
    steps: list[dict] = field(default_factory=list)  # step, loss, grad_norm, clipped
    checkpoints: dict[int, dict[str, np.ndarray]] = field(default_factory=dict)  # step -> weights
    grad_probes: dict[int, np.ndarray] = field(default_factory=dict)  # step -> (T,)
    status: str = "running"
    steps_run: int = 0
    elapsed_s: float = 0.0
    steps_to_target: int | None = None
    seconds_to_target: float | None = None
    n_params: int = 0

    @property
    def hash(self) -> str:
        return config_hash(self.config)

    @property
    def title(self) -> str:
        """'Vanilla RNN (IRNN init)': the kind, with its start when that is not the default."""
        return model_title(self.kind, self.config.model)

    @property
    def final_metric(self) -> float:
        return self.evals[-1]["metric"] if self.evals else float("nan")

    def summary(self, task: Task | None = None) -> dict:
        task = task or make_task(self.config.task)
        best = None
        if self.evals:
            ms = [e["metric"] for e in self.evals]
            best = max(ms) if task.higher_is_better else min(ms)
        return {
            "model": self.kind,
            "name": self.title,
            "metric_name": task.metric,
            "final_metric": self.final_metric,
            "best_metric": best,
            "chance": task.chance,
            "target": task.target,
            "steps_run": self.steps_run,
            "steps_to_target": self.steps_to_target,
            "seconds_to_target": self.seconds_to_target,
            "elapsed_s": round(self.elapsed_s, 3),
            "status": self.status,
            "n_params": self.n_params,
            "config_hash": self.hash,
            "verdict": verdict(self, task),
        }


@dataclass
class RunResult:
    config: RunConfig
    runs: dict[str, ModelRun]

    @property
    def task(self) -> Task:
        return make_task(self.config.task)

    def metrics_frame(self) -> pd.DataFrame:
        rows = [{"model": k, **e} for k, r in self.runs.items() for e in r.evals]
        cols = ["model", "step", "loss", "eval_loss", "metric", "grad_norm", "elapsed_s"]
        return pd.DataFrame(rows, columns=cols)

    def steps_frame(self) -> pd.DataFrame:
        rows = [{"model": k, **s} for k, r in self.runs.items() for s in r.steps]
        return pd.DataFrame(rows, columns=["model", "step", "loss", "grad_norm", "clipped"])

    def titles(self) -> dict[str, str]:
        """kind -> display name with its init ('Vanilla RNN (IRNN init)'), for charts and words."""
        return {k: r.title for k, r in self.runs.items()}

    def summary(self) -> dict[str, dict]:
        task = self.task
        return {k: r.summary(task) for k, r in self.runs.items()}

    def summary_frame(self) -> pd.DataFrame:
        return pd.DataFrame(list(self.summary().values()))


def score(metric: float, task: Task) -> float:
    """0 at chance, 1 at the task's best (accuracy 1, MSE 0)."""
    if task.higher_is_better:
        return (metric - task.chance) / (1.0 - task.chance)
    return 1.0 - metric / task.chance


def format_metric(metric: float, task: Task) -> str:
    if metric != metric:  # NaN
        return "n/a"
    return f"{metric:.0%}" if task.metric == "accuracy" else f"MSE {task.value_words(metric)}"


def verdict(run: ModelRun, task: Task) -> str:
    """One plain sentence, e.g. 'LSTM remembered the first token over 100 steps: 100% (chance
    12.5%), reaching the 99% target at step 175 (3.1 s).'"""
    name = run.title
    todo, done = task.goal_words()
    chance, target = task.chance_words(), task.value_words(task.target)
    if run.status == "diverged":
        return f"{name} diverged (the loss became infinite or NaN) at step {run.steps_run}."
    if not run.evals:
        return f"{name} has not been evaluated yet."
    m = run.final_metric
    shown = f"{format_metric(m, task)} ({chance})"
    if run.steps_to_target is not None:
        return (f"{name} {done}: {shown}; it first reached the {target} target at training step "
                f"{run.steps_to_target} ({run.seconds_to_target:.1f} s).")
    s = score(m, task)
    stopped = " (stopped early)" if run.status == "stopped" else ""
    if s >= 0.1:
        return f"{name} partly learned to {todo}: {shown}, short of the {target} target after {run.steps_run} training steps{stopped}."
    return f"{name} did not learn to {todo}: {shown} after {run.steps_run} training steps{stopped}."


# --- plain-data form of a ModelRun (for run folders and the run store; never pickled) ---------
def run_to_record(run: ModelRun) -> tuple[dict, dict[str, np.ndarray]]:
    """A JSON-able dict and a dict of arrays (weights and probes keyed 'w/STEP/NAME', 'g/STEP')."""
    meta = {
        "kind": run.kind, "config": run.config.to_dict(), "evals": run.evals, "steps": run.steps,
        "status": run.status, "steps_run": run.steps_run, "elapsed_s": run.elapsed_s,
        "steps_to_target": run.steps_to_target, "seconds_to_target": run.seconds_to_target,
        "n_params": run.n_params,
    }
    arrays = {f"w/{s}/{k}": v for s, w in run.checkpoints.items() for k, v in w.items()}
    arrays.update({f"g/{s}": g for s, g in run.grad_probes.items()})
    return meta, arrays


def run_from_record(meta: dict, arrays: dict[str, np.ndarray]) -> ModelRun:
    checkpoints: dict[int, dict[str, np.ndarray]] = {}
    probes: dict[int, np.ndarray] = {}
    for key, v in arrays.items():
        parts = key.split("/")
        if parts[0] == "w":
            checkpoints.setdefault(int(parts[1]), {})[parts[2]] = np.asarray(v)
        elif parts[0] == "g":
            probes[int(parts[1])] = np.asarray(v)
    fields = {k: meta[k] for k in ("kind", "evals", "steps", "status", "steps_run", "elapsed_s",
                                   "steps_to_target", "seconds_to_target", "n_params")}
    return ModelRun(config=RunConfig.from_dict(meta["config"]), checkpoints=dict(sorted(checkpoints.items())),
                    grad_probes=dict(sorted(probes.items())), **fields)
