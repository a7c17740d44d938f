"""Dashboard export: every chart drawn through show_chart gets PNG/SVG/HTML/CSV download buttons,
and the Export report widget offers the HTML report and the ZIP. The files are made only when a
button is clicked (deferred), so the test runs each button's generator the way Streamlit's server
does on a click and checks the file it would send."""
import io
import xml.etree.ElementTree as ET
import zipfile

import pandas as pd
import pytest
import streamlit as st
import streamlit.testing.v1.app_test as app_test_module
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from core.config import ModelConfig, RunConfig, TaskConfig, TrainConfig, validate
from core.trainer import train
from dashboard.components.session import KEY as RESULT_KEY

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _clear_caches():
    st.cache_data.clear()
    st.cache_resource.clear()
    yield


@pytest.fixture(scope="module")
def result():
    cfg = validate(RunConfig(task=TaskConfig(seq_len=8), model=ModelConfig(hidden_size=8),
                             train=TrainConfig(steps=30, eval_every=10, n_checkpoints=3)))
    return train(cfg)


@pytest.fixture
def media(monkeypatch):
    """The media file manager each AppTest run makes, kept so deferred downloads can be run."""
    managers: list[MediaFileManager] = []

    class Recording(MediaFileManager):
        def __init__(self, *a, **kw):
            super().__init__(*a, **kw)
            managers.append(self)

    monkeypatch.setattr(app_test_module, "MediaFileManager", Recording)
    return managers


def download(manager: MediaFileManager, button) -> bytes:
    """What the browser receives when the button is clicked: the deferred generator's file."""
    assert button.proto.deferred_file_id, "files are made on click, not on every rerun"
    url = manager.execute_deferred(button.proto.deferred_file_id)
    return manager._storage.get_file(url.rsplit("/", 1)[-1]).content


def charts_app():
    from core.charts import run_charts
    from core.charts.inside import inspect_charts
    from dashboard.components.chart import show_chart
    from dashboard.components.export import export_report
    from dashboard.components.session import current_result

    result = current_result()
    for item in run_charts(result) + inspect_charts(result):
        show_chart(item, key=f"t-{item.name}")
    export_report(result, key="exp")


def test_every_chart_has_four_download_buttons_with_data(result, media):
    at = AppTest.from_function(charts_app, default_timeout=120)
    at.session_state[RESULT_KEY] = result
    at.run()
    assert not at.exception
    charts = at.get("vega_lite_chart")
    assert len(charts) >= 4
    buttons = {b.key: b for b in at.get("download_button")}
    manager = media[-1]
    names = [k.removeprefix("t-").removesuffix("-dl-png") for k in buttons if k.endswith("-dl-png")]
    assert len(names) == len(charts), "one row of downloads per chart"
    for name in names:
        for fmt in ("png", "svg", "html", "csv"):
            b = buttons[f"t-{name}-dl-{fmt}"]
            assert b.proto.ignore_rerun, "a download must not rerun the page (or retrain)"
            assert manager._deferred_callables[b.proto.deferred_file_id]["filename"] == f"{name}.{fmt}"
    lc = "t-learning_curves-dl-"
    assert download(manager, buttons[lc + "png"]).startswith(PNG_SIGNATURE)
    svg = download(manager, buttons[lc + "svg"]).decode()
    ET.fromstring(svg)
    assert "Learning curves" in svg
    page = download(manager, buttons[lc + "html"]).decode()
    assert "vegaEmbed" in page and "<script src" not in page
    csv = pd.read_csv(io.BytesIO(download(manager, buttons[lc + "csv"])))
    assert len(csv) == len(result.metrics_frame()) > 0 and set(csv.model) == {"rnn", "lstm"}
    # every other chart's CSV is non-empty too (the cheap format; PNG/SVG were proven above)
    for name in names:
        assert len(download(manager, buttons[f"t-{name}-dl-csv"])) > 50


def test_export_report_widget_gives_the_report_and_the_zip(result, media):
    at = AppTest.from_function(charts_app, default_timeout=120)
    at.session_state[RESULT_KEY] = result
    at.run()
    assert not at.exception
    buttons = {b.key: b for b in at.get("download_button")}
    assert buttons["exp-html"].proto.ignore_rerun and buttons["exp-zip"].proto.ignore_rerun
    page = download(media[-1], buttons["exp-html"]).decode()
    assert "Verdicts" in page and "vis0-spec" in page and "<script src" not in page
    z = zipfile.ZipFile(io.BytesIO(download(media[-1], buttons["exp-zip"])))
    assert "config.json" in z.namelist() and "charts/learning_curves.png" in z.namelist()


def test_export_widget_without_a_run_says_so():
    def app():
        from dashboard.components.export import export_report

        export_report(None, key="exp")

    at = AppTest.from_function(app).run()
    assert not at.exception and not at.get("download_button")
    assert "Train a run first" in at.info[0].value


def test_train_page_has_downloads_and_the_export_report(media):
    """The real training page, showing a run the store already holds (so nothing trains here)."""
    from pathlib import Path

    from core.store import RunStore
    from dashboard.components import controls

    params = {"seq_len": "8", "steps": "30", "hidden_size": "8", "batch_size": "32"}
    cfg, problems = controls.from_query(params)
    assert problems == []
    RunStore().put_result(train(cfg))
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py"),
                           default_timeout=180)
    at.switch_page("views/train.py")
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception
    buttons = {b.key: b for b in at.get("download_button")}
    assert {f"train-learning_curves-dl-{fmt}" for fmt in ("png", "svg", "html", "csv")} <= set(buttons)
    assert download(media[-1], buttons["train-learning_curves-dl-png"]).startswith(PNG_SIGNATURE)
    page = download(media[-1], buttons["train-export-html"]).decode()
    assert "Verdicts" in page and "Learning curves" in page and "<script src" not in page


def test_sweep_export_report_gives_the_sweep_report(media):
    from core.charts.sweep import sweep_charts
    from core.sweep import make_sweep, run_sweep
    from core.store import RunStore
    from dashboard.components.sweep_run import ACTIVE

    base = RunConfig(model=ModelConfig(hidden_size=8), train=TrainConfig(steps=20, eval_every=10, n_checkpoints=2))
    sweep = make_sweep(base, "5,8", "0")
    done = run_sweep(sweep, RunStore())

    def app():
        from core.store import RunStore
        from dashboard.components.export import export_sweep_report

        export_sweep_report(RunStore(), key="sx")

    at = AppTest.from_function(app, default_timeout=120)
    at.session_state[ACTIVE] = sweep
    at.run()
    assert not at.exception
    buttons = {b.key: b for b in at.get("download_button")}
    page = download(media[-1], buttons["sx-html"]).decode()
    assert page.count('type="application/json"') == len(sweep_charts(done.table)) > 0
    assert "python -m core sweep" in page and "<script src" not in page
    z = zipfile.ZipFile(io.BytesIO(download(media[-1], buttons["sx-zip"])))
    assert len(pd.read_csv(io.BytesIO(z.read("data/sweep.csv")))) == len(done.table) == 4
