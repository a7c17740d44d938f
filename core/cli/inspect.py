"""`python -m core inspect`: what the "Gradients through time" and "Inside the LSTM" pages show,
headless, for one checkpoint of a run folder: the tables as CSV and, with --html, the charts."""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from core.charts.export import chart_html
from core.charts.inside import inspect_charts
from core.inspection import (check_step, example_traces, forget_arithmetic, inspect_data, kept_steps, resolve_step, showcase,
                             step_table)
from core.inspection import grad_through_time, model_from_weights, probe_batch
from core.results import RunResult
from core.runio import check_writable, load_run

FILES = {  # table -> what it holds (printed by --help)
    "grad_through_time": "||dL/dh_t|| per model, checkpoint step and time step t",
    "info_positions": "share of the probe batch's examples with information at each t",
    "decay": "||dL/dh_1|| / ||dL/dh_T|| per model at initialisation and at the step",
    "grad_norm": "global gradient norm (before clipping) and clipping per training step",
    "heatmaps": "h_t, c_t and gates (units x time) of the chosen example at the step",
    "example_info": "the chosen example's information positions",
    "gate_means": "LSTM mean forget / input / output gate per time step",
    "forget_arithmetic": "W_f·[h_{t-1}, x_t] + b_f, σ of it and f_t ⊙ c_{t-1} per unit at time step --t",
    "step_table": "one row per input step: gates, ||c_t||, ||h_t||, the answer read out at that step",
    "connectivity": "how strongly each model's read-out at a position depends on each input position "
                    "(mean ||d read-out / d input|| over 8 held-out examples; positions from 0)",
    "sentence_table": "every model's rows (column model) of the step table for the sentence of --text (sentiment_but)",
}


def add_parser(sub) -> None:
    p = sub.add_parser(
        "inspect", help="gradients through time, cell state and gates of a run folder",
        description="Compute, from the weights kept in a run folder, the gradients through time, the gradient "
                    "norm over training, the LSTM's cell state and gates and the step-by-step table of one "
                    "checkpoint, and write them as CSV files to --out: " + "; ".join(f"{k}.csv: {v}"
                                                                                    for k, v in FILES.items()))
    p.add_argument("--run", required=True, dest="run_dir", metavar="DIR", help="run folder written by `python -m core train --out`")
    p.add_argument("--out", required=True, help="folder to write the tables (and charts) to")
    p.add_argument("--step", type=int, default=None, help="checkpoint step (default: the last kept one; "
                                                           "the nearest kept one is used)")
    p.add_argument("--example", type=int, default=0, help="which held-out showcase example, 0-3 (default: 0)")
    p.add_argument("--t", type=int, default=None, dest="t",
                   help="time step of the forget-gate arithmetic (default: just after the last information)")
    p.add_argument("--text", default=None, help="sentiment_but: a sentence in the task's vocabulary to trace")
    p.add_argument("--html", action="store_true", help="also write the charts as self-contained HTML files")
    p.add_argument("--bench", action="store_true",
                   help="also time every probe of the checkpoint, per model (best and median of 5), and print it")
    p.set_defaults(run=run)


def bench(result: RunResult, step: int | None, repeats: int = 5) -> list[str]:
    """Seconds to compute, from one checkpoint's weights, each probe the pages show: the gradient
    probe on the 64-example probe batch, traces of the 4 showcase examples, the step-by-step table
    and the forget-gate arithmetic (LSTM)."""
    task = result.task
    x, y = probe_batch(task)
    xs, _, _ = showcase(task)
    lines = []
    for kind, run in result.runs.items():
        if not run.checkpoints:
            continue
        s = resolve_step(run, step)

        def once() -> list[float]:
            marks = [time.perf_counter()]
            grad_through_time(model_from_weights(run.config, kind, run.checkpoints[s]), task, x, y)
            marks.append(time.perf_counter())
            example_traces(result, kind, s, xs)
            marks.append(time.perf_counter())
            step_table(result, kind, s, xs, 0)
            marks.append(time.perf_counter())
            if kind == "lstm":
                forget_arithmetic(result, xs, min(1, task.seq_len - 1), s)
            marks.append(time.perf_counter())
            return [b - a for a, b in zip(marks, marks[1:])] + [marks[-1] - marks[0]]

        once()  # warm-up
        runs = list(zip(*[once() for _ in range(repeats)]))  # one tuple per measured part
        best = [min(c) for c in runs]
        med = [sorted(c)[len(c) // 2] for c in runs]
        names = ["grad probe", "traces", "step table", "forget arithmetic", "all"]
        lines.append(f"{kind} step {s} (T={task.seq_len}, hidden {result.config.model.hidden_size}, "
                     f"{torch.get_num_threads()} threads): " + ", ".join(
                         f"{n} {b * 1000:.0f} ms (median {m * 1000:.0f})" for n, b, m in zip(names, best, med)))
    return lines


def run(args: argparse.Namespace) -> int:
    result = load_run(args.run_dir)
    check_step(result, args.step, args.run_dir)
    steps = kept_steps(result)
    if not 0 <= args.example <= 3:
        raise ValueError(f"--example must be between 0 and 3, got {args.example}")
    out = check_writable(args.out)
    t0 = time.perf_counter()
    data = inspect_data(result, args.step, args.example, args.text, args.t)
    computed = time.perf_counter() - t0
    for name, df in data.items():
        df.to_csv(Path(out) / f"{name}.csv", index=False)
    if args.html:
        for item in inspect_charts(result, args.step):
            # the export's page, not Altair's inline save: its data is escaped for <script> (no '<')
            (Path(out) / f"{item.name}.html").write_text(chart_html(item.chart, item.title), encoding="utf-8")
    for line in data["decay"]["summary"]:
        print("- " + line)
    if args.bench:
        for line in bench(result, args.step):
            print("bench: " + line)
    print(f"computed every probe and table in {computed:.2f} s (probes of all {len(steps)} kept checkpoints "
          f"included where the run folder lacked them)")
    print(f"wrote {out}/ ({', '.join(f'{n}.csv' for n in data)}{', charts as .html' if args.html else ''})")
    return 0
