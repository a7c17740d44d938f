"""`python -m core train`: train the chosen models side by side and write a run folder."""
from __future__ import annotations

import argparse
import sys

from tqdm import tqdm

from core.cli.args import add_config_args, config_from_args
from core.cli.owndata import add_csv_arg, apply_csv, say_notes
from core.config import RunConfig, rule
from core.results import RunResult, format_metric
from core.runio import check_writable, load_resume_state, load_run, save_run
from core.store import RunStore
from core.trainer import Trainer


def add_parser(sub) -> None:
    p = sub.add_parser("train", help="train models and write a run folder",
                       description="Train the chosen models on the same batches and write config.json, "
                                   "metrics.csv, summary.json, grad_probes.csv and traces.npz to --out.")
    add_config_args(p)
    add_csv_arg(p)
    p.add_argument("--out", default=None, help="run folder to write (default: runs/demo; with --resume, the "
                                                "folder it resumes)")
    p.add_argument("--resume", default=None, metavar="RUN_DIR",
                   help="carry on a run folder to --steps steps in all, with its optimizer state and data "
                        "stream: the numbers are those of one run trained for all the steps (the other "
                        "settings come from the folder)")
    p.add_argument("--store", default=None, help="run store folder (default: $LAB_DATA_DIR or data/)")
    p.add_argument("--no-store", action="store_true", help="do not save the run in the run store")
    p.add_argument("--reuse", action="store_true", help="reuse models already in the run store")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def results_table(result: RunResult) -> str:
    task = result.task
    w = max([12] + [len(r.title) for r in result.runs.values()])  # 'LSTM, source reversed + attention'
    lines = [f"{'model':{w}s} {'final':>12s} {'chance':>8s} {'to target':>10s} {'seconds':>8s}  status"]
    for kind, s in result.summary().items():
        to = f"{s['steps_to_target']}" if s["steps_to_target"] is not None else "-"
        secs = s["elapsed_s"]
        secs = f"{secs:8.1f}" if secs == secs else f"{'-':>8s}"  # a reference run keeps no seconds
        lines.append(f"{s['name']:{w}s} {format_metric(s['final_metric'], task):>12s} {s['chance']:8.3f} "
                     f"{to:>10s} {secs}  {s['status']}")
    exact = {r.title: r.evals[-1]["exact_match"] for r in result.runs.values()
             if r.evals and "exact_match" in r.evals[-1]}
    if exact:  # a sentence task: the share of whole sentences right, beside the share of words
        lines.append("exact match (whole answers right): " + ", ".join(f"{k} {v:.0%}" for k, v in exact.items()))
    return "\n".join(lines)


def train_with_progress(cfg: RunConfig, quiet: bool = False, trainer: Trainer | None = None) -> RunResult:
    trainer = trainer or Trainer(cfg)
    bar = tqdm(total=trainer.cfg.train.steps, initial=trainer.step, desc="training", unit="step", disable=quiet,
               file=sys.stderr)
    last: dict[str, str] = {}
    try:
        for snap in trainer.iterate():
            last[snap.model] = format_metric(snap.metric, trainer.task)
            bar.update(trainer.step - bar.n)
            bar.set_postfix_str(" ".join(f"{k}={v}" for k, v in last.items()))
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: keep what was trained so far, marked stopped
        bar.close()
        trainer.stop()
        trainer.advance(0)
        print(f"stopped at step {trainer.step}: the models are written as stopped (not finished) and not "
              "kept in the run store", file=sys.stderr)
    finally:
        bar.close()
    return trainer.result()


def resume(args: argparse.Namespace) -> int:
    """`train --resume RUN_DIR --steps N`: the run of the folder, carried on to N steps."""
    steps = rule("train", "steps").check("--steps", args.cfg_steps)  # a resumed run keeps a new run's bound
    result = load_run(args.resume)
    state = load_resume_state(args.resume)
    if steps <= result.config.train.steps:
        raise ValueError(f"--steps must be more than the {result.config.train.steps} steps the run in "
                         f"{args.resume} already has, got {steps}")
    out = check_writable(args.out or args.resume)
    trainer = Trainer(result.config, resume=(result, state))
    trainer.extend(steps)
    trained = train_with_progress(trainer.cfg, args.quiet, trainer=trainer)
    if not args.no_store:
        RunStore(args.store).put_result(trained)
    save_run(trained, out, resume=trainer.state())
    print(results_table(trained))
    for s in trained.summary().values():
        print("- " + s["verdict"])
    print(f"carried on {args.resume} to {steps} steps; wrote {out}/")
    return 0


def run(args: argparse.Namespace) -> int:
    if args.resume is not None:
        return resume(args)
    apply_csv(args)
    cfg = config_from_args(args)
    say_notes(cfg)
    out = check_writable(args.out or "runs/demo")
    store = None if args.no_store else RunStore(args.store)
    if store is not None and store.notice():
        print(f"note: {store.notice()}", file=sys.stderr)
    reused: dict = {}
    if store is not None and args.reuse:
        found, missing = store.get_result(cfg)
        reused = found.runs
        cfg_to_train = cfg.replace(models=tuple(missing)) if missing else None
    else:
        cfg_to_train = cfg
    result = RunResult(config=cfg, runs={})
    state = None
    if cfg_to_train is not None:
        trainer = Trainer(cfg_to_train)
        trained = train_with_progress(cfg_to_train, args.quiet, trainer=trainer)
        state = trainer.state() if not reused else None  # resumable when this command trained every model
        if store is not None:
            store.put_result(trained)
        result.runs.update(trained.runs)
    result.runs.update(reused)
    result.runs = {k: result.runs[k] for k in cfg.models if k in result.runs}
    save_run(result, out, resume=state)
    stored = [k for k, r in reused.items() if not r.source]
    if stored:
        print(f"reused from the run store: {', '.join(stored)}")
    if len(stored) < len(reused):
        ref = [k for k, r in reused.items() if r.source]
        print(f"reused from the shipped reference: {', '.join(ref)}: {reused[ref[0]].source} (not trained on this "
              "machine; `python -m core reference check` compares)")
    print(results_table(result))
    for s in result.summary().values():
        print("- " + s["verdict"])
    print(f"wrote {out}/")
    return 0
