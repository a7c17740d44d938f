"""Altair charts that look inside a run: gradients through time, the gradient norm over training,
and the LSTM's cell state and gates beside the RNN's hidden state. Each `*_item` returns a
core.charts.ChartItem (chart + the full data it draws + a caption), shared by page and export.

Time steps are counted from 1 here (t = 1 is the first input, h_0 = c_0 the start), as in the tour and
the equations: the library's frames index from 0, so each chart (and the data it exports) adds 1.

Data stay DataFrames (Altair neither validates nor deep-copies those, which keeps a chart at T=200
cheap to build) under Altair's 5,000-row guard: heatmap panels are thinned to at most MAX_UNITS
units x MAX_T time columns (the caption says so), the gradient-norm line to 1,500 points a model.
"""
from __future__ import annotations

import math

import altair as alt
import numpy as np
import pandas as pd
import torch

from core.charts import WIDTH, ChartItem, color_of, finalize, model_color
from core.charts.attention import attention_item
from core.inspection import (with_checkpoints, connectivity_frame, decay_table, readout_stride, example_traces, gate_means_frame, grad_norm_frame,
                             grad_table, heatmap_frame, info_frame, resolve_step, showcase)
from core.results import RunResult
from core.models import MODEL_NAMES, MODELS
from core.inspection import attention_frame, probe_batch
from core.tasks import Task

INFO_COLOR = "#9467bd"  # information positions, in every chart of these pages
INFO_PAD = 8  # px of time axis before t = 1 and after T: an information rule there is not hidden by the axis
WIDE = 640
# A heatmap panel's plot: with its unit axis (~35 px) and colour legend (~100 px) it fits the ~540 px
# column of a 1000 px window. The heatmaps are drawn on a canvas, which the page does not scale down
# (dashboard/components/page_style.py): a wider one would scroll and hide its last steps.
HEAT_W = 380
# An SVG chart's plot on the Gradients and Inside pages: with its axes it fits that ~540 px column, so
# the page never scales it down (two 320 px panels side by side were scaled to 0.66: 7 px tick labels).
NARROW = 430
MAX_UNITS, MAX_T = 32, 150  # 4,800 cells: under Altair's 5,000-row guard
PANEL_TITLES = {
    "c": "cell state c_t", "f": "forget gate f_t (1 = keep the old cell)",
    "i": "input gate i_t (1 = write the candidate)", "o": "output gate o_t (1 = show the cell)",
    "h": "hidden state h_t", "z": "update gate z_t (1 = keep the old h)",
}
STEP_AXIS = dict(tickCount=6, labelOverlap="greedy", labelSeparation=6, labelFlush=True)  # no "480500"


def lines(text: str, width: int) -> list[str]:
    """A subtitle as lines of at most `width` characters: Vega never wraps a title, and a line wider
    than the chart is cut at the window's edge."""
    import textwrap

    return textwrap.wrap(text, width) or [""]


def from_one(df: pd.DataFrame) -> pd.DataFrame:
    """The frame with its time column `t` counted from 1 (the library's counts from 0)."""
    return df.assign(t=df.t + 1)


def time_scale(T: int) -> alt.Scale:
    """t from 1 to T: no rounding that would put t = 0 or negative time on the axis, and a few pixels
    of padding so that a purple information rule at t = 1 (or T) is drawn inside the plot, not on the axis."""
    return alt.Scale(domain=[1, max(T, 2)], nice=False, zero=False, padding=INFO_PAD)


def time_axis(T: int, **kw) -> alt.Axis:
    """Ticks at t = 1 and round steps up to T: the padded time_scale would otherwise tick t = 0."""
    T = max(T, 2)
    raw = T / 10
    step = next(m * 10 ** e for e in range(0, 7) for m in (1, 2, 5) if m * 10 ** e >= raw)
    values = sorted({1, *range(step, T + 1, step)})
    return alt.Axis(values=values, **kw)


GATE_COLORS = {"forget gate f_t": "#08519c", "input gate i_t": "#ff7f0e", "output gate o_t": "#8c8c8c"}


def _info_rules(info: pd.DataFrame, x_field: str = "t") -> alt.Chart:
    """Vertical rules at the information positions, more opaque where more examples have one."""
    shown = info[info.share > 0]
    return alt.Chart(shown).mark_rule(color=INFO_COLOR, strokeWidth=3).encode(
        x=alt.X(f"{x_field}:Q"),
        opacity=alt.Opacity("share:Q", scale=alt.Scale(domain=[0, 1], range=[0.3, 0.8]), legend=None),
        tooltip=[alt.Tooltip("t:Q", title="information at t"), alt.Tooltip("share:Q", format=".0%",
                                                                            title="of examples")])


# --- gradients through time -------------------------------------------------------------------
def grad_through_time_item(result, step: int | None = None) -> ChartItem:
    """||dL/dh_t|| against t, one panel per model on a shared log scale: the chosen checkpoint
    solid, initialisation dashed, information positions in purple."""
    task = result.task
    grads = from_one(grad_table(result))
    info = from_one(info_frame(task, probe_batch(task)[0]))
    decay = decay_table(result, step).set_index("model")
    panels = []
    for kind, run in result.runs.items():
        if not run.checkpoints:
            continue
        first, at = min(run.checkpoints), resolve_step(run, step)
        g = grads[(grads.model == kind) & grads.step.isin([first, at])].copy()
        g["when"] = np.where(g.step == at, f"step {at}", "initialisation")
        g = g[(g.grad_norm > 0) & np.isfinite(g.grad_norm)]  # a log scale cannot show 0
        line = alt.Chart(g).mark_line(point=alt.OverlayMarkDef(size=12) if task.seq_len <= 60 else False).encode(
            x=alt.X("t:Q", title="time step t (the answer is read at t = T)", scale=time_scale(task.seq_len), axis=time_axis(task.seq_len)),
            y=alt.Y("grad_norm:Q", title="||dL/dh_t|| (log scale)", scale=alt.Scale(type="log")),
            color=model_color(list(result.runs), titles=result.titles()),
            strokeDash=alt.StrokeDash("when:N", sort="descending", title="weights at",
                                      scale=alt.Scale(range=[[1, 0], [5, 4]])),
            opacity=alt.condition(alt.datum.when == "initialisation", alt.value(0.55), alt.value(1.0)),
            tooltip=["name:N", "when:N", "t:Q", alt.Tooltip("grad_norm:Q", format=".3g")])
        lost = decay.loc[kind, "orders_lost"]
        sub = f"h_1 gets {10 ** -lost:.2g} of h_T's gradient" if np.isfinite(lost) else ""
        panels.append(alt.layer(_info_rules(info), line).properties(
            width=NARROW, height=220, title=alt.TitleParams(f"{run.title}, step {at}", subtitle=sub, anchor="start")))
    # one panel under the other: side by side they were scaled down to fit a 1000 px window
    chart = alt.vconcat(*panels, spacing=16).resolve_scale(y="shared", strokeDash="independent")
    steps = sorted({int(s) for s in decay["step"]})
    chart = finalize(chart, title=f"Gradients through time: {task.title}, T = {task.seq_len}",
                     subtitle=["How strongly the loss at the last step reaches back to h_t",
                               "solid: checkpoint, dashed: initialisation, purple: information"])
    return ChartItem(
        name="grad_through_time", title="Gradients through time", chart=chart, data=grads,
        caption=(f"Mean over {len(probe_batch(task)[0])} held-out examples of ||dL/dh_t||, the gradient of each "
                 f"example's loss with respect to the hidden state at step t (t = 1: the first input), on a log scale, at training step "
                 f"{', '.join(map(str, steps))} (solid) and at initialisation (dashed). Purple rules mark where "
                 f"the information the answer depends on sits (darker: in more examples). A line that falls to "
                 f"the left is a gradient fading with distance. " + " ".join(decay["summary"])),
    )


def grad_norm_item(result) -> ChartItem:
    """Global gradient norm (before clipping) against training step, log scale, the clipping
    threshold dashed, and a strip of the steps at which clipping acted."""
    clip = result.config.train.clip
    df = grad_norm_frame(result)
    kinds, titles = list(result.runs), result.titles()
    shown = df[(df.grad_norm > 0) & np.isfinite(df.grad_norm)]
    line = alt.Chart(shown).mark_line(strokeWidth=1.2).encode(
        x=alt.X("step:Q", title="training step", axis=alt.Axis(**STEP_AXIS)),
        y=alt.Y("grad_norm:Q", title="global gradient norm (log scale)", scale=alt.Scale(type="log")),
        color=model_color(kinds, titles=titles), tooltip=["name:N", "step:Q", alt.Tooltip("grad_norm:Q", format=".3g")])
    layers = [line]
    if clip > 0:
        layers.append(alt.Chart(pd.DataFrame({"clip": [clip]})).mark_rule(color="#555555", strokeDash=[5, 4]).encode(
            y="clip:Q", tooltip=alt.Tooltip("clip:Q", title="clipping threshold")))
    top = alt.layer(*layers).properties(width=NARROW, height=220)
    clipped = df[df.clipped]
    share = {k: float(g.clipped.mean()) if len(g) else 0.0 for k, g in df.groupby("model")}
    strip = alt.Chart(clipped).mark_tick(thickness=1, size=12).encode(
        x=alt.X("step:Q", title="training step", scale=alt.Scale(domain=[0, int(df.step.max()) if len(df) else 1]),
                axis=alt.Axis(**STEP_AXIS)),
        y=alt.Y("name:N", title="clipped", scale=alt.Scale(domain=[titles[k] for k in kinds])),
        color=model_color(kinds, titles=titles), tooltip=["name:N", "step:Q", alt.Tooltip("grad_norm:Q", format=".3g")],
    ).properties(width=NARROW, height=18 * max(1, len(kinds)))
    chart = alt.vconcat(top, strip) if clip > 0 else top
    how = (f"Clipping is on at {clip:g}: the strip below marks the steps where a model's norm exceeded it and was "
           "scaled down (" + ", ".join(f"{titles[k]} {share.get(k, 0):.0%} of steps" for k in kinds) + ")."
           if clip > 0 else "Clipping is off.")
    return ChartItem(
        name="grad_norm", title="Gradient norm over training",
        chart=finalize(chart, title="Global gradient norm over training",
                       subtitle="Before clipping; dashed: the clipping threshold"),
        data=grad_norm_frame(result, max_points=10**9),
        caption=("The norm of all of a model's parameter gradients at every training step, before clipping, "
                 f"on a log scale. {how}" if len(df) else "No training step has been taken yet."))


# --- cell state and gates ---------------------------------------------------------------------
def _thin(df: pd.DataFrame, kind: str, T: int) -> tuple[pd.DataFrame, int, int]:
    """At most MAX_UNITS units (the ones whose first panel varies most over time) and MAX_T time
    columns (means over windows of k steps). Returns the frame (t from 1), k and the units in all."""
    H = int(df.unit.max()) + 1
    first = df[df.quantity == MODELS[kind].panels[0]]
    if H > MAX_UNITS:
        keep = first.groupby("unit").value.std().nlargest(MAX_UNITS).index
        df = df[df.unit.isin(keep)]
    k = max(1, math.ceil(T / MAX_T))
    if k > 1:
        df = df.assign(t=(df.t // k) * k).groupby(["model", "quantity", "unit", "t"], as_index=False).value.mean()
    df = from_one(df)
    # each cell reaches a little into the next: no anti-aliasing seams between neighbouring cells
    return df.assign(t2=df.t + k * 1.2), k, H


def heat_scale(T: int) -> alt.Scale:
    """A heatmap cell spans [t, t + 1): the axis runs from 1 to T + 1."""
    return alt.Scale(domain=[1, T + 1], nice=False, zero=False)


def quantity_scale(q: str, values: pd.Series) -> alt.Scale:
    """The colour scale of a quantity on these pages (core.charts.cell draws the cell with it too): gates
    0-1 on viridis, the cell state on a symmetric log blue-orange scale around 0 up to the largest |value|,
    everything else (h_t, tanh values) -1 to 1 on blue-orange."""
    if q in ("f", "i", "o", "z", "r"):
        return alt.Scale(scheme="viridis", domain=[0, 1])
    if q == "c":  # symmetric log: a cell of a few tenths shows beside one of tens (a linear scale hides it)
        m = max(float(values.abs().max() or 0), 1e-6)
        return alt.Scale(type="symlog", constant=max(m / 1000, 1e-6), scheme="blueorange", domain=[-m, m],
                         domainMid=0)
    return alt.Scale(scheme="blueorange", domain=[-1, 1], domainMid=0)


def quantity_color(q: str, values: pd.Series) -> alt.Color:
    if q == "f":  # the heatmap's forget gate is coloured by its nines (with_nines)
        return alt.Color("nines:Q", scale=alt.Scale(scheme="viridis", domain=[0, MAX_NINES]),
                         title=["f_t by its nines", "-log10(1 - f)"],
                         legend=alt.Legend(orient="right", gradientLength=80, values=list(range(MAX_NINES + 1)),
                                           labelExpr="['0', '0.9', '0.99', '0.999+'][datum.value]"))
    return alt.Color("value:Q", scale=quantity_scale(q, values), title=q + "_t",
                     legend=alt.Legend(orient="right", gradientLength=80))


MAX_NINES = 3  # f = 0.999 and above share the top colour


def with_nines(d: pd.DataFrame) -> pd.DataFrame:
    """The forget gate's `nines`, -log10(1 - f) clipped to 0..MAX_NINES: 0.9 -> 1, 0.99 -> 2. On a
    linear 0-1 colour 0.95 and 0.99 look alike, yet over 99 steps they keep 0.6% and 37% of the cell."""
    gap = np.clip(1.0 - d["value"].to_numpy(dtype=float), 10.0 ** -MAX_NINES, 1.0)
    return d.assign(nines=-np.log10(gap))


def panel_caption(kind: str, q: str, d: pd.DataFrame) -> str:
    """What one heatmap panel shows, with a number measured on it (its subtitle)."""
    if q == "c":
        m = float(d.value.abs().max()) if len(d) else 0.0
        return (f"blue negative, orange positive; symmetric log colour scale, |c| up to {m:.3g}: a row that keeps "
                "its colour to the end is a unit holding a value")
    if q == "f":
        return (f"mean {float(d.value.mean()):.3f}; coloured by nines (0.9, 0.99, 0.999): over 100 steps "
                "0.9 keeps 0.003% of the cell, 0.99 keeps 37%")
    if q in ("i", "o", "z"):
        return f"0 closed, 1 open; mean {float(d.value.mean()):.2f} over the units and steps shown"
    flips = sign_flip_share(d)
    return (f"blue -1, orange +1; {flips:.0%} of units change sign from one step to the next on average"
            + (" (the checkerboard): no row holds one colour from the information to the end" if flips >= 0.25
               else ""))


def sign_flip_share(d: pd.DataFrame) -> float:
    """The mean share of units whose value changes sign between consecutive time columns."""
    if d.t.nunique() < 2:
        return 0.0
    wide = d.pivot_table(index="t", columns="unit", values="value").to_numpy()
    return float((np.sign(wide[1:]) != np.sign(wide[:-1])).mean())


def _input_strip(task: Task, x: torch.Tensor, k: int) -> alt.Chart:
    """A one-row strip of the example's inputs (t from 1), information positions in purple."""
    words = task.render(x)[0]
    info = task.info_mask(x)[0].numpy()
    df = pd.DataFrame({"t": np.arange(1, len(words) + 1), "input": words,
                       "info": np.where(info, "information", "other")})
    df["t2"] = df.t + 1
    base = alt.Chart(df).encode(x=alt.X("t:Q", title=None, axis=alt.Axis(labels=False, ticks=False),
                                        scale=heat_scale(task.seq_len)))
    cells = base.mark_rect(stroke="white", strokeWidth=0.3).encode(
        x2="t2:Q", color=alt.Color("info:N", scale=alt.Scale(domain=["information", "other"],
                                                              range=[INFO_COLOR, "#eeeeee"]), legend=None),
        tooltip=["t:Q", "input:N", "info:N"])
    layers = [cells]
    if len(words) <= 40:  # the words themselves fit only on short sequences
        layers.append(base.mark_text(fontSize=9, dx=HEAT_W / len(words) / 2, angle=0).encode(
            x="t:Q", text="input:N"))
    return alt.layer(*layers).properties(width=HEAT_W, height=18, title=alt.TitleParams(
        "input (purple: information)", fontSize=12, anchor="start"))


def states_item(tr: dict[str, dict[str, np.ndarray]], steps: dict[str, int], task: Task, x: torch.Tensor,
                label: str) -> ChartItem:
    """Heatmaps (units x time) of the LSTM's c_t, f_t, i_t, o_t and the RNN's (and GRU's) h_t for one
    example x (1, T), with the input strip on top; each panel says what it shows in its subtitle."""
    data = heatmap_frame(tr, 0)
    panels, notes = [], []
    k = 1
    for kind in [m for m in ("lstm", "rnn", "gru") if m in tr]:
        sub, k, H = _thin(data[data.model == kind], kind, task.seq_len)
        if H > MAX_UNITS:
            notes.append(f"{MODEL_NAMES[kind]}: the {MAX_UNITS} of {H} units that vary most")
        for q in MODELS[kind].panels:
            d = sub[sub.quantity == q]
            tips = ["t:Q", "unit:O", alt.Tooltip("value:Q", format=".4f" if q == "f" else ".3f")]
            if q == "f":
                d = with_nines(d)
                tips.append(alt.Tooltip("nines:Q", format=".2f", title="nines, -log10(1 - f)"))
            panels.append(alt.Chart(d).mark_rect(clip=True).encode(
                x=alt.X("t:Q", title="time step t (from 1)", scale=heat_scale(task.seq_len)), x2="t2:Q",
                y=alt.Y("unit:O", title="unit", axis=alt.Axis(labelOverlap=True, labelFontSize=9)),
                color=quantity_color(q, d.value),
                tooltip=tips,
            ).properties(width=HEAT_W, height=max(60, 7 * d.unit.nunique()),
                         title=alt.TitleParams(f"{MODEL_NAMES[kind]} {PANEL_TITLES[q]}, step {steps[kind]}",
                                               subtitle=lines(panel_caption(kind, q, d), 70), subtitleFontSize=11,
                                               color=color_of(kind), fontSize=13, anchor="start")))
    chart = alt.vconcat(_input_strip(task, x, k), *panels, spacing=12).resolve_scale(color="independent")
    thinned = (" Shown: " + "; ".join(notes) + "." if notes else "") + (
        f" Time is averaged over windows of {k} steps." if k > 1 else "")
    rnn = " ".join(f"The {MODEL_NAMES[m]}'s h_t changes sign in {sign_flip_share(from_one(data[(data.model == m) & (data.quantity == 'h')])):.0%} "
                   "of its units from one step to the next on average: a value that flips at every step is not "
                   "being held." for m in ("rnn", "gru") if m in tr)
    return ChartItem(
        name="states_heatmaps", title="Cell state and gates",
        chart=finalize(chart, title="Inside the models, step by step", subtitle=label),
        data=from_one(data),
        caption=(f"One held-out example ({label}), units x time, t = 1 the first input. For the LSTM: the cell "
                 "state c_t (the conveyor belt; blue negative, orange positive, on a symmetric log scale so that "
                 "small values show beside large ones) and its forget, input and output gates (0 closed, 1 open; the "
                 "forget gate coloured by its nines, -log10(1 - f): 1 for 0.9, 2 for 0.99, 3 for 0.999 and above); "
                 "for the vanilla RNN its hidden state h_t. The purple cells of the input strip are the information "
                 "the answer depends on: an LSTM unit that holds a value from there to the end, with its forget gate "
                 f"near 1, is the model remembering it. {rnn}{thinned}"))


def gate_means_item(arrays: dict[str, np.ndarray], step: int, task: Task, x: torch.Tensor, label: str) -> ChartItem:
    """Mean forget, input and output gate of the LSTM at each time step of one example."""
    df = from_one(gate_means_frame(arrays, 0))
    line = alt.Chart(df).mark_line(point=task.seq_len <= 60).encode(
        x=alt.X("t:Q", title="time step t (from 1)", scale=time_scale(task.seq_len), axis=time_axis(task.seq_len)),
        y=alt.Y("mean:Q", title="mean over units", scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("gate:N", scale=alt.Scale(domain=list(GATE_COLORS), range=list(GATE_COLORS.values())),
                        title="LSTM gate"),
        tooltip=["gate:N", "t:Q", alt.Tooltip("mean:Q", format=".3f")])
    # a vconcat of one: Streamlit would stretch a single view and squeeze its legend and titles into the height
    chart = alt.vconcat(alt.layer(_info_rules(from_one(info_frame(task, x))), line).properties(width=NARROW, height=220))
    return ChartItem(
        name="gate_means", title="Mean gates per time step",
        chart=finalize(chart, title=f"LSTM gates at training step {step}", subtitle=label), data=df,
        caption=(f"The LSTM's forget, input and output gates averaged over its units at each step t (t = 1: the first "
                 f"input) of one held-out example ({label}), weights of training step {step}. Purple: information positions. A dip of the "
                 "forget gate is the model clearing its cell; a rise of the input gate is it writing."))


# --- bundles for the pages and the report ------------------------------------------------------
def states_charts(result: RunResult, step: int | None = None, example: int = 0) -> list[ChartItem]:
    """Heatmaps of the LSTM's c_t and gates beside the RNN's (and GRU's) h_t, the LSTM's mean
    gates per step and, for an encoder-decoder with attention, where each word written was read from,
    for showcase example `example` at the checkpoint nearest `step`."""
    runs = with_checkpoints(result)
    if not runs:
        return []
    task = result.task
    x, _, labels = showcase(task)
    example = min(max(example, 0), len(x) - 1)
    one = x[example : example + 1]
    tr = {k: example_traces(result, k, step, one) for k in runs}
    steps = {k: resolve_step(r, step) for k, r in runs.items()}
    items = [states_item(tr, steps, task, one, labels[example])]
    if "lstm" in tr:
        items.append(gate_means_item(tr["lstm"], steps["lstm"], task, one, labels[example]))
    items += [attention_item(attention_frame(r, step, example), r.title, steps[k], f"attention_{k}")
              for k, r in runs.items() if r.config.model.attention != "none"]  # an encoder-decoder's
    return items


def inspect_charts(result: RunResult, step: int | None = None) -> list[ChartItem]:
    """For the checkpoint at `step` (default: the last kept one): gradients through time, the
    gradient norm over training, and the LSTM's cell state and gates beside the RNN's h_t for the
    first showcase example (heatmaps and gate means only when the run has those models)."""
    if not with_checkpoints(result):
        return []
    return [grad_through_time_item(result, step), grad_norm_item(result), *states_charts(result, step, 0),
            connectivity_item(connectivity_frame(result, step=step), result.task)]


# --- connectivity -------------------------------------------------------------------------------
def connectivity_chart(df: pd.DataFrame, T: int, words: list[str] | None = None, start: int | None = None):
    """One strip per model, side by side in rows: how strongly the read-out at the chosen position
    depends on each input position (share of that read-out's total; the slider picks the read-out).

    The data are drawn wide (one row per model and input position, a column per read-out), so a
    chart at T = 200 has 2 x 200 rows, under Altair's row guard, and the slider only filters."""
    share = df.pivot_table(index=["name", "input_position"], columns="readout_position", values="share")
    value = df.pivot_table(index=["name", "input_position"], columns="readout_position", values="value")
    wide = pd.concat([share.add_prefix("s"), value.add_prefix("v")], axis=1).reset_index()
    wide.columns = [str(c) for c in wide.columns]
    wide["pos"] = wide.input_position + 1  # counted from 1, as in every chart here
    if words is not None:
        wide["word"] = [words[int(j)] for j in wide.input_position]
    probed = sorted(int(t) + 1 for t in df.readout_position.unique()) or [T]
    k = probed[1] - probed[0] if len(probed) > 1 else 1  # every k-th position at long T (readout_stride)
    first = min(probed, key=lambda p: abs(p - int(start or T)))
    readout = alt.param(name="readout", value=first,
                        bind=alt.binding_range(min=probed[0], max=probed[-1], step=k, name="read-out position "))
    names = list(dict.fromkeys(df.name))
    axis = alt.Axis(labelExpr=f"{words!r}[datum.value - 1]", labelAngle=-45) if words is not None else \
        alt.Axis(values=list(range(1, T + 1, max(1, T // 10))))
    tips = [alt.Tooltip("name:N", title="model"), alt.Tooltip("pos:O", title="input position"),
            alt.Tooltip("share:Q", format=".1%", title="share of the read-out's dependence"),
            alt.Tooltip("value:Q", format=".3g", title="||d read-out / d input||")]
    if words is not None:
        tips.insert(2, alt.Tooltip("word:N", title="input"))
    strips = alt.Chart(wide).transform_calculate(
        share="datum['s' + (readout - 1)]", value="datum['v' + (readout - 1)]",
    ).transform_filter("datum.pos <= readout").mark_rect(stroke="white", strokeWidth=0.3).encode(
        x=alt.X("pos:O", title="input position" + (" (word)" if words is not None else ""),
                scale=alt.Scale(domain=list(range(1, T + 1))), axis=axis),
        y=alt.Y("name:N", title=None, sort=names),
        # log-like colour (symlog, linear below 1%): a model that spreads its dependence (8% a position)
        # shows beside one that puts 80% on one input, which a linear scale would leave near white
        color=alt.Color("share:Q", title=["share of dependence", "(log colour scale above 1%)"],
                        scale=alt.Scale(type="symlog", constant=0.01, scheme="blues", domain=[0, 1]),
                        legend=alt.Legend(format=".0%", values=[0, 0.03, 0.1, 0.3, 1])),
        tooltip=tips,
    ).add_params(readout)
    at = alt.Chart(wide).transform_filter("datum.pos == readout").mark_rect(
        fill=None, stroke="#d62728", strokeWidth=2).encode(x="pos:O", y=alt.Y("name:N", sort=names))  # the read-out
    # in a vconcat: Streamlit stretches a single view and squeezes it into its height (core.charts.story)
    # at least 210 px tall (150+ when scaled to a 1000 px window): one strip per model, never a sliver (tests/test_browser.py readability)
    return alt.vconcat(alt.layer(strips, at).properties(width=NARROW, height=max(210, 70 * len(names))))


def connectivity_item(df: pd.DataFrame, task: Task, words: list[str] | None = None, name: str = "connectivity",
                      start: int | None = None, what: str = "8 held-out examples") -> ChartItem:
    """The connectivity chart of `connectivity_frame` as a ChartItem, with a caption from its numbers:
    for the last read-out, the share each model puts on the first input."""
    T = task.seq_len if words is None else len(words)
    last = df[df.readout_position == df.readout_position.max()] if len(df) else df
    first = {n: float(g[g.input_position == 0].share.sum()) for n, g in last.groupby("name", sort=False)}
    said = "; ".join(f"the {n} puts {s:.1%} of its dependence on input 1" for n, s in first.items())
    chart = finalize(connectivity_chart(df, T, words, start), title="Connectivity: which inputs a read-out depends on",
                     subtitle=["Drag the slider to choose the read-out position (outlined in red);",
                               "darker: the read-out depends more on that input",
                               "(log colour scale, so that small shares show)"])
    return ChartItem(
        name=name, title="Connectivity", chart=chart, data=df,
        caption=(f"For each model, how strongly its read-out at the chosen position depends on the input at each "
                 f"earlier position: the size of the gradient of the read-out (the class it predicts there) with "
                 f"respect to that input, averaged over {what}, as a share of the read-out's total (after Distill's "
                 f"\"Visualizing memorization in RNNs\"). At the last read-out (t = {T}): {said}."
                 + (f" At T = {T} every {readout_stride(T)}-th read-out position is probed, counted back from the "
                    "last." if readout_stride(T) > 1 else "")))
