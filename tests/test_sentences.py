"""Tasks whose answer is a sentence: their worked examples, determinism and chance, trained
through the lab's trainer and CLI, and the encoder-decoder's settings refused in one line where
they do not apply."""
import dataclasses
from pathlib import Path

import pytest
import torch

from core.config import ConfigError, ModelConfig, RunConfig, TaskConfig, TrainConfig, config_hash, validate
from core.tasks import TASKS, make_task
from core.tasks.sentences import ADJECTIFS, ADJECTIVES, NOMS, NOUNS
from core.trainer import train
from tests.conftest import run_cli

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")


def _translate(words: list[str]) -> list[str]:
    """The rule written a second way, over words: translate, then move each adjective behind its noun."""
    out, i = [], 0
    while i < len(words):
        if words[i] in ADJECTIVES:
            out += [NOMS[NOUNS.index(words[i + 1])], ADJECTIFS[ADJECTIVES.index(words[i])]]
            i += 2
        else:
            out.append(NOMS[NOUNS.index(words[i])])
            i += 1
    return out


def test_the_docstrings_worked_example():
    assert _translate("red cat dog big boat fish".split()) == "chat rouge chien bateau grand poisson".split()
    assert "red cat dog big boat fish  ->  chat rouge chien bateau grand poisson" in TASKS["translation"].__doc__


@pytest.mark.parametrize("T", [2, 9])
def test_every_sample_follows_the_rule(T):
    task = make_task(TaskConfig(name="translation", seq_len=T))
    x, y = task.sample(200, torch.Generator().manual_seed(T))
    assert x.shape == y.shape == (200, T)
    for src, tgt in zip(task.render(x), y):
        assert task.label_name(tgt).split() == _translate(src)


def test_held_out_sets_are_fixed_and_the_stream_follows_the_seed():
    task = make_task(TaskConfig(name="translation", seq_len=12))
    a, b = task.eval_batch(), make_task(TaskConfig(name="translation", seq_len=12)).eval_batch()
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    s1, s2, s3 = (task.sample(8, torch.Generator().manual_seed(s))[0] for s in (1, 1, 2))
    assert torch.equal(s1, s2) and not torch.equal(s1, s3)


def test_chance_is_the_best_guess_that_ignores_the_source():
    task = make_task(TaskConfig(name="translation", seq_len=10))
    _, y = task.sample(100_000, torch.Generator().manual_seed(0))
    noun = (y < len(NOUNS)).double().mean(0)  # how often position t is a noun
    best = (torch.maximum(noun, 1 - noun) / len(NOUNS)).mean().item()
    assert abs(task.chance - best) < 0.002


def test_copying_example_and_chance():
    task = make_task(TaskConfig(name="copying", seq_len=15))
    x, y = task.sample(3, torch.Generator().manual_seed(0))
    assert x.shape == (3, 15) and y.shape == (3, 10) and task.chance == 1 / 8
    assert torch.equal(x[:, :10], y) and (x[:, 10:] == task.vocab.index("_")).all()


def test_scores_count_words_and_whole_sentences():
    task = make_task(TaskConfig(name="translation", seq_len=4))
    y = torch.tensor([[0, 1, 2, 3], [4, 5, 6, 7]])
    out = torch.nn.functional.one_hot(y, task.n_classes).double()
    out[1, 0] = out[1, 0].flip(0)  # one word wrong in the second sentence
    assert task.score(out, y) == pytest.approx(7 / 8)
    assert task.extra_scores(out, y) == {"exact_match": 0.5}


def test_encoder_decoder_settings_refused_where_they_do_not_apply():
    with pytest.raises(ConfigError, match="attention applies to tasks whose answer is a sentence"):
        validate(RunConfig(model=ModelConfig(attention="dot")))
    ok = validate(RunConfig(task=TaskConfig(name="copying", seq_len=15), model=ModelConfig(reverse_source="yes")))
    assert ok.model.reverse_source == "yes"
    base = validate(RunConfig())  # the new fields at their defaults: the hash of every stored run is kept
    assert config_hash(base) == "3bced9f86fc0"
    cfg = validate(RunConfig(task=TaskConfig(name="translation", seq_len=5)))
    assert config_hash(cfg) != config_hash(cfg.replace(model=dataclasses.replace(cfg.model, attention="dot")))


def test_the_trainer_reports_token_accuracy_and_exact_match():
    cfg = validate(RunConfig(task=TaskConfig(name="translation", seq_len=5), model=ModelConfig(hidden_size=8),
                             train=TrainConfig(steps=6, eval_every=3, batch_size=16), models=("lstm",)))
    run = train(cfg).runs["lstm"]
    assert [e["step"] for e in run.evals] == [0, 3, 6]
    assert all(0 <= e["metric"] <= 1 and 0 <= e["exact_match"] <= e["metric"] for e in run.evals)


def test_cli_trains_a_translation_with_attention_and_refuses_bad_flags(tmp_path):
    r = run_cli("train", "--task", "translation", "--seq-len", "6", "--models", "rnn,lstm", "--attention",
                "--hidden-size", "8", "--steps", "4", "--eval-every", "2", "--batch-size", "8", "--quiet",
                "--out", str(tmp_path / "run"))
    assert r.returncode == 0, r.stderr
    assert "Vanilla RNN" in r.stdout and "LSTM" in r.stdout and "exact match" in r.stdout
    for bad in (["--task", "translation", "--attention", "bahdanau"], ["--task", "adding", "--reverse-source"],
                ["--task", "translation", "--reverse-source", "maybe"]):
        r = run_cli("train", *bad, "--steps", "2", "--quiet", "--out", str(tmp_path / "bad"))
        assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr, bad


def test_probes_and_tables_of_a_copying_run(tmp_path):
    """The encoder's probes read an encoder-decoder as they read one recurrent core: gradients to
    each source step, states and gates, and connectivity of every word written against every source
    word (10 written, 13 read: not square)."""
    run = tmp_path / "copy"
    r = run_cli("train", "--task", "copying", "--seq-len", "13", "--models", "lstm", "--attention", "--hidden-size",
                "8", "--steps", "4", "--eval-every", "2", "--batch-size", "8", "--quiet", "--no-store", "--out", str(run))
    assert r.returncode == 0, r.stderr
    r = run_cli("inspect", "--run", str(run), "--out", str(tmp_path / "inside"))
    assert r.returncode == 0, r.stderr
    import pandas as pd
    conn = pd.read_csv(tmp_path / "inside" / "connectivity.csv")
    last = conn[conn.step == conn.step.max()]
    assert set(last.readout_position) == set(range(10)) and set(last.input_position) == set(range(13))
    grads = pd.read_csv(tmp_path / "inside" / "grad_through_time.csv")
    assert grads.t.max() == 12  # one gradient per source step


def test_link_keys_and_the_sidebar_for_the_encoder_decoder():
    from streamlit.testing.v1 import AppTest

    from dashboard.components import controls

    cfg, problems = controls.from_query({"task": "translation", "seq_len": "12", "attention": "dot",
                                         "reverse_source": "yes"})
    assert problems == [] and (cfg.model.attention, cfg.model.reverse_source) == ("dot", "yes")
    assert controls.from_query(controls.to_query(cfg))[0] == cfg
    assert "attention dot" in controls.describe(cfg)
    cfg, problems = controls.from_query({"task": "first_token", "attention": "dot"})
    assert cfg.model.attention == "none" and len(problems) == 1 and "attention=dot" in problems[0]
    # choosing another task in the sidebar puts the encoder-decoder's settings back to their defaults
    at = AppTest.from_file(APP, default_timeout=30)
    at.switch_page("views/train.py")
    for k, v in dict(task="translation", seq_len="6", hidden_size="8", steps="5", attention="dot").items():
        at.query_params[k] = v
    at.run()
    assert not at.exception and at.selectbox(key="attention").value == "dot"
    at.selectbox(key="task").set_value("first_token").run()
    assert not at.exception and at.selectbox(key="attention").value == "none"


def test_the_inspection_pages_draw_an_encoder_decoder():
    from tests.test_inside_pages import charts, open_page, titles

    cfg = validate(RunConfig(task=TaskConfig(name="copying", seq_len=13), models=("rnn", "lstm"),
                             model=ModelConfig(hidden_size=8, attention="dot"),
                             train=TrainConfig(steps=6, eval_every=3, n_checkpoints=2, batch_size=8)))
    result = train(cfg)
    inside = [titles(spec) for spec, rows in charts(open_page("inside", result)) if rows > 0]
    assert sum("Attention: where each word was read from" in t for t in inside) == 2  # one per model
    assert len(charts(open_page("gradients", result))) == 3
