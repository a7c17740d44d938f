"""Hostile input on the pages, kept as tests (Streamlit's AppTest): each probe of a link, a damaged run
store, a damaged shipped reference or proofs file, tried as a visitor would, gets a one-line refusal
shown as text (never Markdown) or the right result, and no page raises. Configs are tiny (the tour's
experiments are tests/test_story.py's, the lab's default is T = 8, 30 steps)."""
from __future__ import annotations

import io
import json
import re
import sqlite3
import tomllib

import numpy as np
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from core import story
from core.config import ModelConfig, RunConfig, TaskConfig, TrainConfig, validate
from core.reference import build as B
from core.shipped import ENV, sha256
from core.store import RunStore
from core.trainer import train
from dashboard.components import controls
from dashboard.components.plain import echo, unescape
from tests.conftest import ROOT
from tests.test_story import tiny_experiments

APP = str(ROOT / "dashboard" / "app.py")
TIMEOUT = 180


@pytest.fixture(autouse=True)
def tiny_lab(monkeypatch):
    """The tour's experiments and the lab's default made tiny: what a page trains costs seconds."""
    st.cache_data.clear()
    monkeypatch.setattr(story, "experiments", tiny_experiments)
    monkeypatch.setattr(controls, "DEFAULT", validate(RunConfig(
        task=TaskConfig(seq_len=8), model=ModelConfig(hidden_size=8), train=TrainConfig(steps=30, batch_size=32))))
    monkeypatch.setenv("LAB_PROVE", "off")
    yield
    st.cache_data.clear()


def open_page(path: str, **params: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.switch_page(path)
    for k, v in params.items():
        at.query_params[k] = v
    return at.run()


def bare(value: str) -> str:
    """What Markdown could still read as syntax: the text with every escaped pair taken out."""
    return re.sub(r"\\.", "", value)


def said(at: AppTest) -> list[str]:
    """Every message and caption of the page, as its Markdown source."""
    return [e.value for e in (*at.warning, *at.error, *at.info, *at.caption, *at.sidebar.caption)]


def assert_text(value: str) -> None:
    """Shown as text: no link, image, code span or tag left for Markdown to read."""
    b = bare(value)
    assert "](" not in b and "`" not in b and "<" not in b and "![" not in b, value


# --- links ----------------------------------------------------------------------------------------------
LINK = "`[Session expired: sign in](https://ev.il/x)`"
IMAGE = "![x](http://host/a.png)"


@pytest.mark.parametrize("path,params", [
    ("views/story.py", {"chapter": LINK}),
    ("views/interview.py", {"q": IMAGE}),
    ("views/train.py", {"task": IMAGE, "hide": LINK, "models": f"rnn,{IMAGE}", "seq_len": "`" + "A" * 5000}),
    ("views/cell.py", {"run": LINK}),  # `t` is checked against the input's length: tests/test_cell.py
], ids=["chapter", "q", "task hide models seq_len", "run"])
def test_a_link_value_is_refused_as_text_and_cut_short(path, params):
    at = open_page(path, **params)
    assert not at.exception, at.exception
    refused = [w.value for w in at.warning if unescape(w.value).startswith("Ignored")]
    assert len(refused) == len(params)
    for key, raw in params.items():
        [w] = [w for w in refused if unescape(w).startswith(f"Ignored {key}=")]
        assert_text(w)
        assert f"{key}={echo(raw if key != 'hide' else raw)}" in unescape(w) and len(w) < 600


# --- a damaged run store ----------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["views/story.py", "views/interview.py"])
def test_a_flipped_byte_in_a_stored_blob_is_one_line_on_the_tour_and_the_interview(path, tmp_path):
    first = story.needed()[0]
    store = RunStore(reference=None)  # the test's own store (LAB_DATA_DIR, tests/conftest.py)
    store.put_result(train(tiny_experiments()[first]))
    with sqlite3.connect(store.path) as conn:  # one byte of one blob, as a failing disk would
        h, blob = conn.execute("SELECT hash, arrays FROM model_runs LIMIT 1").fetchone()
        blob = bytearray(blob)
        blob[len(blob) // 2] ^= 0x01
        conn.execute("UPDATE model_runs SET arrays = ? WHERE hash = ?", (bytes(blob), h))
    at = open_page(path)
    assert not at.exception, at.exception
    errors = [e.value for e in at.error if "cannot be used" in unescape(e.value)]
    assert len(errors) == 1 and "LAB_DATA_DIR" in unescape(errors[0])
    assert not [s for s in said(at) if str(store.folder) in unescape(s)], "a server path on the page"


# --- a damaged shipped reference ----------------------------------------------------------------------------
@pytest.fixture
def damaged_reference(tmp_path, monkeypatch):
    """A reference holding the (tiny) tour's first experiment, so the landing page reads its files."""
    cfg = tiny_experiments()[story.needed()[0]]
    plan = [B.Planned(cfg.single(k), "tour:x", "ends") for k in cfg.models]
    B.write(tmp_path / "ref", plan, B.train_all([p.cfg for p in plan], workers=1), "2026-12-03")
    monkeypatch.setenv(ENV, str(tmp_path / "ref"))
    return tmp_path / "ref"


@pytest.mark.parametrize("damage,paths", [
    ("index byte", ["views/story.py", "views/train.py", "views/sweep.py", "views/inside.py"]),
    ("manifest []", ["views/interview.py", "views/gradients.py", "views/cell.py"]),
    ("pickled npz", ["views/story.py"]),
])
def test_a_damaged_reference_is_one_line_on_every_page_and_the_lab_goes_on(damaged_reference, damage, paths):
    if damage == "index byte":
        data = bytearray((damaged_reference / "index.json").read_bytes())
        data[40] ^= 0x01
        (damaged_reference / "index.json").write_bytes(bytes(data))
    elif damage == "manifest []":
        (damaged_reference / "manifest.json").write_text("[]")
    else:  # a run's .npz replaced by a pickled array, the manifest signed again: only reading it can refuse it
        npz = next((damaged_reference / "runs").glob("*.npz"))
        buf = io.BytesIO()
        np.save(buf, np.array([{"a": 1}], dtype=object), allow_pickle=True)
        npz.write_bytes(buf.getvalue())
        manifest = json.loads((damaged_reference / "manifest.json").read_text())
        manifest["files"][f"runs/{npz.name}"]["sha256"] = sha256(npz)
        (damaged_reference / "manifest.json").write_text(json.dumps(manifest))
    for path in paths:
        at = open_page(path)
        assert not at.exception, (path, at.exception)
        at.run()  # a file found bad while the page read it is said from the next run on (the sidebar comes first)
        assert not at.exception, (path, at.exception)
        lines = [unescape(c.value) for c in at.sidebar.caption if "reference shipped with the lab is damaged" in
                 unescape(c.value)]
        assert len(lines) == 1, path
        assert str(damaged_reference) not in lines[0] and "the rest of the lab works as usual" in lines[0]
        assert at.title, path  # the page itself is drawn


def test_a_proofs_reason_with_markdown_is_shown_as_text(monkeypatch):
    """The proofs file's reasons are words from a file: on the page they are text."""
    from core.config import config_hash
    from core.reference import prove
    from core.shipped import Reference

    monkeypatch.setenv(ENV, str(ROOT / "reference"))
    monkeypatch.setattr(controls, "DEFAULT", validate(RunConfig()))
    ref = Reference(ROOT / "reference")
    default = validate(RunConfig())
    hashes = [config_hash(default.single(k)) for k in default.models]
    job = prove.ProveJob(ref, hashes=[])
    reason = f"{IMAGE} {LINK} <img src=x>"
    job.verdicts = {hashes[0]: (B.AGREES, "bit-identical"), hashes[1]: (B.DIFFERS, reason)}
    job.state = "finished"
    monkeypatch.setattr(prove, "_server", [job])
    at = open_page("views/train.py")
    assert not at.exception
    [line] = [c.value for c in at.caption if "differs from the reference" in unescape(c.value)]
    assert reason in unescape(line)
    assert_text(line)


# --- the interview's download ----------------------------------------------------------------------------------
def test_my_interview_download_holds_the_answers(monkeypatch):
    """The file is made in the script run, where the session's answers are (not on the download thread)."""
    from core.story import interview

    made: dict[str, object] = {}
    real = st.download_button

    def keep(label, data=None, *args, **kw):
        made[label] = data
        return real(label, data, *args, **kw)

    monkeypatch.setattr(st, "download_button", keep)
    at = open_page("views/interview.py", q="8")
    at.radio(key="interview-guess-8").set_value(interview.YES)
    at.button[0].click().run()  # the form's commit button
    assert not at.exception, at.exception
    data = made.get("My interview (HTML)")
    assert isinstance(data, bytes), "the download is made on Streamlit's download thread, without the answers"
    html = data.decode()
    assert "<h2>8. " in html and interview.YES in html


# --- no traceback, no server path ------------------------------------------------------------------------------
def test_an_uncaught_exception_shows_no_details():
    from streamlit.config import ShowErrorDetailsConfigOptions

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["client"]["showErrorDetails"] == ShowErrorDetailsConfigOptions.NONE.value
