"""Charts of the real-data checks (core.tasks.real_checks): each builder takes a Check (or the
forecast table) and returns a ChartItem whose caption is the check's own verdict, in real units
and, for forecasts, with dates on the time axis."""
from __future__ import annotations

import altair as alt
import pandas as pd

from core.charts import CHANCE_COLOR, WIDTH, ChartItem, color_of, finalize, model_scale
from core.story.realdata import Check

ACTUAL_COLOR = "#222222"


def _names_scale(df: pd.DataFrame, key: str = "model") -> alt.Scale:
    kinds = list(dict.fromkeys(df[key]))
    return model_scale(kinds, dict(zip(df[key], df["name"])))


def forecast_item(frame: pd.DataFrame, unit: str, title: str) -> ChartItem:
    """Actual value, the chance forecast and each model's forecast over the held-out dates
    (core.tasks.real_checks.forecast_frame); one panel per series (a stock's symbol)."""
    models = frame[~frame["model"].isin(["actual", "baseline"])]
    domain = ["actual", *dict.fromkeys(frame.loc[frame.model == "baseline", "name"]), *dict.fromkeys(models["name"])]
    colors = [ACTUAL_COLOR, CHANCE_COLOR, *[color_of(k) for k in dict.fromkeys(models["model"])]]
    base = alt.Chart(frame).mark_line(strokeWidth=1.2).encode(
        x=alt.X("date:T", title="date"), y=alt.Y("value:Q", title=unit),
        color=alt.Color("name:N", scale=alt.Scale(domain=domain, range=colors), title=""),
        tooltip=[alt.Tooltip("date:T"), "name:N", alt.Tooltip("value:Q", format=".2f")])
    n = frame["series"].nunique()
    chart = base.properties(width=WIDTH * 2 if n == 1 else WIDTH, height=220)
    if n > 1:
        chart = chart.facet(facet=alt.Facet("series:N", title=None), columns=2)
    return ChartItem(name="forecasts", title="Forecasts on the held-out days", data=frame,
                     chart=finalize(chart, title=title, subtitle="held out: never seen in training"),
                     caption=f"Each model's forecast beside the actual value and the {domain[1]} on every "
                             f"held-out date ({unit}).")


def window_item(check: Check, unit: str) -> ChartItem:
    """(a) held-out MSE against the window T, per model, with the baselines as rules."""
    t = check.table
    lengths = sorted(t["seq_len"].unique().tolist())
    scale = model_scale(list(dict.fromkeys(t["variant"])), dict(zip(t["variant"], t["name"])))
    x = alt.X("seq_len:Q", title="window T in days (log scale)", scale=alt.Scale(type="log", nice=False, padding=12),
              axis=alt.Axis(values=lengths, format="d"))
    lines = alt.Chart(t).mark_line(point=True).encode(
        x=x, y=alt.Y("mse:Q", title=f"held-out MSE ({unit})", scale=alt.Scale(zero=False)),
        color=alt.Color("name:N", scale=scale, title="model"),
        tooltip=["name:N", "seq_len:Q", alt.Tooltip("mse:Q", format=".2f")])
    base_cols = [c for c in t.columns if c not in ("variant", "name", "seq_len", "seeds", "mse", "mse_min", "mse_max")]
    rules = pd.DataFrame({"what": base_cols, "y": [float(t[c].iloc[0]) for c in base_cols]})
    rule = alt.Chart(rules).mark_rule(color=CHANCE_COLOR).encode(
        y="y:Q", strokeDash=alt.StrokeDash("what:N", title="baseline"), tooltip=["what:N", alt.Tooltip("y:Q", format=".2f")])
    chart = alt.layer(lines, rule).properties(width=WIDTH * 2, height=260)
    return ChartItem(name="window_vs_error", title="Error against the window length", data=t,
                     chart=finalize(chart, title="Do the early days of the month help?"), caption=check.verdict)


def lookback_item(check: Check, unit: str) -> ChartItem:
    """(b) share of the forecast's input sensitivity on each day back."""
    t = check.table
    chart = alt.Chart(t).mark_line(point=alt.OverlayMarkDef(size=16)).encode(
        x=alt.X("days_back:Q", title=f"{unit} back (1 = the last input)", scale=alt.Scale(reverse=True)),
        y=alt.Y("share:Q", title="share of the input sensitivity", axis=alt.Axis(format="%")),
        color=alt.Color("name:N", scale=_names_scale(t), title="model"),
        tooltip=["name:N", "days_back:Q", alt.Tooltip("share:Q", format=".1%"),
                 alt.Tooltip("sensitivity:Q", format=".3g")]).properties(width=WIDTH * 2, height=240)
    return ChartItem(name="lookback", title="How far back each model looks", data=t,
                     chart=finalize(chart, title="How far back does each model look?",
                                    subtitle="|d forecast / d input| per day, as a share of the whole window"),
                     caption=check.verdict)


def storm_item(check: Check) -> ChartItem:
    """(c) the LSTM's mean forget gate on storm days, the day after and ordinary days."""
    t = check.table
    chart = alt.Chart(t).mark_bar(color=color_of("lstm")).encode(
        x=alt.X("days:N", title=None, sort=list(t["days"])),
        y=alt.Y("forget_mean:Q", title="mean forget gate f_t", scale=alt.Scale(zero=False)),
        tooltip=["days:N", "positions:Q", alt.Tooltip("forget_mean:Q", format=".3f"),
                 alt.Tooltip("input_mean:Q", format=".3f")]).properties(width=WIDTH, height=240)
    return ChartItem(name="storm_forget_gate", title="The forget gate around storms", data=t,
                     chart=finalize(chart, title="Does the forget gate drop a storm?"), caption=check.verdict)


def stocks_item(check: Check) -> ChartItem:
    """(d) each model's held-out MSE (per T) against the zero-return forecast."""
    t = check.table.assign(label=lambda d: d["name"] + " T=" + d["seq_len"].astype(str))
    bars = alt.Chart(t).mark_bar().encode(
        y=alt.Y("label:N", title=None, sort=list(t["label"])), x=alt.X("mse:Q", title="held-out MSE of the log return"),
        color=alt.Color("name:N", scale=_names_scale(t), title="model"),
        tooltip=["label:N", alt.Tooltip("mse:Q", format=".4f"), alt.Tooltip("diff:Q", format="+.4f"),
                 alt.Tooltip("se:Q", format=".4f"), "beats:N"])
    zero = alt.Chart(t.head(1)).mark_rule(color=CHANCE_COLOR, strokeWidth=2).encode(x="zero_mse:Q")
    chart = alt.layer(bars, zero).properties(width=WIDTH * 2, height=max(120, 18 * len(t)))
    return ChartItem(name="stocks_vs_zero", title="Stocks against the zero-return forecast", data=t.drop(columns="label"),
                     chart=finalize(chart, title="Does any model beat 'no change'?", subtitle="grey rule: zero-return forecast"),
                     caption=check.verdict)
