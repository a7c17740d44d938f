"""The explainer's claims about its real examples, checked on trained runs (the real-data chapter).

Four checks, each a function of trained runs that returns the numbers and a verdict worded from
them, whichever way they go ("Holds here: ..." / "Does not hold here: ..."):

- `window_check`: error against the window length T for each model, against persistence: do the
  early days of a month help, and which model uses them?
- `lookback_check`: how far back each model looks: the size of the forecast's gradient with
  respect to each input day (the "gradients through time" idea applied to the inputs);
- `storm_gate_check`: the LSTM's forget gate on storm days (precipitation or wind in the top 2%
  of training days) and on the day after one, against ordinary days;
- `stocks_check`: does any model beat the zero-return forecast on the held-out months?

and `heldout_errors`, every model's held-out MSE and MAE in real units beside the baselines.

Plain data only (no charts, no UI). This module builds on the probes (core.inspection), so the
tasks package never imports it; whoever tells the chapter does.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
import torch

from core.config import RunConfig, TaskConfig, TrainConfig
from core.inspection import model_from_weights, resolve_step, traces, with_checkpoints
from core.results import RunResult
from core.tasks.base import TASKS, make_task
from core.tasks.real import RealSeriesTask

# The runs the chapter needs (one seed each; the weather's 365-day window is the explainer's
# "seasonal trend"): three models side by side at every length.
WEATHER_LENGTHS = (7, 30, 90, 365)
STOCKS_LENGTHS = (6, 12, 24)
CHAPTER_MODELS = ("rnn", "lstm", "gru")
# "Early in the month": windows of at least 30 days reach it; shorter ones do not.
MONTH = 30
WEEK = 7  # "this week's weather": the last 7 days of a window
# A longer window "helps" when it lowers a model's MSE by at least 2% (a smaller change is within
# what a different seed or a few more steps move it).
MIN_GAIN = 0.02
# One model "looks further back" than another when the share of its input sensitivity that lies
# beyond the last week is at least 5 percentage points larger.
MIN_SHARE_GAP = 0.05
# The forget gate "drops" a storm when its mean on the day after a storm is at least 0.02 below
# its mean after ordinary days (gates here move in the second decimal from day to day).
MIN_GATE_GAP = 0.02
HOLDS, FAILS, UNKNOWN = "Holds here", "Does not hold here", "Cannot tell yet"


@dataclass(frozen=True)
class Check:
    """One claim tested: the numbers (`table`, `numbers`) and the verdict worded from them."""

    claim: str  # the explainer's claim, as the chapter quotes it
    holds: bool | None  # None: the runs given cannot decide it
    verdict: str  # "Holds here: ..." / "Does not hold here: ..." / "Cannot tell yet: ..."
    table: pd.DataFrame
    numbers: dict[str, float] = field(default_factory=dict)


def chapter_configs(steps: int | None = None, seed: int = 0) -> dict[str, list[RunConfig]]:
    """The runs the chapter's checks read: 'weather' (one per WEATHER_LENGTHS) and 'stocks' (one
    per STOCKS_LENGTHS), each training CHAPTER_MODELS side by side at the task's suggested steps."""
    out: dict[str, list[RunConfig]] = {}
    for name, lengths in (("weather", WEATHER_LENGTHS), ("stocks", STOCKS_LENGTHS)):
        n = steps or TASKS[name].suggested_steps
        out[name] = [RunConfig(task=TaskConfig(name=name, seq_len=T), train=TrainConfig(steps=n, seed=seed),
                               models=CHAPTER_MODELS) for T in lengths]
    return out


def _real_task(result: RunResult) -> RealSeriesTask:
    task = result.task
    if not isinstance(task, RealSeriesTask):
        raise ValueError(f"this check needs a run of a real-data task (weather, stocks), not {task.name}")
    return task


@torch.no_grad()
def _predictions(result: RunResult, kind: str, step: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(forecast, truth) on every held-out window, in real units, from the model's kept weights."""
    task, run = _real_task(result), result.runs[kind]
    model = model_from_weights(run.config, kind, run.checkpoints[resolve_step(run, step)])
    x, y = task.eval_batch(len(task.test_ends))
    out = model(x).squeeze(-1)
    return task.to_units(out.double()).numpy(), task.to_units(y.double()).numpy()


def heldout_errors(result: RunResult, step: int | None = None) -> pd.DataFrame:
    """model, name, mse, mae (real units: °C², °C for the weather), then one row per baseline
    (model '' and its name), all on the same held-out windows."""
    task = _real_task(result)
    rows = []
    for kind, run in with_checkpoints(result).items():
        pred, y = _predictions(result, kind, step)
        rows.append({"model": kind, "name": run.title, "mse": float(np.mean((pred - y) ** 2)),
                     "mae": float(np.mean(np.abs(pred - y)))})
    for name, mse in task.baselines().items():
        rows.append({"model": "", "name": name, "mse": mse, "mae": float("nan")})
    return pd.DataFrame(rows, columns=["model", "name", "mse", "mae"])


def forecast_frame(result: RunResult, step: int | None = None) -> pd.DataFrame:
    """date, series, model, name, value: every held-out day (month) of the series, its actual value
    (model 'actual'), the chance forecast (model 'baseline', named as the task names it) and each
    model's forecast, in real units: what a forecast chart draws (dates on the time axis)."""
    task = _real_task(result)
    s = task.series
    dates = pd.DatetimeIndex(task.eval_dates)
    where = [task.series_names[g] for g in s.group[task.test_ends]]
    truth = s.raw[task.test_ends, s.target]
    chance = task.chance_forecast(task.test_ends)
    parts = [pd.DataFrame({"date": dates, "series": where, "model": "actual", "name": "actual", "value": truth}),
             pd.DataFrame({"date": dates, "series": where, "model": "baseline", "name": task.chance_name,
                           "value": chance})]
    for kind, run in with_checkpoints(result).items():
        pred, _ = _predictions(result, kind, step)
        parts.append(pd.DataFrame({"date": dates, "series": where, "model": kind, "name": run.title, "value": pred}))
    return pd.concat(parts, ignore_index=True)


# --- (a) error against the window length --------------------------------------------------------
def runs_table(results: Iterable[RunResult]) -> pd.DataFrame:
    """The sweep table (core.sweep's columns) of trained runs, one row per model and run."""
    from core.sweep import row_from_summary, table

    rows = [row_from_summary(r.config.single(k), s, False) for r in results for k, s in r.summary().items()]
    return table(rows)


def window_check(runs: pd.DataFrame | Iterable[RunResult]) -> Check:
    """Does a longer window (early-month days) lower the forecast error, and which model uses it?

    `runs`: a sweep table of the weather task (core.sweep) or trained RunResults at several T.
    Per model: its mean held-out MSE at each T; `gain` = 1 - (best MSE at T >= 30) / (MSE at the
    shortest T). Holds when a longer window helps the LSTM by MIN_GAIN or more, and more than it
    helps the vanilla RNN (the RNN "forgets early-month patterns")."""
    from core.sweep import aggregate

    df = runs if isinstance(runs, pd.DataFrame) else runs_table(runs)
    claim = ("The vanilla RNN might forget weather patterns from early in the month; the LSTM keeps them, "
             "and they help the forecast.")
    agg = aggregate(df)
    if agg.empty:
        return Check(claim, None, f"{UNKNOWN}: no completed run to read.", agg)
    task = make_task(TaskConfig(name=str(df["task"].iloc[0]), seq_len=int(agg["seq_len"].min())))
    base = task.baselines()
    table = agg[["variant", "name", "seq_len", "seeds", "metric_mean", "metric_min", "metric_max"]].rename(
        columns={"metric_mean": "mse", "metric_min": "mse_min", "metric_max": "mse_max"})
    for k, v in base.items():
        table[k] = v
    short_T, lengths = int(table["seq_len"].min()), sorted(table["seq_len"].unique())
    if short_T >= MONTH or max(lengths) < MONTH:
        return Check(claim, None, f"{UNKNOWN}: it needs runs with a window shorter than {MONTH} days and runs "
                                  f"with one of {MONTH} days or more (have T = {', '.join(map(str, lengths))}).",
                     table)
    per: dict[str, dict[str, float]] = {}
    for v, g in table.groupby("variant", sort=False):
        short = g[g.seq_len == short_T]["mse"]
        longs = g[g.seq_len >= MONTH]
        if short.empty or longs.empty:
            continue
        best = longs.loc[longs["mse"].idxmin()]
        per[v] = {"short": float(short.iloc[0]), "long": float(best["mse"]), "long_T": int(best["seq_len"]),
                  "gain": 1 - float(best["mse"]) / float(short.iloc[0])}
    names = dict(zip(table["variant"], table["name"]))
    numbers = {f"{v}_{k}": x for v, d in per.items() for k, x in d.items()}
    pers = next(iter(base.values()))
    u = task.metric_unit
    words = "; ".join(f"{names[v]} {d['short']:.2f} {u} at T = {short_T} -> {d['long']:.2f} at T = {d['long_T']} "
                      f"({_pct(d['gain'])})" for v, d in per.items())
    helped = {v for v, d in per.items() if d["gain"] >= MIN_GAIN}
    if "rnn" not in per or "lstm" not in per:
        holds = None
    else:
        holds = "lstm" in helped and per["lstm"]["gain"] > per["rnn"]["gain"]
    best_v = min(per, key=lambda v: per[v]["long"]) if per else None
    vs = ""
    if best_v:
        rel = per[best_v]["long"] / pers - 1
        vs = (f" The best from {MONTH} days on, {names[best_v]} at T = {per[best_v]['long_T']} "
              f"({per[best_v]['long']:.2f} {u}), is {abs(rel):.0%} {'below' if rel < 0 else 'above'} persistence "
              f"({pers:.2f} {u}).")
    if holds is None:
        head = f"{UNKNOWN}: it needs both the vanilla RNN and the LSTM"
    elif holds:
        head = (f"{HOLDS}: a window reaching back a month or more lowers the error, and more for the LSTM "
                f"({_pct(per['lstm']['gain'])}) than for the vanilla RNN ({_pct(per['rnn']['gain'])})")
    elif not helped:
        head = (f"{FAILS}: no model forecasts better with {MONTH} days or more than with {short_T} "
                f"(no error fell by {MIN_GAIN:.0%} or more): the early days of the month do not help here")
    else:
        head = (f"{FAILS}: a longer window helps {', '.join(names[v] for v in per if v in helped)}, but not the "
                f"LSTM more than the vanilla RNN (LSTM {_pct(per['lstm']['gain'])}, vanilla RNN "
                f"{_pct(per['rnn']['gain'])})")
    return Check(claim, holds, f"{head}. Held-out MSE: {words}.{vs}", table, numbers)


def _pct(gain: float) -> str:
    """0.07 -> '7% lower', -0.03 -> '3% higher'."""
    return f"{abs(gain):.0%} {'lower' if gain >= 0 else 'higher'}"


# --- (b) how far back each model looks ----------------------------------------------------------
def input_sensitivity(result: RunResult, kind: str, step: int | None = None) -> np.ndarray:
    """(T,) mean over held-out windows of ||d forecast / d x_t||: how much the forecast (in real
    units) moves per standard deviation of the inputs of day t (norm over the input channels)."""
    task, run = _real_task(result), result.runs[kind]
    model = model_from_weights(run.config, kind, run.checkpoints[resolve_step(run, step)])
    x, _ = task.eval_batch(len(task.test_ends))
    x = x.clone().requires_grad_(True)
    with torch.enable_grad():
        forecast = task.to_units(model(x).squeeze(-1))  # (B,) each window's own forecast
        (grad,) = torch.autograd.grad(forecast.sum(), x)  # (B, T, C): windows do not mix
    return grad.double().norm(dim=-1).mean(0).numpy()


def lookback_check(result: RunResult, step: int | None = None) -> Check:
    """How far back does each model look? Per model: the input sensitivity of each day back
    (1 = the last day of the window), the share of it beyond the last week and the days back that
    hold 90% of it. Holds when the LSTM's share beyond a week is MIN_SHARE_GAP above the RNN's."""
    task = _real_task(result)
    T, unit = task.seq_len, task.seq_len_unit
    claim = ("The vanilla RNN forgets what it saw early in the window; the LSTM still looks back at it "
             "(its output gate focuses on this week, its cell state keeps the rest).")
    rows, numbers = [], {}
    for kind, run in with_checkpoints(result).items():
        s = input_sensitivity(result, kind, step)[::-1]  # days back 1..T
        share = s / s.sum() if s.sum() > 0 else np.full_like(s, np.nan)
        cum = np.cumsum(share)
        reach = int(np.searchsorted(cum, 0.9) + 1) if np.isfinite(cum[-1]) else 0
        old = float(share[WEEK:].sum()) if T > WEEK else 0.0
        numbers.update({f"{kind}_beyond_week": old, f"{kind}_reach90": reach})
        rows += [{"model": kind, "name": run.title, "days_back": d + 1, "sensitivity": float(s[d]),
                  "share": float(share[d])} for d in range(T)]
    table = pd.DataFrame(rows, columns=["model", "name", "days_back", "sensitivity", "share"])
    names = dict(zip(table["model"], table["name"]))
    words = "; ".join(f"{names[k]}: {numbers[f'{k}_beyond_week']:.0%} from more than a week back, 90% within "
                      f"{numbers[f'{k}_reach90']} {unit}" for k in names)
    if T <= WEEK:
        return Check(claim, None, f"{UNKNOWN}: a window of {T} {unit} holds no day beyond the last week.", table,
                     numbers)
    if "rnn" not in names or "lstm" not in names:
        return Check(claim, None, f"{UNKNOWN}: it needs both the vanilla RNN and the LSTM. {words}.", table, numbers)
    gap = numbers["lstm_beyond_week"] - numbers["rnn_beyond_week"]
    holds = gap >= MIN_SHARE_GAP
    if holds:
        head = f"{HOLDS}: the LSTM's forecast leans on days before the last week more than the vanilla RNN's"
    elif gap <= -MIN_SHARE_GAP:
        head = f"{FAILS}: the vanilla RNN's forecast leans on days before the last week more than the LSTM's"
    else:
        head = (f"{FAILS}: the LSTM and the vanilla RNN lean on days before the last week about equally "
                f"({abs(gap):.0%} apart)")
    return Check(claim, holds, f"{head}. Share of the forecast's input sensitivity, over {T} {unit}: {words}.",
                 table, numbers)


# --- (c) the forget gate on storm days --------------------------------------------------------------
def storm_gate_check(result: RunResult, step: int | None = None) -> Check:
    """The LSTM's mean forget gate f_t (and input gate i_t) over the held-out windows on storm days,
    on the day after a storm (where f_t decides whether the storm stays in the cell) and on ordinary
    days. Holds when f on the day after a storm is MIN_GATE_GAP below f on ordinary days."""
    task = _real_task(result)
    claim = ("The forget gate removes irrelevant data like extreme anomalies (a single storm day).")
    run = result.runs.get("lstm")
    if run is None or not run.checkpoints:
        return Check(claim, None, f"{UNKNOWN}: the run has no LSTM.", pd.DataFrame())
    model = model_from_weights(run.config, "lstm", run.checkpoints[resolve_step(run, step)])
    x, _ = task.eval_batch(len(task.test_ends))
    tr = traces(model, x)
    f, i = tr["f"].mean(-1), tr["i"].mean(-1)  # (B, T): mean over units
    storm = task.info_mask(x).numpy()
    after = np.zeros_like(storm)
    after[:, 1:] = storm[:, :-1] & ~storm[:, 1:]
    ordinary = ~storm & ~after
    groups = {"storm day": storm, "day after a storm": after, "ordinary day": ordinary}
    rows = [{"days": name, "positions": int(m.sum()), "forget_mean": float(f[m].mean()) if m.any() else math.nan,
             "forget_std": float(f[m].std()) if m.any() else math.nan,
             "input_mean": float(i[m].mean()) if m.any() else math.nan} for name, m in groups.items()]
    table = pd.DataFrame(rows)
    n = dict(zip(table["days"], table["forget_mean"]))
    ni = dict(zip(table["days"], table["input_mean"]))
    numbers = {"f_storm": n["storm day"], "f_after": n["day after a storm"], "f_ordinary": n["ordinary day"],
               "i_storm": ni["storm day"], "i_ordinary": ni["ordinary day"],
               "storm_days": int(task.series.is_extreme(task.series.raw[~task.series.train]).sum())}
    what = task.extreme_word
    if not after.any():
        return Check(claim, None, f"{UNKNOWN}: no {what} day in the held-out windows.", table, numbers)
    gap = numbers["f_ordinary"] - numbers["f_after"]
    words = (f"the forget gate averages {numbers['f_after']:.3f} on the day after a {what}, {numbers['f_storm']:.3f} "
             f"on {what} days and {numbers['f_ordinary']:.3f} on ordinary days; the input gate {numbers['i_storm']:.3f} "
             f"on {what} days against {numbers['i_ordinary']:.3f}")
    holds = gap >= MIN_GATE_GAP
    how = f"{abs(gap):.3f} {'lower' if gap > 0 else 'higher'} than after ordinary days"
    if holds:
        head = f"{HOLDS}: the LSTM keeps less of its cell state right after a {what} (its forget gate is {how})"
    else:
        head = (f"{FAILS}: the LSTM does not drop a {what} from its cell state: on the day after one its forget "
                f"gate is {how}, where dropping it would take {MIN_GATE_GAP} lower or more")
    return Check(claim, holds, f"{head}: {words}.", table, numbers)


# --- (d) stocks: beating the zero-return forecast ----------------------------------------------------
def stocks_check(results: Sequence[RunResult], step: int | None = None) -> Check:
    """Does any model beat the zero-return forecast on the held-out months? Per model and run: the
    mean of (model's squared error - zero forecast's squared error) over the held-out windows, and
    its standard error; a model beats the zero-return forecast when that mean is below zero by more
    than two standard errors (less error, and not by the luck of 120 windows)."""
    claim = ("Combining old stock trends with current ones predicts next month's price better than "
             "assuming it stays where it is.")
    rows = []
    for result in results:
        task = _real_task(result)
        for kind, run in with_checkpoints(result).items():
            pred, y = _predictions(result, kind, step)
            d = (pred - y) ** 2 - y ** 2
            se = float(d.std(ddof=1) / math.sqrt(len(d)))
            rows.append({"model": kind, "name": run.title, "seq_len": task.seq_len, "windows": len(d),
                         "mse": float(np.mean((pred - y) ** 2)), "zero_mse": float(np.mean(y ** 2)),
                         "diff": float(d.mean()), "se": se, "beats": bool(d.mean() + 2 * se < 0),
                         "hit_rate": float(np.mean(np.sign(pred) == np.sign(y)))})
    table = pd.DataFrame(rows, columns=["model", "name", "seq_len", "windows", "mse", "zero_mse", "diff", "se",
                                        "beats", "hit_rate"])
    if table.empty:
        return Check(claim, None, f"{UNKNOWN}: no trained stocks run to read.", table)
    zero = float(table["zero_mse"].iloc[0])
    best = table.loc[table["mse"].idxmin()]
    numbers = {"zero_mse": zero, "best_mse": float(best["mse"]), "n_beat": int(table["beats"].sum())}
    where = f"{best['name']} at T = {best['seq_len']} months"
    if table["beats"].any():
        won = table[table["beats"]]
        names = ", ".join(f"{r['name']} (T = {r['seq_len']}: MSE {r['mse']:.4f})" for _, r in won.iterrows())
        return Check(claim, True, f"{HOLDS}: {names} beat the zero-return forecast (MSE {zero:.4f}) on the "
                                  f"{int(best['windows'])} held-out stock-months by more than two standard errors.",
                     table, numbers)
    closer = ("; it is lower, but within two standard errors of it (the luck of "
              f"{int(best['windows'])} stock-months)") if best["mse"] < zero else ""
    return Check(claim, False, f"{FAILS}: no model beat the zero-return forecast (MSE {zero:.4f}) on the "
                               f"{int(best['windows'])} held-out stock-months. The best, {where}, has MSE "
                               f"{best['mse']:.4f}{closer}; it calls the direction of "
                               f"{best['hit_rate']:.0%} of the months.", table, numbers)


# --- the tour's chapter 8 --------------------------------------------------------------------------
WEATHER_NAMES = tuple(f"weather_{T}" for T in WEATHER_LENGTHS)  # the tour's experiment names
STOCKS_NAMES = tuple(f"stocks_{T}" for T in STOCKS_LENGTHS)
LOOKBACK_T = 30  # the explainer's "last month": the run whose gates and gradients (b) and (c) read


def experiments() -> dict[str, RunConfig]:
    """The chapter's runs by name (the tour trains them after chapters 1-7): the weather at every T
    of WEATHER_LENGTHS and the stock returns at every T of STOCKS_LENGTHS, CHAPTER_MODELS side by side."""
    from core.config import validate

    cfgs = chapter_configs()
    return {name: validate(cfg) for name, cfg in (*zip(WEATHER_NAMES, cfgs["weather"]),
                                                   *zip(STOCKS_NAMES, cfgs["stocks"]))}


def checks(weather: Sequence[RunResult], stocks: Sequence[RunResult]) -> list[Check]:
    """The four checks, (a) to (d), from the chapter's runs (the (b) and (c) ones read the weather run
    whose window is LOOKBACK_T days, else the longest below it)."""
    by_T = {r.task.seq_len: r for r in weather}
    month = by_T.get(LOOKBACK_T) or by_T[max(T for T in by_T if T <= LOOKBACK_T or T == min(by_T))]
    return [window_check(weather), lookback_check(month), storm_gate_check(month), stocks_check(stocks)]


def outcome_word(check: Check) -> str:
    """A check's verdict in the tour's one vocabulary (core.story.evidence)."""
    from core.story.evidence import FAILS as NO, HOLDS as YES, UNCLEAR

    return YES if check.holds else NO if check.holds is False else UNCLEAR
