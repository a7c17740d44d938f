"""The tour's experiments: one home for each run's config, by name, with the words a link to it says.

A chapter names the experiments it needs (Chapter.needs) with the constants below; a chapter that
needs a run no other chapter has defines it in its own module (`define(...)`). `configs()` gives
every defined experiment, `label(name)` what its "try it in the lab" link says; each is trained on
SEEDS seeds (`seeded(name, s)` names seed s: "long@3"). Hidden 64 and seed 0 in the configs (tests replace core.story.experiments with tiny configs of the same names).
"""
from __future__ import annotations

import functools
from dataclasses import replace
from typing import Callable

from core.config import ModelConfig, RunConfig, TaskConfig, TrainConfig, validate
from core.models import build_model, n_params
from core.tasks import make_task

_DEFINED: dict[str, tuple[Callable[[], RunConfig], str]] = {}  # name -> (config, label), in definition order


def define(name: str, config: Callable[[], RunConfig], label: str) -> str:
    """Give experiment `name` its config (built on use, validated) and its link's words; the name."""
    if name in _DEFINED and _DEFINED[name][1] != label:
        raise ValueError(f"experiment {name!r} is defined twice")
    _DEFINED[name] = (config, label)
    return name


SEEDS = 5  # every experiment of the tour is trained on seeds 0..SEEDS-1 (core.story.evidence: the fewest
# seeds where a count can settle a claim under the sign test at 5%: 5 of 5 has a chance of 1/32)
AT = "@"  # "long@3": experiment "long" with seed 3 ("long" itself is seed 0, the one the pages draw)


def seeded(name: str, seed: int) -> str:
    """The name of experiment `name` trained with `seed` (seed 0 is the experiment itself)."""
    return name if seed == 0 else f"{name}{AT}{seed}"


def base_name(name: str) -> str:
    """'long@3' -> 'long'."""
    return name.split(AT, 1)[0]


def with_seed(cfg: RunConfig, seed: int) -> RunConfig:
    """The experiment's config trained from `seed` more than its own seed (seed 0: the config itself)."""
    if seed == 0:
        return cfg
    return validate(replace(cfg, train=replace(cfg.train, seed=cfg.train.seed + seed)))


def configs() -> dict[str, RunConfig]:
    """Every defined experiment's config, in definition order."""
    return {name: validate(config()) for name, (config, _) in _DEFINED.items()}


def label(name: str) -> str:
    return _DEFINED[name][1] if name in _DEFINED else name


# Steps are the fewest the calibration allows: the chrono LSTM reaches the target at step 225 on
# first_token at T = 100, both models by step 100 at T = 20 and step 200 on sentiment_but at T = 30,
# the LSTM at step 425 on sentiment_but at T = 100.
SHORT = define("short", lambda: RunConfig(task=TaskConfig(seq_len=20), train=TrainConfig(steps=200)),
               "first_token at a short T")
# the lab's default experiment: one run serves the tour and the lab
LONG = define("long", RunConfig, "first_token at T = 100 (chapters 1-3)")
@functools.lru_cache(maxsize=8)
def matched_hidden(cfg: RunConfig | None = None, kind: str = "rnn", like: str = "lstm") -> int:
    """The hidden size at which a `kind` model has the parameter count closest to a `like` model of
    `cfg` (default: the lab's default experiment): the vanilla RNN as large as the LSTM."""
    cfg = validate(cfg or RunConfig())
    task = make_task(cfg.task)
    count = lambda k, h: n_params(build_model(k, task, replace(cfg.model, hidden_size=h), 0))
    want = count(like, cfg.model.hidden_size)
    # the count grows with h: bisect for the first h at or above `want` (a few models built, not hundreds)
    lo, hi = cfg.model.hidden_size, 4 * cfg.model.hidden_size
    while lo < hi:
        mid = (lo + hi) // 2
        lo, hi = (mid + 1, hi) if count(kind, mid) < want else (lo, mid)
    return min({max(lo - 1, cfg.model.hidden_size), lo}, key=lambda h: (abs(count(kind, h) - want), h))


# the vanilla RNN with as many parameters as the LSTM of "long" (a careful reader's control for chapter 1)
MATCHED = define("long_matched", lambda: replace(RunConfig(), models=("rnn",),
                                                 model=replace(RunConfig().model, hidden_size=matched_hidden())),
                 "the vanilla RNN as large as the LSTM, first_token at T = 100")
ZERO_FORGET = define("zero_forget", lambda: RunConfig(model=ModelConfig(forget_init="zero"), models=("lstm",)),
                     "the LSTM from the zero forget-gate start")
BUT_SHORT = define("but_short", lambda: RunConfig(task=TaskConfig(name="sentiment_but", seq_len=30),
                                                  train=TrainConfig(steps=400)),
                   "the 'but' sentence at T = 30")
BUT_LONG = define("but_long", lambda: RunConfig(task=TaskConfig(name="sentiment_but", seq_len=100),
                                                train=TrainConfig(steps=600)),
                  "the 'but' sentence at T = 100 (chapters 5-6)")
# the 1997 LSTM (no forget gate: f_t = 1, the cell can only add) from its paper's start (negative input-
# and output-gate biases, ModelConfig.gate_start), against the forget-gate LSTM (chrono) with the same
# steps: "why multiplication, not addition?" asked fairly. On the long review BUT_LONG is the forget-gate side.
NO_FORGET = define("no_forget", lambda: RunConfig(task=TaskConfig(name="sentiment_but", seq_len=100),
                                                  model=ModelConfig(forget_init="none"), models=("lstm",),
                                                  train=TrainConfig(steps=600)),
                   "the 1997 LSTM (no forget gate, its paper's start) on the 'but' sentence at T = 100")
# 500 steps, as LONG (the chrono LSTM on first_token at T = 100) trains
NO_FORGET_FIRST = define("no_forget_first", lambda: RunConfig(model=ModelConfig(forget_init="none"),
                                                              models=("lstm",), train=TrainConfig(steps=500)),
                         "the 1997 LSTM (no forget gate, its paper's start) on first_token at T = 100")
# the stream never reset (Gers et al. 2000): the forget-gate LSTM and the vanilla RNN, then the 1997 LSTM
# 650 steps: the chrono LSTM reaches the target by step 600-650 (seeds 0-2); the 1997 LSTM only by step
# 900-1000 (docs/calibration_stream.md)
STREAM = define("stream", lambda: RunConfig(task=TaskConfig(name="stream", seq_len=100),
                                            train=TrainConfig(steps=650)),
                "the last of a stream at T = 100")
STREAM_NO_FORGET = define("stream_no_forget", lambda: RunConfig(task=TaskConfig(name="stream", seq_len=100),
                                                                model=ModelConfig(forget_init="none"),
                                                                models=("lstm",), train=TrainConfig(steps=650)),
                          "the 1997 LSTM (no forget gate, its paper's start) on the stream at T = 100")

# /cell draws the LSTM of each of these experiments beside a vanilla RNN and a GRU trained on the same
# task: experiment -> (what its picker says, the experiment whose config the RNN and the GRU share)
CELL = {
    BUT_SHORT: ("The 'but' sentence", BUT_SHORT),
    BUT_LONG: ("The long review", BUT_LONG),
    NO_FORGET: ("The 1997 LSTM without a forget gate, on the long review", BUT_LONG),
    LONG: ("Remember the first token", LONG),
    ZERO_FORGET: ("The LSTM from the zero start, remember the first token", LONG),
}


def cell_grus() -> dict[str, RunConfig]:
    """The GRUs /cell draws (no chapter trains one on these tasks): the GRU of each experiment it compares
    with, by the experiment's name, so the shipped reference holds them."""
    cfgs = configs()
    return {f"{n}:gru": validate(replace(cfgs[n], models=("gru",))) for n in dict.fromkeys(v[1] for v in CELL.values())}


__all__ = ["define", "matched_hidden", "MATCHED", "CELL", "cell_grus", "configs", "label", "SEEDS", "seeded", "base_name", "with_seed", "SHORT", "LONG", "ZERO_FORGET", "BUT_SHORT", "BUT_LONG", "NO_FORGET",
           "NO_FORGET_FIRST", "STREAM", "STREAM_NO_FORGET"]
