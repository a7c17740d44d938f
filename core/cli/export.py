"""`python -m core export`: the charts of a saved run or sweep as files, and the one-file report.

    python -m core export --run runs/demo --out exports/ --formats png,svg,html,csv --report

writes exports/NAME.png|svg|html|csv for every chart (learning curves, gradients through time,
LSTM internals; or the sweep's charts for a sweep folder) and, with --report, exports/report.html
(one self-contained file) and exports/report.zip (PNG + SVG + CSV + config.json).
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from core.charts.export import FORMATS, folder_report, parse_formats, report_html, report_zip, run_report, write_charts
from core.inspection import check_step
from core.runio import check_writable, load_run


def add_parser(sub) -> None:
    p = sub.add_parser("export", help="export a run's or sweep's charts (PNG, SVG, HTML, CSV) and report",
                       description="Write every chart of a saved run (or sweep) folder as PNG (2x), SVG, "
                                   "self-contained HTML and CSV; --report adds report.html and report.zip.")
    p.add_argument("--run", dest="folder", required=True, metavar="DIR",
                   help="run folder from `python -m core train --out` or sweep folder from `python -m core sweep`")
    p.add_argument("--out", default="exports", help="folder to write into (default: exports)")
    p.add_argument("--formats", default=",".join(FORMATS),
                   help=f"comma-separated, any of {', '.join(FORMATS)} (default: all)")
    p.add_argument("--report", action="store_true", help="also write report.html and report.zip")
    p.add_argument("--step", type=int, default=None,
                   help="training step of the checkpoint the gradient and gate charts show (default: last)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    formats = parse_formats(args.formats)  # bad formats fail before any work
    out = check_writable(args.out)
    t0 = time.perf_counter()
    if args.step is None:
        report = folder_report(args.folder)
    else:  # a checkpoint the run kept, as `inspect --step` takes it
        if (Path(args.folder) / "sweep.csv").exists():
            raise ValueError(f"--step picks a checkpoint of a run folder; {args.folder} is a sweep folder")
        result = load_run(args.folder)
        check_step(result, args.step, args.folder)
        report = run_report(result, step=args.step)
    written = write_charts(report.items, out, formats)
    if args.report:
        html_path, zip_path = Path(out) / "report.html", Path(out) / "report.zip"
        html_path.write_text(report_html(report), encoding="utf-8")
        zip_path.write_bytes(report_zip(report))
        written += [html_path, zip_path]
    for p in written:
        print(p)
    print(f"wrote {len(written)} files to {out}/ in {time.perf_counter() - t0:.1f} s")
    return 0
