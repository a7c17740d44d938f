"""Command-line entry point: `python -m core COMMAND ...`.

Each command is a module of this package exposing `add_parser(subparsers)` and `run(args) -> int`,
listed in COMMANDS (imported statically). Shared argument handling lives in `core.cli.args`. Bad
input exits with status 2 and one line on stderr, never a traceback.
"""
from __future__ import annotations

import signal
import sys
import threading

from core.cli import export, inspect, reference, store, sweep, train
from core.cli.args import OneLineParser
from core.config import ConfigError
from core.trainer import one_compute_thread

COMMANDS = (train, export, inspect, sweep, store, reference)


def build_parser() -> OneLineParser:
    p = OneLineParser(prog="python -m core", description="RNN vs LSTM Lab, headless.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    for command in COMMANDS:
        command.add_parser(sub)
    return p


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt  # SIGTERM ends a command as Ctrl-C does: cleanly, keeping what finished


def main(argv: list[str] | None = None) -> int:
    one_compute_thread()  # the one process-wide torch setting, made before any computation
    args = build_parser().parse_args(argv)
    main_thread = threading.current_thread() is threading.main_thread()
    before = signal.signal(signal.SIGTERM, _interrupt) if main_thread else None
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:  # outside training (which keeps what it has and says so)
        print("stopped (Ctrl-C or SIGTERM) before the command finished; it wrote nothing more", file=sys.stderr)
        return 0
    except (ConfigError, ValueError, OSError, RuntimeError) as e:
        # every error of input or environment the commands raise on purpose is one line
        print(f"error: {str(e).splitlines()[0] if str(e) else type(e).__name__}", file=sys.stderr)
        return 2
    finally:
        if before is not None:
            signal.signal(signal.SIGTERM, before)
