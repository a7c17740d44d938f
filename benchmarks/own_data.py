"""Benchmark: what checking and laying out a learner's CSV costs at the size limit. A script that
prints figures, not a test.

    python -m benchmarks.own_data            # a file just under core.owndata.MAX_BYTES, 3 numeric columns and a date

Prints the file's size and rows, then the seconds of check_table (decode, CSV, header, row lengths),
of series_table with and without the date column (numbers, missing values, dates in order), and of
reading the same file again (the page reruns on every click: it is read once per process).
"""
from __future__ import annotations

import time

import numpy as np

from core import owndata


def big_csv() -> bytes:
    rng = np.random.default_rng(0)
    n = 200_000
    days = np.datetime64("1500-01-01") + np.arange(n)
    a, b = rng.normal(size=n), rng.normal(size=n)
    lines = ["day,a,b,c"] + [f"{d},{x:.4f},{y:.4f},{i % 7}" for i, (d, x, y) in enumerate(zip(days, a, b))]
    raw = ("\n".join(lines) + "\n").encode()[: owndata.MAX_BYTES]
    return raw[: raw.rfind(b"\n") + 1]


def main() -> None:
    raw = big_csv()
    t0 = time.perf_counter()
    t = owndata.check_table(raw)
    t1 = time.perf_counter()
    owndata.series_table(t, "a", "day")
    t2 = time.perf_counter()
    owndata.series_table(t, "a")
    t3 = time.perf_counter()
    owndata.check_table(bytes(raw))  # a new bytes object with the same content, as a rerun's upload is
    t4 = time.perf_counter()
    print(f"{len(raw):,} bytes, {t.n_rows:,} rows: check_table {t1 - t0:.2f} s, series_table with dates "
          f"{t2 - t1:.2f} s, without {t3 - t2:.2f} s, the same file again {t4 - t3:.3f} s")


if __name__ == "__main__":
    main()
