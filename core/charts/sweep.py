"""Charts of a sweep (core.sweep's table): how the final metric, the steps to reach the target and
the cost of a run change with sequence length T, one colour per model, every seed shown.

Only completed runs (finished or diverged) enter the means; a stopped run is left out and said
so in the caption. T is drawn on a log axis because the lengths of a sweep grow geometrically.
"""
from __future__ import annotations

import altair as alt
import pandas as pd

from core.charts import CHANCE_COLOR, TARGET_COLOR, WIDTH, ChartItem, finalize, model_color
from core.config import TaskConfig
from core.store import REUSABLE
from core.sweep import aggregate, completed
from core.tasks import TASKS, make_task


# A single (not concatenated) chart is drawn by the page with its title, subtitle, axes and bottom legend
# inside its height: these heights leave about 200 px of plotted area (measured: 300 left 159 px, 260
# left 70 px; `python -m benchmarks.chart_sizes`).
METRIC_HEIGHT, SMALL_HEIGHT = 360, 380


def _x(lengths: list[int], unit: str = "steps") -> alt.X:
    what = "sequence length T" if unit == "steps" else f"window T in {unit}"
    return alt.X("seq_len:Q", title=f"{what} (log scale)",
                 scale=alt.Scale(type="log", nice=False, padding=12), axis=alt.Axis(values=lengths, format="d"))


def _task_of(sweep: pd.DataFrame):
    return TASKS[str(sweep["task"].iloc[0])]


def baselines_frame(sweep: pd.DataFrame) -> pd.DataFrame:
    """y, what: the rules drawn beside the models: the chance baseline of each row (named as the
    task names it: 'persistence forecast' for the weather) and the task's other baselines
    (climatology), which do not depend on T."""
    cls = _task_of(sweep)
    rows = [{"y": float(v), "what": cls.chance_name} for v in sorted(sweep["chance"].dropna().unique())]
    if cls.own_data:  # a learner's file: the table does not name it, and its chance rules are drawn above
        return pd.DataFrame(rows, columns=["y", "what"])
    T = int(sweep["seq_len"].min())
    lo, hi = cls.min_seq_len, cls.max_seq_len or T
    extra = make_task(TaskConfig(name=cls.name, seq_len=min(max(T, lo), hi))).baselines()
    rows += [{"y": float(v), "what": k} for k, v in list(extra.items())[1:]]
    return pd.DataFrame(rows, columns=["y", "what"])


def metric_vs_length(sweep: pd.DataFrame) -> alt.TopLevelMixin:
    agg, task = aggregate(sweep), _task_of(sweep)
    kinds = list(dict.fromkeys(agg["variant"]))  # one colour per variant ('rnn:irnn')
    lengths = sorted(agg["seq_len"].unique().tolist())
    acc = task.metric == "accuracy"
    title = "held-out accuracy" if acc else "held-out MSE" + (f" ({task.metric_unit})" if task.metric_unit else "")
    fmt = ".1%" if acc else ".4f"
    y_scale = alt.Scale(domain=[0, 1]) if acc else alt.Scale(type="log")
    axis = alt.Axis(format="%" if acc else "~g")
    color, x = model_color(kinds), _x(lengths, task.seq_len_unit)
    base = alt.Chart(agg).encode(x=x, color=color)
    band = base.mark_area(opacity=0.18).encode(y=alt.Y("metric_min:Q", title=title, scale=y_scale, axis=axis),
                                               y2="metric_max:Q")
    tips = [alt.Tooltip("name:N", title="model"), alt.Tooltip("seq_len:Q", title="T"),
            alt.Tooltip("metric_mean:Q", title="mean", format=fmt), alt.Tooltip("metric_min:Q", title="min", format=fmt),
            alt.Tooltip("metric_max:Q", title="max", format=fmt), alt.Tooltip("seeds:Q")]
    line = base.mark_line(point=alt.OverlayMarkDef(size=40)).encode(y="metric_mean:Q", tooltip=tips)
    seeds = alt.Chart(completed(sweep)).mark_circle(size=18, opacity=0.45).encode(
        x=x, y="metric:Q", color=color,
        tooltip=[alt.Tooltip("name:N", title="model"), "seq_len:Q", "seed:Q",
                 alt.Tooltip("metric:Q", format=fmt)])
    rules = baselines_frame(sweep)
    chance = alt.Chart(rules).mark_rule(color=CHANCE_COLOR, strokeWidth=1.5).encode(
        y="y:Q", strokeDash=alt.StrokeDash("what:N", title="baseline", sort=list(dict.fromkeys(rules["what"]))),
        tooltip=[alt.Tooltip("what:N", title="baseline"), alt.Tooltip("y:Q", title="value", format=fmt)])
    target = alt.Chart(pd.DataFrame({"y": sorted(agg["target"].dropna().unique())})).mark_rule(
        color=TARGET_COLOR, strokeDash=[5, 4]).encode(y="y:Q")
    chart = alt.layer(band, line, seeds, chance, target).properties(width=WIDTH * 2, height=METRIC_HEIGHT)
    return finalize(chart, title=f"How long a memory can each model learn? {task.title}",
                    # two lines, each narrower than the chart at a 1000 px window: Vega fits a long line
                    # to the width it is first drawn at and keeps it when the window narrows
                    subtitle=["Final held-out metric against T: line = mean over seeds, band = min to max,",
                              f"dots = seeds, grey = {task.chance_name}"
                              f"{' and other baselines' if len(rules) > 1 else ''}, dashed olive = target"])


def steps_vs_length(sweep: pd.DataFrame) -> alt.TopLevelMixin:
    """Mean steps to the target over the seeds that reached it, each point labelled 'k/N' (k of N seeds
    reached it). The solid line joins only the points every seed reached: where some did not, the mean is
    over the fast seeds alone and would dip as if the model learned faster, so such a point is an open
    ring, unjoined; where none did, an x at the top of the axis (the step budget)."""
    agg = aggregate(sweep)
    kinds = list(dict.fromkeys(agg["variant"]))  # one colour per variant ('rnn:irnn')
    lengths = sorted(agg["seq_len"].unique().tolist())
    color, x = model_color(kinds), _x(lengths, _task_of(sweep).seq_len_unit)
    agg = agg.assign(reached_of=agg["reached"].astype(str) + " of " + agg["seeds"].astype(str),
                     k_of_n=agg["reached"].astype(str) + "/" + agg["seeds"].astype(str))
    hit = agg[agg["reached"] > 0]
    full, some, none = hit[hit["reached"] == hit["seeds"]], hit[hit["reached"] < hit["seeds"]], agg[agg["reached"] == 0]
    runs = sweep["steps_run"].dropna() if "steps_run" in sweep else pd.Series(dtype=float)
    top = float(max([*runs, *hit["steps_max"].dropna(), 1]))  # the budget: where 'none reached it' is drawn
    none = none.assign(steps_mean=top)
    scale = alt.Scale(type="log")
    y = alt.Y("steps_mean:Q", title="training steps to reach the target (log scale)", scale=scale)
    tips = [alt.Tooltip("name:N", title="model"), alt.Tooltip("seq_len:Q", title="T"),
            alt.Tooltip("steps_mean:Q", title="mean steps of the seeds that reached it", format=".0f"),
            alt.Tooltip("reached_of:N", title="seeds that reached it")]
    rng = alt.Chart(hit).mark_rule(strokeWidth=2, opacity=0.5).encode(
        x=x, color=color, y=alt.Y("steps_min:Q", scale=scale), y2="steps_max:Q")
    line = alt.Chart(full).mark_line(point=alt.OverlayMarkDef(size=40)).encode(x=x, y=y, color=color, tooltip=tips)
    rings = alt.Chart(some).mark_point(shape="circle", filled=False, size=110, strokeWidth=2).encode(
        x=x, y=y, color=color, tooltip=tips)
    missed = alt.Chart(none).mark_point(shape="cross", filled=True, size=90, angle=45).encode(
        x=x, y=y, color=color, tooltip=[alt.Tooltip("name:N", title="model"), alt.Tooltip("seq_len:Q", title="T"),
                                        alt.Tooltip("reached_of:N", title="seeds that reached it")])
    labels = alt.Chart(pd.concat([hit, none], ignore_index=True)).mark_text(
        dx=8, dy=-8, align="left", fontSize=11).encode(x=x, y=y, color=color, text="k_of_n:N")
    chart = alt.layer(line, rng, rings, missed, labels).properties(width=WIDTH, height=SMALL_HEIGHT,
                                                                   title="Steps to the target")
    return chart


def wall_vs_length(sweep: pd.DataFrame) -> alt.TopLevelMixin:
    agg = aggregate(sweep)
    kinds = list(dict.fromkeys(agg["variant"]))  # one colour per variant ('rnn:irnn')
    lengths = sorted(agg["seq_len"].unique().tolist())
    color, x = model_color(kinds), _x(lengths, _task_of(sweep).seq_len_unit)
    y = alt.Y("wall_mean:Q", title="seconds per run (log scale)", scale=alt.Scale(type="log"))
    tips = [alt.Tooltip("name:N", title="model"), alt.Tooltip("seq_len:Q", title="T"),
            alt.Tooltip("wall_mean:Q", title="mean s", format=".1f"),
            alt.Tooltip("wall_max:Q", title="max s", format=".1f")]
    base = alt.Chart(agg).encode(x=x, color=color)
    chart = alt.layer(base.mark_line(point=alt.OverlayMarkDef(size=40)).encode(y=y, tooltip=tips),
                      base.mark_rule(strokeWidth=2, opacity=0.5).encode(y="wall_min:Q", y2="wall_max:Q"))
    return chart.properties(width=WIDTH, height=SMALL_HEIGHT, title="Cost of a run")


def sweep_charts(sweep: pd.DataFrame) -> list[ChartItem]:
    """The sweep's ChartItems, with captions that say what was left out."""
    if sweep.empty:
        return []
    task = _task_of(sweep)
    agg = aggregate(sweep)
    if agg.empty:  # no run completed (every one failed or stopped): nothing to draw
        return []
    n_left = int((~sweep["status"].isin(REUSABLE)).sum())
    left = f" {n_left} run(s) that did not complete (stopped or failed) are left out." if n_left else ""
    never = agg[agg["reached"] < agg["seeds"]]
    missed = "; ".join(f"{r['name']} at T = {r['seq_len']}: {r['reached']} of {r['seeds']} seeds"
                       for _, r in never.iterrows())
    steps_cols = ["model", "variant", "init", "name", "seq_len", "seeds", "reached", "steps_mean", "steps_min", "steps_max"]
    wall_cols = ["model", "variant", "init", "name", "seq_len", "seeds", "wall_mean", "wall_min", "wall_max"]
    unit = f" {task.metric_unit}" if task.metric_unit else ""
    drawn = "; ".join(f"{r['what']} {r['y']:.3g}{unit}" for _, r in baselines_frame(sweep).iterrows())
    budget = f"{int(sweep['steps_run'].max())}" if "steps_run" in sweep and sweep["steps_run"].notna().any() else "the"
    items = [
        ChartItem(
            name="sweep_metric", title="Final metric against sequence length", chart=metric_vs_length(sweep),
            data=agg[["model", "variant", "init", "name", "seq_len", "seeds", "metric_mean", "metric_min", "metric_max",
                      "chance", "target"]],
            caption=(f"Held-out {task.metric} at the end of training against sequence length T (log axis) on "
                     f"'{task.title}'. Each line is the mean over seeds, the band spans the worst to the best "
                     f"seed, dots are single seeds; the grey rules are the baselines ({drawn}), the dashed rule "
                     f"the target.{left}")),
        ChartItem(
            name="sweep_steps", title="Steps to the target against sequence length",
            chart=finalize(steps_vs_length(sweep), title="Steps to the target against T",
                           subtitle=["Mean over the seeds that reached it; bar = fastest to slowest;",
                                     "k/N: k of N seeds reached it; open ring: not all",
                                     "(the mean of the fast ones only); x: none did"]),
            data=agg[steps_cols],
            caption=("Training steps each model needed to first reach the target, against T, each point labelled "
                     "k/N: k of the N seeds reached it. The mean is over those k seeds only, so where not all reached "
                     "it the point is an open ring off the line (it leaves out the slow seeds and is no sign of faster "
                     "learning), and where none did an x marks the step budget"
                     + (f"; not every seed did: {missed}." if missed else "; every seed did.")
                     + left)),
        ChartItem(
            name="sweep_wall", title="Seconds per run against sequence length",
            chart=finalize(wall_vs_length(sweep), title="Cost of a run against T",
                           subtitle="Training + evaluation seconds per run, mean over seeds; bar = min to max"),
            data=agg[wall_cols],
            caption=(f"Wall seconds of one run (training and evaluation, up to {budget} steps) against T, "
                     "log-log. A run stopped early by patience costs less; reused runs show the time they took "
                     "when they were trained." + left)),
    ]
    # runs of the shipped reference carry no seconds (core.shipped): no cost chart without any
    return items if agg["wall_mean"].notna().any() else items[:2]


def write_chart_data(out, sweep: pd.DataFrame) -> list[str]:
    """Each chart's data as <chart name>.csv in a sweep folder (beside sweep.csv); the file names."""
    from pathlib import Path

    names = []
    for item in sweep_charts(sweep):
        item.data.to_csv(Path(out) / f"{item.name}.csv", index=False)
        names.append(f"{item.name}.csv")
    return names
