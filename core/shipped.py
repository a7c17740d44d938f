"""The reference results shipped with the project (`reference/` at the top of the repository): every
run the front pages need (the tour's experiments, the lab's default experiment, the default sweep),
trained by `python -m core reference build` (core.reference.build) and read here, read-only.

The run store consults it behind its own rows (core.store.RunStore): a config the store lacks but the
reference holds is served from here, never copied into the user's store. Each run keeps its key, the
hash of its single-model config (core.config.config_hash), so every lookup finds it. A run served from
here carries `source` = `origin()`: "reference run, built with torch 2.13.0+cpu on <cpu>, <date>",
which pages and the CLI show in place of "trained on this machine" / "loaded from the run store".

The folder (data only: JSON, CSV, `.npz` read with allow_pickle=False; nothing loaded executes):
    manifest.json    provenance (torch, numpy and Python versions, the CPU, the build date) and each
                     file's size and sha256; a file that does not match is not served (`problems`)
    index.json       config hash -> {group, config, summary, files, kept / dropped checkpoints}
    runs/HASH.json   a run's histories (every step and evaluation), as core.results.run_to_record
    runs/HASH.npz    its kept checkpoint weights and gradient probes
    sweep.csv        the default sweep's table (core.sweep.table), for people
Wall-clock seconds (a run's elapsed_s and seconds_to_target, each evaluation's elapsed_s) are left
out (null): they differ from build to build and from machine to machine, and building twice must give
the same files. A run served from here shows no seconds.

Where: $LAB_REFERENCE (a folder, or `off` for none), else `reference/` beside `core/`.
"""
from __future__ import annotations

import hashlib
import io
import json
import logging
import math
import os
import zipfile
from functools import lru_cache
from pathlib import Path

import numpy as np

from core.config import ConfigError, RunConfig
from core.results import ModelRun, run_from_record

ENV = "LAB_REFERENCE"
MANIFEST, INDEX = "manifest.json", "index.json"
NUMERIC = ("loss", "eval_loss", "metric", "grad_norm")  # history fields JSON writes null for NaN
log = logging.getLogger(__name__)


def default_folder() -> Path | None:
    """$LAB_REFERENCE (None when `off`), else `reference/` at the top of the project."""
    env = os.environ.get(ENV)
    if env is not None and env.strip().lower() in ("off", "none", "0", ""):
        return None
    return Path(env) if env else Path(__file__).resolve().parent.parent / "reference"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Reference:
    """A reference folder, read lazily; every file is checked against the manifest before use."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.manifest: dict = json.loads((self.folder / MANIFEST).read_text())
        self.index: dict[str, dict] = self._json(INDEX) or {}
        self.problems: list[str] = []  # one line per file not served (changed after the build)
        self._runs: dict[str, ModelRun] = {}

    def _checked(self, name: str) -> Path | None:
        entry = self.manifest.get("files", {}).get(name)
        path = self.folder / name
        if entry is None or not path.is_file() or sha256(path) != entry["sha256"]:
            line = f"reference file {path} does not match its manifest: not served"
            if line not in self.problems:
                self.problems.append(line)
                log.warning(line)
            return None
        return path

    def _json(self, name: str):
        path = self._checked(name)
        return json.loads(path.read_text()) if path is not None else None

    # --- what the run store asks -----------------------------------------------------------------
    def origin(self) -> str:
        m = self.manifest
        return f"reference run, built with torch {m.get('torch')} on {m.get('cpu')}, {m.get('built')}"

    def hashes(self, group: str | None = None) -> list[str]:
        return [h for h, e in self.index.items() if group is None or e["group"].startswith(group)]

    def has(self, h: str) -> bool:
        return h in self.index

    def summaries(self, hashes) -> dict[str, dict]:
        """hash -> summary (as RunStore.get_summaries: NaN as None) of the runs held here."""
        return {h: dict(self.index[h]["summary"]) for h in hashes if h in self.index}

    def get(self, h: str) -> ModelRun | None:
        """The whole run (histories, kept checkpoints, probes), or None: not held, summary only (a
        sweep run), or a file that does not match the manifest."""
        if h in self._runs:
            return self._runs[h]
        e = self.index.get(h)
        if e is None or not e.get("record"):
            return None
        meta, npz = self._json(e["record"]), self._checked(e["arrays"])
        if meta is None or npz is None:
            return None
        run = read_run(meta, npz)
        if run is None:
            return None
        run.source = self.origin()
        self._runs[h] = run
        return run


def read_run(meta: dict, npz: Path) -> ModelRun | None:
    """A run from its record and `.npz`; seconds left out of the record read as NaN / None."""
    for rows in (meta["evals"], meta["steps"]):
        for row in rows:
            for k in NUMERIC:
                if k in row and row[k] is None:
                    row[k] = math.nan
    if meta.get("elapsed_s") is None:
        meta["elapsed_s"] = math.nan
    with np.load(npz, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    try:
        return run_from_record(meta, arrays)
    except ConfigError:  # built by a lab whose config had other fields
        return None


@lru_cache(maxsize=4)
def _load(folder: str) -> Reference | None:
    path = Path(folder)
    if not (path / MANIFEST).is_file():
        return None
    try:
        return Reference(path)
    except (OSError, ValueError, KeyError) as e:
        log.warning("reference folder %s cannot be read: %s", path, e)
        return None


def shipped() -> Reference | None:
    """The reference of $LAB_REFERENCE or the project's `reference/`, or None (absent or `off`)."""
    folder = default_folder()
    return _load(str(folder)) if folder is not None else None


def origin() -> str | None:
    ref = shipped()
    return ref.origin() if ref is not None else None


def source_line(runs) -> str | None:
    """One line for results some of whose runs come from the reference (None: none do): 'Reference
    run, built with torch ... on ..., DATE: shipped with the lab, not trained on this machine.'"""
    runs = list(runs)
    sources = list(dict.fromkeys(r.source for r in runs if getattr(r, "source", "")))
    if not sources:
        return None
    head = sources[0][0].upper() + sources[0][1:]
    if len(sources) == len(runs) or all(getattr(r, "source", "") for r in runs):
        return f"{head}: shipped with the lab, not trained on this machine."
    from_ref = ", ".join(r.title for r in runs if getattr(r, "source", ""))
    return f"{from_ref}: {sources[0]} (shipped with the lab, not trained on this machine)."


# --- writing (deterministic: the same arrays give the same bytes) -----------------------------------
def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """An `.npz` that np.load reads, written with fixed zip timestamps and sorted names (numpy's own
    savez stamps each member with the current time, so two builds would differ)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for k in sorted(arrays):
            info = zipfile.ZipInfo(f"{k}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(arrays[k]), allow_pickle=False)
            z.writestr(info, buf.getvalue())


def clean_json(v):
    """JSON-able, NaN and inf as null, numpy scalars as Python numbers."""
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {str(k): clean_json(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [clean_json(x) for x in v]
    if isinstance(v, (np.floating, np.integer, np.bool_)):
        return clean_json(v.item())
    return v


def dumps(v) -> str:
    return json.dumps(clean_json(v), indent=1, sort_keys=True) + "\n"


__all__ = ["Reference", "shipped", "origin", "source_line", "default_folder", "read_run", "write_npz", "dumps", "clean_json",
           "sha256", "ENV", "MANIFEST", "INDEX"]
