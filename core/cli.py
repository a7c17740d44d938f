"""Command-line entry point: `python -m core COMMAND ...`.

Each command lives in its own module (`core/cli_<command>.py`) exposing `add_parser(subparsers)`
and `run(args) -> int`; list it in COMMANDS. Bad input exits with status 2 and one line on stderr,
never a traceback.
"""
from __future__ import annotations

import argparse
import dataclasses
import importlib
import sys

from core.config import ConfigError, ModelConfig, RunConfig, TaskConfig, TrainConfig, validate

COMMANDS = ["core.cli_train", "core.cli_export", "core.cli_inspect", "core.cli_sweep"]

# Flags whose name differs from the config field they set.
FLAG_NAMES = {"name": "task"}
HELP = {
    "name": "task: first_token, adding, temporal_order, sentiment_but",
    "seq_len": "sequence length T (2..1000; temporal_order and sentiment_but need 4)",
    "n_symbols": "first_token: number of signal symbols K (chance 1/K)",
    "n_distractors": "first_token: number of distractor symbols D",
    "hidden_size": "hidden units per model",
    "forget_init": "LSTM forget-gate bias init: zero (PyTorch), one (Gers 2000), chrono (Tallec 2018)",
    "steps": "training steps", "batch_size": "examples per step", "lr": "learning rate",
    "optimizer": "adam, sgd or rmsprop", "clip": "global gradient-norm clipping (0: off)",
    "eval_every": "evaluate on the held-out batch every N steps", "seed": "seed of data and weights",
    "device": "auto, cpu or cuda", "n_checkpoints": "checkpoints kept for probes (plus step 0)",
    "patience": "stop a model after it held the target for N evaluations (0: never)",
}


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports bad input as one line and exit status 2."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"error: {message}\n")


def add_config_args(p: argparse.ArgumentParser) -> None:
    """One flag per config field, defaults from the dataclasses; values are checked by validate()."""
    for section in (TaskConfig, ModelConfig, TrainConfig):
        for f in dataclasses.fields(section):
            flag = "--" + FLAG_NAMES.get(f.name, f.name).replace("_", "-")
            p.add_argument(flag, dest=f"cfg_{f.name}", default=f.default, metavar=f.name.upper(),
                           help=f"{HELP.get(f.name, f.name)} (default: {f.default})")
    p.add_argument("--models", default="rnn,lstm", help="comma-separated: rnn, lstm, gru (default: rnn,lstm)")


def config_from_args(args: argparse.Namespace) -> RunConfig:
    def section(cls):
        return cls(**{f.name: getattr(args, f"cfg_{f.name}") for f in dataclasses.fields(cls)})

    return validate(RunConfig(task=section(TaskConfig), model=section(ModelConfig),
                              train=section(TrainConfig), models=args.models))


def build_parser() -> argparse.ArgumentParser:
    p = OneLineParser(prog="python -m core", description="RNN vs LSTM Lab, headless.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    for name in COMMANDS:
        importlib.import_module(name).add_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except (ConfigError, ValueError, OSError, RuntimeError) as e:
        # every error of input or environment the commands raise on purpose is one line
        print(f"error: {str(e).splitlines()[0] if str(e) else type(e).__name__}", file=sys.stderr)
        return 2
