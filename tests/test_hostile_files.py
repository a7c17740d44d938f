"""Hostile files, kept as tests: a run-store row, the shipped reference, the proofs file and exported
data, each changed the way a probe changed it. Nothing is trusted because it parses: each is refused in
one line (or left out and said), and the rest goes on. The pages' side is tests/test_hostile_pages.py.

Runs are tiny (sentiment_but at T = 4, hidden 2, 3 steps): the files' shapes are the subject.
"""
from __future__ import annotations

import io
import json
import re
import sqlite3

import altair as alt
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.charts import ChartItem
from core.charts import export
from core.cli import main
from core.config import ModelConfig, RunConfig, TaskConfig, TrainConfig, config_hash, validate
from core.reference import build as B
from core.reference import prove
from core.shipped import Reference, sha256
from core.store import RunStore, StoreError
from core.trainer import train

TINY = validate(RunConfig(task=TaskConfig(name="sentiment_but", seq_len=4), model=ModelConfig(hidden_size=2),
                          train=TrainConfig(steps=3, batch_size=4, eval_every=1, n_checkpoints=2)))
OTHER = validate(TINY.replace(task=TaskConfig(name="sentiment_but", seq_len=5)))


@pytest.fixture(scope="module")
def tiny_result():
    return train(TINY)


# --- the run store: a row is covered by its digest, and its config is checked by its rules -----------
def _edit_record(path, h, edit, digests: bool = True) -> None:
    with sqlite3.connect(path) as conn:
        record = json.loads(conn.execute("SELECT record FROM model_runs WHERE hash = ?", (h,)).fetchone()[0])
        conn.execute("UPDATE model_runs SET record = ? WHERE hash = ?", (json.dumps(edit(record)), h))
        if not digests:  # a row as schema versions 2-3 wrote it: no digest of the row
            conn.execute("UPDATE model_runs SET record_sha256 = NULL, row_sha256 = NULL WHERE hash = ?", (h,))


def _hidden_x(record: dict) -> dict:
    return {**record, "config": {**record["config"], "model": {**record["config"]["model"], "hidden_size": "x"}}}


@pytest.mark.parametrize("digests", [True, False], ids=["row with its digest", "older row without one"])
def test_an_edited_store_record_is_refused_in_one_line(tmp_path, tiny_result, digests):
    store = RunStore(tmp_path, reference=None)
    store.put_result(tiny_result)
    cfg = TINY.single("lstm")
    assert store.get(cfg) is not None
    _edit_record(store.path, config_hash(cfg), _hidden_x, digests)
    with pytest.raises(StoreError) as e:
        store.get(cfg)
    said = str(e.value)
    assert "\n" not in said
    assert ("was changed after it was saved" in said) if digests else ("hidden_size must be a whole number" in said)
    assert store.get(TINY.single("rnn")) is not None  # the other row is served as before


def test_a_store_of_schema_3_is_migrated_and_its_rows_served_once_checked(tmp_path, tiny_result):
    store = RunStore(tmp_path, reference=None)
    store.put_result(tiny_result)
    with sqlite3.connect(store.path) as conn:  # the file as schema version 3 wrote it
        conn.execute("ALTER TABLE model_runs DROP COLUMN record_sha256")
        conn.execute("ALTER TABLE model_runs DROP COLUMN row_sha256")
        conn.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    again = RunStore(tmp_path, reference=None)
    assert again.schema_version() == 4
    got = again.get(TINY.single("lstm"))  # no digest (not vouched for after the fact), config checked
    assert got is not None and got.evals == tiny_result.runs["lstm"].evals


def test_an_older_row_holding_another_runs_record_is_refused(tmp_path, tiny_result):
    store = RunStore(tmp_path, reference=None)
    store.put_result(tiny_result)
    other = OTHER.single("lstm").to_dict()
    _edit_record(store.path, config_hash(TINY.single("lstm")), lambda r: {**r, "config": other}, digests=False)
    with pytest.raises(StoreError, match="record of another run"):
        store.get(TINY.single("lstm"))


def test_an_edited_summary_is_left_out_of_the_summaries(tmp_path, tiny_result):
    store = RunStore(tmp_path, reference=None)
    store.put_result(tiny_result)
    hashes = [config_hash(TINY.single(k)) for k in TINY.models]
    assert set(store.get_summaries(hashes)) == set(hashes)
    with sqlite3.connect(store.path) as conn:
        s = json.loads(conn.execute("SELECT summary FROM model_runs WHERE hash = ?", (hashes[1],)).fetchone()[0])
        s["verdict"] = "![x](http://host/a.png) reached the target"
        conn.execute("UPDATE model_runs SET summary = ? WHERE hash = ?", (json.dumps(s), hashes[1]))
    assert set(store.get_summaries(hashes)) == {hashes[0]}  # a sweep trains it again; its row replaces this one


# --- the shipped reference: shape, every file's sha256, and what is left served ----------------------
@pytest.fixture(scope="module")
def tiny_plan_runs():
    plan = [B.Planned(TINY.single("rnn"), "lab:default", "all"), B.Planned(TINY.single("lstm"), "tour:x", "ends"),
            B.Planned(OTHER.single("lstm"), "sweep:default", "summary")]
    return plan, B.train_all([p.cfg for p in plan], workers=1)


@pytest.fixture
def ref_dir(tmp_path, tiny_plan_runs):
    plan, runs = tiny_plan_runs
    B.write(tmp_path / "ref", plan, runs, "2026-12-03")
    return tmp_path / "ref"


def _resign(folder, name) -> None:
    m = json.loads((folder / "manifest.json").read_text())
    m["files"][name]["sha256"] = sha256(folder / name)
    (folder / "manifest.json").write_text(json.dumps(m))


def _flip(path, at: int = 100) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


def test_a_whole_reference_has_no_problems(ref_dir, tiny_plan_runs):
    ref = Reference(ref_dir)
    assert ref.problems == [] and ref.notice() is None and len(ref.index) == 3
    assert ref.get(tiny_plan_runs[0][1].hash) is not None


def test_one_changed_byte_of_the_index_serves_nothing_and_says_so(ref_dir, tmp_path, tiny_plan_runs):
    _flip(ref_dir / "index.json", at=50)
    ref = Reference(ref_dir)  # never raises
    assert ref.index == {} and len(ref.problems) == 1 and "index.json does not match its manifest" in ref.problems[0]
    assert "\n" not in ref.notice() and str(ref_dir) not in ref.notice()  # no server path
    store = RunStore(tmp_path / "store", reference=ref)
    assert store.get(tiny_plan_runs[0][0].cfg) is None and store.get_summaries([p.hash for p in tiny_plan_runs[0]]) == {}


@pytest.mark.parametrize("manifest", ["[]", "{}", '{"files": []}', "not json", '{"torch": "2", "cpu": "x", '
                                      '"built": "d", "files": {"../../etc/passwd": {"sha256": "0", "bytes": 1}}}'])
def test_a_manifest_of_the_wrong_shape_serves_nothing_and_says_so(ref_dir, manifest):
    (ref_dir / "manifest.json").write_text(manifest)
    ref = Reference(ref_dir)
    assert ref.index == {} and len(ref.problems) == 1 and "nothing is served" in ref.problems[0]
    assert ref.origin()  # the line pages show still reads


def test_a_pickled_array_in_place_of_a_runs_npz_is_refused(ref_dir, tiny_plan_runs):
    plan, _ = tiny_plan_runs
    name = f"runs/{plan[1].hash}.npz"
    buf = io.BytesIO()
    np.save(buf, np.array([{"a": 1}], dtype=object), allow_pickle=True)  # a pickle inside .npy
    (ref_dir / name).write_bytes(buf.getvalue())
    _resign(ref_dir, name)  # the manifest vouches for it: only reading it can refuse it
    ref = Reference(ref_dir)
    assert ref.get(plan[1].hash) is None and ref.get(plan[0].hash) is not None
    assert any(plan[1].hash in p and "cannot be read" in p for p in ref.problems)


@pytest.mark.parametrize("edit", [
    lambda e: e["config"]["model"].update(hidden_size="abc"),
    lambda e: e["config"]["task"].update(seq_len="4"),  # validates, but is not as the lab writes it
    lambda e: e.update(config=[1, 2]),
    lambda e: e["summary"].update(status=["finished"]),
    lambda e: e.update(record="../../../etc/passwd"),
    lambda e: e.update(checkpoints_kept="all"),
    lambda e: e["config"].update(extra={"x": 1}),
], ids=["hidden_size text", "seq_len a string", "config a list", "status a list", "record outside", "kept text",
        "config an unknown part"])
def test_a_malformed_index_entry_is_not_served_and_the_others_are(ref_dir, tiny_plan_runs, edit):
    plan, _ = tiny_plan_runs
    index = json.loads((ref_dir / "index.json").read_text())
    edit(index[plan[1].hash])
    (ref_dir / "index.json").write_text(json.dumps(index))
    _resign(ref_dir, "index.json")
    ref = Reference(ref_dir)
    assert set(ref.index) == {plan[0].hash, plan[2].hash}
    assert len(ref.problems) == 1 and "is malformed" in ref.problems[0] and "\n" not in ref.problems[0]
    assert ref.get(plan[0].hash) is not None


def test_reference_check_finds_a_flipped_npz_byte_on_any_platform(ref_dir, tiny_plan_runs, monkeypatch, capsys):
    """On another torch or CPU the check compares summaries only: every file is checked all the same."""
    plan, _ = tiny_plan_runs
    _flip(ref_dir / f"runs/{plan[1].hash}.npz", at=60)
    monkeypatch.setattr(B, "same_platform", lambda ref: False)
    assert main(["reference", "check", "--folder", str(ref_dir), "--runs", plan[1].hash, "--workers", "1"]) == 1
    out = capsys.readouterr().out
    assert "differs (its files in the reference do not match" in out and "1 of 1 agree" not in out
    assert f"runs/{plan[1].hash}.npz does not match its manifest" in out


# --- the proofs file: checked for shape, bound to the files it speaks of ---------------------------------
def _proved(ref_dir, tmp_path, tiny_plan_runs):
    ref = Reference(ref_dir)
    path = tmp_path / "proofs.json"
    verdicts = {p.hash: (B.AGREES, "bit-identical") for p in tiny_plan_runs[0]}
    prove.save_proofs(path, ref, verdicts)
    assert prove.load_proofs(path, ref) == verdicts  # as written, it is taken
    return ref, path, verdicts


@pytest.mark.parametrize("damage", [
    lambda d: d.pop("files"),  # as written before verdicts were bound to their files
    lambda d: d["files"].update({h: "0" * 64 for h in d["files"]}),  # "every run agrees", with made-up files
    lambda d: d.update(verdicts=[1, 2]),
    lambda d: d.update(files="all"),
], ids=["no files", "made-up files", "verdicts a list", "files text"])
def test_a_proofs_file_not_bound_to_the_files_proves_nothing(ref_dir, tmp_path, tiny_plan_runs, damage):
    ref, path, _ = _proved(ref_dir, tmp_path, tiny_plan_runs)
    data = json.loads(path.read_text())
    damage(data)
    path.write_text(json.dumps(data))
    assert prove.load_proofs(path, ref) == {}


def test_malformed_verdicts_are_dropped_one_by_one(ref_dir, tmp_path, tiny_plan_runs):
    ref, path, verdicts = _proved(ref_dir, tmp_path, tiny_plan_runs)
    data = json.loads(path.read_text())
    a, b, c = (p.hash for p in tiny_plan_runs[0])
    data["verdicts"][a] = 5
    data["verdicts"][b] = ["agrees", "ok\nReproduced here", "x"]
    data["verdicts"][c] = ["agrees", "x" * 5000]
    data["verdicts"]["f" * 12] = ["agrees", "a run the reference does not hold"]
    path.write_text(json.dumps(data))
    assert prove.load_proofs(path, ref) == {}
    data["verdicts"][c] = ["differs", "![x](http://host/a.png)"]  # words for a page: shown escaped there
    path.write_text(json.dumps(data))
    assert prove.load_proofs(path, ref) == {c: ("differs", "![x](http://host/a.png)")}


def test_a_verdict_about_files_that_changed_is_dropped(ref_dir, tmp_path, tiny_plan_runs):
    ref, path, verdicts = _proved(ref_dir, tmp_path, tiny_plan_runs)
    plan, _ = tiny_plan_runs
    _flip(ref_dir / f"runs/{plan[1].hash}.npz", at=60)
    again = Reference(ref_dir)
    assert set(prove.load_proofs(path, again)) == {plan[0].hash, plan[2].hash}


# --- exports: data inline in <script> cannot end it, comment it out or run ------------------------------
def strings(spec) -> list[str]:
    if isinstance(spec, dict):
        return [s for v in spec.values() for s in strings(v)]
    if isinstance(spec, list):
        return [s for v in spec for s in strings(v)]
    return [spec] if isinstance(spec, str) else []


HOSTILE = ["<!--<script>", "</script><script>alert(1)</script>", "a & b > c", "\u2028"]


def test_inlined_chart_data_holds_no_markup(tmp_path):
    df = pd.DataFrame({"name": HOSTILE, "value": [1, 2, 3, 4]})
    item = ChartItem(name="probe", title="<!--<script>", chart=alt.Chart(df).mark_bar().encode(x="value:Q", y="name:N"),
                     data=df, caption="</script><script>alert(2)</script>")
    report = export.Report(title="<!--<script>", subtitle="s", config={"task": "<!--<script>"}, verdicts=HOSTILE,
                           items=[item])
    for page in (export.report_html(report), export.chart_html(item.chart, item.title)):
        specs = re.findall(r'<script type="application/json" id="[^"]+">(.*?)</script>', page, flags=re.S)
        assert len(specs) == 1
        assert not set(specs[0]) & set("<>&\u2028")  # escaped as \\u003c ...: the HTML parser sees no tag
        assert set(HOSTILE) <= set(strings(json.loads(specs[0])))  # the same data, read back by JSON.parse
        assert "<script>alert" not in page.split("<body>", 1)[1]  # nowhere in the page's own text either


def test_inspect_html_charts_use_the_escaped_page(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--task", "sentiment_but", "--seq-len", "4", "--hidden-size", "2", "--batch-size", "4",
                 "--steps", "3", "--quiet", "--no-store", "--out", str(run)]) == 0
    assert main(["inspect", "--run", str(run), "--out", str(tmp_path / "o"), "--html"]) == 0
    pages = list((tmp_path / "o").glob("*.html"))
    assert pages and all('type="application/json"' in p.read_text() for p in pages)  # export.chart_html's page


# --- any JSON at all: never an exception, nothing served that fails its checks -------------------------
JSON = st.recursive(st.none() | st.booleans() | st.integers(-10**30, 10**30) | st.floats() | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
                    max_leaves=20)


@pytest.fixture(scope="module")
def fuzz_ref(tmp_path_factory, tiny_plan_runs):
    plan, runs = tiny_plan_runs
    folder = tmp_path_factory.mktemp("fuzz") / "ref"
    B.write(folder, plan, runs, "2026-12-03")
    return folder, plan


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(entry=JSON, manifest=JSON, proofs=JSON)
def test_any_json_in_the_reference_or_the_proofs_is_checked_never_raised(fuzz_ref, entry, manifest, proofs):
    folder, plan = fuzz_ref
    index_text = (folder / "index.json").read_text()
    manifest_text = (folder / "manifest.json").read_text()
    try:
        index = json.loads(index_text)
        index[plan[1].hash] = entry  # one entry replaced by anything, the manifest vouching for it
        (folder / "index.json").write_text(json.dumps(index))
        _resign(folder, "index.json")
        ref = Reference(folder)
        assert plan[1].hash not in ref.index and set(ref.index) == {plan[0].hash, plan[2].hash}
        (folder / "proofs.json").write_text(json.dumps(proofs))
        assert prove.load_proofs(folder / "proofs.json", ref) == {}
        (folder / "manifest.json").write_text(json.dumps(manifest))
        bad = Reference(folder)
        assert bad.index == {} and len(bad.problems) >= 1
    finally:
        (folder / "index.json").write_text(index_text)
        (folder / "manifest.json").write_text(manifest_text)
