"""Charts of the real-data checks (core.tasks.real_checks): each builder takes a Check (or the
forecast table) and returns a ChartItem whose caption is the check's own verdict, in real units
and, for forecasts, with dates on the time axis."""
from __future__ import annotations

import altair as alt
import pandas as pd

from core.charts import CHANCE_COLOR, WIDTH, ChartItem, color_of, finalize, model_scale
from core.story.realdata import Check

ACTUAL_COLOR = "#222222"


def zoomed(values, pad: float = 0.12) -> alt.Scale:
    """A y (or x) scale over just the compared values, padded by `pad` of their span on each side: a
    difference of a few percent fills the plot instead of a sliver of an axis that starts at 0."""
    vals = [float(v) for v in values if pd.notna(v)]
    lo, hi = (min(vals), max(vals)) if vals else (0.0, 1.0)
    span = hi - lo or abs(hi) * 0.05 or 1.0
    return alt.Scale(domain=[lo - pad * span, hi + pad * span], zero=False, nice=False)


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
    else:  # in a vconcat: Streamlit squeezes a single view's title, axes and legend into its height
        chart = alt.vconcat(chart)
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
    base_cols = [c for c in t.columns if c not in ("variant", "name", "seq_len", "seeds", "mse", "mse_min", "mse_max")]
    base_vals = {c: float(t[c].iloc[0]) for c in base_cols}
    # zoomed to the models and the baselines near them: one far off (climatology) would flatten them
    lo, hi = float(t["mse_min"].min()), float(t["mse_max"].max())
    near = {c: v for c, v in base_vals.items() if v <= hi + (hi - lo) * 1.5}
    y_scale = zoomed([lo, hi, *near.values()])
    lines = alt.Chart(t).mark_line(point=True, clip=True).encode(
        x=x, y=alt.Y("mse:Q", title=f"held-out MSE ({unit})", scale=y_scale),
        color=alt.Color("name:N", scale=scale, title="model"),
        tooltip=["name:N", "seq_len:Q", alt.Tooltip("mse:Q", format=".2f")])
    rules = pd.DataFrame({"what": list(near), "y": list(near.values())})
    rule = alt.Chart(rules).mark_rule(color=CHANCE_COLOR, clip=True).encode(
        y=alt.Y("y:Q", scale=y_scale), strokeDash=alt.StrokeDash("what:N", title="baseline"),
        tooltip=["what:N", alt.Tooltip("y:Q", format=".2f")])
    # in a vconcat: Streamlit squeezes a single view's title, axes and legend into its height
    chart = alt.vconcat(alt.layer(lines, rule).properties(width=WIDTH * 2, height=260))
    off = [f"{c} {v:.3g}" for c, v in base_vals.items() if c not in near]
    subtitle = ["y axis zoomed to the models' errors (it does not start at 0)",
                "grey: baselines" + (f"; off the top: {', '.join(off)} {unit}" if off else "")]
    return ChartItem(name="window_vs_error", title="Error against the window length", data=t,
                     chart=finalize(chart, title="Do early days help?", subtitle=subtitle), caption=check.verdict)


def lookback_item(check: Check, unit: str) -> ChartItem:
    """(b) share of the forecast's input sensitivity on each day back."""
    t = check.table
    chart = alt.Chart(t).mark_line(point=alt.OverlayMarkDef(size=16)).encode(
        x=alt.X("days_back:Q", title=f"{unit} back (1 = the last input)", scale=alt.Scale(reverse=True)),
        y=alt.Y("share:Q", title="share of the input sensitivity", axis=alt.Axis(format="%")),
        color=alt.Color("name:N", scale=_names_scale(t), title="model"),
        tooltip=["name:N", "days_back:Q", alt.Tooltip("share:Q", format=".1%"),
                 alt.Tooltip("sensitivity:Q", format=".3g")]).properties(width=WIDTH * 2, height=240)
    # in a vconcat: Streamlit squeezes a single view's title, axes and legend into its height
    return ChartItem(name="lookback", title="How far back each model looks", data=t,
                     chart=finalize(alt.vconcat(chart), title="How far back?",
                                    subtitle=["share of the forecast's input sensitivity on each day back:",
                                              "|d forecast / d input| per day, over the whole window"]),
                     caption=check.verdict)


def storm_item(check: Check) -> ChartItem:
    """(c) the LSTM's mean forget gate on storm days, the day after and ordinary days."""
    t = check.table
    # dots on a zoomed axis, each labelled: bars would start at 0 and hide a difference of 0.01
    y = alt.Y("forget_mean:Q", title="mean forget gate f_t", scale=zoomed(t["forget_mean"], pad=0.35))
    base = alt.Chart(t).encode(
        x=alt.X("days:N", title=None, sort=list(t["days"]), axis=alt.Axis(labelAngle=0)), y=y,
        tooltip=["days:N", "positions:Q", alt.Tooltip("forget_mean:Q", format=".3f"),
                 alt.Tooltip("input_mean:Q", format=".3f")])
    dots = base.mark_circle(size=140, color=color_of("lstm"), opacity=1)
    labels = base.mark_text(dx=12, align="left", fontSize=12).encode(text=alt.Text("forget_mean:Q", format=".3f"))
    chart = alt.vconcat(alt.layer(dots, labels).properties(width=WIDTH * 2, height=220))
    return ChartItem(name="storm_forget_gate", title="The forget gate around storms", data=t,
                     chart=finalize(chart, title="Does the forget gate drop a storm?",
                                    subtitle="LSTM, mean over units and days; y axis zoomed (it does not start at 0)"),
                     caption=check.verdict)


def stocks_item(check: Check) -> ChartItem:
    """(d) each model's held-out MSE (per T) against the zero-return forecast."""
    t = check.table.assign(label=lambda d: d["name"] + " T=" + d["seq_len"].astype(str))
    # dots with +-2 standard errors of the difference on a zoomed axis: bars from 0 hide a 1% difference
    t = t.assign(lo=t["zero_mse"] + t["diff"] - 2 * t["se"], hi=t["zero_mse"] + t["diff"] + 2 * t["se"])
    x_scale = zoomed([*t["lo"], *t["hi"], float(t["zero_mse"].iloc[0])], pad=0.08)
    y = alt.Y("label:N", title=None, sort=list(t["label"]))
    color = alt.Color("name:N", scale=_names_scale(t), title="model")
    tips = ["label:N", alt.Tooltip("mse:Q", format=".4f"), alt.Tooltip("diff:Q", format="+.4f"),
            alt.Tooltip("se:Q", format=".4f"), "beats:N"]
    x = alt.X("mse:Q", title="held-out MSE of the log return", scale=x_scale)
    dots = alt.Chart(t).mark_circle(size=90, opacity=1).encode(y=y, x=x, color=color, tooltip=tips)
    bars = alt.Chart(t).mark_rule(strokeWidth=2, opacity=0.6).encode(
        y=y, x=alt.X("lo:Q", scale=x_scale), x2="hi:Q", color=color, tooltip=tips)
    zero = alt.Chart(t.head(1)).mark_rule(color=CHANCE_COLOR, strokeWidth=2).encode(x=alt.X("zero_mse:Q", scale=x_scale))
    chart = alt.vconcat(alt.layer(bars, dots, zero).properties(width=WIDTH * 2, height=max(240, 22 * len(t))))
    return ChartItem(name="stocks_vs_zero", title="Stocks against the zero-return forecast",
                     data=t.drop(columns=["label", "lo", "hi"]),
                     chart=finalize(chart, title="Does any model beat 'no change'?",
                                    subtitle=["grey rule: zero-return forecast; bar: the model's MSE +- 2 standard",
                                              "errors of its difference from it; x axis zoomed (not from 0)"]),
                     caption=check.verdict)
