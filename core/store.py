"""The run store: one SQLite file (standard library) holding every finished model run, keyed by
the hash of its single-model config, so a configuration trained once is never trained again.

Where: $LAB_DATA_DIR, else `data/` at the top of the project; `runs.sqlite` inside it.
Each model run is one row: config, status, summary and histories as JSON, and its checkpoint
weights and probes as one `.npz` blob (read with allow_pickle=False: nothing loaded executes).
The row records the blob's length and sha256 (schema version 2), and `get` refuses a blob that
does not match them in one line; a row written before (version 1) is checked by reading the
`.npz` whole (its zip CRCs). Since version 4 a digest covers the whole row (config, summary, record
and blob: `row_digest`), so an edited record is refused as an edited blob is; and on every row, old
or new, the record's config must pass `validate` and hash to the row's key before it is served.

Safety:
- WAL journal, `synchronous = FULL` and one `BEGIN IMMEDIATE ... COMMIT` per write. A process
  killed mid-write leaves only an uncommitted tail in the WAL, which SQLite ignores on the next
  open; once `put` has returned, the run survives a kill of the process (and a power cut).
- A busy timeout lets two processes (two browser sessions, or the CLI beside the app) share the
  file: writers queue for the lock, readers never block under WAL.
- Trust (schema version 3): a row is `trusted` when its numbers were made under the rules that
  make a run depend on its config alone (every draw from the run's own generator, one torch
  thread). Rows written before (versions 1-2) may hold numbers of a thread race, or of another
  thread count, so they are kept but never served: a run is trained again when first used (and
  replaces the row), or `python -m core store verify` retrains it now and, where it reproduces,
  marks the row trusted. `notice()` says so in one line.
- Behind the rows, read-only: the reference results shipped with the project (core.shipped). A
  config the store lacks but the reference holds is served from there (`get`, `get_summaries`,
  `has`), its runs marked with their origin (`ModelRun.source`); nothing is copied into the store,
  and a run trained here later takes precedence. `RunStore(reference=None)` looks at the rows alone.
- The schema version lives in the file. An older version is migrated step by step inside one
  transaction (MIGRATIONS); a newer one, or a file that is not a run store, is refused with a
  one-line StoreError, never misread.
"""
from __future__ import annotations

import hashlib
import io
import json
import logging
import zipfile
import math
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import pandas as pd

from core import shipped as shipped_reference
from core.config import ConfigError, RunConfig, config_hash, validate
from core.owndata import default_dir  # the data folder ($LAB_DATA_DIR): its home is below the tasks, which read it
from core.results import ModelRun, RunResult, run_from_record, run_to_record

SCHEMA_VERSION = 4
REUSABLE = ("finished", "diverged")  # a stopped run is incomplete: it is not reused
BUSY_TIMEOUT_S = 30.0  # how long a writer waits for another process's transaction
log = logging.getLogger(__name__)


def _v1_to_v2(conn: sqlite3.Connection) -> None:
    """Version 2 records each blob's length and sha256. Rows of version 1 keep NULL there: their
    blobs are checked by reading them whole, never vouched for after the fact."""
    conn.execute("ALTER TABLE model_runs ADD COLUMN blob_bytes INTEGER")
    conn.execute("ALTER TABLE model_runs ADD COLUMN blob_sha256 TEXT")


def _v2_to_v3(conn: sqlite3.Connection) -> None:
    """Version 3 marks rows whose numbers follow from their config alone. Older rows get 0: they
    were trained while model builds drew from torch's process-wide generator (a race between
    threads) and with whatever torch thread count the process had."""
    conn.execute("ALTER TABLE model_runs ADD COLUMN trusted INTEGER NOT NULL DEFAULT 0")


def _v3_to_v4(conn: sqlite3.Connection) -> None:
    """Version 4 covers each whole row by a digest (row_digest): its key, kind, status, config,
    summary, record (by record_sha256) and blob (by blob_sha256), so an edited record or summary is
    refused as an edited blob is. Older rows keep NULL there: they are not vouched for after the
    fact; their config is still validated and must hash to the row's key."""
    conn.execute("ALTER TABLE model_runs ADD COLUMN record_sha256 TEXT")
    conn.execute("ALTER TABLE model_runs ADD COLUMN row_sha256 TEXT")


# Version n -> n+1, applied in order inside the opening transaction.
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {1: _v1_to_v2, 2: _v2_to_v3, 3: _v3_to_v4}

_CREATE = (
    """CREATE TABLE IF NOT EXISTS model_runs (
        hash TEXT PRIMARY KEY, kind TEXT NOT NULL, task TEXT NOT NULL,
        seq_len INTEGER NOT NULL, seed INTEGER NOT NULL, status TEXT NOT NULL,
        config TEXT NOT NULL, summary TEXT NOT NULL, record TEXT NOT NULL,
        arrays BLOB NOT NULL, created REAL NOT NULL, blob_bytes INTEGER, blob_sha256 TEXT,
        trusted INTEGER NOT NULL DEFAULT 0, record_sha256 TEXT, row_sha256 TEXT)""",
    "CREATE INDEX IF NOT EXISTS by_task ON model_runs (task, seq_len, kind)",
)


class StoreError(RuntimeError):
    """The store cannot be used as it is; the message is one line."""


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def row_digest(h: str, kind: str, status: str, config: str, summary: str, record_sha256: str,
               blob_sha256: str) -> str:
    """The digest that covers a whole row (schema version 4): every column a reader uses."""
    return _sha(json.dumps([h, kind, status, config, summary, record_sha256, blob_sha256]))




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
    def __init__(self, folder: str | Path | None = None,
                 reference: "shipped_reference.Reference | None | bool" = True):
        self.folder = Path(folder) if folder else default_dir()
        # the shipped reference behind the rows (True: $LAB_REFERENCE or reference/; None: rows alone)
        self.reference = shipped_reference.shipped() if reference is True else (reference or None)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StoreError(f"cannot create the run store folder {self.folder}: {e.strerror or e}") from None
        self.path = self.folder / "runs.sqlite"
        self._init()

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A connection in autocommit mode (transactions are explicit), always closed; SQLite's
        own errors (locked past the timeout, disk full, read-only, corrupt) become one line."""
        try:
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        except sqlite3.Error as e:
            raise StoreError(f"cannot open the run store {self.path}: {e}") from None
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            conn.execute("PRAGMA synchronous = FULL")  # a returned put survives a power cut too
            yield conn
        except sqlite3.Error as e:
            if "not a database" in str(e):
                raise StoreError(f"{self.path} is not a run store ({e}); move it aside or point "
                                 "LAB_DATA_DIR elsewhere") from None
            raise StoreError(f"run store {self.path}: {e}") from None
        finally:
            conn.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed whole at the end, rolled back whole on any error."""
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")  # take the write lock now, not halfway through
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _init(self) -> None:
        with self._connect() as conn:
            conn.execute("PRAGMA journal_mode = WAL")  # persistent: readers never wait for writers
        with self._write() as conn:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not tables:  # a new file
                conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
                conn.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
                for sql in _CREATE:
                    conn.execute(sql)
                return
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() \
                if "meta" in tables else None
            if row is None or not str(row[0]).isdigit():
                raise StoreError(f"{self.path} is a SQLite file but not a run store of this lab; move it "
                                 "aside or point LAB_DATA_DIR elsewhere")
            self._migrate(conn, int(row[0]))

    def _migrate(self, conn: sqlite3.Connection, found: int) -> None:
        if found == SCHEMA_VERSION:
            return
        if found > SCHEMA_VERSION:
            raise StoreError(f"run store {self.path} has schema version {found}, newer than this lab's "
                             f"{SCHEMA_VERSION}; update the lab or point LAB_DATA_DIR elsewhere")
        for v in range(found, SCHEMA_VERSION):
            if v not in MIGRATIONS:
                raise StoreError(f"run store {self.path} has schema version {found}, and this lab cannot "
                                 f"migrate version {v} to {SCHEMA_VERSION}; move the file aside or point "
                                 "LAB_DATA_DIR elsewhere")
            MIGRATIONS[v](conn)  # same transaction: a failed or killed migration changes nothing
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),))

    def schema_version(self) -> int:
        with self._connect() as conn:
            return int(conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0])

    # --- writing ------------------------------------------------------------------------
    def put(self, run: ModelRun) -> str:
        """Save one model run in one transaction; returns its hash. Once this returns, the run
        is on disk."""
        cfg = run.config
        if len(cfg.models) != 1:
            raise ValueError("put() takes a model run whose config is single-model (cfg.single(kind))")
        meta, arrays = run_to_record(run)
        buf = io.BytesIO()  # encode before taking the lock: the transaction only copies bytes
        np.savez_compressed(buf, **arrays)
        h = config_hash(cfg)
        blob = buf.getvalue()
        config, summary, record = cfg.to_json(), _json(run.summary()), _json(meta)
        blob_sha, record_sha = hashlib.sha256(blob).hexdigest(), _sha(record)
        row = (h, run.kind, cfg.task.name, cfg.task.seq_len, cfg.train.seed, run.status,
               config, summary, record, blob, time.time(), len(blob), blob_sha, 1, record_sha,
               row_digest(h, run.kind, run.status, config, summary, record_sha, blob_sha))
        with self._write() as conn:
            conn.execute("INSERT OR REPLACE INTO model_runs (hash, kind, task, seq_len, seed, status, config, "
                         "summary, record, arrays, created, blob_bytes, blob_sha256, trusted, record_sha256, "
                         "row_sha256) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", row)
        return h

    def trust(self, h: str) -> None:
        """Mark an older row trusted: `store verify` trained its config again and got its numbers."""
        with self._write() as conn:
            conn.execute("UPDATE model_runs SET trusted = 1 WHERE hash = ?", (h,))

    def put_result(self, result: RunResult) -> list[str]:
        """Save every model of a run that completed (finished or diverged)."""
        return [self.put(r) for r in result.runs.values() if r.status in REUSABLE]

    # --- reading ------------------------------------------------------------------------
    def get(self, cfg: RunConfig) -> ModelRun | None:
        """The stored run of a single-model config, or None (also for a row not trusted yet)."""
        if len(cfg.models) != 1:
            raise ValueError("get() takes a single-model config (cfg.single(kind))")
        return self.get_by_hash(config_hash(cfg))

    def get_by_hash(self, h: str, trusted_only: bool = True) -> ModelRun | None:
        with self._connect() as conn:
            row = conn.execute("SELECT hash, kind, status, config, summary, record, arrays, blob_bytes, blob_sha256, "
                               "record_sha256, row_sha256 FROM model_runs "
                               f"WHERE hash = ? AND status IN (?, ?){' AND trusted = 1' if trusted_only else ''}",
                               (h, *REUSABLE)).fetchone()
        if row is None:
            return self.reference.get(h) if trusted_only and self.reference is not None else None
        h, kind, status, config, summary, record, blob, n_bytes, sha, record_sha, row_sha = row
        blob = bytes(blob) if blob is not None else b""
        if n_bytes is not None and (len(blob) != n_bytes or hashlib.sha256(blob).hexdigest() != sha):
            detail = f"{len(blob)} of {n_bytes} bytes" if len(blob) != n_bytes else "same length, different sha256"
            raise StoreError(f"run store {self.path}: the weights blob of run {h} is truncated or was changed "
                             f"after it was saved ({detail}); delete that row or the store")
        if row_sha is not None and (record_sha != _sha(record) or
                                    row_sha != row_digest(h, kind, status, config, summary, record_sha, sha)):
            raise StoreError(f"run store {self.path}: the row of run {h} was changed after it was saved (its "
                             "digest does not match); delete that row or the store")
        try:
            meta = json.loads(record)
            meta["evals"], meta["steps"] = _nan(meta["evals"]), _nan(meta["steps"])
            with np.load(io.BytesIO(blob), allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}  # reading each array checks its zip CRC
        except (ValueError, KeyError, TypeError, OSError, EOFError, zipfile.BadZipFile) as e:
            raise StoreError(f"run store {self.path}: run {h} cannot be read ({type(e).__name__}: "
                             f"{str(e).splitlines()[0][:80] if str(e) else ''}); delete that row or the store") from None
        try:
            run = run_from_record(meta, arrays)
        except ConfigError:  # saved by a lab whose config had other fields: not this experiment
            return None
        except (ValueError, KeyError, TypeError, AttributeError, IndexError) as e:
            raise StoreError(f"run store {self.path}: run {h} is not a run of this lab ({type(e).__name__}); "
                             "delete that row or the store") from None
        try:  # nothing is served because it parses: its config is checked by its rules and its key
            run.config = validate(run.config)
        except ConfigError as e:
            raise StoreError(f"run store {self.path}: run {h} holds a config that is not valid ({e}); delete "
                             "that row or the store") from None
        if config_hash(run.config) != h or run.kind != run.config.models[0] or run.status not in REUSABLE:
            raise StoreError(f"run store {self.path}: run {h} holds the record of another run (its config, kind "
                             "or status does not match its row); delete that row or the store")
        return run

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
        return self.has_row(cfg) or (self.reference is not None and self.reference.get(config_hash(cfg)) is not None)

    def holds(self, cfg: RunConfig) -> bool:
        """Whether get(cfg) would find a whole run, answered from the store's rows and the reference's
        index without reading the run (a reference file that fails its check is found only when read)."""
        if self.has_row(cfg):
            return True
        e = self.reference.index.get(config_hash(cfg)) if self.reference is not None else None
        return bool(e and e.get("record"))

    def has_row(self, cfg: RunConfig) -> bool:
        with self._connect() as conn:
            return conn.execute("SELECT 1 FROM model_runs WHERE hash = ? AND status IN (?, ?) AND trusted = 1",
                                (config_hash(cfg), *REUSABLE)).fetchone() is not None

    def get_summaries(self, hashes: list[str]) -> dict[str, dict]:
        """hash -> summary dict of the reusable runs among `hashes`, without decoding any arrays
        (what a sweep needs to reuse a run). NaN metrics come back as None. A row whose digest does
        not match is left out (logged): a sweep trains that run again, and its new row replaces it."""
        out: dict[str, dict] = {}
        with self._connect() as conn:
            for i in range(0, len(hashes), 500):  # stay under SQLite's parameter limit
                part = list(hashes[i:i + 500])
                marks = ",".join("?" * len(part))
                for h, kind, status, config, s, blob_sha, record_sha, row_sha in conn.execute(
                        "SELECT hash, kind, status, config, summary, blob_sha256, record_sha256, row_sha256 "
                        f"FROM model_runs WHERE hash IN ({marks}) AND status IN (?, ?) AND trusted = 1",
                        (*part, *REUSABLE)):
                    try:
                        summary = json.loads(s)
                    except ValueError:
                        summary = None
                    if not isinstance(summary, dict) or (row_sha is not None and row_sha != row_digest(
                            h, kind, status, config, s, record_sha, blob_sha)):
                        log.warning("run store %s: the row of run %s was changed after it was saved; not served",
                                    self.path, h)
                        continue  # not served: the sweep trains it again, and its row replaces this one
                    out[h] = summary
        if self.reference is not None:  # the shipped reference, behind the rows
            out.update(self.reference.summaries([h for h in hashes if h not in out]))
        return out

    def from_reference(self, hashes: list[str]) -> int:
        """How many of `hashes` the store would serve from the shipped reference (not in its rows)."""
        if self.reference is None:
            return 0
        held = [h for h in hashes if self.reference.has(h)]
        if not held:
            return 0
        with self._connect() as conn:
            marks = ",".join("?" * len(held))
            mine = {r[0] for r in conn.execute(f"SELECT hash FROM model_runs WHERE hash IN ({marks}) AND status IN "
                                               "(?, ?) AND trusted = 1", (*held, *REUSABLE))}
        return len(set(held) - mine)

    def summaries(self, task: str | None = None) -> pd.DataFrame:
        """One row per stored model run: hash, kind, task, seq_len, seed, status, trusted and its
        summary."""
        q, args = ("SELECT hash, kind, task, seq_len, seed, status, summary, config, created, trusted "
                   "FROM model_runs"), ()
        if task:
            q, args = q + " WHERE task = ?", (task,)
        with self._connect() as conn:
            rows = conn.execute(q + " ORDER BY created", args).fetchall()
        out = []
        for h, kind, t, T, seed, status, summary, config, created, trusted in rows:
            s = json.loads(summary)
            s.update(hash=h, kind=kind, task=t, seq_len=T, seed=seed, status=status,
                     config=config, created=created, trusted=bool(trusted))
            out.append(s)
        return pd.DataFrame(out)

    def untrusted(self) -> int:
        """How many rows were written before runs followed from their config alone."""
        with self._connect() as conn:
            return conn.execute("SELECT COUNT(*) FROM model_runs WHERE trusted = 0").fetchone()[0]

    def notice(self) -> str | None:
        """One line for the user when the store holds rows it will not serve, else None."""
        n = self.untrusted()
        if not n:
            return None
        return (f"{n} stored run(s) were trained before a run's numbers followed from its config alone; "
                "each is trained again when first used (`python -m core store verify` checks them now "
                "and keeps those that reproduce)")

    def __len__(self) -> int:
        with self._connect() as conn:
            return conn.execute("SELECT COUNT(*) FROM model_runs").fetchone()[0]


__all__ = ["RunStore", "StoreError", "default_dir", "SCHEMA_VERSION", "MIGRATIONS"]
