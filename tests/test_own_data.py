"""A learner's own CSV: a series to forecast and labelled sentences, from the CLI and the Train page.

- a good file trains headless; the run names its file by hash, the file is kept in the data folder
  byte for byte, and the baselines are the ones computed again here from the file's numbers;
- every broken kind of file is refused in one line (exit 2), none trains, none prints a traceback;
- labelled sentences: vocabulary from the training rows only, unknown words named, chance = the
  majority label, the per-word read-out works on a typed sentence;
- the upload widget (AppTest) sets the task and refuses a broken file in one escaped line.
Files are generated here; trainings are tiny (T <= 8, hidden 8, <= 30 steps)."""
from __future__ import annotations

import datetime
import re
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from conftest import run_cli
from core import owndata
from core.charts.export import folder_report, run_report
from core.config import ConfigError, ModelConfig, RunConfig, TaskConfig, TrainConfig, config_hash, validate
from core.inspection import sentence_table
from core.tasks import make_task
from core.trainer import train
from core.runio import load_run
from dashboard.components import own_data, plain
from dashboard.components.session import KEY

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
TINY = ["--seq-len", "6", "--hidden-size", "8", "--steps", "20", "--eval-every", "10", "--batch-size", "16",
        "--quiet", "--no-store"]


def series_csv(n: int = 80, seed: int = 0) -> tuple[bytes, np.ndarray]:
    """date,sales,weekday: a wave with noise, one row a day; returns the bytes and the sales."""
    rng = np.random.default_rng(seed)
    sales = np.round(10 + 3 * np.sin(np.arange(n) / 4) + rng.normal(0, 0.3, n), 3)
    d0 = datetime.date(2021, 3, 1)
    rows = [f"{d0 + datetime.timedelta(days=i)},{sales[i]},{i % 7}" for i in range(n)]
    return ("date,sales,weekday\n" + "\n".join(rows) + "\n").encode(), sales


def sentences_csv() -> bytes:
    rows = [f"the {'good' if i % 3 else 'bad'} {['film', 'meal', 'trip'][i % 3]} number{i},"
            f"{'pos' if i % 3 else 'neg'}" for i in range(45)]
    return ("text,label\n" + "\n".join(rows) + "\n").encode()


def write(tmp_path: Path, raw: bytes, name: str = "mine.csv") -> str:
    p = tmp_path / name
    p.write_bytes(raw)
    return str(p)


# --- a good series ---------------------------------------------------------------------------------------------
def test_a_series_trains_from_the_cli_and_names_its_file(tmp_path):
    raw, sales = series_csv()
    out = tmp_path / "run"
    r = run_cli("train", "--csv", write(tmp_path, raw), "--target", "sales", "--date", "date", *TINY, "--out", str(out))
    assert r.returncode == 0, r.stderr
    h = owndata.digest(raw)
    assert (owndata.folder() / f"{h}.csv").read_bytes() == raw  # kept as given, under its hash
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["task"] | {} == {**cfg["task"], "name": "own_series", "data": h, "column": "sales", "date_column": "date"}
    assert "'mine.csv'" in r.stderr and "persistence forecast" in r.stdout
    # the baselines, computed again from the file's numbers: the last 20% of the rows held out
    test = np.arange(owndata.train_rows(len(sales)), len(sales))
    task = make_task(validate(RunConfig.from_dict(cfg)).task)
    assert task.chance == pytest.approx(np.mean((sales[test] - sales[test - 1]) ** 2))
    mean = sales[: test[0]].mean()
    assert task.baselines()["training-mean forecast"] == pytest.approx(np.mean((sales[test] - mean) ** 2))
    assert len(task.eval_batch()[1]) == len(test)  # every held-out row forecast once
    y = task.to_units(task.eval_batch()[1]).numpy()
    assert np.allclose(y, sales[test], atol=1e-4)  # scored in the column's own units
    # statistics from the training rows only: a held-out value changed leaves the training inputs alone
    changed = raw.decode().replace(f",{sales[-1]},", f",{sales[-1] + 1000},").encode()
    other = make_task(TaskConfig(name="own_series", seq_len=6, data=owndata.save(changed, "c.csv"), column="sales",
                                 date_column="date"))
    gen = lambda: torch.Generator().manual_seed(0)  # noqa: E731
    assert torch.equal(other.sample(8, gen())[0], task.sample(8, gen())[0])
    report = run_report(load_run(out))  # the report says whose data, and how to train it again
    assert "data: your file 'mine.csv'" in report.subtitle and f"--data {h}" in report.reproduce


def test_the_store_keeps_two_files_apart_and_a_default_run_keeps_its_hash(tmp_path):
    a, _ = series_csv(seed=0)
    b, _ = series_csv(seed=1)
    ha, hb = owndata.save(a, "a.csv"), owndata.save(b, "b.csv")
    cfgs = [validate(RunConfig(task=TaskConfig(name="own_series", seq_len=6, data=h, column="sales"))) for h in (ha, hb)]
    assert config_hash(cfgs[0]) != config_hash(cfgs[1])
    assert config_hash(validate(RunConfig())) == "3bced9f86fc0"  # the empty data fields count for nothing
    with pytest.raises(ConfigError, match="reads no file"):
        validate(RunConfig(task=TaskConfig(data=ha)))
    with pytest.raises(ConfigError, match="no file with hash"):
        validate(RunConfig(task=TaskConfig(name="own_series", data="0" * 16, column="sales")))


def test_missing_values_are_filled_and_said(tmp_path):
    raw, _ = series_csv()
    lines = raw.decode().splitlines()
    for i in (5, 9, 12):
        parts = lines[i].split(",")
        lines[i] = f"{parts[0]},,{parts[2]}"
    r = run_cli("train", "--csv", write(tmp_path, "\n".join(lines).encode()), "--target", "sales", *TINY,
                "--out", str(tmp_path / "run"))
    assert r.returncode == 0, r.stderr
    assert "3 missing values in 'sales' (line 6, 10, 13) filled with the value before it" in r.stderr


# --- every broken file: one line, exit 2 ---------------------------------------------------------------------
def _dates_swapped() -> bytes:
    lines = series_csv()[0].decode().splitlines()
    lines[3], lines[4] = lines[4], lines[3]
    return "\n".join(lines).encode()


def _date_twice() -> bytes:
    lines = series_csv()[0].decode().splitlines()
    lines[4] = lines[3].split(",")[0] + "," + lines[4].split(",", 1)[1]
    return "\n".join(lines).encode()


BROKEN = {  # name: (bytes, extra flags, words the one line must hold)
    "not a CSV": (b"a,b\n1,2\n3,4,5\n", [], "line 3 has 3 fields"),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", [], "binary file"),
    "not UTF-8": ("date,sales\n2021-01-01,caf\xe9\n".encode("latin-1"), [], "not UTF-8"),
    "no numeric column": (b"name,city\nann,paris\nbob,rome\n", [], "no numeric column"),
    "target missing": (series_csv()[0], ["--target", "price"], "no column 'price'"),
    "too few rows for T": (series_csv(n=30)[0], ["--seq-len", "20"], "at most 14 for this file"),
    "too few rows for any T": (b"sales\n1\n2\n3\n4\n5\n", [], "too few rows: the file has 5"),
    "too many missing": (b"sales\n" + b"1\nNA\nNA\nNA\n2\n3\n4\n5\n" * 4, [], "missing values"),
    "constant series": (b"sales\n" + b"5\n" * 40, [], "constant"),
    "too large": (b"sales\n" + b"1.0\n" * (owndata.MAX_BYTES // 4), [], f"at most {owndata.MAX_BYTES:,} bytes"),
    "duplicated dates": (_date_twice(), ["--date", "date"], "appears twice"),
    "unsorted dates": (_dates_swapped(), ["--date", "date"], "not in order"),
    "target is the date": (series_csv()[0], ["--target", "date", "--date", "date"], "cannot be both"),
    "not a date": (b"date,sales\nmonday,1\n", ["--date", "date"], "not a date"),
    "sentences with one label": (b"text,label\ngood,pos\nfine,pos\n", ["--no-target"], "at least 2"),
}


@pytest.mark.parametrize("kind", list(BROKEN))
def test_a_broken_file_is_refused_in_one_line(tmp_path, kind):
    raw, extra, words = BROKEN[kind]
    flags = [f for f in extra if f != "--no-target"]
    target = [] if "--no-target" in extra or "--target" in extra else ["--target", "sales"]
    r = run_cli("train", "--csv", write(tmp_path, raw), *target, *TINY, *flags, "--out", str(tmp_path / "run"))
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.startswith("error: ") and r.stderr.count("\n") == 1, r.stderr
    assert words in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "run").exists()


def test_too_few_rows_names_the_longest_window_the_file_holds():
    h = owndata.save(series_csv(n=30)[0], "short.csv")
    hi = owndata.max_window(30)
    ok = validate(RunConfig(task=TaskConfig(name="own_series", seq_len=hi, data=h, column="sales")))
    assert make_task(ok.task).train_ends.size == owndata.MIN_TRAIN_WINDOWS  # the longest T keeps exactly that many
    with pytest.raises(ConfigError, match=f"at most {hi} "):
        validate(RunConfig(task=TaskConfig(name="own_series", seq_len=hi + 1, data=h, column="sales")))


def test_dates_before_1677_keep_their_order():
    """pandas keeps them in seconds (nanoseconds end in 1677): read as they are, not wrapped round."""
    raw = b"day,v\n" + b"".join(b"1500-01-%02d,%d\n" % (d, d % 3) for d in range(1, 31))
    d = owndata.series_table(owndata.check_table(raw), "v", "day").dates
    assert str(d[0]).startswith("1500-01-01") and (np.diff(d) > np.timedelta64(0)).all()


def test_a_value_from_the_file_is_quoted_cut_short():
    evil = "[x](http://ev.il)" * 20
    raw = f"{evil},b\nabc,1\n".encode()
    with pytest.raises(owndata.DataError) as e:
        owndata.series_table(owndata.check_table(raw), evil)
    assert len(str(e.value)) < 200 and "\n" not in str(e.value)


# --- labelled sentences ---------------------------------------------------------------------------------------
def test_sentences_train_with_a_vocabulary_of_the_training_rows(tmp_path):
    out = tmp_path / "run"
    r = run_cli("train", "--csv", write(tmp_path, sentences_csv()), *TINY, "--out", str(out))
    assert r.returncode == 0, r.stderr
    cfg = json.loads((out / "config.json").read_text())
    task = make_task(validate(RunConfig.from_dict(cfg)).task)
    assert task.name == "own_text" and task.class_names == ["neg", "pos"]
    labels = np.array([i % 3 != 0 for i in range(45)])
    held = np.zeros(45, dtype=bool)  # the last 20% of each label's rows, in file order
    for c in (False, True):
        rows = np.flatnonzero(labels == c)
        held[rows[len(rows) - int(np.ceil(0.2 * len(rows))):]] = True
    assert task.chance == pytest.approx((labels[held] == True).mean())  # noqa: E712 (pos is the majority)
    # every 'numberN' word is unique: the held-out ones are unknown, named, and read as <unk>
    assert "number44" not in task.vocab and "number0" in task.vocab
    first = int(np.flatnonzero(held)[0])
    said = [n for n in task.notes if "not in the training rows" in n]
    assert said[0].startswith(f"{held.sum()} held-out words") and f"'number{first}'" in said[0]
    assert said[0] in r.stderr
    assert task.render(task.eval_batch()[0][:1])[0][-1] == "<unk>"


def test_the_per_word_readout_and_the_inside_page_read_a_typed_sentence():
    h = owndata.save(sentences_csv(), "s.csv")
    cfg = validate(RunConfig(task=TaskConfig(name="own_text", seq_len=5, data=h), model=ModelConfig(hidden_size=8),
                             train=TrainConfig(steps=10, eval_every=5, batch_size=16, n_checkpoints=2)))
    result = train(cfg)
    table = sentence_table(result, "the good meal")
    assert list(table["input"]) == ["the", "good", "meal"] * 2  # one block per model
    with pytest.raises(ValueError, match="'zebra'"):
        sentence_table(result, "the zebra")
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state[KEY] = result
    at.switch_page("views/inside.py")
    at.run(timeout=60)
    assert not at.exception, at.exception
    assert at.text_input[0].value == make_task(cfg.task).example_text()  # a training sentence, in its words
    assert len(at.dataframe) == 3  # the step table, the typed sentence's, the forget gate's arithmetic
    at.text_input[0].input("the [zebra](ev.il)").run(timeout=60)
    assert not at.exception and any("zebra" in plain.unescape(w.value) and "\\[" in w.value for w in at.warning)


def test_a_sweep_and_its_report_name_the_file(tmp_path):
    out = tmp_path / "sweep"
    csv = write(tmp_path, series_csv()[0], "shop.csv")
    r = run_cli("sweep", "--csv", csv, "--target", "sales", "--lengths", "4,6", "--seeds", "0", "--models", "lstm",
                "--steps", "10", "--hidden-size", "8", "--batch-size", "16", "--quiet", "--out", str(out))
    assert r.returncode == 0, r.stderr
    longer = run_cli("sweep", "--csv", csv, "--target", "sales", "--lengths", f"4,{owndata.max_window(80) + 1}",
                     "--quiet", "--out", str(tmp_path / "no"))  # refused before any run trains
    assert longer.returncode == 2 and f"at most {owndata.max_window(80)} for this file" in longer.stderr
    info = json.loads((out / "sweep.json").read_text())
    assert info["base"]["task"]["data"] == owndata.digest(series_csv()[0])
    report = folder_report(out)
    assert "data: your file 'shop.csv'" in report.subtitle and "forecasting 'sales'" in report.subtitle
    assert "--data " in report.reproduce and "--target sales" in report.reproduce
    assert "--task own_series" in report.reproduce
    at = AppTest.from_file(APP, default_timeout=60)  # the sweep page shows the store's last sweep: whose data
    at.switch_page("views/sweep.py")
    at.run(timeout=60)
    assert not at.exception, at.exception
    assert any(plain.unescape(c.value).startswith("Data: your file 'shop.csv'") for c in at.caption)


# --- the upload widget -------------------------------------------------------------------------------------------
def page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page("views/train.py")
    at.query_params.update({"seq_len": "100", "steps": "20", "hidden_size": "8"})
    return at.run()


def test_the_upload_sets_the_task_and_refuses_a_broken_file_in_one_escaped_line():
    at = page()
    raw, _ = series_csv()
    at.file_uploader(key=own_data.UPLOAD).set_value(("[a](ev.il) *x*.csv", raw, "text/csv")).run()
    assert not at.exception
    assert at.selectbox(key="task").value == "own_series"
    assert at.selectbox(key=own_data.TARGET).value == "weekday"  # the last numeric column, until chosen
    at.selectbox(key=own_data.TARGET).set_value("sales").run()
    assert at.selectbox(key=own_data.DATE).value == "date"
    assert at.slider(key="seq_len").value == owndata.max_window(80)  # brought into what the file holds
    used = at.success[0].value
    assert plain.unescape(used).startswith("Using your file '[a](ev.il) *x*.csv'") and "\\[a\\]" in used
    at.file_uploader(key=own_data.UPLOAD).set_value(("reviews.csv", sentences_csv(), "text/csv")).run()
    assert not at.exception and at.selectbox(key="task").value == "own_text"
    assert "45 labelled sentences" in plain.unescape(at.success[0].value)
    assert any("read as <unk>" in plain.unescape(i.value) for i in at.info)  # the unknown held-out words, named
    at.file_uploader(key=own_data.UPLOAD).set_value(("bad.csv", b"\x00\x01", "text/csv")).run()
    assert not at.exception
    assert [plain.unescape(e.value) for e in at.error] == ["Refused 'bad.csv': this is a binary file, not a CSV "
                                                           "(it holds NUL bytes)."]


def test_column_names_from_the_file_reach_the_page_as_text():
    at = page()
    evil = "`[x](http://ev.il)` <b>"
    rows = "\n".join(f"2024-01-{d:02d},{d % 4 + d % 3 * 0.5},NA" for d in range(1, 31))
    raw = f'day,"{evil}",empty\n{rows}\n'.encode()
    at.file_uploader(key=own_data.UPLOAD).set_value(("x.csv", raw, "text/csv")).run()
    assert not at.exception and at.selectbox(key=own_data.TARGET).value == evil
    shown = [e.value for e in (*at.success, *at.info, *at.error, *at.warning, *at.caption)]
    assert any(evil in plain.unescape(v) for v in shown)  # said: in the success line and the experiment's line
    for v in shown:
        bare = re.sub(r"\\.", "", v)
        assert "](" not in bare and "`" not in bare and "<" not in bare, v
