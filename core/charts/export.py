"""Export: every chart as PNG, SVG, self-contained HTML and CSV; a one-file HTML report; a ZIP.

The same core ChartItems the dashboard draws are exported, so a figure in a paper is the figure
on the page. Rendering goes Vega-Lite spec -> SVG once (vl-convert runs Vega), then SVG -> PNG
(resvg, ~0.1 s), so a chart exported in both formats is laid out once; the result is the same
image `chart.save(buf, format="png", scale_factor=2)` gives. HTML carries the Vega, Vega-Lite and
vega-embed libraries inline (no CDN): it opens offline.
"""
from __future__ import annotations

import hashlib
import html
import io
import json
import math
import threading
import time
import zipfile
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import altair as alt
import pandas as pd
import vl_convert as vlc

from core.charts import ChartItem, run_charts
from core.charts.inside import inspect_charts
from core.charts.sweep import sweep_charts
from core.config import RunConfig, config_hash, flag_of
from core.runio import RunFolderError, load_run
from core.sweep import load_sweep

FORMATS = ("png", "svg", "html", "csv")
MIME = {"png": "image/png", "svg": "image/svg+xml", "html": "text/html", "csv": "text/csv",
        "zip": "application/zip"}
PNG_SCALE = 2  # 2x pixels: sharp on slides and retina screens

VL_VERSION = "_".join(alt.SCHEMA_VERSION.split(".")[:2])  # 'v6.4.1' -> 'v6_4', as vl-convert names it
_svg_cache: OrderedDict[str, str] = OrderedDict()  # spec hash -> SVG, so PNG after SVG is cheap
_cache_lock = threading.Lock()
_SVG_CACHE_CHARS = 32_000_000  # the cache lives as long as the server: bound it (a heatmap is ~1 MB)


# --- one chart ---------------------------------------------------------------------------------
def _inline(chart):
    """A copy of the chart (and of every layer and panel in it) whose DataFrames are inline values.

    Altair turns a DataFrame into data through its process-wide data transformer, which Streamlit
    swaps for its own while it draws a chart on another thread. Data already inline never goes
    through the transformer, so an export (made on a download thread) is the same whatever the
    page is drawing, with no lock to share, and without the 5,000-row guard (heatmaps are large).
    """
    chart = chart.copy(deep=False)
    if isinstance(getattr(chart, "data", None), pd.DataFrame):
        chart.data = alt.to_values(chart.data)
    for part in ("layer", "hconcat", "vconcat", "concat"):
        subs = getattr(chart, part, alt.Undefined)
        if isinstance(subs, list):
            setattr(chart, part, [_inline(c) for c in subs])
    if isinstance(getattr(chart, "spec", None), alt.SchemaBase):  # facet and repeat charts
        chart.spec = _inline(chart.spec)
    return chart


def chart_spec(chart: alt.TopLevelMixin) -> dict:
    """The chart's Vega-Lite spec with its data inline."""
    return _inline(chart).to_dict()


def _spec_json(spec: dict) -> str:
    return json.dumps(spec, sort_keys=True, separators=(",", ":"))


def chart_svg(chart: alt.TopLevelMixin | dict) -> str:
    spec = chart if isinstance(chart, dict) else chart_spec(chart)
    key = hashlib.sha1(_spec_json(spec).encode()).hexdigest()
    with _cache_lock:
        if key in _svg_cache:
            _svg_cache.move_to_end(key)
            return _svg_cache[key]
    svg = vlc.vegalite_to_svg(spec, vl_version=VL_VERSION)
    with _cache_lock:
        _svg_cache[key] = svg
        while sum(map(len, _svg_cache.values())) > _SVG_CACHE_CHARS and len(_svg_cache) > 1:
            _svg_cache.popitem(last=False)
    return svg


def chart_png(chart: alt.TopLevelMixin | dict, scale: float = PNG_SCALE) -> bytes:
    return vlc.svg_to_png(chart_svg(chart), scale=scale)


@lru_cache(maxsize=1)
def vega_bundle() -> str:
    """vega + vega-lite + vega-embed as one script (~0.9 MB), made once per process."""
    return vlc.javascript_bundle(vl_version=VL_VERSION)


# Inside <script>, the HTML parser reads '</script' as the tag's end and '<!--' as the start of a
# comment in which a later '<script' swallows the real end (the page's charts are then never drawn),
# whatever JSON says. In JSON text these characters occur only inside strings, where \uXXXX means the
# same character: escaped, the data reads the same to JSON.parse and means nothing to the HTML parser.
SCRIPT_ESCAPES = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028",
                                "\u2029": "\\u2029"})


def _script_json(obj: Any) -> str:
    """JSON safe inside <script>: no '<', '>' or '&' (nor the two line separators JavaScript reads as
    line ends) appears as itself, so no data can end the tag, open a comment or run a script."""
    text = json.dumps(obj, separators=(",", ":"))
    return text.translate(SCRIPT_ESCAPES)


def _embed_block(specs: list[tuple[str, dict]]) -> str:
    """Script tags that draw each (div id, spec) with vega-embed; specs travel as JSON data."""
    parts = [f'<script type="application/json" id="{i}-spec">{_script_json(s)}</script>' for i, s in specs]
    ids = _script_json([i for i, _ in specs])
    parts.append("<script>\n" + f"for (const id of {ids}) {{\n"
                 "  const spec = JSON.parse(document.getElementById(id + '-spec').textContent);\n"
                 "  vegaEmbed('#' + id, spec, {renderer: 'svg', actions: {export: true, source: true, "
                 "compiled: false, editor: false}}).catch(e => {\n"
                 "    document.getElementById(id).textContent = 'This chart could not be drawn: ' + e;\n"
                 "  });\n}\n</script>")
    return "\n".join(parts)


CSS = """body{font-family:Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.6em;margin-bottom:.2em} .sub{color:#555;margin-top:0}
figure{margin:2em 0;padding:0;border-top:1px solid #ddd} figcaption{color:#444;max-width:60em;margin-top:.4em}
table{border-collapse:collapse;font-size:.9em} td,th{border:1px solid #ddd;padding:.25em .6em;text-align:left}
pre{background:#f6f6f6;padding:.8em;overflow:auto;font-size:.85em;white-space:pre-wrap}
.verdicts li{margin:.3em 0}"""


def _page(title: str, body: str, specs: list[tuple[str, dict]]) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
            f"<title>{html.escape(title)}</title>\n<style>{CSS}</style>\n"
            f"<script>\n{vega_bundle()}\n</script>\n</head><body>\n{body}\n{_embed_block(specs)}\n</body></html>\n")


def chart_html(chart: alt.TopLevelMixin, title: str = "chart") -> str:
    """One interactive chart as a self-contained page (same template as the report)."""
    return _page(title, '<div id="vis0"></div>', [("vis0", chart_spec(chart))])


def chart_csv(item: ChartItem) -> str:
    return item.data.to_csv(index=False)


def export_chart(item: ChartItem, fmt: str) -> bytes:
    """One ChartItem in one format, as the bytes of the file."""
    if fmt == "png":
        return chart_png(item.chart)
    if fmt == "svg":
        return chart_svg(item.chart).encode()
    if fmt == "html":
        return chart_html(item.chart, item.title).encode()
    if fmt == "csv":
        return chart_csv(item).encode()
    raise ValueError(f"unknown export format {fmt!r}; choose from {', '.join(FORMATS)}")


def parse_formats(text: str) -> tuple[str, ...]:
    fmts = tuple(dict.fromkeys(s.strip().lower() for s in text.split(",") if s.strip()))
    bad = [f for f in fmts if f not in FORMATS]
    if bad or not fmts:
        raise ValueError(f"unknown export format {', '.join(bad) or '(none)'}; choose from {', '.join(FORMATS)}")
    return fmts


def write_charts(items: list[ChartItem], out: str | Path, formats: tuple[str, ...] = FORMATS) -> list[Path]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for item in items:
        for fmt in formats:
            p = out / f"{item.name}.{fmt}"
            p.write_bytes(export_chart(item, fmt))
            written.append(p)
    return written


# --- a report: everything about one run (or sweep) ----------------------------------------------
@dataclass
class Report:
    title: str
    subtitle: str
    config: dict  # written as config.json: enough to run the experiment again
    verdicts: list[str]
    items: list[ChartItem]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)  # extra data, e.g. the summary
    reproduce: str | None = None  # the CLI command that runs the experiment again


def _flags(cfg: RunConfig, skip: tuple[str, ...] = (), models: list[str] | None = None) -> str:
    """Every config field as its CLI flag (device left to the machine that runs it); `models`: the
    sweep's variants ('rnn:irnn') when it names starts, else the config's kinds."""
    d = cfg.to_dict()
    args = [f"--{flag_of(section, k)} {v}" for section in ("task", "model", "train")
            for k, v in d[section].items() if k not in ("device", *skip)]
    return " ".join(args + [f"--models {','.join(models or cfg.models)}"])


def reproduce_command(cfg: RunConfig) -> str:
    """`python -m core train ...` with every setting spelled out."""
    return f"python -m core train {_flags(cfg)} --out runs/reproduced"


def sweep_reproduce_command(config: dict) -> str | None:
    """`python -m core sweep ...` from a sweep.json; None if it does not hold a whole sweep."""
    try:
        base = RunConfig.from_dict(config["base"])
        lengths = ",".join(str(int(t)) for t in config["lengths"])
        seeds = ",".join(str(int(s)) for s in config["seeds"])
        models = [str(m) for m in config.get("models", [])]
    except (KeyError, TypeError, ValueError):
        return None
    return (f"python -m core sweep {_flags(base, skip=('seq_len', 'seed'), models=models)} --lengths {lengths} "
            f"--seeds {seeds} --out runs/sweep-reproduced")


def run_report(result, step: int | None = None) -> Report:
    """A training run (core.results.RunResult): learning curves, gradients, LSTM internals."""
    cfg, task = result.config, result.task
    summary = result.summary_frame()
    return Report(
        title=f"RNN vs LSTM Lab: {task.title}, T = {task.seq_len}",
        subtitle=f"{', '.join(summary['name']) if len(summary) else 'no models'} · "
                 f"config {config_hash(cfg)} · {cfg.train.steps} training steps, seed {cfg.train.seed}",
        config={**cfg.to_dict(), "hash": config_hash(cfg)},
        verdicts=[str(v) for v in summary.get("verdict", [])],
        items=run_charts(result) + inspect_charts(result, step=step),
        tables={"summary": summary},
        reproduce=reproduce_command(cfg),
    )


def sweep_report(df: pd.DataFrame, config: dict) -> Report:
    """A sweep (rows of sweep.csv and the sweep's config, as core.sweep.load_sweep returns them)."""
    lengths = sorted(df["seq_len"].unique()) if "seq_len" in df else []
    task = config.get("task", "")
    task = task.get("name", "") if isinstance(task, dict) else str(task)
    return Report(
        title=f"RNN vs LSTM Lab sweep: {task}" if task else "RNN vs LSTM Lab sweep",
        subtitle=f"{len(df)} runs · sequence lengths {', '.join(str(int(t)) for t in lengths)}",
        config=config, verdicts=[], items=list(sweep_charts(df)), tables={"sweep": df},
        reproduce=sweep_reproduce_command(config),
    )


def folder_report(folder: str | Path, step: int | None = None) -> Report:
    """A saved run folder (`python -m core train --out`) or sweep folder (`python -m core sweep`)."""
    path = Path(folder)
    if not path.is_dir():
        raise RunFolderError(f"{folder} is not a folder")
    if (path / "sweep.csv").exists():
        df, config = load_sweep(path)
        return sweep_report(df, config)
    return run_report(load_run(path), step=step)


def _config_rows(config: dict, prefix: str = "") -> list[tuple[str, str]]:
    rows = []
    for k, v in config.items():
        if isinstance(v, dict):
            rows += _config_rows(v, f"{prefix}{k}.")
        else:
            rows.append((f"{prefix}{k}", ", ".join(map(str, v)) if isinstance(v, (list, tuple)) else str(v)))
    return rows


HIDDEN_COLUMNS = ["model", "metric_name", "config_hash", "verdict"]  # in the CSV, too wide for the page


def _table_html(df: pd.DataFrame, max_rows: int = 200) -> str:
    shown = df.head(max_rows).drop(columns=HIDDEN_COLUMNS if "name" in df else [], errors="ignore")
    shown = shown.astype(object).where(shown.notna(), "–")
    more = f"<p>({len(df) - max_rows} more rows in the CSV.)</p>" if len(df) > max_rows else ""
    return shown.to_html(index=False, escape=True, na_rep="–", border=0, float_format=lambda x: f"{x:.4g}") + more


def report_html(report: Report) -> str:
    """The whole report as one HTML file: configuration, verdicts, every chart with its caption
    (specs and data inline) and the tables. No external URL is loaded."""
    esc = html.escape
    body = [f"<h1>{esc(report.title)}</h1>", f'<p class="sub">{esc(report.subtitle)}</p>']
    if report.verdicts:
        body.append('<h2>Verdicts</h2><ul class="verdicts">'
                    + "".join(f"<li>{esc(v)}</li>" for v in report.verdicts) + "</ul>")
    for name, df in report.tables.items():
        body.append(f"<h2>{esc(name.capitalize())}</h2>{_table_html(df)}")
    specs = []
    body.append("<h2>Charts</h2>")
    for i, item in enumerate(report.items):
        vid = f"vis{i}"
        specs.append((vid, chart_spec(item.chart)))
        body.append(f'<figure id="{esc(item.name)}"><h3>{esc(item.title)}</h3><div id="{vid}"></div>'
                    f"<figcaption>{esc(item.caption)}</figcaption></figure>")
    body.append("<h2>Configuration</h2><table>" + "".join(
        f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in _config_rows(report.config)) + "</table>")
    if report.reproduce:
        body.append(f"<p>Run it again:</p><pre>{esc(report.reproduce)}</pre>")
    body.append(f"<pre>{esc(json.dumps(report.config, indent=2, default=str))}</pre>")
    body.append(f'<p class="sub">Made by the RNN vs LSTM Lab on {time.strftime("%Y-%m-%d %H:%M")}.</p>')
    return _page(report.title, "\n".join(body), specs)


def _json_default(v: Any):
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return str(v)


def report_zip(report: Report, formats: tuple[str, ...] = ("png", "svg", "csv")) -> bytes:
    """charts/NAME.png and .svg, data/NAME.csv for every chart and table, config.json, and
    README.txt saying what is where and how to run the experiment again."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("config.json", json.dumps(report.config, indent=2, default=_json_default))
        for item in report.items:
            for fmt in formats:
                folder = "data" if fmt == "csv" else "charts"
                z.writestr(f"{folder}/{item.name}.{fmt}", export_chart(item, fmt))
        for name, df in report.tables.items():
            z.writestr(f"data/{name}.csv", df.to_csv(index=False))
        lines = [report.title, report.subtitle, ""] + [f"- {v}" for v in report.verdicts]
        lines += ["", "charts/  every chart as PNG (2x) and SVG", "data/    the data of every chart as CSV",
                  "config.json  the configuration of the experiment"]
        if report.reproduce:
            lines += ["", "Run it again:", "  " + report.reproduce]
        z.writestr("README.txt", "\n".join(lines) + "\n")
    return buf.getvalue()

