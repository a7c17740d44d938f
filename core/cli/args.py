"""Arguments shared by the commands: one flag per config field, read from the field's own rule
(core.config: bounds, choices, help, flag name), and a parser that reports bad input in one line."""
from __future__ import annotations

import argparse
import dataclasses
from typing import Any

from core.config import SECTIONS, RunConfig, flag_of, validate
from core.models import model_kinds
from core.tasks import TASKS


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports bad input as one line and exit status 2."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"error: {message}\n")


def _help(section: str, f: dataclasses.Field) -> str:
    r = f.metadata["rule"]
    if section == "task" and f.name == "name":
        return "task: " + ", ".join(TASKS)
    if section == "task" and f.name == "seq_len":
        longer = [f"{n} needs {c.min_seq_len}" for n, c in TASKS.items() if c.min_seq_len > r.lo]
        shorter = [f"{n} at most {c.max_seq_len} {c.seq_len_unit}" for n, c in TASKS.items()
                   if c.max_seq_len is not None and c.max_seq_len < r.hi]
        notes = longer + shorter
        return f"{r.help} ({bounds(r)}{'; ' + ', '.join(notes) if notes else ''})"
    if r.kind in ("int", "float"):
        return f"{r.help} ({bounds(r)})"
    return r.help


def bounds(r) -> str:
    """A bounded field's range as `--help` says it: `1..100000`, `0 (excluded)..10`."""
    return f"{r.lo:g}{' (excluded)' if r.lo_open else ''}..{r.hi:g}"


def add_config_args(p: argparse.ArgumentParser, skip: tuple[str, ...] = (),
                    defaults: dict[str, Any] | None = None, models_help: str | None = None) -> None:
    """One flag per config field (except `skip`), defaults from the dataclasses unless `defaults`
    names another; values are checked by validate()."""
    defaults = defaults or {}
    for section, cls in SECTIONS.items():
        for f in dataclasses.fields(cls):
            if f.name in skip or "rule" not in f.metadata:
                continue
            default = defaults.get(f.name, f.default)
            bare = f.metadata["rule"].bare  # `--attention` alone means --attention dot
            extra = {"nargs": "?", "const": bare} if bare is not None else {}
            alone = f"; alone: {bare}" if bare is not None else ""
            p.add_argument("--" + flag_of(section, f.name), dest=f"cfg_{f.name}", default=default,
                           metavar=f.name.upper(), help=f"{_help(section, f)} (default: {default}{alone})", **extra)
    p.add_argument("--models", default="rnn,lstm",
                   help=models_help or f"comma-separated: {', '.join(model_kinds())} (default: rnn,lstm)")


def config_from_args(args: argparse.Namespace, models: Any = None, **fixed: Any) -> RunConfig:
    """The validated config the flags describe; `fixed` sets fields that have no flag here, and
    `models` the models when they are not --models as given (the sweep's variants)."""
    def section(cls):
        return cls(**{f.name: fixed[f.name] if f.name in fixed else getattr(args, f"cfg_{f.name}")
                      for f in dataclasses.fields(cls) if f.name in fixed or hasattr(args, f"cfg_{f.name}")})

    return validate(RunConfig(**{name: section(cls) for name, cls in SECTIONS.items()}, models=args.models if models is None else models))


__all__ = ["OneLineParser", "add_config_args", "config_from_args"]
