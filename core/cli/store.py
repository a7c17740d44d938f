"""`python -m core store verify`: train stored runs again and compare their numbers.

A run is identified by its config; this checks the promise behind that (same config, same
numbers) on the store itself. One line per run that disagrees, exit 1 if any does. A row written
before runs followed from their config alone (not `trusted`) is marked trusted when it
reproduces, and replaced by the run trained now when it does not.
"""
from __future__ import annotations

import argparse
import json
import random
import sys

from tqdm import tqdm

from core.config import ConfigError, RunConfig, validate
from core.results import differences
from core.store import RunStore, StoreError
from core.trainer import Trainer


def add_parser(sub) -> None:
    p = sub.add_parser("store", help="check the run store",
                       description="verify: train stored model runs again and compare every number.")
    what = p.add_subparsers(dest="store_command", required=True)
    v = what.add_parser("verify", help="train stored runs again and compare their numbers",
                        description="Train stored model runs again from their configs and compare steps, "
                                    "evaluations and weights bit for bit; one line per disagreement.")
    v.add_argument("--sample", type=int, default=0, metavar="N",
                   help="check N runs drawn at random (seeded, so the same N runs each time; default: all)")
    v.add_argument("--store", default=None, help="run store folder (default: $LAB_DATA_DIR or data/)")
    v.add_argument("--quiet", action="store_true", help="no progress bar")
    v.set_defaults(run=verify)


def verify(args: argparse.Namespace) -> int:
    if args.sample < 0:
        raise ValueError(f"--sample must be 0 (all) or more, got {args.sample}")
    store = RunStore(args.store)
    rows = store.summaries()
    rows = rows[rows["status"].isin(("finished", "diverged"))] if not rows.empty else rows
    picked = list(rows.itertuples(index=False)) if not rows.empty else []
    if args.sample and args.sample < len(picked):
        picked = sorted(random.Random(0).sample(picked, args.sample), key=lambda r: r.created)
    bad = kept = replaced = 0
    for row in tqdm(picked, desc="verifying", unit="run", disable=args.quiet, file=sys.stderr):
        try:
            stored = store.get_by_hash(row.hash, trusted_only=False)
        except StoreError as e:  # a changed row: named, counted, and the others still verified
            print(f"{row.hash} {row.kind} {row.task} T={row.seq_len}: refused: {e}")
            bad += 1
            continue
        try:
            cfg = validate(RunConfig.from_dict(json.loads(row.config)))
        except (ConfigError, ValueError, KeyError, TypeError):
            cfg = None
        if stored is None or cfg is None:
            print(f"{row.hash} {row.kind} {row.task} T={row.seq_len}: cannot be read back as a run of this lab")
            bad += 1
            continue
        again = Trainer(cfg).run().runs[cfg.models[0]]
        diff = differences(stored, again)
        if not diff:
            if not row.trusted:
                store.trust(row.hash)
                kept += 1
            continue
        bad += 1
        what = "; ".join(diff[:3])
        if not row.trusted:  # it was never served: the run trained now takes its place
            store.put(again)
            replaced += 1
            what += " (an older row: replaced by the run trained now)"
        print(f"{row.hash} {stored.title} {row.task} T={row.seq_len} seed={row.seed}: {what}")
    note = []
    if kept:
        note.append(f"{kept} older run(s) reproduced and are trusted now")
    if replaced:
        note.append(f"{replaced} older run(s) replaced")
    print(f"verified {len(picked)} of {len(rows)} stored run(s): {len(picked) - bad} gave the same numbers, "
          f"{bad} did not{'; ' + ', '.join(note) if note else ''}")
    return 1 if bad else 0
