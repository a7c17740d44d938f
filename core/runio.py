"""Run folders: what `python -m core train --out DIR` writes and `load_run` reads back.

    config.json        the whole RunConfig (a run is identified by its hash)
    metrics.csv        one row per evaluation: model, step, loss, eval_loss, metric, grad_norm, elapsed_s
    steps.csv          one row per training step: model, step, loss, grad_norm, clipped
    summary.json       per model: final metric, chance, steps run, steps/seconds to target, status, verdict
    grad_probes.csv    ||dL/dh_t||: model, step (checkpoint), t, grad_norm
    traces.npz         h, c and gates of a few held-out examples at every checkpoint ('MODEL/STEP/NAME'),
                       the examples themselves ('x', 'y')
    weights.npz        every kept checkpoint's weights ('MODEL/STEP/PARAM'), so any probe can be redone
    manifest.json      written last: each file's size and sha256 (and a CSV's row count)

Everything is text or `.npz` read with allow_pickle=False: nothing loaded can execute code.

A folder proves it is whole: `save_run` first marks the folder as being written (a manifest
saying `complete: false`) and writes the full manifest only after every file is on disk, so a
killed writer, a truncated copy or a hand-edited file is refused by every reader in one line that
names the file ("metrics.csv is truncated or was changed after the run: 5 of 11 rows"). Folders
written before manifests existed get a structural check instead (`check_run_structure`): every
model has every evaluation row, no required field is empty, every CSV ends with a whole row.
"""
from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from core.config import RunConfig, config_hash, validate
from core.inspection import checkpoint_traces, grad_frame
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


# --- manifests: a folder that proves it is whole ---------------------------------------------
MANIFEST = "manifest.json"
MANIFEST_VERSION = 1


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def csv_rows(path: Path) -> int:
    """Whole data rows of a CSV written by pandas (lines ending in a newline, less the header).
    No field this lab writes holds a newline, so lines are rows."""
    with open(path, "rb") as f:
        return max(0, f.read().count(b"\n") - 1)


def begin_folder(path: Path) -> None:
    """Mark a folder as being written: until `write_manifest` runs, every reader refuses it (a
    previous manifest would otherwise vouch for files that are being replaced)."""
    (path / MANIFEST).write_text(json.dumps({"version": MANIFEST_VERSION, "complete": False}))


def write_manifest(path: Path, names: Iterable[str]) -> Path:
    """Record each file's size and sha256 (and a CSV's row count) in manifest.json; call it last."""
    files = {}
    for name in dict.fromkeys(names):
        f = path / name
        entry = {"bytes": f.stat().st_size, "sha256": _sha256(f)}
        if name.endswith(".csv"):
            entry["rows"] = csv_rows(f)
        files[name] = entry
    tmp = path / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps({"version": MANIFEST_VERSION, "complete": True, "files": files}, indent=2))
    tmp.replace(path / MANIFEST)  # atomic: a manifest is either the old marker or whole
    return path / MANIFEST


def read_manifest(path: Path, error: type[ValueError]) -> dict | None:
    """The folder's manifest, None for a folder written before manifests existed; `error` (one
    line) if it is unreadable or says the folder was never finished."""
    f = path / MANIFEST
    if not f.exists():
        return None
    try:
        m = json.loads(f.read_text())
        if not isinstance(m, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as e:
        raise error(f"{f} is unreadable ({str(e).splitlines()[0] if str(e) else type(e).__name__}); "
                    "the folder cannot prove it is whole") from None
    if not m.get("complete") or not isinstance(m.get("files"), dict):
        raise error(f"{path} was not finished writing ({MANIFEST} says so): the process writing it "
                    "stopped part-way")
    return m


def verify_manifest(path: Path, manifest: dict, error: type[ValueError]) -> None:
    """Every file the manifest lists has its recorded size and sha256; `error` names the first
    that does not, in one line."""
    for name, want in manifest["files"].items():
        f = path / name
        if not f.is_file():
            raise error(f"{f} is missing (the folder's {MANIFEST} lists it)")
        size = f.stat().st_size
        if size == want.get("bytes") and _sha256(f) == want.get("sha256"):
            continue
        if "rows" in want:
            have = csv_rows(f)
            detail = f"{have} of {want['rows']} rows" if have != want["rows"] else \
                f"{want['rows']} rows, but {size} bytes where {want.get('bytes')} were written"
        else:
            detail = f"{size} of {want.get('bytes')} bytes" if size != want.get("bytes") else \
                "same size, different sha256"
        raise error(f"{f} is truncated or was changed after the run: {detail}")


def check_folder(path: Path, error: type[ValueError]) -> bool:
    """Verify the folder against its manifest; False if it has none (the caller then checks
    structure)."""
    m = read_manifest(path, error)
    if m is None:
        return False
    verify_manifest(path, m, error)
    return True


def ends_with_newline(f: Path) -> bool:
    with open(f, "rb") as fh:
        fh.seek(0, 2)
        if fh.tell() == 0:
            return False
        fh.seek(-1, 2)
        return fh.read(1) == b"\n"


RESUME_FILE = "resume.npz"  # optimizer state, data-stream position and counters (Trainer.state())
RUN_FILES = ("config.json", "metrics.csv", "steps.csv", "grad_probes.csv", "summary.json",
             "traces.npz", "weights.npz")
REQUIRED = {"metrics.csv": ("model", "step", "elapsed_s"), "steps.csv": ("model", "step"),
            "grad_probes.csv": ("model", "step", "t")}


def check_run_structure(path: Path, cfg: RunConfig, summary: dict, frames: dict[str, pd.DataFrame]) -> None:
    """For a folder without a manifest: every CSV ends with a whole row, no required field is
    empty, and every model of the summary has every evaluation row (step 0, each multiple of
    eval_every before its last step, and its last step unless it diverged)."""
    for name, df in frames.items():
        f = path / name
        if not ends_with_newline(f):
            raise RunFolderError(f"{f} is truncated: its last row is cut off")
        for col in REQUIRED.get(name, ()):
            if col not in df.columns:
                raise RunFolderError(f"{f} lacks the column {col}")
            empty = int(df[col].isna().sum())
            if empty:
                raise RunFolderError(f"{f} is truncated or damaged: {empty} rows with an empty {col}")
    missing = [k for k in cfg.models if k not in summary]
    if missing:
        raise RunFolderError(f"{path / 'summary.json'} lacks the models {', '.join(missing)}")
    metrics, every = frames["metrics.csv"], cfg.train.eval_every
    for kind in cfg.models:
        s = summary[kind]
        steps_run = int(s.get("steps_run") or 0)
        want = set(range(0, steps_run, every)) | ({steps_run} if s.get("status") != "diverged" else set())
        have = set(int(v) for v in metrics.loc[metrics.model == kind, "step"])
        lost = sorted(want - have)
        if lost:
            raise RunFolderError(f"{path / 'metrics.csv'} is truncated or was changed after the run: "
                                 f"{len(want) - len(lost)} of {len(want)} evaluation rows of {kind} "
                                 f"(first missing: step {lost[0]})")


def _clean(v):
    return None if isinstance(v, float) and not math.isfinite(v) else v


def save_run(result: RunResult, out: str | Path, n_examples: int = 4,
             resume: dict[str, np.ndarray] | None = None) -> Path:
    """Write a run folder; `resume` (Trainer.state()) adds resume.npz, so `train --resume` can
    carry the run on exactly."""
    path = check_writable(out)
    begin_folder(path)
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
    names = RUN_FILES
    if resume is not None:
        np.savez_compressed(path / RESUME_FILE, **resume)
        names = RUN_FILES + (RESUME_FILE,)
    elif (path / RESUME_FILE).exists():
        (path / RESUME_FILE).unlink()  # from an earlier run in this folder: not this run's state
    write_manifest(path, names)
    return path


def load_resume_state(folder: str | Path) -> dict[str, np.ndarray]:
    """The arrays of a run folder's resume.npz (after load_run has checked the folder)."""
    f = Path(folder) / RESUME_FILE
    if not f.exists():
        raise RunFolderError(f"{folder} has no {RESUME_FILE}: it was written without the state needed to "
                             "carry it on (train it again, or with this version of the lab)")
    try:
        with np.load(f, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except (OSError, ValueError) as e:
        raise RunFolderError(f"{f} is not readable: {e}") from None


def load_run(folder: str | Path) -> RunResult:
    path = Path(folder)
    if not path.is_dir():
        raise RunFolderError(f"{folder} is not a folder")
    whole = check_folder(path, RunFolderError)  # before parsing: a cut file is named as such
    try:
        cfg_d = json.loads((path / "config.json").read_text())
        if not isinstance(cfg_d, dict):
            raise ValueError("config.json is not a config (an object of sections)")
        saved_hash = cfg_d.pop("hash", None)
        cfg = validate(RunConfig.from_dict(cfg_d))  # nothing used because it parses: every field by its rule
        if saved_hash is not None and saved_hash != config_hash(cfg):
            raise ValueError("config.json's hash does not match its config")
        summary = json.loads((path / "summary.json").read_text())
        metrics = pd.read_csv(path / "metrics.csv")
        steps = pd.read_csv(path / "steps.csv")
        probes = pd.read_csv(path / "grad_probes.csv")
        with np.load(path / "weights.npz", allow_pickle=False) as z:
            weights = {k: z[k] for k in z.files}
    except (OSError, ValueError, KeyError) as e:
        raise RunFolderError(f"{folder} is not a readable run folder: {str(e).splitlines()[0] if str(e) else type(e).__name__}") from None
    if not isinstance(summary, dict):
        raise RunFolderError(f"{path / 'summary.json'} is not a summary of models")
    try:
        if not whole:
            check_run_structure(path, cfg, summary, {"metrics.csv": metrics, "steps.csv": steps,
                                                     "grad_probes.csv": probes})
        runs = _runs(cfg, summary, metrics, steps, probes, weights)
    except RunFolderError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError, IndexError) as e:
        raise RunFolderError(f"{folder} is not a readable run folder: {type(e).__name__} "
                             f"{str(e).splitlines()[0][:80] if str(e) else ''}") from None
    return RunResult(config=cfg, runs=runs)


def _runs(cfg: RunConfig, summary: dict, metrics: pd.DataFrame, steps: pd.DataFrame, probes: pd.DataFrame,
          weights: dict[str, np.ndarray]) -> dict[str, ModelRun]:
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
            status=s["status"], steps_run=int(s["steps_run"]), elapsed_s=math.nan if s["elapsed_s"] is None else float(s["elapsed_s"]),
            steps_to_target=s["steps_to_target"], seconds_to_target=s["seconds_to_target"],
            n_params=int(s["n_params"]),
        )
    return runs
