"""Hostile input, kept as tests: every bad command line exits 2 with one line on stderr and no
traceback (or does the documented reasonable thing), and any string in a dashboard link gives a
one-line warning or a valid value, never an exception.

The CLI is called in-process (`core.cli.main`), never through a subprocess: ~40 cases in seconds.
"""
from __future__ import annotations

import json
import os
import re
import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.cli import main
from core.runio import RUN_FILES, write_manifest
from dashboard.components.controls import FIELDS, from_query
from dashboard.components.plain import ECHO_CHARS, NO_LINK, SPECIAL, echo, md, unescape

TINY = ["--task", "sentiment_but", "--seq-len", "4", "--hidden-size", "2", "--batch-size", "4",
        "--steps", "3", "--quiet", "--no-store"]


@pytest.fixture(scope="module")
def places(tmp_path_factory):
    """A tiny finished run, a copy without its weights (with and without a manifest), a plain
    file, and a store folder whose runs.sqlite is random bytes."""
    root = tmp_path_factory.mktemp("hostile")
    run = root / "run"
    assert main(["train", *TINY, "--out", str(run)]) == 0
    for name, keep_manifest in (("no_weights", True), ("no_weights_old", False)):
        shutil.copytree(run, root / name)
        (root / name / "weights.npz").unlink()
        if not keep_manifest:
            (root / name / "manifest.json").unlink(missing_ok=True)
    for name, edit in (("hidden_text", lambda c: {**c, "model": {**c["model"], "hidden_size": "abc"}}),
                       ("config_list", lambda c: [c["task"], c["model"]]),
                       ("section_text", lambda c: {**c, "train": "fast"}),
                       ("models_nested", lambda c: {**c, "models": [["rnn"]]}),
                       ("hidden_huge", lambda c: {**c, "model": {**c["model"], "hidden_size": 10 ** 400}})):
        shutil.copytree(run, root / name)
        config = json.loads((root / name / "config.json").read_text())
        (root / name / "config.json").write_text(json.dumps(edit(config)))
        write_manifest(root / name, RUN_FILES)  # signed again: only the checks of the config can refuse it
    (root / "a_file").write_text("not a folder")
    (root / "junk_store").mkdir()
    (root / "junk_store" / "runs.sqlite").write_bytes(os.urandom(8192))
    return root


def call(argv: list[str], capsys) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as e:  # argparse's own refusals
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


# (case id, argv with {run}, {no_weights}, {no_weights_old}, {file}, {junk}, {out} filled in)
BAD = [
    # every numeric flag of train: out of range, not a number, nan, inf
    ("seq_len negative", ["train", "--seq-len", "-3"]),
    ("seq_len text", ["train", "--seq-len", "abc"]),
    ("seq_len huge", ["train", "--seq-len", "1e99"]),
    ("seq_len nan", ["train", "--seq-len", "nan"]),
    ("seq_len fraction", ["train", "--seq-len", "2.5"]),
    ("seq_len below task minimum", ["train", "--task", "sentiment_but", "--seq-len", "3"]),
    ("n_symbols zero", ["train", "--n-symbols", "0"]),
    ("n_distractors text", ["train", "--n-distractors", "many"]),
    ("hidden_size zero", ["train", "--hidden-size", "0"]),
    ("hidden_size inf", ["train", "--hidden-size", "inf"]),
    ("steps zero", ["train", "--steps", "0"]),
    ("steps -inf", ["train", "--steps", "-inf"]),
    ("batch_size negative", ["train", "--batch-size", "-64"]),
    ("lr zero", ["train", "--lr", "0"]),
    ("lr nan", ["train", "--lr", "nan"]),
    ("lr inf", ["train", "--lr", "inf"]),
    ("lr text", ["train", "--lr", "fast"]),
    ("clip nan", ["train", "--clip", "nan"]),
    ("eval_every zero", ["train", "--eval-every", "0"]),
    ("seed negative", ["train", "--seed", "-1"]),
    ("seed huge", ["train", "--seed", "1e99"]),
    ("n_checkpoints text", ["train", "--n-checkpoints", "x"]),
    ("patience negative", ["train", "--patience", "-2"]),
    # choices: empty and unknown models, tasks, optimizers, devices
    ("models empty", ["train", "--models", ""]),
    ("models unknown", ["train", "--models", "rnn,transformer"]),
    ("task empty", ["train", "--task", ""]),
    ("task unknown", ["train", "--task", "chess"]),
    ("optimizer unknown", ["train", "--optimizer", "magic"]),
    ("forget_init unknown", ["train", "--forget-init", "two"]),
    # where to write: a file, a path below a file, a folder that cannot be made
    ("out is a file", ["train", *TINY, "--out", "{file}"]),
    ("out below a file", ["train", *TINY, "--out", "{file}/run"]),
    ("out unwritable", ["train", *TINY, "--out", "/proc/lab-cannot-write-here"]),
    ("store of random bytes", ["train", *TINY[:-1], "--store", "{junk}", "--out", "{out}"]),
    # sweep
    ("sweep lengths empty", ["sweep", "--lengths", ""]),
    ("sweep lengths text", ["sweep", "--lengths", "10,abc"]),
    ("sweep lengths huge", ["sweep", "--lengths", "1e99"]),
    ("sweep lengths nan", ["sweep", "--lengths", "nan"]),
    ("sweep seeds inf", ["sweep", "--seeds", "inf"]),
    ("sweep workers negative", ["sweep", "--workers", "-1"]),
    ("sweep workers text", ["sweep", "--workers", "two"]),
    ("sweep threads flag (one torch thread per run, always)", ["sweep", "--threads", "4"]),
    ("sweep executor unknown", ["sweep", "--executor", "gpu-farm"]),
    ("sweep given seq_len", ["sweep", "--seq-len", "10"]),
    ("sweep out is a file", ["sweep", "--lengths", "5", "--seeds", "0", "--out", "{file}"]),
    # inspect
    ("inspect missing run", ["inspect", "--run", "{file}.missing", "--out", "{out}"]),
    ("inspect run is a file", ["inspect", "--run", "{file}", "--out", "{out}"]),
    ("inspect empty text", ["inspect", "--run", "{run}", "--out", "{out}", "--text", ""]),
    ("inspect unknown words", ["inspect", "--run", "{run}", "--out", "{out}", "--text", "i loved the ñandú 😀"]),
    ("inspect step out of range", ["inspect", "--run", "{run}", "--out", "{out}", "--step", "99999"]),
    ("inspect step text", ["inspect", "--run", "{run}", "--out", "{out}", "--step", "last"]),
    ("inspect example out of range", ["inspect", "--run", "{run}", "--out", "{out}", "--example", "9"]),
    ("inspect t out of range", ["inspect", "--run", "{run}", "--out", "{out}", "--t", "999"]),
    ("inspect t negative", ["inspect", "--run", "{run}", "--out", "{out}", "--t", "-1"]),
    ("inspect missing weights", ["inspect", "--run", "{no_weights}", "--out", "{out}"]),
    ("inspect missing weights, no manifest", ["inspect", "--run", "{no_weights_old}", "--out", "{out}"]),
    ("inspect out is a file", ["inspect", "--run", "{run}", "--out", "{file}"]),
    # export
    ("export missing run", ["export", "--run", "{file}.missing", "--out", "{out}"]),
    ("export formats unknown", ["export", "--run", "{run}", "--out", "{out}", "--formats", "gif"]),
    ("export formats empty", ["export", "--run", "{run}", "--out", "{out}", "--formats", ","]),
    ("export missing weights", ["export", "--run", "{no_weights}", "--out", "{out}", "--formats", "csv"]),
    ("export out is a file", ["export", "--run", "{run}", "--out", "{file}", "--formats", "csv"]),
    # a run folder whose config is not one (whole by its manifest: only validate() can refuse it)
    *[(f"{cmd} config {name}", [cmd, "--run", f"{{{name}}}", "--out", "{out}"])
      for cmd in ("inspect", "export") for name in ("hidden_text", "config_list", "section_text", "models_nested", "hidden_huge")],
    ("train resume config hidden_size text", ["train", "--resume", "{hidden_text}", "--steps", "5", "--quiet"]),
    # no command at all, an unknown one
    ("no command", []),
    ("unknown command", ["fly"]),
]


@pytest.mark.parametrize("case,argv", BAD, ids=[c for c, _ in BAD])
def test_bad_input_exits_2_with_one_line(case, argv, places, tmp_path, capsys):
    fill = {"run": places / "run", "no_weights": places / "no_weights",
            "no_weights_old": places / "no_weights_old", "file": places / "a_file",
            "junk": places / "junk_store", "out": tmp_path / "out",
            **{n: places / n for n in ("hidden_text", "config_list", "section_text", "models_nested", "hidden_huge")}}
    argv = [a.format(**{k: str(v) for k, v in fill.items()}) for a in argv]
    code, out, err = call(argv, capsys)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 2, f"{case}: exit {code}, stderr {err!r}"
    assert len(lines) == 1, f"{case}: stderr is not one line: {err!r}"
    assert "Traceback" not in err + out


def test_unknown_words_are_named_in_the_one_line(places, tmp_path, capsys):
    code, _, err = call(["inspect", "--run", str(places / "run"), "--out", str(tmp_path / "o"),
                         "--text", "I loved the movie, but the ñandú was 😀 終わり"], capsys)
    assert code == 2
    for word in ("ñandú", "😀", "終わり"):
        assert word in err


def test_the_good_inputs_still_work(places, tmp_path, capsys):
    """The reasonable things: the explainer's sentence in both spellings traces, and --step between
    kept checkpoints takes the nearest."""
    for text in ("I loved the movie, but the ending was disappointing",
                 "i loved the movie , but the ending was disappointing"):
        code, out, err = call(["inspect", "--run", str(places / "run"), "--out", str(tmp_path / "o"),
                               "--text", text, "--step", "1"], capsys)
        assert code == 0, err
        assert (tmp_path / "o" / "sentence_table.csv").exists()


# --- the dashboard's link parser, fuzzed ---------------------------------------------------------
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(FIELDS + ("unknown",)), st.text(max_size=40)))
def test_any_link_gives_a_valid_config_or_one_line_warnings(params):
    cfg, problems = from_query(params)
    assert cfg.task.name and cfg.models
    assert len(problems) <= len(params)
    for p in problems:
        assert p.isprintable(), p  # one line: no newline or other control character


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(FIELDS),
       st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr),
                 st.integers(min_value=-10**120, max_value=10**120).map(str),
                 st.sampled_from(["1e99", "-1e99", "1e400", "nan", "inf", "-0", "0x10", "", " ", "5e-324"])))
def test_numbers_in_a_link_are_refused_or_used(key, raw):
    cfg, problems = from_query({key: raw})
    assert len(problems) <= 1
    for p in problems:
        assert f"Ignored {key}={echo(raw)} from the link" in p


def test_a_huge_number_is_echoed_as_typed():
    _, problems = from_query({"steps": "1e99", "seq_len": "1e99"})
    assert len(problems) == 2
    for p in problems:
        assert "got 1e99" in p and not re.search(r"\d{20}", p), p


def test_a_config_that_is_not_one_is_named_in_the_one_line(places, tmp_path, capsys):
    code, _, err = call(["inspect", "--run", str(places / "hidden_text"), "--out", str(tmp_path / "o")], capsys)
    assert code == 2 and "hidden_size must be a whole number, got 'abc'" in err


# --- the dashboard's one escape (dashboard.components.plain) ------------------------------------------
SPECIALS = "".join(sorted(SPECIAL))


def bare(escaped: str) -> str:
    """`escaped` with every backslash pair taken out: what Markdown could still read as syntax."""
    return re.sub(r"\\.", "", escaped)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(SPECIALS + "abwW 1:/.\u00e9\U0001F600"), max_size=60) | st.text(max_size=60))
def test_md_escapes_every_markdown_character_and_loses_nothing(text):
    """Two ways: unescaping gives the text back (a reader sees what was sent), and once every escaped
    pair is taken out no character Markdown, Streamlit or HTML reads as syntax is left."""
    out = md(text)
    shown = "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in text)
    assert unescape(out) == shown
    assert not set(bare(out)) & SPECIAL, out
    assert not re.search(r"://|(?i:www)\.|@[\w-]", out.replace("\\", "")), out  # no bare address for GFM to link
    assert out.replace(NO_LINK, "").isprintable() or out == ""  # one line


@pytest.mark.parametrize("probe", [
    "`[Session expired: sign in](https://ev.il/x)`",  # a live link on the landing page
    "![x](http://host/a.png)",  # an image the browser fetches
    "<img src=x onerror=alert(1)>",
    "``` code ```", "$\\int$ :red[alert] :material/warning:", "www.ev.il and a@b.co",
    "# heading", "- item", "1. item", "| a | b |", "~~gone~~", "**bold** _it_", "\\[x\\](y)",
])
def test_the_probes_are_text(probe):
    out = md(probe)
    assert unescape(out) == probe
    assert "](" not in bare(out) and "`" not in bare(out) and "<" not in bare(out) and ":" not in bare(out)
    assert "://" not in out.replace("\\", "") and "www." not in out.replace("\\", "")  # GFM links these after escapes


def test_a_refused_link_value_is_cut_short_and_said_once():
    """5,000 characters in: the message quotes a short prefix of the value, wherever it is quoted (the
    check's own words included), and says the rest."""
    for key in ("task", "seq_len", "lr", "models", "forget_init"):
        _, problems = from_query({key: "`[x](http://ev.il)`" + "A" * 5000})
        assert len(problems) == 1
        p = problems[0]
        assert len(p) < 400, (key, len(p))
        assert p.count("A" * (ECHO_CHARS - 20)) <= 2 and "A" * 100 not in p
        assert f"{key}={echo('`[x](http://ev.il)`' + 'A' * 5000)}" in p and echo("x" * 100) == "x" * ECHO_CHARS + "… (100 characters)"
