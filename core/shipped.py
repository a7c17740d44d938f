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
                     file's size and sha256; a file that does not match is not served (`problems`,
                     one line each; `notice()` is the line a page shows)
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

from core.config import ConfigError, RunConfig, config_hash, validate
from core.models import build_model, state_arrays
from core.tasks import make_task
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
    """A reference folder, checked before use and read lazily.

    Nothing in it is trusted because it parses: the manifest and the index are checked for shape
    (`manifest_problem`, `entry_problem`: each index entry's config validates and hashes to its key),
    every file the manifest lists is checked against its sha256 when the folder is opened (on any
    platform) and again when it is read, and a run's record must match its index entry. What fails
    is not served and is named in `problems` (one line each, file names relative to the folder);
    the rest of the reference is served. The constructor never raises."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.problems: list[str] = []  # one line per thing not served
        self._runs: dict[str, ModelRun] = {}
        self.manifest: dict = {}
        self.index: dict[str, dict] = {}
        try:
            manifest = json.loads((self.folder / MANIFEST).read_text())
        except (OSError, ValueError) as e:
            self._problem(f"reference {MANIFEST} cannot be read ({type(e).__name__}): nothing is served from it")
            return
        why = manifest_problem(manifest)
        if why is not None:
            self._problem(f"reference {MANIFEST} is not a manifest of this lab ({why}): nothing is served from it")
            return
        self.manifest = manifest
        for name in manifest["files"]:  # every file, whatever the platform
            self._checked(name)
        index = self._json(INDEX)
        if index is None:
            return
        if not isinstance(index, dict):
            self._problem(f"reference {INDEX} is not an object of runs: nothing is served from it")
            return
        for h, e in index.items():
            why = entry_problem(h, e, manifest["files"])
            if why is None:
                self.index[h] = e
            else:
                self._problem(f"reference run {_cut(h)} in {INDEX} is malformed ({why}): not served")

    def _problem(self, line: str) -> None:
        if line not in self.problems:
            self.problems.append(line)
            log.warning(line)

    def _checked(self, name: str) -> Path | None:
        entry = self.manifest.get("files", {}).get(name)
        path = self.folder / name
        if entry is None or not path.is_file() or sha256(path) != entry["sha256"]:
            self._problem(f"reference file {_cut(name)} does not match its manifest: not served")
            return None
        return path

    def _json(self, name: str):
        path = self._checked(name)
        if path is None:
            return None
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError) as e:
            self._problem(f"reference file {_cut(name)} cannot be read ({type(e).__name__}): not served")
            return None

    def read_json(self, name: str):
        """A JSON file the manifest lists (checked against its sha256), or None (named in `problems`)."""
        return self._json(name)

    def notice(self) -> str | None:
        """One line for a page while something of the reference is not served (None: all is)."""
        if not self.problems:
            return None
        more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        return (f"The reference shipped with the lab is damaged: {self.problems[0]}{more}. Those runs are trained "
                "on this machine when a page needs them; the rest of the lab works as usual.")

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
        sweep run), or a file that does not match the manifest or its index entry."""
        if h in self._runs:
            return self._runs[h]
        e = self.index.get(h)
        if e is None or not e.get("record"):
            return None
        meta, npz = self._json(e["record"]), self._checked(e["arrays"])
        if meta is None or npz is None:
            return None
        run = read_run(meta, npz)
        if run is not None and e.get("checkpoints_rebuilt") == [0] and 0 not in run.checkpoints:
            run.checkpoints = {0: initial_weights(run), **run.checkpoints}  # not stored: built again
        if run is None or config_hash(run.config) != h:
            self._problem(f"reference run {h} cannot be read or does not match its index entry: not served")
            return None
        run.source = self.origin()
        self._runs[h] = run
        return run


MAX_TEXT = 200  # a manifest's or summary's words longer than this are not the lab's
SUMMARY_TYPES = {"status": str, "name": str, "model": str, "metric_name": str, "steps_run": int}


def _cut(v: object, n: int = 40) -> str:
    t = "".join(c if c.isprintable() else "?" for c in str(v))
    return t if len(t) <= n else t[:n] + "…"


def _short_text(v: object) -> bool:
    return isinstance(v, str) and len(v) <= MAX_TEXT and v.isprintable()


def manifest_problem(m: object) -> str | None:
    """Why `m` is not a reference manifest (None: it is): an object with short printable provenance
    words and `files`, each a relative path inside the folder with its byte count and sha256."""
    if not isinstance(m, dict):
        return "not an object"
    for k in ("torch", "cpu", "built"):
        if not _short_text(m.get(k)):
            return f"{k} is not a short line of text"
    files = m.get("files")
    if not isinstance(files, dict) or not files:
        return "files is not an object of files"
    for name, f in files.items():
        parts = Path(name).parts
        if not parts or Path(name).is_absolute() or ".." in parts or not _short_text(name):
            return f"file name {_cut(name)!r} is not a path inside the folder"
        if not (isinstance(f, dict) and isinstance(f.get("sha256"), str) and len(f["sha256"]) == 64
                and all(c in "0123456789abcdef" for c in f["sha256"])
                and isinstance(f.get("bytes"), int) and not isinstance(f.get("bytes"), bool)):
            return f"{_cut(name)}: not a byte count and a sha256"
    return None


def entry_problem(h: object, e: object, files: dict) -> str | None:
    """Why index entry `e` under key `h` is not a reference run (None: it is): its config validates
    and hashes to `h`, its summary has the fields the pages read with their types, its checkpoint
    lists are whole numbers, and its record and arrays (both or neither) are files of the manifest."""
    if not isinstance(e, dict):
        return "not an object"
    if not isinstance(e.get("group"), str) or not _short_text(e["group"]):
        return "group is not a short line of text"
    try:
        cfg = validate(RunConfig.from_dict(e.get("config")))
    except ConfigError as err:
        return str(err)
    if len(cfg.models) != 1 or config_hash(cfg) != h:
        return "its config does not hash to its key"
    want = cfg.to_dict()
    for sec, fields in e["config"].items():  # as validated, types too ("50" is no seq_len here)
        if sec not in want:
            return f"its config has an unknown part {_cut(sec)!r}"
        same = (fields == want.get(sec) if sec == "models" else
                all(type(v) is type(want[sec].get(k)) and v == want[sec].get(k) for k, v in fields.items()))
        if not same:
            return f"its config's {sec} is not as the lab writes it"
    s = e.get("summary")
    if not isinstance(s, dict):
        return "summary is not an object"
    for k, t in SUMMARY_TYPES.items():
        if not isinstance(s.get(k), t) or isinstance(s.get(k), bool) or (t is str and not _short_text(s[k])):
            return f"summary {k} is not a {t.__name__}"
    for k in ("final_metric", "best_metric", "chance", "target", "steps_to_target"):
        v = s.get(k)
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
            return f"summary {k} is not a number"
    for k in ("verdict", "reach", "outcome"):
        if k in s and not (isinstance(s[k], str) and len(s[k]) <= 2 * MAX_TEXT and s[k].isprintable()):
            return f"summary {k} is not a line of text"
    for k in ("checkpoints_kept", "checkpoints_left_out"):
        v = e.get(k, [])
        if not isinstance(v, list) or not all(isinstance(x, int) and not isinstance(x, bool) for x in v):
            return f"{k} is not a list of steps"
    if bool(e.get("record")) != bool(e.get("arrays")):
        return "it has a record without arrays, or arrays without a record"
    for k in ("record", "arrays"):
        if e.get(k) and (not isinstance(e[k], str) or e[k] not in files):
            return f"its {k} is not a file of the manifest"
    return None


def initial_weights(run: ModelRun) -> dict[str, np.ndarray]:
    """A run's weights at step 0, built again from its config (every draw comes from the generator its
    config seeds, core.models.build_model): bit for bit what training started from on this platform.
    The reference stores them only for seed 0's runs (the pages draw those)."""
    c = run.config
    return state_arrays(build_model(run.kind, make_task(c.task), c.model, c.train.seed))


def read_run(meta: dict, npz: Path) -> ModelRun | None:
    """A run from its record and `.npz` (None: either cannot be read as a run of this lab, e.g. an
    `.npz` holding a pickled array); seconds left out of the record read as NaN / None."""
    try:
        for rows in (meta["evals"], meta["steps"]):
            for row in rows:
                for k in NUMERIC:
                    if k in row and row[k] is None:
                        row[k] = math.nan
        if meta.get("elapsed_s") is None:
            meta["elapsed_s"] = math.nan
        with np.load(npz, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        run = run_from_record(meta, arrays)
        run.config = validate(run.config)
        return run
    except (ConfigError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError, EOFError,
            zipfile.BadZipFile):  # a damaged file, or one built by a lab whose config had other fields
        return None


@lru_cache(maxsize=4)
def _load(folder: str) -> Reference | None:
    path = Path(folder)
    if not (path / MANIFEST).is_file():
        return None
    return Reference(path)  # a damaged folder is a Reference with problems (the pages say so)


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


__all__ = ["Reference", "initial_weights", "shipped", "origin", "source_line", "default_folder", "read_run", "write_npz", "dumps", "clean_json",
           "sha256", "ENV", "MANIFEST", "INDEX", "manifest_problem", "entry_problem"]
