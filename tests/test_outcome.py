"""One outcome vocabulary: `core.results.outcome` decides what became of a model (one threshold
each), and every place that words it (the verdict sentence, the card's line, the explainer's "in
this run", the tour's sentences, the CLI's lines) follows when a result changes."""
import dataclasses

import pytest

from core.config import ModelConfig, RunConfig, TaskConfig, TrainConfig, validate
from core.results import (CHANCE, DIVERGED, OUTCOME_WORDS, PART, PART_SCORE, PENDING, REACHED, ModelRun, RunResult,
                          outcome, reach_phrase, verdict)
from core.story.base import reach
from core.tasks import make_task
from dashboard.components.explainer import result_story

CFG = validate(RunConfig(task=TaskConfig(seq_len=100), model=ModelConfig(hidden_size=8),
                         train=TrainConfig(steps=500), models=("lstm",)))
TASK = make_task(CFG.task)  # first_token: chance 1/8, target 0.99


def run_with(metric: float, reached_at: int | None = None, status: str = "finished") -> ModelRun:
    evals = [{"step": s, "loss": 1.0, "eval_loss": 1.0, "metric": metric if s == 500 else 0.125,
              "grad_norm": 1.0, "elapsed_s": 0.1} for s in (0, 250, 500)]
    return ModelRun(kind="lstm", config=CFG.single("lstm"), evals=evals, status=status, steps_run=500,
                    steps_to_target=reached_at, seconds_to_target=4.2 if reached_at else None)


def every_wording(run: ModelRun) -> dict[str, str]:
    result = RunResult(config=CFG, runs={"lstm": run})
    s = run.summary(TASK)
    return {"verdict": verdict(run, TASK), "summary verdict (CLI line)": s["verdict"],
            "card line": s["reach"], "explainer": result_story(result), "tour": reach(run, result)}


@pytest.mark.parametrize("run,expected", [
    (run_with(1.0, reached_at=225), REACHED),
    (run_with(0.51), PART),
    (run_with(0.125 + (1 - 0.125) * PART_SCORE), PART),  # exactly at the threshold
    (run_with(0.125 + (1 - 0.125) * PART_SCORE - 1e-6), CHANCE),
    (run_with(0.13), CHANCE),
    (run_with(float("nan"), status="diverged"), DIVERGED),
])
def test_one_function_decides_and_every_place_says_it(run, expected):
    assert outcome(run, TASK) == expected
    for place, text in every_wording(run).items():
        assert OUTCOME_WORDS[expected] in text, (place, text)
        for other in set(OUTCOME_WORDS) - {expected}:
            assert OUTCOME_WORDS[other] not in text, (place, other, text)


def test_changing_a_result_changes_every_place():
    before = every_wording(run_with(1.0, reached_at=225))
    after = every_wording(run_with(0.51))
    for place in before:
        assert before[place] != after[place], place
        assert OUTCOME_WORDS[REACHED] in before[place] and OUTCOME_WORDS[PART] in after[place], place


def test_a_run_not_evaluated_yet_and_a_stopped_one():
    empty = dataclasses.replace(run_with(0.5), evals=[])
    assert outcome(empty, TASK) == PENDING and OUTCOME_WORDS[PENDING] in verdict(empty, TASK)
    stopped = run_with(0.51, status="stopped")
    assert outcome(stopped, TASK) == PART  # what it did, and that it was cut short
    assert "(stopped early)" in verdict(stopped, TASK) and "(stopped early)" in reach_phrase(stopped, TASK)
