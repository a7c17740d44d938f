"""The tour's charts (core.story's chapters): each chapter's learning curves, gradients, cell state
and the explainer sentence read word by word by every model, as ChartItems shared by page and export."""
from __future__ import annotations

from dataclasses import replace

import altair as alt
import pandas as pd

from core.charts import CHANCE_COLOR, ChartItem, finalize, learning_curves, model_color
from core.charts.export import Report
from core.charts.inside import WIDE, grad_through_time_item, states_charts
from core.config import variant_of
from core.inspection import EXPLAINER_SENTENCE, sentence_table
from core.results import RunResult
from core.story import CHAPTERS, FILLER, Chapter, arithmetic_at, long_review_table, most_dropped, tell


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


def long_review_item(result: RunResult, filler: int, text: str = EXPLAINER_SENTENCE,
                     name: str = "long_review") -> ChartItem:
    """p(positive) over the words of `text` followed by `filler` neutral words, every model."""
    df = long_review_table(result, filler, text)
    kinds = list(dict.fromkeys(df.model))
    n_text = len(df) // max(len(kinds), 1) - filler
    line = alt.Chart(df).mark_line().encode(
        x=alt.X("t:Q", title="word (from 0)"),
        y=alt.Y("p_positive:Q", title="p(positive) after the word", scale=alt.Scale(domain=[0, 1])),
        color=model_color(kinds, titles=result.titles()),
        tooltip=["name:N", "t:Q", "input:N", alt.Tooltip("p_positive:Q", format=".1%")])
    half = alt.Chart(pd.DataFrame({"y": [0.5]})).mark_rule(color=CHANCE_COLOR, strokeDash=[4, 4]).encode(y="y:Q")
    end = alt.Chart(pd.DataFrame({"t": [n_text - 1]})).mark_rule(color=CHANCE_COLOR).encode(x="t:Q")
    chart = finalize(alt.layer(line, half, end).properties(width=WIDE, height=240),
                     title=f"The sentence and {filler} neutral words",
                     subtitle=f"Models trained at T = {result.task.seq_len}; grey line: the sentence's last word")
    return ChartItem(name=name, title="The long review", chart=chart, data=df,
                     caption=(f"Each model's p(positive) after every word of \"{text}\" followed by {filler} "
                              "neutral filler words. Below 0.5 at the end: the model still reads the 'but'."))


def arithmetic_item(result: RunResult, text: str = EXPLAINER_SENTENCE, k: int = 8,
                    name: str = "forget_arithmetic") -> ChartItem:
    """At "but": c_{t-1}, what the forget gate keeps of it and c_t for the k units that drop most
    (the CSV holds every unit's whole arithmetic)."""
    table = arithmetic_at(result, text, "but")
    shown = most_dropped(table, k)
    cols = {"c_{t-1}": "c_{t-1}", "f_t ⊙ c_{t-1} (kept)": "f_t ⊙ c_{t-1} (kept)", "c_t": "c_t"}
    long = shown.melt(id_vars=["unit"], value_vars=list(cols), var_name="quantity", value_name="value")
    chart = alt.Chart(long).mark_bar().encode(
        x=alt.X("quantity:N", title=None, sort=list(cols), axis=alt.Axis(labels=False, ticks=False)),
        y=alt.Y("value:Q", title="cell value"),
        color=alt.Color("quantity:N", sort=list(cols), title=None),
        column=alt.Column("unit:O", title="unit", sort=list(shown.unit)),
        tooltip=["unit:O", "quantity:N", alt.Tooltip("value:Q", format=".3f")]).properties(width=48, height=200)
    return ChartItem(name=name, title="The forget gate at 'but'", data=table,
                     chart=finalize(chart, title="What the forget gate keeps at \"but\"",
                                    subtitle=f"LSTM trained at T = {result.task.seq_len}: the {k} units that drop most"),
                     caption=(f"At \"but\" in \"{text}\": the cell value before the word (c_{{t-1}}), what the "
                              "forget gate keeps of it (f_t ⊙ c_{t-1}) and the new cell (c_t, after the input "
                              f"gate writes), for the {k} units that lose most. The CSV has every unit's "
                              "W_f·h_{t-1}, W_f·x_t, b_f, z, f_t, kept, written and c_t."))


def chapter_charts(chapter: Chapter, results: dict[str, RunResult], filler: int = FILLER) -> list[ChartItem]:
    """The charts of a chapter, from its trained results (results[name] for chapter.needs)."""
    n = chapter.number
    if chapter.key == "gap":
        return [curves_item(results[k], f"ch{n}_{k}_learning_curves") for k in chapter.needs]
    if chapter.key == "gradients":
        return [grad_through_time_item(results[chapter.needs[0]])]
    if chapter.key == "belt":
        return states_charts(results[chapter.needs[0]], None, 0)
    if chapter.key == "turn":
        return [starts_item([results[k] for k in chapter.needs], f"ch{n}_starts")]
    if chapter.key == "but":
        short, long = (results[k] for k in chapter.needs)
        return [readout_item(short), curves_item(long, f"ch{n}_long_learning_curves")]
    if chapter.key == "long":
        return [long_review_item(results[chapter.needs[1]], filler)]
    if chapter.key == "arithmetic":
        return [arithmetic_item(results[chapter.needs[0]])]
    return []


def tour_report(results: dict[str, RunResult], filler: int = FILLER) -> Report:
    """The tour as one report: every chapter's charts (chapter number in their names) and verdicts,
    for the chapters whose runs are in `results`."""
    items, verdicts, configs = [], [], {}
    for c in CHAPTERS:
        if any(n not in results for n in c.needs):
            continue
        verdicts.append(f"{c.number}. {c.title}: {tell(c, results, filler).verdict}")
        for item in chapter_charts(c, results, filler):
            items.append(replace(item, name=item.name if item.name.startswith(f"ch{c.number}_")
                                 else f"ch{c.number}_{item.name}"))
        configs.update({n: results[n].config.to_dict() for n in c.needs})
    return Report(title="RNN vs LSTM Lab: the story", subtitle=f"{len(verdicts)} of {len(CHAPTERS)} chapters, "
                  "told with the models trained here", config=configs, verdicts=verdicts, items=items)


__all__ = ["chapter_charts", "curves_item", "starts_item", "readout_item", "long_review_item", "arithmetic_item",
           "tour_report"]
