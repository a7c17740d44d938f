"""Altair chart builders shared by the dashboard, the CLI and the export, so all show the same chart.

This package is the only place that imports Altair. Here: the shared look (colours, `finalize`),
`ChartItem` and the training page's learning curves; `inside` (gradients, cell state and gates),
`sweep` (metric against T) and `export` (PNG, SVG, HTML, CSV and the report) build on it.

Every builder takes plain data (DataFrames from the library) and returns a finished chart via
`finalize`, which sets the chart's own config: exports then look like the page (the dashboard
draws with theme=None so Streamlit's theme does not restyle them).
"""
from __future__ import annotations

from dataclasses import dataclass

import altair as alt
import pandas as pd

from core.config import variant_label
from core.models import MODEL_NAMES
from core.tasks import Task

# One colour per model everywhere: the RNN warm, the LSTM blue, the GRU green.
MODEL_COLORS = {"rnn": "#d62728", "lstm": "#1f77b4", "gru": "#2ca02c"}
# A sweep over starts ('rnn:irnn') draws each variant in its own colour, near its kind's where it can.
VARIANT_COLORS = {"rnn:orthogonal": "#ff7f0e", "rnn:irnn": "#e377c2", "lstm:zero": "#17becf",
                  "lstm:one": "#9467bd", "lstm:none": "#8c6d31", "gru:chrono": "#8c564b"}
SPARE_COLORS = ("#9467bd", "#8c564b", "#e377c2", "#17becf", "#ff7f0e")  # for kinds registered later
CHANCE_COLOR = "#7f7f7f"
TARGET_COLOR = "#bcbd22"
FONT = "Helvetica, Arial, sans-serif"
WIDTH = 320  # one panel; two panels side by side fit a laptop-width page


def color_of(kind: str) -> str:
    """A model kind's (or variant's) colour, the same in every chart (a kind without one gets a
    spare, by its place)."""
    if kind in MODEL_COLORS:
        return MODEL_COLORS[kind]
    if kind in VARIANT_COLORS:
        return VARIANT_COLORS[kind]
    others = [k for k in MODEL_NAMES if k not in MODEL_COLORS]
    return SPARE_COLORS[others.index(kind) % len(SPARE_COLORS)] if kind in others else SPARE_COLORS[0]


def model_scale(kinds: list[str] | None = None, titles: dict[str, str] | None = None) -> alt.Scale:
    """Colour scale over model display names, fixed so a model keeps its colour in every chart.
    `kinds` are kinds or variant keys ('rnn:irnn'); `titles` names them when a run's config does
    ('Vanilla RNN (IRNN init)'), else the key's own label."""
    kinds, titles = kinds or list(MODEL_NAMES), titles or {}
    return alt.Scale(domain=[titles.get(k) or variant_label(k) for k in kinds], range=[color_of(k) for k in kinds])


def model_color(kinds: list[str] | None = None, legend_title: str = "model",
                titles: dict[str, str] | None = None) -> alt.Color:
    return alt.Color("name:N", scale=model_scale(kinds, titles), title=legend_title)


def with_names(df: pd.DataFrame, titles: dict[str, str] | None = None) -> pd.DataFrame:
    """Add the display name column `name` next to `model` (with its init when not the default)."""
    out, titles = df.copy(), titles or {}
    out["name"] = out["model"].map(lambda k: titles.get(k) or variant_label(k))
    return out


def finalize(chart: alt.TopLevelMixin, title: str | None = None, subtitle: str | list[str] | None = None):
    """The chart's own look (fonts, sizes, white background), shared by page and export. `subtitle`: a
    line, or a list of lines."""
    if title:
        chart = chart.properties(title=alt.TitleParams(title, subtitle=subtitle or "", anchor="start"))
    return chart.configure(background="white", font=FONT).configure_view(stroke="#dddddd").configure_axis(
        labelFontSize=11, titleFontSize=12, gridColor="#eeeeee").configure_legend(
        labelFontSize=12, titleFontSize=12, orient="bottom").configure_title(fontSize=15, subtitleFontSize=12,
                                                                             subtitleColor="#555555")


def metric_title(task: Task) -> str:
    if task.metric == "accuracy":
        return "held-out accuracy"
    return f"held-out MSE ({task.metric_unit})" if task.metric_unit else "held-out MSE"


def learning_curves(metrics: pd.DataFrame, task: Task, kinds: list[str] | None = None,
                    titles: dict[str, str] | None = None, steps: int | None = None) -> alt.TopLevelMixin:
    """Held-out metric and training loss against step, one colour per model; the chance baseline
    (grey) and the target (olive, dashed) drawn as rules on the metric panel. `titles`: kind ->
    display name with its init (RunResult.titles())."""
    df = with_names(metrics, titles)
    kinds = kinds or list(dict.fromkeys(df["model"]))
    color = model_color(kinds, titles=titles)
    fmt = ".1%" if task.metric == "accuracy" else ".4f"
    tips = [alt.Tooltip("name:N", title="model"), alt.Tooltip("step:Q"),
            alt.Tooltip("metric:Q", title=metric_title(task), format=fmt),
            alt.Tooltip("loss:Q", title="training loss", format=".4f"),
            alt.Tooltip("elapsed_s:Q", title="seconds", format=".1f")]
    y_metric = alt.Y("metric:Q", title=metric_title(task),
                     scale=alt.Scale(domain=[0, 1]) if task.metric == "accuracy" else alt.Scale(type="log"),
                     axis=alt.Axis(format="%" if task.metric == "accuracy" else "~g"))
    # `steps`: the run's length, so a live chart grows along a fixed axis instead of rescaling
    x_scale = alt.Scale(domain=[0, steps]) if steps else alt.Undefined
    base = alt.Chart(df).encode(x=alt.X("step:Q", title="training step", scale=x_scale), color=color)
    metric = base.mark_line(point=alt.OverlayMarkDef(size=18)).encode(y=y_metric, tooltip=tips)
    rules = pd.DataFrame({"y": [task.chance, task.target],
                          "what": [f"{task.chance_name} ({task.chance:.3g})", f"target ({task.target:.3g})"]})
    chance = alt.Chart(rules.iloc[[0]]).mark_rule(color=CHANCE_COLOR, strokeWidth=1.5).encode(
        y="y:Q", tooltip=alt.Tooltip("what:N", title="baseline"))
    target = alt.Chart(rules.iloc[[1]]).mark_rule(color=TARGET_COLOR, strokeDash=[5, 4]).encode(
        y="y:Q", tooltip=alt.Tooltip("what:N", title="target"))
    layers = [metric, chance, target]
    others = list(task.baselines().items())[1:]  # a real series' other baselines (climatology, the mean)
    if others:
        more = pd.DataFrame({"y": [v for _, v in others], "what": [f"{k} ({v:.3g})" for k, v in others]})
        layers.append(alt.Chart(more).mark_rule(color=CHANCE_COLOR, strokeDash=[2, 2]).encode(
            y="y:Q", tooltip=alt.Tooltip("what:N", title="baseline")))
        named = pd.concat([rules.iloc[[0]], more], ignore_index=True)  # each baseline named where it is drawn
        layers.append(alt.Chart(named).mark_text(align="left", dx=4, dy=-6, color=CHANCE_COLOR, fontSize=10).encode(
            x=alt.value(0), y="y:Q", text="what:N"))
    left = alt.layer(*layers).properties(
        width=WIDTH, height=240, title=f"{metric_title(task).capitalize()} (grey: chance, dashed: target"
                                       f"{', dotted: other baselines' if others else ''})")
    loss = base.mark_line().encode(
        y=alt.Y("loss:Q", title="training loss", scale=alt.Scale(type="log")), tooltip=tips,
    ).properties(width=WIDTH, height=240, title="Training loss (log scale)")
    return finalize(alt.hconcat(left, loss), title=f"Learning curves: {task.title}, T = {task.seq_len}",
                    subtitle="Same batches for every model; evaluated on a fixed held-out batch")


@dataclass
class ChartItem:
    """A chart as the dashboard shows it and the export writes it: the finished Altair chart, the
    plain data it draws (for CSV), a short stable name for file names, and a caption in words."""

    name: str  # file-name safe, e.g. "learning_curves"
    title: str
    chart: alt.TopLevelMixin
    data: pd.DataFrame
    caption: str


def run_charts(result) -> list[ChartItem]:
    """The charts of a training run's main page (core.results.RunResult)."""
    task, titles = result.task, result.titles()
    metrics = result.metrics_frame()
    return [ChartItem(
        name="learning_curves", title="Learning curves", chart=learning_curves(metrics, task, titles=titles),
        data=metrics,
        caption=(f"Held-out {task.metric} and training loss of {', '.join(titles.values())} against training "
                 f"step on '{task.title}' at T = {task.seq_len}. The grey rule is {task.chance_name} ({task.chance:.3g}); "
                 f"the dashed rule is the target ({task.target:.3g})."
                 + "".join(f" The dotted rule is the {k} ({v:.3g})." for k, v in list(task.baselines().items())[1:])),
    )]
