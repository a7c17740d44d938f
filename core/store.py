"""The run store: one SQLite file (standard library) holding every finished model run, keyed by
the hash of its single-model config, so a configuration trained once is never trained again.

Where: $LAB_DATA_DIR, else `data/` at the top of the project; `runs.sqlite` inside it.
Each model run is one row: config, status, summary and histories as JSON, and its checkpoint
weights and probes as one `.npz` blob (read with allow_pickle=False: nothing loaded executes).

Safety: WAL journal and one transaction per write, so a process killed mid-write leaves the
previous state readable; a busy timeout lets two processes (two browser sessions, or the CLI
beside the app) share the file. The schema version is stored and checked on open.
"""
from __future__ import annotations

import io
import json
import math
import os
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd

from core.config import RunConfig, config_hash
from core.results import ModelRun, RunResult, run_from_record, run_to_record

SCHEMA_VERSION = 1
REUSABLE = ("finished", "diverged")  # a stopped run is incomplete: it is not reused


class StoreError(RuntimeError):
    """The store cannot be used as it is; the message is one line."""


def default_dir() -> Path:
    env = os.environ.get("LAB_DATA_DIR")
    return Path(env) if env else Path(__file__).resolve().parent.parent / "data"


def _json(v) -> str:
    def clean(o):
        if isinstance(o, float) and not math.isfinite(o):
            return None
        if isinstance(o, dict):
            return {k: clean(x) for k, x in o.items()}
        if isinstance(o, (list, tuple)):
            return [clean(x) for x in o]
        if isinstance(o, (np.floating, np.integer, np.bool_)):
            return o.item()
        return o
    return json.dumps(clean(v))


def _nan(o):
    """JSON has no NaN: None stands for it in stored histories; turn it back for numeric fields."""
    if isinstance(o, list):
        return [{k: (math.nan if v is None and k in ("loss", "eval_loss", "metric", "grad_norm") else v)
                 for k, v in row.items()} for row in o]
    return o


class RunStore:
    def __init__(self, folder: str | Path | None = None):
        self.folder = Path(folder) if folder else default_dir()
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StoreError(f"cannot create the run store folder {self.folder}: {e.strerror or e}") from None
        self.path = self.folder / "runs.sqlite"
        self._init()

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A connection in autocommit mode (transactions are explicit), always closed."""
        conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        try:
            conn.execute("PRAGMA busy_timeout = 30000")
            yield conn
        finally:
            conn.close()

    def _init(self) -> None:
        try:
            with self._connect() as conn:
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
                row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
                if row is None:
                    conn.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
                    conn.execute(
                        """CREATE TABLE IF NOT EXISTS model_runs (
                            hash TEXT PRIMARY KEY, kind TEXT NOT NULL, task TEXT NOT NULL,
                            seq_len INTEGER NOT NULL, seed INTEGER NOT NULL, status TEXT NOT NULL,
                            config TEXT NOT NULL, summary TEXT NOT NULL, record TEXT NOT NULL,
                            arrays BLOB NOT NULL, created REAL NOT NULL)""")
                    conn.execute("CREATE INDEX IF NOT EXISTS by_task ON model_runs (task, seq_len, kind)")
                elif int(row[0]) != SCHEMA_VERSION:
                    conn.execute("ROLLBACK")
                    raise StoreError(
                        f"run store {self.path} has schema version {row[0]}, this lab reads version "
                        f"{SCHEMA_VERSION}; move the file aside or point LAB_DATA_DIR elsewhere")
                conn.execute("COMMIT")
        except sqlite3.DatabaseError as e:
            raise StoreError(f"run store {self.path} is not usable: {e}") from None

    # --- writing ------------------------------------------------------------------------
    def put(self, run: ModelRun) -> str:
        """Save one model run in one transaction; returns its hash."""
        meta, arrays = run_to_record(run)
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)
        cfg = run.config
        h = config_hash(cfg)
        row = (h, run.kind, cfg.task.name, cfg.task.seq_len, cfg.train.seed, run.status,
               cfg.to_json(), _json(run.summary()), _json(meta), buf.getvalue(), time.time())
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute("INSERT OR REPLACE INTO model_runs VALUES (?,?,?,?,?,?,?,?,?,?,?)", row)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        return h

    def put_result(self, result: RunResult) -> list[str]:
        """Save every model of a run that completed (finished or diverged)."""
        return [self.put(r) for r in result.runs.values() if r.status in REUSABLE]

    # --- reading ------------------------------------------------------------------------
    def get(self, cfg: RunConfig) -> ModelRun | None:
        """The stored run of a single-model config, or None."""
        if len(cfg.models) != 1:
            raise ValueError("get() takes a single-model config (cfg.single(kind))")
        with self._connect() as conn:
            row = conn.execute("SELECT record, arrays FROM model_runs WHERE hash = ? AND status IN (?, ?)",
                               (config_hash(cfg), *REUSABLE)).fetchone()
        if row is None:
            return None
        meta = json.loads(row[0])
        meta["evals"], meta["steps"] = _nan(meta["evals"]), _nan(meta["steps"])
        with np.load(io.BytesIO(row[1]), allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        return run_from_record(meta, arrays)

    def get_result(self, cfg: RunConfig) -> tuple[RunResult, list[str]]:
        """What the store has of a multi-model config, and which models are missing."""
        runs, missing = {}, []
        for kind in cfg.models:
            r = self.get(cfg.single(kind))
            if r is None:
                missing.append(kind)
            else:
                runs[kind] = r
        return RunResult(config=cfg, runs=runs), missing

    def has(self, cfg: RunConfig) -> bool:
        with self._connect() as conn:
            return conn.execute("SELECT 1 FROM model_runs WHERE hash = ? AND status IN (?, ?)",
                                (config_hash(cfg), *REUSABLE)).fetchone() is not None

    def summaries(self, task: str | None = None) -> pd.DataFrame:
        """One row per stored model run: hash, kind, task, seq_len, seed, status and its summary."""
        q, args = "SELECT hash, kind, task, seq_len, seed, status, summary, config, created FROM model_runs", ()
        if task:
            q, args = q + " WHERE task = ?", (task,)
        with self._connect() as conn:
            rows = conn.execute(q + " ORDER BY created", args).fetchall()
        out = []
        for h, kind, t, T, seed, status, summary, config, created in rows:
            s = json.loads(summary)
            s.update(hash=h, kind=kind, task=t, seq_len=T, seed=seed, status=status,
                     config=config, created=created)
            out.append(s)
        return pd.DataFrame(out)

    def __len__(self) -> int:
        with self._connect() as conn:
            return conn.execute("SELECT COUNT(*) FROM model_runs").fetchone()[0]


__all__ = ["RunStore", "StoreError", "default_dir", "SCHEMA_VERSION"]
