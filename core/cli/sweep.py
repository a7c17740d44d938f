"""`python -m core sweep`: the final metric against sequence length, per model, over seeds.

    python -m core sweep --task first_token --lengths 10,25,50,100,200 --models rnn,lstm \\
        --seeds 0,1,2 --steps 1500 --out runs/sweep [--executor inprocess|process|ray] [--workers N]
        [--address HOST:PORT] [--store DIR]

Runs already in the run store are reused. Writes sweep.csv, sweep.json and the charts' data
(see core.sweep). Ctrl-C stops the sweep and still writes the runs that finished.
"""
from __future__ import annotations

import argparse
import sys
import threading

from tqdm import tqdm

from core.charts.sweep import write_chart_data
from core.cli.args import add_config_args, config_from_args
from core.config import parse_variants, variant_choices
from core.executors import EXECUTORS, make_executor
from core.runio import check_writable
from core.store import RunStore
from core.tasks import TASKS
from core.sweep import (DEFAULT_LENGTHS, DEFAULT_PATIENCE, DEFAULT_SEEDS, DEFAULT_STEPS, MAX_RUNS, MAX_SWEEP_STEPS,
                        SweepResult, aggregate, make_sweep, run_sweep, save_sweep, sweep_from_store)

SWEEP_DEFAULTS = {"steps": DEFAULT_STEPS, "patience": DEFAULT_PATIENCE}  # why: core/sweep.py


def add_parser(sub) -> None:
    p = sub.add_parser("sweep", help="sweep sequence length over seeds and write sweep.csv",
                       description="Train every model at every sequence length and seed (reusing runs "
                                   "already in the run store) and write sweep.csv, sweep.json and the "
                                   f"charts' data to --out. At most {MAX_RUNS} runs and {MAX_SWEEP_STEPS:,} "
                                   "training steps in all (runs x steps).")
    # the grid replaces --seq-len and --seed (--lengths, --seeds); other fields keep their flags
    add_config_args(p, skip=("seq_len", "seed"), defaults=SWEEP_DEFAULTS, models_help=(
        "comma-separated kinds, each optionally with its init as kind:init, to compare starts: "
        f"{', '.join(variant_choices())} (default: rnn,lstm)"))
    for flag in ("--seq-len", "--seed"):  # accepted only to say what to use instead
        p.add_argument(flag, dest=f"single_{flag[2:].replace('-', '_')}", default=None, help=argparse.SUPPRESS)
    p.add_argument("--lengths", default=",".join(map(str, DEFAULT_LENGTHS)),
                   help="comma-separated sequence lengths T (default: %(default)s)")
    p.add_argument("--seeds", default=",".join(map(str, DEFAULT_SEEDS)),
                   help="comma-separated seeds (default: %(default)s)")
    p.add_argument("--out", default="runs/sweep", help="folder to write (default: runs/sweep)")
    p.add_argument("--executor", default="auto", choices=EXECUTORS,
                   help="where runs train: auto (default: a process pool, one worker per core), inprocess "
                        "(one at a time), threads (--workers threads of this process), process (a pool of "
                        "--workers processes), ray")
    p.add_argument("--workers", type=int, default=0, help="pool size (default: one per core)")
    p.add_argument("--address", default=None, help="Ray cluster address (default: start a local instance)")
    p.add_argument("--store", default=None, help="run store folder (default: $LAB_DATA_DIR or data/)")
    p.add_argument("--no-store", action="store_true", help="neither reuse nor save runs")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def summary_lines(result_table) -> list[str]:
    agg = aggregate(result_table)
    w = max([12, *(len(n) for n in agg["name"])]) if not agg.empty else 12
    lines = [f"{'model':{w}s} {'T':>5s} {'metric mean':>11s} {'min..max':>15s} {'reached':>8s} "
             f"{'steps':>6s} {'s/run':>6s}"]
    for _, r in agg.iterrows():
        steps = f"{r['steps_mean']:.0f}" if r["reached"] else "-"
        lines.append(f"{r['name']:{w}s} {r['seq_len']:5d} {r['metric_mean']:11.3f} "
                     f"{r['metric_min']:7.3f}..{r['metric_max']:<6.3f} {r['reached']:>4d}/{r['seeds']:<3d} "
                     f"{steps:>6s} {r['wall_mean']:6.1f}")
    return lines


def run(args: argparse.Namespace) -> int:
    if args.single_seq_len is not None or args.single_seed is not None:
        raise ValueError("a sweep takes --lengths and --seeds instead of --seq-len and --seed")
    if args.workers < 0:
        raise ValueError("--workers must be 0 (the default) or more")
    # seq_len and seed: placeholders that pass validation for every task; the grid sets both per run
    variants = parse_variants(args.models)  # 'rnn,rnn:irnn,lstm:zero'
    kinds = tuple(dict.fromkeys(v.partition(":")[0] for v in variants))
    base = config_from_args(args, models=kinds, seq_len=max(c.min_seq_len for c in TASKS.values()), seed=0)
    sweep = make_sweep(base, args.lengths, args.seeds, variants)
    out = check_writable(args.out)
    store = None if args.no_store else RunStore(args.store)
    if store is not None and store.notice():
        print(f"note: {store.notice()}", file=sys.stderr)
    n = len(sweep.jobs())
    executor = make_executor(args.executor, args.workers, args.address)
    bar = tqdm(total=n, disable=args.quiet, file=sys.stderr, bar_format="|{bar}| {desc}")
    stop = threading.Event()

    def progress(p) -> None:
        bar.n = round(p.fraction * n, 2)
        bar.set_description_str(p.message)

    try:
        result = run_sweep(sweep, store, executor, on_progress=progress, stop=stop)
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: every finished run is already in the store
        stop.set()
        bar.close()
        kept = sweep_from_store(sweep, store) if store is not None else None
        print(f"stopped: {0 if kept is None else len(kept)} finished run(s) kept in the run store; the runs in "
              "flight were not kept", file=sys.stderr)
        if kept is None or kept.empty:
            return 0
        result = SweepResult(config=sweep, table=kept, reused=len(kept), trained=0, failed=0, stopped=True,
                             wall_s=0.0, executor=executor.name)
    finally:
        bar.n = n if not stop.is_set() else bar.n
        bar.close()
    # the charts' data go in before the manifest, which is written last
    save_sweep(out, result.table, result.info(), write_extra=lambda p: write_chart_data(p, result.table))
    print(f"{n} runs: {result.reused} reused from the run store, {result.trained} trained"
          f"{f', {result.failed} failed' if result.failed else ''} in {result.wall_s:.1f} s "
          f"({result.executor}){' - stopped early' if result.stopped else ''}")
    for e in dict.fromkeys(result.errors):
        print(f"failed: {e}")
    if not result.table.empty:
        print("\n".join(summary_lines(result.table)))
    print(f"wrote {out}/")
    return 0 if not result.failed else 1
