"""The tour's charts (core.story's chapters): each chapter's learning curves, gradients, cell state
and the explainer sentence read word by word by every model, as ChartItems shared by page and export."""
from __future__ import annotations

from dataclasses import replace
from typing import Callable

import altair as alt
import pandas as pd

from core.charts import CHANCE_COLOR, ChartItem, finalize, learning_curves, model_color
from core.charts.cell import belt_item, growth_item
from core.charts.export import Report
from core.charts.inside import INFO_COLOR, WIDE, time_axis, time_scale, connectivity_item, grad_through_time_item, states_charts
from core.config import variant_of
from core.inspection import EXPLAINER_SENTENCE, connectivity_frame, sentence_table, showcase
from core.results import RunResult
from core.story import (CHAPTERS, FAILS, FILLER, HOLDS, UNCLEAR, UNDECIDED, Chapter, Told, arithmetic_at,
                        holding_units, long_review_table, most_dropped, tell, unit_traces)
from core.story import runs as _runs
from core.story.runs import seeded


def neutral_band() -> alt.Chart:
    """The read-outs the tour calls neutral (within UNDECIDED of 0.5), as a grey band."""
    return alt.Chart(pd.DataFrame({"lo": [0.5 - UNDECIDED], "hi": [0.5 + UNDECIDED]})).mark_rect(
        color=CHANCE_COLOR, opacity=0.12).encode(y="lo:Q", y2="hi:Q")


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
    # in a vconcat: Streamlit stretches a single view to the page and fits legend, labels and titles into its
    # height (the plot shrank to a sliver); a composed chart keeps the size it was given
    chart = finalize(alt.vconcat(alt.layer(neutral_band(), line, half).properties(width=WIDE, height=240)),
                     title="The explainer's sentence, word by word",
                     subtitle=f"Models trained at T = {result.task.seq_len}; grey band: neutral (within {UNDECIDED} "
                              "of 0.5), the tour's margin for a reading")
    return ChartItem(name=name, title="The sentence, word by word", chart=chart, data=table,
                     caption=(f"Each model's answer read out after every word of \"{text}\", as the probability it "
                              "gives the review being positive. A model that has followed the 'but' ends below "
                              "0.5. The CSV holds every model's gates and norms per word too."))


def long_review_frame(results: list[RunResult], filler: int, text: str = EXPLAINER_SENTENCE) -> pd.DataFrame:
    """Every model of every result reading `text` and `filler` neutral words: long_review_table's
    columns plus trained_at (T), learned (reached its target) and series (what the line's dash says)."""
    parts = []
    for result in results:
        T = result.task.seq_len
        df = long_review_table(result, filler, text)
        learned = {k: r.steps_to_target is not None for k, r in result.runs.items()}
        df["trained_at"] = T
        df["learned"] = df.model.map(learned)
        df["series"] = [f"trained at T = {T}" + ("" if ok else ", did not learn: not counted") for ok in df.learned]
        parts.append(df)
    return pd.concat(parts, ignore_index=True)


def long_review_item(results: list[RunResult], filler: int, text: str = EXPLAINER_SENTENCE,
                     name: str = "long_review") -> ChartItem:
    """p(positive) after each word of `text` (left: the words themselves) and after each of the
    `filler` neutral words that follow (right), for every model of every result; the dash says
    where a model was trained and whether it learned the task (dotted: it did not)."""
    df = long_review_frame(results, filler, text)
    n_text = len(text.split())
    titles = {k: t for r in results for k, t in r.titles().items()}
    kinds = list(dict.fromkeys(df.model))
    series = list(dict.fromkeys(df.sort_values(["learned", "trained_at"], ascending=[False, True]).series))
    dashes = [[1, 0] if "not counted" not in s and i == 0 else [6, 3] if "not counted" not in s else [1, 3]
              for i, s in enumerate(series)]
    color = model_color(kinds, titles=titles)
    dash = alt.StrokeDash("series:N", title=None, scale=alt.Scale(domain=series, range=dashes),
                          legend=alt.Legend(symbolType="stroke", symbolStrokeWidth=2, symbolStrokeColor="#555555",
                                            labelLimit=320, direction="vertical"))
    tips = ["name:N", "series:N", "t:Q", "input:N", alt.Tooltip("p_positive:Q", format=".1%")]
    span = alt.Scale(domain=[-0.02, 1.02], nice=False)  # a line at 0 or 1 stays off the axis line
    y = alt.Y("p_positive:Q", title="p(positive) after the word", scale=span, axis=alt.Axis(values=[0, .25, .5, .75, 1], format=".2~f"))
    half = alt.Chart(pd.DataFrame({"y": [0.5]})).mark_rule(color=CHANCE_COLOR, strokeDash=[4, 4]).encode(y="y:Q")
    words = df[df.t <= n_text].assign(word=lambda d: [f"{t}. {w}" for t, w in zip(d.t, d.input)])
    order = list(dict.fromkeys(words.sort_values("t").word))
    x_words = alt.X("word:N", sort=order, title="the sentence, word by word", axis=alt.Axis(labelAngle=-40))
    left = alt.layer(
        alt.Chart(words).mark_line().encode(x=x_words, y=y, color=color, strokeDash=dash, detail="series:N",
                                            tooltip=tips),
        alt.Chart(words).mark_circle(size=30).encode(x=x_words, y=y, color=color, tooltip=tips),
        half, neutral_band()).properties(width=260, height=240)
    panels = [left]
    if filler > 0:
        rest = df[df.t >= n_text].assign(after=lambda d: d.t - n_text)
        right = alt.layer(alt.Chart(rest).mark_line().encode(
            x=alt.X("after:Q", title=f"neutral words read after \"{text.split()[-1]}\"",
                    scale=alt.Scale(domain=[0, filler], nice=False), axis=alt.Axis(tickCount=6)),
            y=alt.Y("p_positive:Q", title=None, scale=span, axis=alt.Axis(labels=False, values=[0, .25, .5, .75, 1])),
            color=color, strokeDash=dash, detail="series:N", tooltip=tips + ["after:Q"]), half,
            neutral_band()).properties(
            width=360, height=240)
        panels.append(right)
    chart = finalize(alt.hconcat(*panels, spacing=6).resolve_scale(y="shared"),
                     title=f"The sentence and {filler} neutral words",
                     subtitle=f"Below the grey band at the right-hand end (p < {0.5 - UNDECIDED:g}): the model "
                              "still reads the turned sentiment; in the band: no clear reading")
    counted = sorted({f"{titles[k]} (T = {T})" for k, T, ok in zip(df.model, df.trained_at, df.learned) if ok})
    left_out = sorted({f"{titles[k]} (T = {T})" for k, T, ok in zip(df.model, df.trained_at, df.learned) if not ok})
    return ChartItem(name=name, title="The long review", chart=chart, data=df,
                     caption=(f"Each model's p(positive) after every word of \"{text}\" (left, word by word) and after "
                              f"each of the {filler} neutral filler words that follow (right). Counted, because they "
                              f"learned the task: {', '.join(counted) or 'none'}. " + (
                                  f"Dotted, not counted (did not learn the task): {', '.join(left_out)}."
                                  if left_out else "")))


def belt_units_item(result: RunResult, name: str = "belt_units") -> ChartItem:
    """c_t of the few LSTM units that hold the information (core.story.holding_units), one panel
    per unit with its own y scale (symmetric log), one line per held-out example coloured by its
    answer: lines that part at the information and stay apart to the end are the unit remembering."""
    units = holding_units(result)
    df = unit_traces(result, [int(u) for u in units.unit])
    T = result.task.seq_len
    labels = list(dict.fromkeys(df.label))
    line = alt.Chart().mark_line(strokeWidth=1.6).encode(
        x=alt.X("t:Q", title="time step t (from 1)", scale=time_scale(T), axis=time_axis(T)),
        y=alt.Y("c:Q", title="c_t (symmetric log)", scale=alt.Scale(type="symlog", constant=0.01)),
        color=alt.Color("label:N", title="the example's answer", sort=labels),
        tooltip=["unit:O", "label:N", "t:Q", alt.Tooltip("c:Q", format=".3f"), alt.Tooltip("f:Q", format=".3f"),
                 alt.Tooltip("i:Q", format=".3f")])
    x, _, _ = showcase(result.task)
    at = [int(t) + 1 for t in result.task.info_mask(x[:1])[0].nonzero().flatten()]  # the first example's, from 1
    info = alt.Chart().mark_rule(color=INFO_COLOR, strokeWidth=3, opacity=0.7).encode(x="t:Q").transform_filter(
        alt.FieldOneOfPredicate(field="t", oneOf=at))
    # each unit's panel is a plot of its own: at least 150 px tall even when a 1000 px window scales the chart
    # to its column (x 0.73; `python -m benchmarks.chart_sizes`)
    layered = alt.layer(info, line, data=df).properties(width=WIDE, height=210)
    chart = layered.facet(row=alt.Row("unit:O", title="unit", sort=[int(u) for u in units.unit]),
                          spacing=6).resolve_scale(y="independent")
    kept = ", ".join(f"unit {int(r.unit)}: {r.kept:.0%}" for r in units.itertuples())
    return ChartItem(name=name, title="The units that hold the information", data=df,
                     chart=finalize(chart, title="The cell units that hold the first token",
                                    subtitle=f"LSTM at step {max(result.runs['lstm'].checkpoints)}, T = {T}: one "
                                             "line per held-out example, coloured by its answer"),
                     caption=(f"c_t of the {len(units)} LSTM units whose last cell value differs most between "
                              f"{len(labels)} held-out examples with different first tokens, each unit on its own "
                              "y scale (symmetric log, so a value of a few tenths shows beside one of tens); purple: the "
                              "information. Lines that end apart are a unit that still tells the first tokens apart "
                              "when the answer is read; lines that cross on the way show the value being rewritten, "
                              f"not only carried. What its forget gates alone keep across the gap: {kept}."))


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
                     caption=(f"At \"but\" in \"{text}\": the cell value before the word ($c_{{t-1}}$), what the "
                              r"forget gate keeps of it ($f_t \odot c_{t-1}$) and the new cell ($c_t$, after the input "
                              f"gate writes), for the {k} units that lose most. The CSV has every unit's parts of "
                              r"$z = W_f \cdot [h_{t-1}, x_t] + b_f$, $f_t$, what is kept, what is written and $c_t$."))


def sentence_connectivity_item(result: RunResult, name: str, text: str = EXPLAINER_SENTENCE) -> ChartItem:
    """Connectivity on the explainer's sentence: for the read-out after the chosen word (first shown:
    the last word), how strongly each model depends on each earlier word."""
    x = result.task.encode_text(text)
    words = result.task.render(x)[0]
    return connectivity_item(connectivity_frame(result, x), result.task, words=words, name=name,
                             what=f"the sentence (models of T = {result.task.seq_len})")


# --- each chapter's charts, by the names its Chapter.charts gives -------------------------------------
Builder = Callable[[Chapter, dict[str, RunResult], int], list[ChartItem]]
BUILDERS: dict[str, Builder] = {}


def builder(name: str) -> Callable[[Builder], Builder]:
    """Register a chapter chart builder under `name` (what a Chapter's `charts` says)."""
    def add(fn: Builder) -> Builder:
        BUILDERS[name] = fn
        return fn
    return add


@builder("curves_each")
def _curves_each(chapter, results, filler):
    return [curves_item(results[k], f"ch{chapter.number}_{k}_learning_curves") for k in chapter.needs]


@builder("curves_last")
def _curves_last(chapter, results, filler):
    return [curves_item(results[chapter.needs[-1]], f"ch{chapter.number}_long_learning_curves")]


@builder("gradient_decay")
def _gradient_decay(chapter, results, filler):
    result = results[chapter.needs[0]]
    item = grad_through_time_item(result)
    return [replace(item, caption=(
        r"Mean over held-out examples of $\lVert \partial L / \partial h_t \rVert$, the gradient of the loss at "
        f"the answer ($t = {result.task.seq_len}$) with respect to the hidden state at step $t$ (from 1), on a log "
        "scale: solid after training, dashed at initialisation; purple: where the information sits. A line that "
        "falls to the left is the signal fading with distance; the orders of magnitude it loses are in the "
        "sentences above."))]


@builder("belt_units")
def _belt_units(chapter, results, filler):
    result = results[chapter.needs[0]]
    return [belt_units_item(result)] if result.runs.get("lstm") and result.runs["lstm"].checkpoints else []


@builder("states")
def _states(chapter, results, filler):
    return states_charts(results[chapter.needs[0]], None, 0)


@builder("starts")
def _starts(chapter, results, filler):
    return [starts_item([results[k] for k in chapter.needs], f"ch{chapter.number}_starts")]


@builder("sentence_readout")
def _sentence_readout(chapter, results, filler):
    return [readout_item(results[chapter.needs[0]])]


@builder("sentence_connectivity")
def _sentence_connectivity(chapter, results, filler):
    return [sentence_connectivity_item(results[chapter.needs[0]], f"ch{chapter.number}_connectivity")]


@builder("long_review")
def _long_review(chapter, results, filler):
    return [long_review_item([results[k] for k in chapter.needs], filler)]


@builder("forget_arithmetic")
def _forget_arithmetic(chapter, results, filler):
    return [arithmetic_item(results[chapter.needs[0]])]


@builder("addition_only")
def _addition_only(chapter, results, filler):
    """The 1997 LSTM beside the LSTM with a forget gate on each task, when their runs are in: the chapter's
    experiments after the first, two by two (with a forget gate, without)."""
    pairs = [chapter.needs[i:i + 2] for i in range(0, len(chapter.needs) - 1, 2)]
    return [starts_item([results[k] for k in pair], f"ch{chapter.number}_addition_only_{results[pair[0]].task.name}")
            for pair in pairs if all(k in results for k in pair)]


def _all_seeds(results: dict[str, RunResult], name: str) -> list[RunResult]:
    """Every seed of experiment `name` that is in `results` (seed 0 first)."""
    return [results[n] for n in [seeded(name, s) for s in range(_runs.SEEDS)] if n in results]


@builder("belt_gradient")
def _belt_gradient(chapter, results, filler):
    """The gradient along the belt predicted from the forget gates against the one measured, for the
    chrono, zero and no-forget-gate starts, over every seed in (core.charts.cell.belt_item; /cell too)."""
    starts = {"chrono start": _runs.LONG, "zero start": _runs.ZERO_FORGET, "no forget gate (1997)": _runs.NO_FORGET}
    found = {label: [r for r in _all_seeds(results, n) if "lstm" in r.runs] for label, n in starts.items()}
    found = {k: v for k, v in found.items() if v}
    if not found:
        return []
    return [replace(belt_item(found), name=f"ch{chapter.number}_belt_gradient")]


@builder("cell_growth")
def _cell_growth(chapter, results, filler):
    """The cell state's norm step by step, with and without a forget gate, over every seed in."""
    found = {"with a forget gate": [r for r in _all_seeds(results, _runs.BUT_LONG) if "lstm" in r.runs],
             "1997, no forget gate": [r for r in _all_seeds(results, _runs.NO_FORGET) if "lstm" in r.runs]}
    found = {k: v for k, v in found.items() if v}
    if len(found) < 2:
        return []
    return [replace(growth_item(found), name=f"ch{chapter.number}_cell_growth")]


@builder("real_checks")
def _real_checks(chapter, results, filler):
    return real_items([results[k] for k in chapter.needs])


@builder("translation_lengths")
def _translation_lengths(chapter, results, filler):
    from core.charts.translation_story import lengths_item
    return [lengths_item([results[k] for k in chapter.needs], f"ch{chapter.number}_translation_lengths")]


@builder("copying_limit")
def _copying_limit(chapter, results, filler):
    from core.charts.translation_story import copying_item
    runs = [results[k] for k in chapter.needs if results[k].task.name == "copying"]
    return [copying_item(runs, f"ch{chapter.number}_copying_limit")] if runs else []


OUTCOME_COLORS = {HOLDS: "#2e7d32", FAILS: "#c62828", UNCLEAR: "#9e9e9e"}


def seeds_item(chapter: Chapter, results: dict[str, RunResult], told: Told) -> ChartItem | None:
    """Every seed the verdict counts: for each of the chapter's runs, each seed's final held-out metric
    (a dot per seed) with the target, and for each check of the verdict, each seed's outcome. None
    with one seed."""
    if len(told.seeds) < 2 or not told.checks:
        return None
    rows = []
    for name in chapter.needs:
        for s in told.seeds:
            result = results[seeded(name, s)]
            for kind, run in result.runs.items():
                rows.append({"experiment": name, "run": f"{name}: {run.title}", "seed": s,
                             "final": run.final_metric, "target": result.task.target,
                             "metric": result.task.metric})
    runs = pd.DataFrame(rows)
    def short(i: int, claim: str) -> str:  # its start and its end: checks often differ only in their last words
        return f"{i}. {claim}" if len(claim) <= 40 else f"{i}. {claim[:14].rstrip()} … {claim[-24:].lstrip()}"

    checks = pd.DataFrame([{"check": f"{i + 1}. {c.claim}", "label": short(i + 1, c.claim), "seed": s, "outcome": o,
                            "count": c.seed_words().split(" (")[0]}
                           for i, c in enumerate(told.checks) for s, o in zip(told.seeds, c.seeds)])
    accuracy = set(runs.metric) == {"accuracy"}
    fmt = ".0%" if accuracy else ".3g"
    dots = alt.Chart(runs).mark_circle(size=70, opacity=0.8).encode(
        x=alt.X("final:Q", title="final held-out " + ("accuracy" if accuracy else "metric"),
                axis=alt.Axis(format=fmt, tickCount=5), scale=alt.Scale(domain=[max(0.0, float(runs.final.min()) - 0.05), 1.0], nice=False)
                if accuracy else alt.Scale(zero=False, padding=8)),
        y=alt.Y("run:N", title=None, sort=None, axis=alt.Axis(labelLimit=220)),
        color=alt.Color("seed:N", title="seed", scale=alt.Scale(scheme="tableau10")),
        tooltip=["run", "seed", alt.Tooltip("final:Q", format=".4g")])
    target = alt.Chart(runs).mark_tick(color="#555555", thickness=2, size=18).encode(
        x="target:Q", y=alt.Y("run:N", sort=None), tooltip=[alt.Tooltip("target:Q", title="target")])
    # narrow enough to be drawn unscaled in a 1000 px window, tall enough to read (tests/test_browser.py)
    top = (dots + target).properties(width=340, height=max(200, 30 * runs.run.nunique()),
                                     title="Each run's final metric, one dot per seed (grey tick: the target)")
    grid = alt.Chart(checks).mark_rect(stroke="white", strokeWidth=2).encode(
        x=alt.X("seed:O", title="seed"),
        y=alt.Y("label:N", title=None, sort=None, axis=alt.Axis(labelLimit=220)),
        color=alt.Color("outcome:N", title="this seed's check", scale=alt.Scale(
            domain=list(OUTCOME_COLORS), range=list(OUTCOME_COLORS.values()))),
        tooltip=["check", "seed", "outcome", alt.Tooltip("count:N", title="over the seeds")])
    bottom = grid.properties(width=min(340, 56 * len(told.seeds)), height=max(120, 32 * len(told.checks)),
                             title="Each check of the verdict, seed by seed")
    n = len(told.seeds)
    return ChartItem(
        name=f"ch{chapter.number}_seeds", title=f"The verdict's {n} seeds",
        chart=finalize(alt.vconcat(top, bottom).resolve_scale(color="independent"),
                       f"The verdict counts {n} seeds", [f"Each experiment trained from seeds {told.seeds[0]}-{told.seeds[-1]};",
                                                         "the sign test settles a check only when 5 of 5 agree"]),
        data=pd.concat([runs.assign(part="final metric"), checks.assign(part="check")], ignore_index=True),
        caption=(f"Top: each of the chapter's runs trained from {n} seeds (a dot each; the page's other charts "
                 "draw seed 0). Bottom: each check of the verdict on each seed (green: holds; red: does not hold; "
                 "grey: no clear difference). A check holds over the seeds when 5 of 5 hold (the sign test at 5%, "
                 "docs/story.md)."))


def chapter_charts(chapter: Chapter, results: dict[str, RunResult], filler: int = FILLER,
                   told: Told | None = None) -> list[ChartItem]:
    """The charts of a chapter, from its trained results (results[name] for chapter.needs, and
    results["name@s"] for its other seeds), in the order its `charts` names their builders, then the
    seeds chart (`told`: the chapter told, when the caller has it)."""
    items = [item for name in chapter.charts for item in BUILDERS[name](chapter, results, filler)]
    if chapter.seeds_in(results) != [0]:
        seeds = seeds_item(chapter, results, told or tell(chapter, results, filler))
        items += [seeds] if seeds is not None else []
    return items


def real_items(results: list[RunResult]) -> list[ChartItem]:
    """Chapter 8: the four checks' charts and the month-window run's forecasts, in real units."""
    from core.charts.realdata import forecast_item, lookback_item, stocks_item, storm_item, window_item
    from core.story import realdata

    weather = [r for r in results if r.task.name == "weather"]
    stocks = [r for r in results if r.task.name == "stocks"]
    window, lookback, storm, stock = realdata.checks(weather, stocks)
    month = next((r for r in weather if r.task.seq_len == realdata.LOOKBACK_T), weather[0])
    unit = month.task.metric_unit
    frame = realdata.forecast_frame(month)
    items = [window_item(window, unit), lookback_item(lookback, "days"), storm_item(storm), stocks_item(stock),
             forecast_item(frame, "°C", f"Tomorrow's high, T = {month.task.seq_len} days")]
    return [replace(i, name=f"ch8_{i.name}") for i in items]


def tour_report(results: dict[str, RunResult], filler: int = FILLER) -> Report:
    """The tour as one report: every chapter's charts (chapter number in their names) and verdicts,
    for the chapters whose runs are in `results`."""
    items, verdicts, configs = [], [], {}
    for c in CHAPTERS:
        if any(n not in results for n in c.needs):
            continue
        told = tell(c, results, filler)
        verdicts.append(f"{c.number}. {c.title}: {told.verdict}")
        for item in chapter_charts(c, results, filler, told):
            items.append(replace(item, name=item.name if item.name.startswith(f"ch{c.number}_")
                                 else f"ch{c.number}_{item.name}"))
        configs.update({n: results[n].config.to_dict() for n in c.needs})
    return Report(title="RNN vs LSTM Lab: the story", subtitle=f"{len(verdicts)} of {len(CHAPTERS)} chapters, "
                  "told with the models trained here", config=configs, verdicts=verdicts, items=items)


__all__ = ["chapter_charts", "BUILDERS", "builder", "seeds_item", "curves_item", "starts_item", "readout_item", "long_review_item", "arithmetic_item",
           "tour_report"]
