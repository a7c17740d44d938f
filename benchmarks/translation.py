"""Calibrate the encoder-decoders: token accuracy, exact match and training time of each model on
the translation and copying tasks, per sentence length, with the lab's defaults (hidden 64, batch
64, Adam 0.003, clip 1). Prints a Markdown table; with `--markdown FILE` writes it there with the
command, the date and the machine.

    python -m benchmarks.translation --markdown docs/calibration_translation.md
    python -m benchmarks.translation --tasks translation --lengths 10 --models lstm,lstm+att --steps 300

A model is a kind (or kind:init, as in the sweep) with the encoder-decoder's settings after `+`:
`lstm+rev` reads the source backwards, `lstm+att` adds dot-product attention, `lstm:zero+att`
starts the LSTM's forget gate at zero instead of chrono. Each is its own
single-model run (a model's numbers depend only on its config, seed and kind). A run stops once it
has held the target (99% of the words) for two evaluations. Seconds are the model's own training +
evaluation time (Snapshot.elapsed_s) on this machine, and vary with its load; steps do not.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
from datetime import date

import torch

from benchmarks.calibrate import _cpu
from core.config import (ModelConfig, RunConfig, TaskConfig, TrainConfig, model_title, parse_variants, validate,
                         with_variant)
from core.trainer import Trainer

FLAGS = {"rev": ("reverse_source", "yes"), "att": ("attention", "dot")}


def model_of(variant: str) -> tuple[str, ModelConfig]:
    """'lstm:zero+rev+att' -> ('lstm', ModelConfig(forget_init='zero', reverse_source='yes', attention='dot'))."""
    head, *flags = variant.split("+")
    unknown = [f for f in flags if f not in FLAGS]
    if unknown:
        raise SystemExit(f"error: unknown setting {unknown[0]!r} in {variant!r}; use {', '.join(FLAGS)}")
    cfg = with_variant(RunConfig(), parse_variants(head)[0])  # a kind, or kind:init as in the sweep
    return cfg.models[0], dataclasses.replace(cfg.model, **dict(FLAGS[f] for f in flags))


def first_step(evals: list[dict], level: float) -> str:
    hit = [e["step"] for e in evals if e["metric"] >= level and e["step"] > 0]
    return str(hit[0]) if hit else "-"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tasks", default="translation")
    p.add_argument("--lengths", default="5,10,20")
    p.add_argument("--models", default="rnn,lstm,lstm+rev,rnn+att,lstm+att")
    p.add_argument("--steps", type=int, default=800)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--markdown", default=None, metavar="FILE", help="also write the table to FILE, with how it was made")
    p.add_argument("--append", action="store_true", help="add the table to the end of FILE instead of rewriting it")
    a = p.parse_args(argv)
    out = open(a.markdown, "a" if a.append else "w") if a.markdown else None

    def emit(line: str) -> None:
        print(line, flush=True)
        if out is not None:
            out.write(line + "\n")
            out.flush()

    if out is not None:
        cmd = "python -m benchmarks.translation " + " ".join(argv if argv is not None else sys.argv[1:])
        emit(f"{'##' if a.append else '#'} Calibration: encoder-decoders on {', '.join(a.tasks.split(','))}, "
             f"T = {a.lengths}\n")
        emit(f"Written by `{cmd.strip()}` on {date.today()} (torch {torch.__version__}, {_cpu()}, one torch "
             f"thread per run, other work on the machine at the same time). Seed {a.seed}, hidden 64, batch 64, "
             f"Adam 0.003, clip 1, at most {a.steps} steps, evaluated every 50 on the fixed held-out batch (512 "
             "sentences, greedy decoding); a run stops once it held 99% for two evaluations. Token accuracy is "
             "the share of words right, exact match the share of whole answers right. Steps depend on the config "
             "only; seconds on this machine and its load.\n")
    emit("| task | T | model | steps | token accuracy | exact match | steps to 50% | steps to 90% | ms / step |")
    emit("|---|---|---|---|---|---|---|---|---|")
    for task in a.tasks.split(","):
        for T in (int(t) for t in a.lengths.split(",")):
            for variant in a.models.split(","):
                kind, model = model_of(variant)
                cfg = validate(RunConfig(task=TaskConfig(name=task, seq_len=T), model=model, models=(kind,),
                                         train=TrainConfig(steps=a.steps, eval_every=50, seed=a.seed, patience=2)))
                trainer = Trainer(cfg, parallel=False)
                run = trainer.run().runs[kind]
                last = run.evals[-1]
                ms = 1000 * run.elapsed_s / max(run.steps_run, 1)
                emit(f"| {task} | {T} | {model_title(kind, cfg.model)} | {run.steps_run} | {last['metric']:.1%} | "
                     f"{last['exact_match']:.1%} | {first_step(run.evals, 0.5)} | {first_step(run.evals, 0.9)} | "
                     f"{ms:.0f} |")
    if out is not None:
        out.close()


if __name__ == "__main__":
    main()
