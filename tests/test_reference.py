"""The shipped reference (core.shipped, core.reference): built deterministically, served read-only behind the run
store with its origin said, checked against runs trained here, and shown on first open.

The shipped folder's own runs are used where they are the subject (the quick check, the pages);
the rest builds a tiny reference of its own (T = 10-12, 20-30 steps)."""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from core.cli import main
from core.config import RunConfig, TaskConfig, TrainConfig, config_hash, validate
from core.shipped import ENV, Reference, sha256
from core.reference import build as B
from core.store import RunStore
from core.trainer import train
from dashboard.components.plain import unescape

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "reference"
APP = str(ROOT / "dashboard" / "app.py")
TIMEOUT = 180


def tiny_plan() -> list[B.Planned]:
    cfg = validate(RunConfig(task=TaskConfig(seq_len=10), train=TrainConfig(steps=30, eval_every=10)))
    other = validate(RunConfig(task=TaskConfig(seq_len=12), train=TrainConfig(steps=20, eval_every=10)))
    return [B.Planned(cfg.single("rnn"), "lab:default", "all"), B.Planned(cfg.single("lstm"), "tour:x", "ends"),
            B.Planned(other.single("lstm"), "sweep:default", "summary")]


@pytest.fixture(scope="module")
def tiny_runs():
    plan = tiny_plan()
    return plan, B.train_all([p.cfg for p in plan])


@pytest.fixture
def tiny_ref(tmp_path, tiny_runs) -> Path:
    plan, runs = tiny_runs
    B.write(tmp_path / "ref", plan, runs, "2026-12-02")
    return tmp_path / "ref"


def resign(folder: Path, name: str) -> None:
    """Change nothing but the manifest's record of `name` (as a careless rebuild would)."""
    m = json.loads((folder / "manifest.json").read_text())
    m["files"][name]["sha256"] = sha256(folder / name)
    (folder / "manifest.json").write_text(json.dumps(m))


# --- the folder ---------------------------------------------------------------------------------------
def test_building_twice_gives_the_same_files(tmp_path, tiny_runs):
    plan, runs = tiny_runs
    again = B.train_all([p.cfg for p in plan])  # trained a second time, not the same objects
    B.write(tmp_path / "a", plan, runs, "2026-12-02")
    B.write(tmp_path / "b", plan, again, "2026-12-02")
    names = sorted(str(p.relative_to(tmp_path / "a")) for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert names == sorted(str(p.relative_to(tmp_path / "b")) for p in (tmp_path / "b").rglob("*") if p.is_file())
    for n in names:
        assert (tmp_path / "a" / n).read_bytes() == (tmp_path / "b" / n).read_bytes(), n
    text = (tmp_path / "a" / "index.json").read_text() + (tmp_path / "a" / "runs").joinpath(
        f"{plan[0].hash}.json").read_text()
    assert '"elapsed_s": null' in text and '"seconds_to_target": null' in text  # no wall-clock seconds


def test_a_build_that_reuses_an_earlier_one_writes_the_same_files_and_trains_only_what_changed(
        tmp_path, tiny_runs, monkeypatch):
    plan, runs = tiny_runs
    B.write(tmp_path / "a", plan, runs, "2026-12-02")
    monkeypatch.setattr(B, "plan", lambda: plan)
    trained = []
    real = B.train_all
    monkeypatch.setattr(B, "train_all", lambda cfgs, **kw: trained.extend(cfgs) or real(cfgs, **kw))
    B.build(tmp_path / "b", "2026-12-02", say=lambda s: None, reuse=tmp_path / "a")
    assert trained == []  # every run taken from the earlier build
    names = sorted(str(p.relative_to(tmp_path / "a")) for p in (tmp_path / "a").rglob("*") if p.is_file())
    for n in names:
        assert (tmp_path / "a" / n).read_bytes() == (tmp_path / "b" / n).read_bytes(), n
    # a run kept another way (all its checkpoints now) is trained again; the others are still taken
    changed = [B.Planned(plan[0].cfg, plan[0].group, "all"), B.Planned(plan[1].cfg, plan[1].group, "all"), plan[2]]
    monkeypatch.setattr(B, "plan", lambda: changed)
    B.build(tmp_path / "c", "2026-12-02", say=lambda s: None, reuse=tmp_path / "a")
    assert [config_hash(c) for c in trained] == [changed[1].hash]  # the RNN kept all already


def test_the_shipped_reference_is_whole_small_and_covers_every_run_the_pages_need():
    ref = Reference(SHIPPED)
    files = ref.manifest["files"]
    on_disk = sorted(str(p.relative_to(SHIPPED)) for p in SHIPPED.rglob("*") if p.is_file() and p.name != "manifest.json")
    assert on_disk == sorted(files)
    for name, f in files.items():
        assert sha256(SHIPPED / name) == f["sha256"], f"{name} changed after the build"
        assert name.endswith((".json", ".csv", ".npz"))
    assert sum(p.stat().st_size for p in SHIPPED.rglob("*") if p.is_file()) <= B.MAX_BYTES
    missing = [p.group for p in B.plan() if p.hash not in ref.index]
    assert not missing, f"rebuild the reference (python -m core reference build): it lacks {missing}"
    for p in B.plan():
        if p.keep != "summary":
            run = ref.get(p.hash)
            assert run is not None and run.source.startswith("reference run, built with torch")


# --- behind the run store ---------------------------------------------------------------------------
def test_the_store_serves_reference_runs_behind_its_rows_and_its_own_first(tmp_path, tiny_ref, tiny_runs):
    plan, _ = tiny_runs
    ref = Reference(tiny_ref)
    store = RunStore(tmp_path / "store", reference=ref)
    assert len(store) == 0
    run = store.get(plan[1].cfg)
    assert run is not None and run.source == ref.origin() and sorted(run.checkpoints) == [0, 30]
    assert store.get(plan[2].cfg) is None  # summary only: no whole run to serve
    assert set(store.get_summaries([p.hash for p in plan])) == {p.hash for p in plan}
    assert store.from_reference([p.hash for p in plan]) == 3
    assert RunStore(tmp_path / "alone", reference=None).get(plan[1].cfg) is None
    store.put_result(train(plan[1].cfg))  # trained here: the store's own row comes first
    assert store.get(plan[1].cfg).source == "" and len(store) == 1
    assert store.from_reference([p.hash for p in plan]) == 2


def test_a_changed_reference_file_is_not_served(tmp_path, tiny_ref, tiny_runs):
    plan, _ = tiny_runs
    f = tiny_ref / "runs" / f"{plan[1].hash}.json"
    f.write_text(f.read_text().replace('"status": "finished"', '"status": "diverged"'))
    ref = Reference(tiny_ref)
    assert ref.get(plan[1].hash) is None and "does not match its manifest" in ref.problems[0]


# --- check ----------------------------------------------------------------------------------------------
def test_check_says_agrees_for_a_faithful_reference_and_differs_for_a_changed_number(tmp_path, tiny_ref,
                                                                                       tiny_runs, capsys):
    plan, _ = tiny_runs
    assert main(["reference", "check", "--folder", str(tiny_ref)]) == 0
    out = capsys.readouterr().out
    assert out.count("agrees (bit-identical)") == 3 and "3 of 3 agree" in out
    name = f"runs/{plan[0].hash}.json"
    meta = json.loads((tiny_ref / name).read_text())
    meta["evals"][-1]["metric"] += 1 / 512  # one more example of the held-out batch right
    (tiny_ref / name).write_text(json.dumps(meta))
    resign(tiny_ref, name)
    assert main(["reference", "check", "--folder", str(tiny_ref), "--runs", plan[0].hash]) == 1
    line = capsys.readouterr().out.splitlines()[1]
    assert line.startswith(plan[0].hash) and "differs (evaluation 30: metric" in line


def test_on_another_platform_agreeing_means_same_steps_to_target_and_final_metric_within_tolerance(tiny_ref,
                                                                                                     tiny_runs):
    plan, runs = tiny_runs
    ref = Reference(tiny_ref)
    assert B.compare(ref, plan[1].hash, runs[1], exact=False)[0] == B.AGREES
    runs[1].evals[-1]["metric"] += 2 * B.ACCURACY_TOL
    try:
        verdict, why = B.compare(ref, plan[1].hash, runs[1], exact=False)
    finally:
        runs[1].evals[-1]["metric"] -= 2 * B.ACCURACY_TOL
    assert verdict == B.DIFFERS and "final metric" in why


def test_the_shipped_reference_reproduces_here_on_its_cheapest_runs(capsys):
    """What CI checks of the shipped folder (`reference check --quick` takes three runs; two here)."""
    ref = Reference(SHIPPED)
    picked = B.quick_selection(ref, n=2)
    assert any(ref.index[h].get("record") for h in picked) and any(not ref.index[h].get("record") for h in picked)
    assert main(["reference", "check", "--runs", ",".join(picked), "--folder", str(SHIPPED)]) == 0, \
        capsys.readouterr().out


def test_train_reuse_finds_the_reference_and_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(ENV, str(SHIPPED))
    t0 = time.monotonic()
    assert main(["train", "--reuse", "--store", str(tmp_path / "s"), "--out", str(tmp_path / "run"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "reused from the shipped reference: rnn, lstm: reference run, built with torch" in out
    assert "reused from the run store" not in out and time.monotonic() - t0 < 30  # nothing trained
    assert len(RunStore(tmp_path / "s", reference=None)) == 0  # not copied into the user's store


# --- first open of the pages with an empty store ---------------------------------------------------
@pytest.fixture
def shipped_on(monkeypatch):
    monkeypatch.setenv(ENV, str(SHIPPED))
    monkeypatch.setenv("LAB_PROVE", "off")  # no retraining behind these pages (its own test is below)
    st.cache_data.clear()
    yield Reference(SHIPPED)
    st.cache_data.clear()


def page(path: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.switch_page(path)
    return at.run()


def captions(at: AppTest) -> str:
    """What the page says, as a reader sees it (outside text is escaped for Markdown: dashboard.components.plain)."""
    return "\n".join(unescape(e.value) for e in [*at.caption, *at.markdown])


def test_the_lab_shows_the_default_experiment_from_the_reference_at_once(shipped_on):
    from dashboard.components import training

    at = page("views/train.py")
    assert not at.exception
    assert training.JOB not in at.session_state, "the default experiment was trained instead of read"
    assert "Reference run, built with torch" in captions(at) and "not trained on this machine" in captions(at)
    assert at.get("vega_lite_chart")
    at.switch_page("views/gradients.py").run()
    assert not at.exception and at.get("vega_lite_chart")
    assert "reference run, built with torch" in captions(at).lower()
    fresh = AppTest.from_file(APP, default_timeout=TIMEOUT)  # a new session: the Inside page's own fallback
    fresh.switch_page("views/inside.py")
    fresh.run()
    assert not fresh.exception and fresh.get("vega_lite_chart")
    assert "default experiment's reference run, built with torch" in captions(fresh)


def test_the_sweep_page_draws_the_default_sweep_on_first_open(shipped_on):
    at = page("views/sweep.py")
    assert not at.exception
    assert len(at.get("vega_lite_chart")) >= 2
    assert "30 of these 30 runs: reference run, built with torch" in captions(at)


def test_the_tour_opens_on_its_charts_without_training(shipped_on):
    from core import jobs
    from core.story import runs as story_runs

    t0 = time.monotonic()
    at = page("views/story.py")
    assert not at.exception
    assert not [j for j in jobs.default_queue().jobs() if not j.ended], "the tour trained instead of reading"
    assert at.get("vega_lite_chart"), "chapter 1 drew no chart"
    assert "reference run, built with torch" in captions(at).lower()
    assert "The tour is complete: every chapter is drawn, from the reference" in captions(at)
    # every seed of the reference is read at first open: the verdict counts them all, not seed 0 alone
    said = captions(at) + "\n".join(unescape(e.value) for e in [*at.success, *at.info, *at.warning, *at.error])
    n = story_runs.SEEDS
    assert f"over {n} seeds" in said or f"of {n} seeds" in said, said
    assert "1 of 1 seed" not in said
    assert time.monotonic() - t0 < 60
    # the other chapters are read when shown, every seed too
    from dashboard.components import story as story_ui
    at.segmented_control(key=story_ui.CHAPTER).set_value(2).run()
    said = "\n".join(unescape(e.value) for e in [*at.success, *at.info, *at.warning, *at.error])
    assert not at.exception and f"of {n} seeds" in said, said
    assert "The tour is complete" in captions(at)


# --- proved on this machine ---------------------------------------------------------------------------
def test_the_server_retrains_the_reference_at_lowest_priority_and_a_persons_job_goes_first(tiny_ref, tiny_runs):
    from core.jobs import JobQueue, TrainJob
    from core.reference.prove import ProveJob, proof_line

    plan, _ = tiny_runs
    q = JobQueue()
    ref = Reference(tiny_ref)
    prove = ProveJob(ref)
    calls: list[str] = []
    for j, name in ((prove, "prove"),):
        real = j.work
        j.work = lambda real=real, name=name: (calls.append(name), real())[1]
    q.submit(prove)
    deadline = time.monotonic() + 60
    while not calls and time.monotonic() < deadline:
        time.sleep(0.01)
    person = TrainJob(validate(RunConfig(task=TaskConfig(seq_len=8), train=TrainConfig(steps=20))))
    real_person = person.work
    proved_then: list[int] = []  # how many reference runs were proved when the person's job first ran
    person.work = lambda: (calls.append("person"), proved_then.append(len(prove.verdicts)), real_person())[2]
    assert q.ahead(person) == 0
    q.submit(person)
    assert q.ahead(person) == 0, "the background job counts as ahead of a person's job"
    assert q.wait(person, 60) and person.state == "finished"
    assert q.wait(prove, 120) and prove.state == "finished"
    first = calls.index("person")
    assert "prove" not in calls[first:first + calls.count("person")], "the reference trained between a person's chunks"
    assert proved_then[0] < len(plan), "the person's job waited for the reference to be retrained"
    assert {v for v, _ in prove.verdicts.values()} == {B.AGREES} and len(prove.verdicts) == 3
    assert proof_line([p.hash for p in plan], prove).startswith("Reproduced here: trained again on this machine, "
                                                                "bit-identical (3 of 3")
    q.close()


def test_the_verdicts_are_kept_so_a_restarted_server_proves_only_what_is_left(tmp_path, tiny_ref, tiny_runs):
    from core.jobs import JobQueue
    from core.reference.prove import ProveJob, load_proofs, proof_line

    plan, _ = tiny_runs
    ref = Reference(tiny_ref)
    keep = tmp_path / "data" / "reference_proofs.json"
    first = [plan[0].hash]
    q = JobQueue()
    job = q.submit(ProveJob(ref, hashes=first, keep=keep))
    assert q.wait(job, 60) and job.state == "finished"
    assert load_proofs(keep, ref) == job.verdicts and len(job.verdicts) == 1
    # the server starts again: the kept verdict is taken, only the other runs train
    again = ProveJob(ref, hashes=[p.hash for p in plan], keep=keep)
    assert again.verdicts == job.verdicts and again.todo == [p.hash for p in plan[1:]]
    q.submit(again)
    assert q.wait(again, 60) and again.state == "finished" and len(load_proofs(keep, ref)) == len(plan)
    assert proof_line([p.hash for p in plan], again).startswith("Reproduced here")
    q.close()
    # another platform (or another reference) proves again: its key differs
    data = json.loads(keep.read_text())
    data["key"]["torch"] = "0.0.0"
    keep.write_text(json.dumps(data))
    assert load_proofs(keep, ref) == {} and len(ProveJob(ref, keep=keep).todo) == len(ref.index)
    keep.write_text("not json")  # a damaged file is as good as none
    assert load_proofs(keep, ref) == {}


@pytest.mark.parametrize("verdict,words", [(B.AGREES, "Reproduced here: trained again on this machine, bit-identical "
                                                      "(2 of 2 run(s))"),
                                           (B.DIFFERS, "Trained again here, and it differs from the reference: LSTM "
                                                       "(steps_to_target 225 -> 250)")])
def test_the_lab_says_whether_this_machine_reproduced_its_reference_run(shipped_on, monkeypatch, verdict, words):
    from core.reference import prove

    default = validate(RunConfig())
    hashes = [config_hash(default.single(k)) for k in default.models]
    job = prove.ProveJob(shipped_on, hashes=[])
    job.exact = True
    job.verdicts = {hashes[0]: (B.AGREES, "bit-identical"),
                    hashes[1]: (verdict, "bit-identical" if verdict == B.AGREES else "steps_to_target 225 -> 250")}
    job.state = "finished"
    monkeypatch.setattr(prove, "_server", [job])
    at = page("views/train.py")
    assert not at.exception and words in captions(at)


def test_without_the_variable_the_reference_is_the_projects_own_folder(monkeypatch):
    from core.shipped import default_folder
    monkeypatch.delenv(ENV, raising=False)
    assert default_folder() == ROOT / "reference"
    monkeypatch.setenv(ENV, "off")
    assert default_folder() is None


def test_a_seed_kept_for_the_verdicts_has_no_step_rows_and_its_first_weights_are_rebuilt_bit_for_bit(
        tmp_path, tiny_runs):
    plan, runs = tiny_runs
    lean = [plan[0], B.Planned(plan[1].cfg, "tour:x@1", "ends", steps=False), plan[2]]
    B.write(tmp_path / "r", lean, runs, "2026-12-02")
    ref = Reference(tmp_path / "r")
    e = ref.index[lean[1].hash]
    assert e["steps_left_out"] and e["checkpoints_rebuilt"] == [0] and 0 in e["checkpoints_kept"]
    with np.load(tmp_path / "r" / e["arrays"]) as z:
        assert not any(k.startswith("w/0/") for k in z.files)  # not stored
    run = ref.get(lean[1].hash)
    assert run.steps == [] and [e["metric"] for e in run.evals] == [e["metric"] for e in runs[1].evals]
    for step in e["checkpoints_kept"]:
        for k, v in runs[1].checkpoints[step].items():
            assert np.array_equal(run.checkpoints[step][k], v), (step, k)


def test_the_tour_report_reads_every_chapter_the_page_left_unread(shipped_on):
    """The tour reads a chapter's runs when it is shown; the report, asked for later, reads the rest."""
    from core import story
    from dashboard.components.story import every_result

    at = page("views/story.py")  # chapter 1 read, the others only found
    read = dict(at.session_state["story-results"])
    assert set(read) < set(story.all_experiments())
    every = every_result(read)
    assert set(every) == set(story.all_experiments())
    assert all(every[n] is read[n] for n in read)  # what the session read is kept as it is
