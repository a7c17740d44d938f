"""Run folders: what `python -m core train --out DIR` writes and `load_run` reads back.

    config.json        the whole RunConfig (a run is identified by its hash)
    metrics.csv        one row per evaluation: model, step, loss, eval_loss, metric, grad_norm, elapsed_s
    steps.csv          one row per training step: model, step, loss, grad_norm, clipped
    summary.json       per model: final metric, chance, steps run, steps/seconds to target, status, verdict
    grad_probes.csv    ||dL/dh_t||: model, step (checkpoint), t, grad_norm
    traces.npz         h, c and gates of a few held-out examples at every checkpoint ('MODEL/STEP/NAME'),
                       the examples themselves ('x', 'y')
    weights.npz        every kept checkpoint's weights ('MODEL/STEP/PARAM'), so any probe can be redone

Everything is text or `.npz` read with allow_pickle=False: nothing loaded can execute code.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from core.config import RunConfig, config_hash
from core.probes import checkpoint_traces, grad_frame
from core.results import ModelRun, RunResult


class RunFolderError(ValueError):
    """A folder that is not a readable run; the message is one line."""


def check_writable(out: str | Path) -> Path:
    """Create the folder if needed and prove a file can be written there (fails early, not
    after an hour of training)."""
    path = Path(out)
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as e:
        raise RunFolderError(f"cannot write to {out}: {e.strerror or e}") from None
    return path


def _clean(v):
    return None if isinstance(v, float) and not math.isfinite(v) else v


def save_run(result: RunResult, out: str | Path, n_examples: int = 4) -> Path:
    path = check_writable(out)
    cfg = result.config
    (path / "config.json").write_text(json.dumps({**cfg.to_dict(), "hash": config_hash(cfg)}, indent=2))
    result.metrics_frame().to_csv(path / "metrics.csv", index=False)
    result.steps_frame().to_csv(path / "steps.csv", index=False)
    grad_frame(result).to_csv(path / "grad_probes.csv", index=False)
    summary = {k: {kk: _clean(vv) for kk, vv in s.items()} for k, s in result.summary().items()}
    (path / "summary.json").write_text(json.dumps(summary, indent=2))
    x, y = result.task.showcase(n_examples)
    arrays: dict[str, np.ndarray] = {"x": x.numpy(), "y": y.numpy()}
    weights: dict[str, np.ndarray] = {}
    for kind, run in result.runs.items():
        for step, tr in checkpoint_traces(run, x).items():
            arrays.update({f"{kind}/{step}/{name}": v for name, v in tr.items()})
        for step, w in run.checkpoints.items():
            weights.update({f"{kind}/{step}/{name}": v for name, v in w.items()})
    np.savez_compressed(path / "traces.npz", **arrays)
    np.savez_compressed(path / "weights.npz", **weights)
    return path


def load_run(folder: str | Path) -> RunResult:
    path = Path(folder)
    try:
        cfg_d = json.loads((path / "config.json").read_text())
        cfg_d.pop("hash", None)
        cfg = RunConfig.from_dict(cfg_d)
        summary = json.loads((path / "summary.json").read_text())
        metrics = pd.read_csv(path / "metrics.csv")
        steps = pd.read_csv(path / "steps.csv")
        probes = pd.read_csv(path / "grad_probes.csv")
        with np.load(path / "weights.npz", allow_pickle=False) as z:
            weights = {k: z[k] for k in z.files}
    except (OSError, ValueError, KeyError) as e:
        raise RunFolderError(f"{folder} is not a readable run folder: {e}") from None
    runs = {}
    for kind in cfg.models:
        s = summary.get(kind)
        if s is None:
            continue
        m = metrics[metrics.model == kind].drop(columns="model")
        st = steps[steps.model == kind].drop(columns="model")
        ckpts: dict[int, dict[str, np.ndarray]] = {}
        for key, v in weights.items():
            k, step, name = key.split("/", 2)
            if k == kind:
                ckpts.setdefault(int(step), {})[name] = v
        gp = {int(step): g.sort_values("t").grad_norm.to_numpy()
              for step, g in probes[probes.model == kind].groupby("step")}
        runs[kind] = ModelRun(
            kind=kind, config=cfg.single(kind),
            evals=m.to_dict("records"), steps=st.to_dict("records"),
            checkpoints=dict(sorted(ckpts.items())), grad_probes=gp,
            status=s["status"], steps_run=int(s["steps_run"]), elapsed_s=float(s["elapsed_s"]),
            steps_to_target=s["steps_to_target"], seconds_to_target=s["seconds_to_target"],
            n_params=int(s["n_params"]),
        )
    return RunResult(config=cfg, runs=runs)
