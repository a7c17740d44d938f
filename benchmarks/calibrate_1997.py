"""Calibration of the 1997 LSTM's paper start and of the stream task (docs/calibration_stream.md).

python -m benchmarks.calibrate_1997 [seeds [name part [steps]]]   one line per (experiment, seed, model): final metric,
steps to the target, seconds.
"""
import sys
import time

from core.config import ModelConfig, RunConfig, TaskConfig, TrainConfig, validate
from core.trainer import one_compute_thread, train

RUNS = {
    "first_token T=100, 1997 paper start": (TaskConfig(seq_len=100), ModelConfig(forget_init="none"), ("lstm",), 500),
    "sentiment_but T=100, 1997 paper start": (TaskConfig(name="sentiment_but", seq_len=100),
                                              ModelConfig(forget_init="none"), ("lstm",), 600),
    "stream T=100, chrono": (TaskConfig(name="stream", seq_len=100), ModelConfig(), ("rnn", "lstm"), 600),
    "stream T=100, 1997 paper start": (TaskConfig(name="stream", seq_len=100), ModelConfig(forget_init="none"),
                                       ("lstm",), 600),
}

if __name__ == "__main__":
    one_compute_thread()
    seeds = [int(s) for s in sys.argv[1].split(",")] if len(sys.argv) > 1 else [0, 1, 2]
    only = sys.argv[2] if len(sys.argv) > 2 else ""
    more = int(sys.argv[3]) if len(sys.argv) > 3 else 0  # steps instead of the table's
    for name, (task, model, models, steps) in RUNS.items():
        if only and only not in name:
            continue
        for seed in seeds:
            cfg = validate(RunConfig(task=task, model=model, models=models,
                                     train=TrainConfig(steps=more or steps, seed=seed)))
            t0 = time.time()
            res = train(cfg)
            for kind, run in res.runs.items():
                print(f"{name} | seed {seed} | {kind} | final {run.final_metric:.3f} | best "
                      f"{max(e['metric'] for e in run.evals):.3f} | "
                      f"steps to target {run.steps_to_target} | {time.time() - t0:.0f} s", flush=True)
