"""`--csv FILE`: a learner's own CSV for train and sweep. The file is checked, copied into the data
folder under its content hash (core.owndata) and named in the config by that hash: --target COLUMN
makes it a series to forecast (own_series), no --target labelled sentences (own_text, columns
text,label)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core import owndata
from core.config import RunConfig
from core.tasks import make_task


def add_csv_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--csv", default=None, metavar="FILE",
                   help="your own CSV (at most {:,} bytes, UTF-8): with --target COLUMN [--date COLUMN] a series to "
                        "forecast (own_series), without --target labelled sentences with columns text,label "
                        "(own_text); kept in the data folder by its hash, never sent anywhere"
                        .format(owndata.MAX_BYTES))


def apply_csv(args: argparse.Namespace) -> None:
    """Keep --csv FILE in the data folder and point the config's task at it (one-line errors)."""
    if args.csv is None:
        return
    path = Path(args.csv)
    try:
        if not path.is_file():
            raise owndata.DataError(f"--csv {args.csv}: no such file")
        size = path.stat().st_size
        if size > owndata.MAX_BYTES:
            raise owndata.DataError(f"--csv {args.csv}: the file has {size:,} bytes; the lab takes CSV files of at "
                                    f"most {owndata.MAX_BYTES:,} bytes")
        raw = path.read_bytes()
    except OSError as e:
        raise owndata.DataError(f"--csv {args.csv}: cannot read it ({e.strerror})") from None
    try:
        args.cfg_data = owndata.save(raw, path.name)
    except owndata.DataError as e:
        raise owndata.DataError(f"--csv {args.csv}: {e}") from None
    args.cfg_name = "own_series" if args.cfg_column else "own_text"


def say_notes(cfg: RunConfig) -> None:
    """What was done to the file (missing values filled, unknown words), on stderr, one line each."""
    if cfg.task.data:
        task = make_task(cfg.task)
        print(f"data: {task.data_words()}", file=sys.stderr)
        for note in task.notes:
            print(f"note: {note}", file=sys.stderr)


__all__ = ["add_csv_arg", "apply_csv", "say_notes"]
