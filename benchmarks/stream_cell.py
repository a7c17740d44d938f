"""The stream experiments of chapter 6 (core.story.runs STREAM, STREAM_NO_FORGET) per seed: each LSTM's
outcome and its mean |c_t| over the first and last quarter of 64 held-out streams (docs/calibration_stream.md).

python -m benchmarks.stream_cell [seeds]
"""
import dataclasses
import sys

from core.story import runs as X
from core.story.chapters.arithmetic import cell_size, quarters
from core.trainer import one_compute_thread, train

if __name__ == "__main__":
    one_compute_thread()
    cfgs = X.configs()
    for seed in [int(s) for s in (sys.argv[1] if len(sys.argv) > 1 else "0,1,2").split(",")]:
        for name in (X.STREAM, X.STREAM_NO_FORGET):
            cfg = cfgs[name]
            res = train(cfg.replace(train=dataclasses.replace(cfg.train, seed=seed)))
            for kind, run in res.runs.items():
                extra = ""
                if kind == "lstm":
                    early, late = quarters(cell_size(res))
                    extra = f" | mean |c| first quarter {early:.2f}, last quarter {late:.2f}"
                print(f"{name} | seed {seed} | {run.title} | final {run.final_metric:.3f} | steps to target "
                      f"{run.steps_to_target}{extra}", flush=True)
