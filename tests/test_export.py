"""Export: PNG/SVG/HTML/CSV of every chart, the one-file report, the ZIP and `python -m core export`,
checked on a tiny real run (no mocks)."""
import io
import json
import re
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile

import pandas as pd
import pytest

from core.charts import export
from core.charts import run_charts
from core.config import ModelConfig, RunConfig, TaskConfig, TrainConfig, config_hash, validate
from core.charts.inside import inspect_charts
from core.runio import save_run
from core.trainer import train
from tests.conftest import ROOT, run_cli

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
EXTERNAL_SRC = re.compile(r"""\b(src|href)\s*=\s*["']?\s*(https?:)?//""", re.I)


@pytest.fixture(scope="module")
def result():
    cfg = validate(RunConfig(task=TaskConfig(seq_len=8), model=ModelConfig(hidden_size=8),
                             train=TrainConfig(steps=30, eval_every=10, n_checkpoints=3)))
    return train(cfg)


@pytest.fixture(scope="module")
def items(result):
    return run_charts(result) + inspect_charts(result)


def png_size(png: bytes) -> tuple[int, int]:
    assert png[12:16] == b"IHDR"
    return struct.unpack(">II", png[16:24])


def svg_texts(svg: str) -> list[str]:
    root = ET.fromstring(svg)  # raises if the SVG is not well-formed XML
    return ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]


def chart_title(item) -> str:
    title = export.chart_spec(item.chart)["title"]
    return title["text"] if isinstance(title, dict) else title


def test_every_source_of_charts_is_in_the_run_report(result, items):
    report = export.run_report(result)
    assert [i.name for i in report.items] == [i.name for i in items]
    assert {"learning_curves", "grad_through_time"} <= {i.name for i in items}
    assert len({i.name for i in items}) == len(items), "chart names become file names: they must be unique"


def test_png_has_signature_and_twice_the_chart_size(items):
    for item in items[:2]:
        png = export.export_chart(item, "png")
        assert png.startswith(PNG_SIGNATURE)
        root = ET.fromstring(export.chart_svg(item.chart))
        w, h = float(root.get("width")), float(root.get("height"))
        assert w > 100 and h > 100
        assert png_size(png) == (round(2 * w), round(2 * h))
    # the same size Altair's own path gives (chart.save with scale_factor=2)
    buf = io.BytesIO()
    items[0].chart.save(buf, format="png", scale_factor=2)
    assert png_size(buf.getvalue()) == png_size(export.export_chart(items[0], "png"))


def test_svg_is_xml_with_the_chart_title_and_model_colours(items):
    lc = items[0]
    svg = export.export_chart(lc, "svg").decode()
    assert chart_title(lc) in svg_texts(svg)
    # the same colours as on screen: RNN red, LSTM blue (core.charts.MODEL_COLORS)
    assert "#d62728" in svg and "#1f77b4" in svg
    for item in items[1:]:
        assert chart_title(item) in svg_texts(export.export_chart(item, "svg").decode())


def test_chart_html_is_self_contained(items):
    page = export.export_chart(items[0], "html").decode()
    assert "vegaEmbed" in page and "<script src" not in page and not EXTERNAL_SRC.search(page)
    spec = json.loads(re.search(r'id="vis0-spec">(.*?)</script>', page, re.S).group(1))
    assert spec == json.loads(json.dumps(export.chart_spec(items[0].chart)))


def test_csv_is_the_chart_data(items):
    for item in items:
        back = pd.read_csv(io.BytesIO(export.export_chart(item, "csv")))
        assert list(back.columns) == [str(c) for c in item.data.columns]
        assert len(back) == len(item.data) > 0


def test_report_html_holds_specs_data_captions_and_no_external_script(result, items):
    report = export.run_report(result)
    page = export.report_html(report)
    assert not EXTERNAL_SRC.search(page), EXTERNAL_SRC.search(page)
    assert "<script src" not in page and "<link" not in page
    specs = [json.loads(s) for s in re.findall(r'<script type="application/json" id="vis\d+-spec">(.*?)</script>',
                                               page, re.S)]
    assert specs == [json.loads(json.dumps(export.chart_spec(i.chart))) for i in items]
    # the data is inline: every row the learning curves draw is in the spec's datasets
    inline_rows = [r for rows in specs[0]["datasets"].values() for r in rows]
    metrics = result.metrics_frame()
    assert sum("metric" in r and "step" in r for r in inline_rows) == len(metrics)
    for item in items:
        assert export.html.escape(item.caption) in page
    for verdict in result.summary_frame()["verdict"]:
        assert export.html.escape(verdict) in page
    assert config_hash(result.config) in page and "python -m core train --task first_token" in page


def test_report_zip_lists_every_chart_data_and_config(result, items):
    z = zipfile.ZipFile(io.BytesIO(export.report_zip(export.run_report(result))))
    expected = {"config.json", "README.txt", "data/summary.csv"}
    for item in items:
        expected |= {f"charts/{item.name}.png", f"charts/{item.name}.svg", f"data/{item.name}.csv"}
    assert set(z.namelist()) == expected
    cfg = json.loads(z.read("config.json"))
    assert RunConfig.from_dict({k: v for k, v in cfg.items() if k != "hash"}) == result.config
    assert cfg["hash"] == config_hash(result.config)
    assert z.read(f"charts/{items[0].name}.png").startswith(PNG_SIGNATURE)
    assert len(pd.read_csv(io.BytesIO(z.read("data/summary.csv")))) == len(result.runs)


def test_reproduce_command_rebuilds_the_same_config(result):
    from core.cli import build_parser
    from core.cli.args import config_from_args

    argv = export.reproduce_command(result.config).split()[3:]  # drop "python -m core"
    assert config_from_args(build_parser().parse_args(argv)) == result.config


def test_bad_format_is_refused_in_one_line():
    assert export.parse_formats("PNG, csv,png") == ("png", "csv")
    with pytest.raises(ValueError, match="unknown export format gif"):
        export.parse_formats("png,gif")


def cli(*args):
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


def test_cli_exports_a_saved_run(result, items, tmp_path):
    run_dir = save_run(result, tmp_path / "run")
    out = tmp_path / "exports"
    p = cli("export", "--run", str(run_dir), "--out", str(out), "--formats", "png,svg,html,csv", "--report")
    assert p.returncode == 0, p.stderr
    names = {f.name for f in out.iterdir()}
    for item in items:
        assert {f"{item.name}.{fmt}" for fmt in export.FORMATS} <= names
    assert {"report.html", "report.zip"} <= names
    assert (out / "learning_curves.png").read_bytes().startswith(PNG_SIGNATURE)
    assert chart_title(items[0]) in svg_texts((out / "learning_curves.svg").read_text())
    assert not EXTERNAL_SRC.search((out / "report.html").read_text())
    assert "config.json" in zipfile.ZipFile(out / "report.zip").namelist()


@pytest.mark.parametrize("args,message", [
    (["--run", "/nonexistent/run"], "is not a folder"),
    (["--formats", "png,gif"], "unknown export format gif"),
])
def test_cli_bad_input_is_one_line(args, message, tmp_path):
    p = run_cli("export", "--run", str(tmp_path), "--out", str(tmp_path / "o"), *args)
    assert p.returncode == 2 and message in p.stderr
    assert "Traceback" not in p.stderr and len(p.stderr.strip().splitlines()) == 1


def test_cli_refuses_a_folder_that_is_not_a_run(tmp_path):
    p = run_cli("export", "--run", str(tmp_path), "--out", str(tmp_path / "o"))
    assert p.returncode == 2 and "not a readable run folder" in p.stderr and "Traceback" not in p.stderr


def test_report_draws_offline_in_a_real_browser(result, tmp_path):
    """Every chart of the report is drawn by the inline libraries with the network cut off."""
    from playwright.sync_api import sync_playwright

    path = tmp_path / "report.html"
    path.write_text(export.report_html(export.run_report(result)), encoding="utf-8")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        try:
            page = browser.new_page()
            outside = []
            page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
                       else (outside.append(route.request.url), route.abort()))
            errors = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(path.as_uri())
            n_figures = page.locator("figure").count()
            page.wait_for_function(f"document.querySelectorAll('figure svg.marks').length >= {n_figures}",
                                   timeout=30_000)
            page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        finally:
            browser.close()
    assert n_figures >= 2 and outside == [] and errors == []


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory):
    from core.sweep import make_sweep, run_sweep, save_sweep

    base = RunConfig(model=ModelConfig(hidden_size=8), train=TrainConfig(steps=20, eval_every=10, n_checkpoints=2))
    done = run_sweep(make_sweep(base, "4,8", "0"), store=None)
    return save_sweep(tmp_path_factory.mktemp("sweep"), done.table, done.info())


def test_cli_exports_a_sweep_folder(sweep_dir, tmp_path):
    from core.charts.sweep import sweep_charts
    from core.sweep import load_sweep

    df, info = load_sweep(sweep_dir)
    items = sweep_charts(df)
    out = tmp_path / "exports"
    p = run_cli("export", "--run", str(sweep_dir), "--out", str(out), "--formats", "svg,csv", "--report")
    assert p.returncode == 0, p.stderr
    names = {f.name for f in out.iterdir()}
    assert names == {f"{i.name}.{fmt}" for i in items for fmt in ("svg", "csv")} | {"report.html", "report.zip"}
    assert chart_title(items[0]) in svg_texts((out / f"{items[0].name}.svg").read_text())
    page = (out / "report.html").read_text()
    assert not EXTERNAL_SRC.search(page) and page.count('type="application/json"') == len(items)
    z = zipfile.ZipFile(out / "report.zip")
    assert {"config.json", "data/sweep.csv"} <= set(z.namelist())
    assert json.loads(z.read("config.json"))["lengths"] == [4, 8]
    assert len(pd.read_csv(io.BytesIO(z.read("data/sweep.csv")))) == len(df) == 4


def test_sweep_reproduce_command_rebuilds_the_sweep(sweep_dir):
    from core.cli import build_parser
    from core.cli.args import config_from_args
    from core.sweep import load_sweep

    _, info = load_sweep(sweep_dir)
    argv = export.sweep_reproduce_command(info).split()[3:]
    args = build_parser().parse_args(argv)
    assert args.command == "sweep" and args.lengths == "4,8" and args.seeds == "0"
    fixed = {"seq_len": info["base"]["task"]["seq_len"], "seed": info["base"]["train"]["seed"]}
    assert config_from_args(args, **fixed) == RunConfig.from_dict(info["base"])
