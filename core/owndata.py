"""A learner's own data: a CSV file checked, kept in the data folder by its content hash, and read
back from there by the hash a run's config names.

- `check_table` reads the bytes of an upload or a file given to the CLI: at most MAX_BYTES, UTF-8
  text (not binary), a CSV whose header names every column once and whose rows all have the header's
  number of fields. Anything else is refused with one line (DataError), never a traceback.
- `series_table` / `sentence_table` turn a checked table into what a task reads: the numeric columns
  of a series (missing values carried forward and said, dates checked for order) or the `text,label`
  rows of labelled sentences.
- `save` copies the file to `<data folder>/own/<hash>.csv` (the data folder is the run store's:
  core.store.default_dir(), $LAB_DATA_DIR); `load` reads it back and checks that its bytes still
  hash to its name. Nothing is sent anywhere.

Values from the file reach messages cut short and quoted (`quoted`): a page escapes the whole
message as text.
"""
from __future__ import annotations

import csv
import functools
import hashlib
import io
import json
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

MAX_BYTES = 5_000_000  # the largest file accepted (5 MB): ~100,000 rows of a few columns
HASH_CHARS = 16  # a file is named by the first 16 hex digits of its SHA-256
HASH_PATTERN = re.compile(r"[0-9a-f]{%d}" % HASH_CHARS)
HELD_OUT_SHARE = 0.2  # the last 20% of the rows (by time; per class for sentences) are held out
MIN_TRAIN_WINDOWS = 10  # a series keeps at least this many training windows at its longest T
MAX_MISSING_SHARE = 0.2  # a column with more missing values than this is refused, not filled
MISSING = frozenset({"", "na", "n/a", "nan", "null", "none"})  # read as a missing value (any case)
MAX_CLASSES = 20  # labelled sentences: at most this many labels
QUOTE_CHARS = 40


class DataError(ValueError):
    """A file that cannot be used; the message is one line meant for a person."""


def quoted(v: object) -> str:
    """A value from the file as a message quotes it: repr, one line, cut after QUOTE_CHARS."""
    r = repr(str(v))
    return r if len(r) <= QUOTE_CHARS else r[:QUOTE_CHARS] + "…"


def digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()[:HASH_CHARS]


# --- the table ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Table:
    """A checked CSV: column names and each column's values, stripped strings, all of one length."""

    columns: tuple[str, ...]
    cells: tuple[tuple[str, ...], ...]  # one tuple per column

    @property
    def n_rows(self) -> int:
        return len(self.cells[0])

    def column(self, name: str) -> tuple[str, ...]:
        return self.cells[self.columns.index(name)]


def check_table(raw: bytes) -> Table:
    """The bytes of a CSV file, checked; DataError (one line) says what is wrong."""
    return _check_table(raw)


@functools.lru_cache(maxsize=4)  # a page reruns on every click: a 5 MB file is read once
def _check_table(raw: bytes) -> Table:
    if len(raw) > MAX_BYTES:
        raise DataError(f"the file has {len(raw):,} bytes; the lab takes CSV files of at most {MAX_BYTES:,} bytes")
    if b"\x00" in raw:
        raise DataError("this is a binary file, not a CSV (it holds NUL bytes)")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise DataError(f"the file is not UTF-8 text (byte {e.start:,} is 0x{raw[e.start]:02x}); save it as "
                        "UTF-8 CSV") from None
    try:  # a blank line (a row of nothing but spaces) is skipped
        rows = [r for r in csv.reader(io.StringIO(text, newline="")) if any(r) and (len(r) > 1 or r[0].strip())]
    except csv.Error as e:
        raise DataError(f"not a CSV file: {' '.join(str(e).split())}") from None
    if not rows:
        raise DataError("the file is empty: a CSV needs a header line and rows below it")
    header = tuple(h.strip() for h in rows[0])
    for k, h in enumerate(header):
        if not h:
            raise DataError(f"not a CSV with a header: column {k + 1} of the first line has no name")
        if header.index(h) != k:
            raise DataError(f"column {quoted(h)} appears twice in the header")
    for i, r in enumerate(rows[1:], start=2):
        if len(r) != len(header):
            raise DataError(f"not a CSV with {len(header)} columns: line {i} has {len(r)} fields")
    if len(rows) < 2:
        raise DataError("the file has a header and no rows")
    return Table(columns=header, cells=tuple(tuple(v.strip() for v in col) for col in zip(*rows[1:])))


def _numbers(values: tuple[str, ...]) -> tuple[np.ndarray, int | None]:
    """(floats with nan for missing, index of the first value that is no finite number or None)."""
    s = pd.Series(values, dtype=object)
    missing = s.str.lower().isin(MISSING).to_numpy()
    out = np.array(pd.to_numeric(s.where(~missing, None), errors="coerce"), dtype=np.float64)  # a copy
    bad = np.flatnonzero(~missing & ~np.isfinite(out))
    out[missing] = np.nan
    return out, (int(bad[0]) if len(bad) else None)


@functools.lru_cache(maxsize=4)
def numeric_columns(t: Table) -> tuple[str, ...]:
    """The columns whose every value is a finite number or missing (and not all missing)."""
    out = []
    for c in t.columns:
        values, bad = _numbers(t.column(c))
        if bad is None and not np.isnan(values).all():
            out.append(c)
    return tuple(out)


# --- a series --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SeriesData:
    """A series read from a file: rows in time order, inputs in real units (target first)."""

    channels: tuple[str, ...]  # input column names; channels[0] is the target
    raw: np.ndarray  # (N, C) float64
    dates: np.ndarray  # (N,) datetime64 (row numbers as days from 1970 when the file has no date column)
    has_dates: bool
    notes: tuple[str, ...]  # what was done to the file (missing values filled, columns left out)


def series_table(t: Table, target: str, date: str = "") -> SeriesData:
    """The numeric columns of t as a series forecasting `target`, in the order of `date` (or of the
    rows). Refused (DataError): the target or date missing or not numbers / dates, no numeric column,
    too many missing values, a constant target, duplicated or unsorted dates."""
    if date and target == date:
        raise DataError(f"{quoted(target)} cannot be both the column to forecast and the date column")
    numeric: dict[str, np.ndarray] = {}
    bad: dict[str, int] = {}
    for c in t.columns:
        if c == date:
            continue
        values, first_bad = _numbers(t.column(c))
        if first_bad is None and not np.isnan(values).all():
            numeric[c] = values
        elif first_bad is not None:
            bad[c] = first_bad
    if not numeric:
        c = next(iter(bad), t.columns[0])
        at = f" (line {bad[c] + 2} of {quoted(c)} holds {quoted(t.column(c)[bad[c]])})" if c in bad else ""
        raise DataError(f"no numeric column: a series needs a column of numbers{at}")
    if date and date not in t.columns:
        raise DataError(f"no date column {quoted(date)} in the file; its columns: {_names(t.columns)}")
    if target not in t.columns:
        raise DataError(f"no column {quoted(target)} in the file; numeric columns: {_names(numeric)}")
    if target not in numeric:
        k = bad.get(target)
        why = f"line {k + 2} holds {quoted(t.column(target)[k])}" if k is not None else "it holds no values"
        raise DataError(f"column {quoted(target)} is not numeric: {why}")
    names = [target] + [c for c in numeric if c != target]
    notes = []
    dates = _dates(t, date) if date else np.arange(t.n_rows).astype("datetime64[D]")
    raw = np.stack([numeric[c] for c in names], axis=1)
    for k, c in enumerate(names):
        miss = np.isnan(raw[:, k])
        if miss.mean() > MAX_MISSING_SHARE:
            if k == 0:
                raise DataError(f"column {quoted(c)} has {miss.sum():,} missing values of {len(miss):,}; the lab "
                                f"fills at most {MAX_MISSING_SHARE:.0%}")
            notes.append(f"column {quoted(c)} left out: {miss.sum():,} of {len(miss):,} values are missing")
            names[k] = ""
            continue
        if miss.any():
            raw[:, k] = pd.Series(raw[:, k]).ffill().bfill().to_numpy()
            lines = ", ".join(str(i + 2) for i in np.flatnonzero(miss)[:5]) + (", …" if miss.sum() > 5 else "")
            notes.append(f"{miss.sum():,} missing value{'s' if miss.sum() > 1 else ''} in {quoted(c)} (line "
                         f"{lines}) filled with the value before it")
    keep = [k for k, c in enumerate(names) if c]
    names, raw = [names[k] for k in keep], raw[:, keep]
    n_train = train_rows(len(raw))
    spread = raw[:n_train].std(0)
    if spread[0] == 0:
        raise DataError(f"column {quoted(target)} is constant over the training rows (every value "
                        f"{raw[0, 0]:g}): there is nothing to forecast")
    for k in range(len(names) - 1, 0, -1):
        if spread[k] == 0:
            notes.append(f"column {quoted(names[k])} left out: constant over the training rows")
            names.pop(k)
            raw = np.delete(raw, k, axis=1)
    return SeriesData(channels=tuple(names), raw=raw, dates=dates, has_dates=bool(date), notes=tuple(notes))


def _names(cols) -> str:
    names = [quoted(c) for c in cols]
    return ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "") if names else "none"


def _dates(t: Table, date: str) -> np.ndarray:
    values = t.column(date)
    for i, v in enumerate(values):
        if v.lower() in MISSING:
            raise DataError(f"line {i + 2} has no date in {quoted(date)}")
    parsed = None
    for fmt in ("ISO8601", "mixed"):
        try:
            parsed = pd.to_datetime(pd.Series(values), format=fmt, errors="coerce")
        except (ValueError, TypeError, OverflowError):
            continue
        if not parsed.isna().any():
            break
    if parsed is None or parsed.isna().any():
        i = 0 if parsed is None else int(np.flatnonzero(parsed.isna().to_numpy())[0])
        raise DataError(f"line {i + 2} of {quoted(date)} holds {quoted(values[i])}, not a date")
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert(None)
    d = parsed.to_numpy().astype("datetime64[us]")  # pandas keeps dates before 1677 in seconds: no ns overflow
    same = np.flatnonzero(d[1:] == d[:-1])
    if len(same) or len(np.unique(d)) < len(d):
        i = int(same[0]) + 1 if len(same) else int(np.flatnonzero(pd.Series(d).duplicated().to_numpy())[0])
        first = int(np.flatnonzero(d == d[i])[0])
        raise DataError(f"date {quoted(values[i])} appears twice (lines {first + 2} and {i + 2}): one row per date")
    back = np.flatnonzero(d[1:] < d[:-1])
    if len(back):
        i = int(back[0]) + 1
        raise DataError(f"the dates are not in order: line {i + 2} ({quoted(values[i])}) comes after line {i + 1} "
                        f"({quoted(values[i - 1])}); sort the file by {quoted(date)}")
    return d


def train_rows(n: int) -> int:
    """How many of n rows train (the first ones); the rest, HELD_OUT_SHARE of them, are held out."""
    return n - max(1, math.ceil(HELD_OUT_SHARE * n))


def max_window(n_rows: int) -> int:
    """The longest T a series of n_rows holds: every training window lies in the training rows and
    at least MIN_TRAIN_WINDOWS of them remain."""
    return train_rows(n_rows) - MIN_TRAIN_WINDOWS


# --- labelled sentences --------------------------------------------------------------------------------------
TEXT, LABEL = "text", "label"


@dataclass(frozen=True)
class Sentences:
    texts: tuple[str, ...]
    labels: tuple[str, ...]
    notes: tuple[str, ...]


def sentence_table(t: Table) -> Sentences:
    """The `text,label` rows of t. Refused: either column missing, fewer than 2 or more than
    MAX_CLASSES labels, a label with one row (it needs one to train and one held out)."""
    cols = {c.lower(): c for c in t.columns}
    if TEXT not in cols or LABEL not in cols:
        raise DataError(f"labelled sentences need the columns text,label; this file has: {_names(t.columns)}")
    texts, labels = t.column(cols[TEXT]), t.column(cols[LABEL])
    keep = [i for i, (x, y) in enumerate(zip(texts, labels)) if x.lower() not in MISSING and y.lower() not in MISSING]
    notes = []
    if len(keep) < len(texts):
        n = len(texts) - len(keep)
        notes.append(f"{n:,} row{'s' if n > 1 else ''} without a text or a label left out")
    texts, labels = [texts[i] for i in keep], [labels[i] for i in keep]
    counts = pd.Series(labels, dtype=object).value_counts()
    if len(counts) < 2:
        raise DataError(f"the file has {len(counts)} label{'s' if len(counts) != 1 else ''}; a classification "
                        "needs at least 2")
    if len(counts) > MAX_CLASSES:
        raise DataError(f"the file has {len(counts):,} labels; the lab takes at most {MAX_CLASSES}")
    if counts.min() < 2:
        raise DataError(f"label {quoted(counts.index[-1])} has one row: every label needs at least 2 (one to "
                        "train on, one held out)")
    return Sentences(texts=tuple(texts), labels=tuple(labels), notes=tuple(notes))


# --- the data folder -------------------------------------------------------------------------------------------
def default_dir() -> Path:
    """The lab's data folder: $LAB_DATA_DIR, or data/ beside core/ (the run store lives there too;
    core.store reads it from here, as the tasks below the store need it)."""
    env = os.environ.get("LAB_DATA_DIR")
    return Path(env) if env else Path(__file__).resolve().parent.parent / "data"


def folder() -> Path:
    """Where own files are kept: `own/` in the data folder."""
    return default_dir() / "own"


def save(raw: bytes, name: str) -> str:
    """Check and keep the file under its hash (once: the same bytes are the same file); returns the hash."""
    check_table(raw)
    h = digest(raw)
    d = folder()
    d.mkdir(parents=True, exist_ok=True)
    path = d / f"{h}.csv"
    if not path.exists() or digest(path.read_bytes()) != h:
        tmp = d / f".{h}.tmp"
        tmp.write_bytes(raw)
        tmp.replace(path)
    meta = d / f"{h}.json"
    if not meta.exists():
        meta.write_text(json.dumps({"name": Path(str(name)).name[:200]}))
    return h


def load(h: str) -> bytes:
    """The bytes of the file kept under hash h, checked to hash to it."""
    if not isinstance(h, str) or not HASH_PATTERN.fullmatch(h):
        raise DataError(f"data must be a file's hash of {HASH_CHARS} hex digits, got {quoted(h)}")
    path = folder() / f"{h}.csv"
    try:
        raw = path.read_bytes()
    except OSError:
        raise DataError(f"no file with hash {h} in the data folder (LAB_DATA_DIR/own): give it again "
                        "(--csv FILE, or upload it)") from None
    if digest(raw) != h:
        raise DataError(f"the file kept as {h} in the data folder was changed since (its bytes no longer hash "
                        "to its name): give it again")
    return raw


def source_name(h: str) -> str:
    """The file's name as it was given (a plain string, cut), or the hash when unknown."""
    if not isinstance(h, str) or not HASH_PATTERN.fullmatch(h):
        return str(h)[:HASH_CHARS]
    try:
        name = json.loads((folder() / f"{h}.json").read_text()).get("name")
    except (OSError, ValueError, AttributeError):
        return h
    return name[:200] if isinstance(name, str) and name.strip() else h


__all__ = ["DataError", "MAX_BYTES", "HELD_OUT_SHARE", "MIN_TRAIN_WINDOWS", "Table", "check_table", "series_table",
           "SeriesData", "Sentences", "sentence_table", "save", "load", "source_name", "folder", "digest",
           "max_window", "train_rows", "quoted", "default_dir", "numeric_columns"]
