"""`python -m core reference build | check [--quick]`: the shipped reference results (core.reference).

build: train every run the front pages need (the tour, the lab's default experiment, the default
sweep) and write `reference/` (data only, a manifest with each file's sha256, the torch version and
the CPU). check: train reference runs again here and compare, one line per run, exit 1 when one
differs (bit-identical on the build's torch and CPU; otherwise within the stated tolerance).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.shipped import Reference, default_folder


def add_parser(sub) -> None:
    p = sub.add_parser("reference", help="build or check the shipped reference results",
                       description="build: train every run the front pages need and write reference/; "
                                   "check: train reference runs again and compare.")
    what = p.add_subparsers(dest="reference_command", required=True)
    b = what.add_parser("build", help="train the reference runs and write the folder")
    b.add_argument("--out", default=None, help="folder to write (default: $LAB_REFERENCE or reference/)")
    b.add_argument("--reuse", default=None, metavar="FOLDER",
                   help="an earlier build on this torch and CPU: its runs that this plan keeps the same way are "
                        "taken, not trained again (they would give the same bits)")
    b.add_argument("--workers", type=int, default=2, help="runs trained at once (threads; default 2)")
    b.add_argument("--built", default=None, metavar="YYYY-MM-DD",
                   help="the build date written in the manifest (default: today, UTC)")
    b.set_defaults(run=build)
    c = what.add_parser("check", help="train reference runs again here and compare, one line per run")
    c.add_argument("--quick", action="store_true", help="only the few cheapest runs (under a minute)")
    c.add_argument("--runs", default=None, metavar="HASH,...", help="only these runs (config hashes)")
    c.add_argument("--folder", default=None, help="reference folder (default: $LAB_REFERENCE or reference/)")
    c.add_argument("--workers", type=int, default=2, help="runs trained at once (threads; default 2)")
    c.set_defaults(run=check)


def _folder(given: str | None) -> Path:
    folder = Path(given) if given else default_folder()
    if folder is None:
        raise ValueError("no reference folder: LAB_REFERENCE is off; pass --folder or --out")
    return folder


def build(args: argparse.Namespace) -> int:
    from core.reference.build import build as build_reference, built_date

    if args.workers < 1:
        raise ValueError(f"--workers must be 1 or more, got {args.workers}")
    folder = _folder(args.out)
    reuse = Path(args.reuse) if args.reuse else None
    if reuse is not None and not (reuse / "manifest.json").is_file():
        raise ValueError(f"--reuse {reuse}: no reference there (no manifest.json)")
    m = build_reference(folder, args.built or built_date(), workers=args.workers,
                        say=lambda s: print(s, file=sys.stderr), reuse=reuse)
    print(f"wrote {folder}/: {m['runs']} runs, {len(m['files']) + 1} files, {m['bytes']:,} bytes "
          f"(torch {m['torch']} on {m['cpu']}, {m['built']})")
    return 0


def check(args: argparse.Namespace) -> int:
    from core.reference.build import check as check_reference, quick_selection

    folder = _folder(args.folder)
    if not (folder / "manifest.json").is_file():
        raise ValueError(f"{folder} holds no reference (no manifest.json); build it with "
                         "`python -m core reference build`")
    ref = Reference(folder)
    if args.runs:
        hashes = [h.strip() for h in args.runs.split(",") if h.strip()]
        unknown = [h for h in hashes if h not in ref.index]
        if unknown:
            raise ValueError(f"not reference runs: {', '.join(unknown)}")
    else:
        hashes = quick_selection(ref) if args.quick else list(ref.index)
    bad = check_reference(ref, hashes, workers=max(1, args.workers))
    for line in ref.problems:
        print(line)
    return 1 if bad or ref.problems else 0
