"""Configuration that keeps the past and one home for each fact.

- Adding a config field with a default leaves every existing configuration's hash as it was (the
  run store keeps reusing stored runs), and validation carries such a field through instead of
  dropping it.
- A task is everything about it in its class: registering a throwaway task makes it appear in
  the CLI, the dashboard's sidebar and a verdict, with no other file touched.
- Bounds have one home: the CLI help, the widgets and the sweep read the field's rule.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core import tasks
from core.cli import main
from core.config import (HASHED_V1, whole, ConfigError, ModelConfig, RunConfig, TaskConfig, TrainConfig, config_hash,
                         parse_variants, rule, seq_len_range, validate, variant_of, variant_title, with_variant)
from core.store import RunStore
from core.trainer import train
from dashboard.components import controls

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")


# --- hashes that keep the past --------------------------------------------------------------------
# Hashes of configurations as main computed them before config fields carried rules (commit
# 7db944c): a stored run is found by this hash, so it must never drift.
PINNED = {
    "default": "3bced9f86fc0",
    "default, rnn alone": "39163fa0ee4a",
    "default, lstm alone": "a40fd4f9331c",
    "adding T=50, gru": "5f4dd9cf3ee5",
}


def _configs() -> dict[str, RunConfig]:
    d = validate(RunConfig())
    return {
        "default": d, "default, rnn alone": d.single("rnn"), "default, lstm alone": d.single("lstm"),
        "adding T=50, gru": d.replace(task=dataclasses.replace(d.task, name="adding", seq_len=50), models=("gru",)),
    }


@pytest.mark.parametrize("name", list(PINNED))
def test_existing_hashes_are_unchanged(name):
    assert config_hash(_configs()[name]) == PINNED[name]


@dataclasses.dataclass(frozen=True)
class TrainConfigWithWarmup(TrainConfig):
    """TrainConfig as it would be after someone adds a field with a default."""

    warmup: int = 0


def test_a_new_field_at_its_default_keeps_the_hash_and_counts_when_set():
    cfg = validate(RunConfig())
    grown = cfg.replace(train=TrainConfigWithWarmup(**dataclasses.asdict(cfg.train)))
    assert config_hash(grown) == config_hash(cfg)  # the store still finds every run
    changed = grown.replace(train=dataclasses.replace(grown.train, warmup=100))
    assert config_hash(changed) != config_hash(cfg)  # a real change is a new run
    assert "warmup" not in HASHED_V1["train"]


def test_validation_carries_a_new_field_through():
    cfg = RunConfig(train=TrainConfigWithWarmup(warmup=7, steps="30"))  # type: ignore[arg-type]
    out = validate(cfg)
    assert isinstance(out.train, TrainConfigWithWarmup) and out.train.warmup == 7 and out.train.steps == 30


def test_device_never_changes_the_hash():
    cfg = validate(RunConfig())
    assert config_hash(cfg.replace(train=dataclasses.replace(cfg.train, device="cpu"))) == config_hash(cfg)


def test_single_resets_only_what_the_model_does_not_read():
    cfg = validate(RunConfig(model=ModelConfig(forget_init="zero")))
    assert cfg.single("rnn").model.forget_init == ModelConfig.forget_init  # the RNN has no forget gate
    assert cfg.single("lstm").model.forget_init == "zero"


def test_each_models_init_joins_only_its_own_hash():
    d = validate(RunConfig(models=("rnn", "lstm", "gru")))
    # the new init fields at their defaults: every pinned hash above is unchanged
    assert (d.model.rnn_init, d.model.gru_init) == ("default", "default")
    assert "rnn_init" not in HASHED_V1["model"] and "gru_init" not in HASHED_V1["model"]
    changed = d.replace(model=dataclasses.replace(d.model, rnn_init="irnn", gru_init="chrono"))
    for kind, moved in (("rnn", True), ("gru", True), ("lstm", False)):
        assert (config_hash(changed.single(kind)) != config_hash(d.single(kind))) == moved, kind
    assert changed.single("lstm").model.rnn_init == "default"  # the LSTM does not read it
    assert changed.single("rnn").model.gru_init == "default"
    with pytest.raises(ConfigError, match="rnn_init"):
        validate(RunConfig(model=ModelConfig(rnn_init="identity")))


def test_variants_name_a_kind_and_its_init():
    d = validate(RunConfig())
    assert parse_variants("rnn, rnn:irnn,lstm:zero,rnn") == ("rnn", "rnn:irnn", "lstm:zero")
    irnn = with_variant(d, "rnn:irnn")
    assert irnn.models == ("rnn",) and irnn.model.rnn_init == "irnn"
    assert config_hash(with_variant(d, "rnn")) == PINNED["default, rnn alone"]  # a bare kind is today's run
    assert config_hash(with_variant(d, "lstm:chrono")) == PINNED["default, lstm alone"]
    assert variant_of(with_variant(d, "lstm:chrono")) == "lstm"  # the default is the bare kind
    assert variant_of(irnn) == "rnn:irnn" and variant_title(irnn) == "Vanilla RNN (IRNN init)"
    for bad, why in (("rnn:chrono", "rnn init"), ("gru:zero", "gru init"), ("cnn", "model"), ("", "at least")):
        with pytest.raises(ConfigError, match=why):
            parse_variants(bad)


def test_cli_has_a_flag_for_each_init(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "--rnn-init" in out and "--gru-init" in out and "--forget-init" in out
    assert "irnn" in out and "orthogonal" in out


# --- one home for each bound ------------------------------------------------------------------------
def test_bounds_are_read_from_the_field_rule():
    r = rule("task", "seq_len")
    assert seq_len_range("first_token") == (r.lo, r.hi)
    assert seq_len_range("temporal_order")[0] == tasks.TASKS["temporal_order"].min_seq_len
    _, problems = controls.from_query({"seq_len": str(int(r.ui_lo) - 1)})  # the slider's range: the rule's
    assert f"between {int(r.ui_lo)} and {int(r.hi)}" in problems[0]
    with pytest.raises(ConfigError, match=f"seq_len must be between 2 and {r.hi:g}"):
        validate(RunConfig(task=TaskConfig(seq_len=r.hi + 1)))
    with pytest.raises(ConfigError, match="seq_len must be between 4 and"):
        validate(RunConfig(task=TaskConfig(name="sentiment_but", seq_len=3)))


def test_cli_help_names_the_bounds(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = capsys.readouterr().out
    r = rule("task", "seq_len")
    flat = " ".join(out.split())
    assert (f"({r.lo:g}..{r.hi:g}; temporal_order needs 4, sentiment_but needs 4, stream needs 12, copying needs 11, "
            f"weather at most 731 days, "
            f"stocks at most 31 months)") in flat
    from core.cli.args import bounds
    from core.config import SECTIONS, flag_of
    bounded = [(section, f) for section, cls in SECTIONS.items() for f in dataclasses.fields(cls)
               if "rule" in f.metadata and f.metadata["rule"].kind in ("int", "float")]
    assert any(f.metadata["rule"].kind == "float" for _, f in bounded)
    for section, f in bounded:  # every bounded flag, whole or real, says its range beside it
        r = f.metadata["rule"]
        assert f"--{flag_of(section, f.name)}" in flat and f"({bounds(r)}" in flat, f.name


# --- a task is one class ----------------------------------------------------------------------------
class RecallFirst(tasks.FirstToken):
    """A throwaway task for this test: first_token under another name and goal.

    Example, T=6:   B 3 0 7 7 2  ->  class B
    """

    name = "recall_first_test"
    title = "Recall the first symbol (test task)"
    suggested_steps = 30
    goal = ("recall the opening symbol over {T} steps", "recalled the opening symbol over {T} steps")
    story = "A test task of {T} steps."


@pytest.fixture
def throwaway_task(monkeypatch):
    monkeypatch.setitem(tasks.TASKS, RecallFirst.name, RecallFirst)
    yield RecallFirst


def test_a_registered_task_reaches_the_cli_and_a_verdict(throwaway_task, tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    assert throwaway_task.name in capsys.readouterr().out
    code = main(["train", "--task", throwaway_task.name, "--seq-len", "5", "--steps", "3", "--hidden-size", "4",
                 "--batch-size", "8", "--models", "rnn", "--quiet", "--no-store", "--out", str(tmp_path / "r")])
    out = capsys.readouterr().out
    assert code == 0 and "the opening symbol over 5 steps" in out


def test_a_registered_task_reaches_the_sidebar_and_its_verdict_card(throwaway_task):
    at = AppTest.from_file(APP, default_timeout=180)
    at.switch_page("views/train.py")  # the lab (the tour is the landing page)
    for k, v in {"task": throwaway_task.name, "seq_len": "6", "steps": "20", "hidden_size": "4",
                 "batch_size": "8", "models": "rnn"}.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception
    task_box = at.sidebar.selectbox(key="task")
    assert throwaway_task.name in task_box.options or throwaway_task.title in task_box.options
    assert task_box.value == throwaway_task.name
    at.sidebar.button(key="train").click().run()
    while any("Training" in s.value for s in at.subheader):  # live chunks until the run ends
        at.run()
    assert not at.exception
    words = " ".join(m.value for m in at.markdown)
    assert "the opening symbol over 6 steps" in words


def test_a_registered_task_trains_and_is_stored(throwaway_task):
    cfg = validate(RunConfig(task=TaskConfig(name=throwaway_task.name, seq_len=5), model=ModelConfig(hidden_size=4),
                             train=TrainConfig(steps=3, batch_size=8), models=("lstm",)))
    result = train(cfg)
    store = RunStore()
    store.put_result(result)
    found, missing = store.get_result(cfg)
    assert not missing and "opening symbol" in found.summary()["lstm"]["verdict"]


# --- a new field, added in one place, reaches every surface -------------------------------------------
@dataclasses.dataclass(frozen=True)
class TrainConfigWithUIWarmup(TrainConfig):
    """TrainConfig as it would be after someone adds a field with a rule that has a label."""

    warmup: int = dataclasses.field(default=0, metadata=whole(
        0, 1000, "warmup steps at a lower learning rate", label="Warmup steps", word="warmup {v}",
        explain="Steps at a lower learning rate before the full one."))


def test_a_new_field_gets_its_flag_widget_url_key_and_caption_word(monkeypatch, capsys):
    import core.config

    monkeypatch.setitem(core.config.SECTIONS, "train", TrainConfigWithUIWarmup)  # the one edit
    monkeypatch.setattr(controls, "DEFAULT", controls.default_config())  # what importing the app computes
    # the CLI flag and its help
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    assert "--warmup" in capsys.readouterr().out
    # the URL key, read and written
    assert "warmup" in controls.fields()
    cfg, problems = controls.from_query({"warmup": "7"})
    assert problems == [] and cfg.train.warmup == 7 and controls.to_query(cfg)["warmup"] == "7"
    assert controls.from_query({"warmup": "-1"})[1][0].startswith("Ignored warmup=-1 ")
    # its word in the caption, and named when it differs from the default
    line = controls.describe(cfg)
    assert "warmup 7" in line and "warmup (default 0)" in line
    # the widget, with the rule's label, bounds and help
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("views/train.py")
    at.query_params["warmup"] = "7"
    at.query_params.update({"seq_len": "8", "steps": "30", "hidden_size": "8"})
    at.run()
    assert not at.exception
    box = at.number_input(key="warmup")
    assert box.label == "Warmup steps" and box.value == 7 and box.max == 1000 and "lower learning rate" in box.help


# --- the 1997 LSTM's gate start ------------------------------------------------------------------
def test_the_1997_gate_start_is_a_control_read_only_by_the_1997_lstm():
    import torch

    from core.config import ConfigError, ModelConfig, RunConfig, config_hash, controls, rule, validate, words
    from core.models import PAPER_INPUT_BIAS, PAPER_OUTPUT_BIAS, build_model
    from core.tasks import make_task

    r = rule("model", "gate_start")
    assert r.choices() == ("paper", "zero") and r.label and r.only_when == ("forget_init", "none")
    assert any(c.name == "gate_start" for c in controls())
    assert ModelConfig().gate_start == "paper"
    # other starts keep their hash and their caption; the 1997 LSTM's says its gate start
    assert config_hash(RunConfig()) == config_hash(RunConfig(model=ModelConfig(gate_start="paper")))
    assert not any("gate start" in w for w in words(validate(RunConfig())))
    none = validate(RunConfig(model=ModelConfig(forget_init="none")))
    zero = validate(RunConfig(model=ModelConfig(forget_init="none", gate_start="zero")))
    assert config_hash(none) != config_hash(zero)
    assert "1997 gate start paper" in words(none)
    with pytest.raises(ConfigError, match="gate-start applies only with --forget-init none"):
        validate(RunConfig(model=ModelConfig(gate_start="zero")))
    with pytest.raises(ConfigError, match="gate_start|gate-start"):
        validate(RunConfig(model=ModelConfig(forget_init="none", gate_start="half")))
    # the biases the model starts from
    task = make_task(none.task)
    H = 16
    for start, (b_i, b_o) in (("paper", (PAPER_INPUT_BIAS, PAPER_OUTPUT_BIAS)), ("zero", (None, None))):
        m = build_model("lstm", task, ModelConfig(hidden_size=H, forget_init="none", gate_start=start), 0)
        lstm = next(mod for mod in m.modules() if isinstance(mod, torch.nn.LSTM))
        b = (lstm.bias_ih_l0 + lstm.bias_hh_l0).detach()
        if b_i is None:  # zero: PyTorch's own small biases, as before the field existed
            assert b[:H].abs().max() < 1 and b[3 * H:].abs().max() < 1
        else:
            assert torch.equal(b[:H], torch.full((H,), b_i)) and torch.equal(b[3 * H:], torch.full((H,), b_o))
    # a chrono LSTM is the same model whatever gate_start says (validation refuses it set, build ignores it)
    a = build_model("lstm", task, ModelConfig(hidden_size=H), 0)
    c = build_model("lstm", task, ModelConfig(hidden_size=H, gate_start="zero"), 0)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), c.parameters()))


def test_the_gate_start_has_its_cli_flag():
    from core.cli import build_parser
    from core.cli.args import config_from_args

    args = build_parser().parse_args(["train", "--forget-init", "none", "--gate-start", "zero"])
    assert config_from_args(args).model.gate_start == "zero"
    assert config_from_args(build_parser().parse_args(["train"])).model.gate_start == "paper"
