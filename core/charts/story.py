"""The tour's charts (core.story's chapters): each chapter's learning curves, gradients, cell state
and the explainer sentence read word by word by every model, as ChartItems shared by page and export."""
from __future__ import annotations

import altair as alt
import pandas as pd

from core.charts import CHANCE_COLOR, ChartItem, finalize, learning_curves, model_color
from core.charts.inside import WIDE, grad_through_time_item, states_charts
from core.config import variant_of
from core.inspection import EXPLAINER_SENTENCE, sentence_table
from core.results import RunResult
from core.story import Chapter


def curves_item(result: RunResult, name: str) -> ChartItem:
    """The learning curves of one of the tour's runs."""
    task, titles = result.task, result.titles()
    metrics = result.metrics_frame()
    return ChartItem(name=name, title=f"Learning curves at T = {task.seq_len}", data=metrics,
                     chart=learning_curves(metrics, task, list(result.runs), titles=titles),
                     caption=(f"Held-out {task.metric} and training loss of {', '.join(titles.values())} on "
                              f"'{task.title}' at T = {task.seq_len}, {result.config.train.steps:,} steps, "
                              f"hidden {result.config.model.hidden_size}. Grey: chance; dashed: the target."))


def starts_item(results: list[RunResult], name: str) -> ChartItem:
    """The learning curves of the same kind of model from different starts, one colour per start
    ('lstm' and 'lstm:zero'), on one chart."""
    parts, titles = [], {}
    for result in results:
        for kind, run in result.runs.items():
            key = variant_of(run.config)
            titles[key] = run.title
            parts.append(result.metrics_frame().query("model == @kind").assign(model=key))
    metrics = pd.concat(parts, ignore_index=True)
    task = results[0].task
    return ChartItem(name=name, title="Learning curves by start", data=metrics,
                     chart=learning_curves(metrics, task, list(titles), titles=titles),
                     caption=(f"The same task at T = {task.seq_len} and the same training, from different starts: "
                              f"{', '.join(titles.values())}. Grey: chance; dashed: the target."))


def readout_item(result: RunResult, text: str = EXPLAINER_SENTENCE, name: str = "sentence_readout") -> ChartItem:
    """What every model answers after each word of `text` (sentiment_but): p(positive) per word."""
    table = sentence_table(result, text)
    positive = f"p_{result.task.class_names[1]}"
    df = table[["model", "name", "t", "input", positive]].rename(columns={positive: "p_positive"})
    df["word"] = [f"{t + 1}. {w}" for t, w in zip(df.t, df.input)]
    order = list(dict.fromkeys(df.sort_values("t").word))
    kinds = list(dict.fromkeys(df.model))
    line = alt.Chart(df).mark_line(point=alt.OverlayMarkDef(size=40)).encode(
        x=alt.X("word:N", sort=order, title=None, axis=alt.Axis(labelAngle=-35)),
        y=alt.Y("p_positive:Q", title="p(positive) read out after the word", scale=alt.Scale(domain=[0, 1])),
        color=model_color(kinds, titles=result.titles()),
        tooltip=["name:N", "word:N", alt.Tooltip("p_positive:Q", format=".1%")])
    half = alt.Chart(pd.DataFrame({"y": [0.5]})).mark_rule(color=CHANCE_COLOR, strokeDash=[4, 4]).encode(y="y:Q")
    chart = finalize(alt.layer(line, half).properties(width=WIDE, height=240),
                     title="The explainer's sentence, word by word",
                     subtitle=f"Models trained at T = {result.task.seq_len}; grey: undecided (0.5)")
    return ChartItem(name=name, title="The sentence, word by word", chart=chart, data=table,
                     caption=(f"Each model's answer read out after every word of \"{text}\", as the probability it "
                              "gives the review being positive. A model that has followed the 'but' ends below "
                              "0.5. The CSV holds every model's gates and norms per word too."))


def chapter_charts(chapter: Chapter, results: dict[str, RunResult]) -> list[ChartItem]:
    """The charts of a chapter, from its trained results (results[name] for chapter.needs)."""
    n = chapter.number
    if chapter.key == "gap":
        return [curves_item(results[k], f"ch{n}_{k}_learning_curves") for k in chapter.needs]
    if chapter.key == "gradients":
        return [grad_through_time_item(results[chapter.needs[0]])]
    if chapter.key == "belt":
        return states_charts(results[chapter.needs[0]], None, 0)
    if chapter.key == "start":
        return [starts_item([results[k] for k in chapter.needs], f"ch{n}_starts")]
    if chapter.key == "but":
        short, long = (results[k] for k in chapter.needs)
        return [readout_item(short), curves_item(long, f"ch{n}_long_learning_curves")]
    return []


__all__ = ["chapter_charts", "curves_item", "starts_item", "readout_item"]
