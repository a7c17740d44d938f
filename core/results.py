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
    # where the numbers were made when not on this machine: core.shipped's origin line (a run of the
    # shipped reference); never saved with the run
    source: str = field(default="", compare=False)

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
            "outcome": outcome(self, task),
            "reach": reach_phrase(self, task),
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


# --- the one outcome vocabulary ------------------------------------------------------------------
# What became of a model, decided here and nowhere else; every verdict, card, explainer sentence,
# tour sentence and CLI line is worded from `outcome()` and these words.
REACHED, PART, CHANCE, DIVERGED, PENDING = "reached", "part", "chance", "diverged", "pending"
OUTCOME_WORDS = {
    REACHED: "reached the target",
    PART: "learned part of it",
    CHANCE: "stayed at chance",
    DIVERGED: "diverged",
    PENDING: "not evaluated yet",
}
PART_SCORE = 0.1  # "learned part of it": closed at least a tenth of the way from chance to the best


def outcome(run: ModelRun, task: Task) -> str:
    """REACHED (the target, at some evaluation), PART (a score of PART_SCORE or more without the
    target), CHANCE (below that), DIVERGED (a non-finite loss), PENDING (no evaluation yet). A run
    stopped early gets the outcome of what it did; `run.status == "stopped"` says it was cut short."""
    if run.status == "diverged":
        return DIVERGED
    if run.steps_to_target is not None:
        return REACHED
    if not run.evals:
        return PENDING
    return PART if score(run.final_metric, task) >= PART_SCORE else CHANCE


def reach_phrase(run: ModelRun, task: Task) -> str:
    """'reached the target at step 225 (4.2 s)' / 'learned part of it: 51% after 500 steps' ..., the
    short form cards and tour sentences use."""
    o = outcome(run, task)
    stopped = " (stopped early)" if run.status == "stopped" else ""
    if o == REACHED:
        secs = f" ({run.seconds_to_target:.1f} s)" if run.seconds_to_target is not None else ""
        return f"{OUTCOME_WORDS[o]} at step {run.steps_to_target:,}{secs}"
    if o in (DIVERGED, PENDING):
        return f"{OUTCOME_WORDS[o]}" + (f" at step {run.steps_run:,}" if o == DIVERGED else "")
    return f"{OUTCOME_WORDS[o]}: {format_metric(run.final_metric, task)} after {run.steps_run:,} steps{stopped}"


def verdict(run: ModelRun, task: Task) -> str:
    """One plain sentence, e.g. 'LSTM remembered the first token over 100 steps: 100% (chance
    12.5%); it first reached the 99% target at training step 175 (3.1 s).'"""
    name = run.title
    todo, done = task.goal_words()
    chance, target = task.chance_words(), task.value_words(task.target)
    o = outcome(run, task)
    if o == DIVERGED:
        return f"{name} diverged (the loss became infinite or NaN) at step {run.steps_run}."
    if o == PENDING:
        return f"{name} has {OUTCOME_WORDS[o]}."
    shown = f"{format_metric(run.final_metric, task)} ({chance})"
    if o == REACHED:
        secs = f" ({run.seconds_to_target:.1f} s)" if run.seconds_to_target is not None else ""
        return (f"{name} {done}: {shown}; it {OUTCOME_WORDS[o]} ({target}) first at training step "
                f"{run.steps_to_target}{secs}.")
    stopped = " (stopped early)" if run.status == "stopped" else ""
    if o == PART:
        return (f"{name} {OUTCOME_WORDS[o]} (to {todo}): {shown}, short of the {target} target after "
                f"{run.steps_run} training steps{stopped}.")
    return f"{name} {OUTCOME_WORDS[o]} (it did not learn to {todo}): {shown} after {run.steps_run} training steps{stopped}."


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


def differences(stored: ModelRun, again: ModelRun) -> list[str]:
    """Where two runs of one config disagree, one short phrase each (empty: the same numbers).
    Compared: status, steps run and to target, every step's loss and gradient norm, every
    evaluation, and every kept weight bit for bit; wall-clock seconds are not numbers of the run."""
    out: list[str] = []
    for name in ("status", "steps_run", "steps_to_target"):
        a, b = getattr(stored, name), getattr(again, name)
        if a != b:
            out.append(f"{name} {a} -> {b}")

    def same(x, y) -> bool:
        return x == y or (isinstance(x, float) and isinstance(y, float) and x != x and y != y)

    for label, rows_a, rows_b, keys in (("step", stored.steps, again.steps, ("loss", "grad_norm")),
                                        ("evaluation", stored.evals, again.evals, ("loss", "eval_loss", "metric"))):
        if len(rows_a) != len(rows_b):
            out.append(f"{len(rows_a)} -> {len(rows_b)} {label}s")
            continue
        for ra, rb in zip(rows_a, rows_b):
            bad = [k for k in keys if not same(ra.get(k), rb.get(k))]
            if bad:
                out.append(f"{label} {ra.get('step')}: {', '.join(f'{k} {ra.get(k)} -> {rb.get(k)}' for k in bad)}")
                break  # the first differing row says enough; later ones follow from it
    if set(stored.checkpoints) != set(again.checkpoints):
        out.append(f"checkpoints at steps {sorted(stored.checkpoints)} -> {sorted(again.checkpoints)}")
    else:
        for step, w in stored.checkpoints.items():
            bad = [k for k in w if k not in again.checkpoints[step] or not np.array_equal(w[k], again.checkpoints[step][k])]
            if bad:
                out.append(f"weights at step {step} differ ({', '.join(bad)})")
                break
    return out
