"""Real data (issue 20): the weather and stocks tasks and the real-data chapter's four checks.

The series load offline; no window sees past the day it forecasts; held-out rows never enter a
statistic; the baselines are computed twice, from the rows and from the held-out windows; both
tasks train from the CLI and refuse an impossible window in one line; the checks give verdicts
that follow from their numbers.
"""
import socket
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch

from core.cli import main
from core.config import ConfigError, RunConfig, TaskConfig, TrainConfig, ModelConfig, seq_len_range, validate
from core.tasks import TASKS, make_task
from core.tasks import real
from core.tasks.real import (Series, climatology_mse, max_window, persistence_mse, stocks_frame, stocks_series,
                             weather_frame, weather_series, windows)
from core.story import realdata as rc
from core.trainer import Trainer
from tests.conftest import ROOT


def task(name, T):
    return make_task(TaskConfig(name=name, seq_len=T))


# --- the data ---------------------------------------------------------------------------------------
def test_every_series_loads_offline(monkeypatch):
    def no_network(*a, **k):
        raise OSError("network is off in this test")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    real._read.cache_clear()  # read from the package's files again, with the network off
    w, s = weather_frame(), stocks_frame()
    assert len(w) == 1461 and w["date"].min() == pd.Timestamp("2012-01-01") and w["date"].max() == pd.Timestamp("2015-12-31")
    assert {"temp_max", "temp_min", "precipitation", "wind"} <= set(w.columns) and not w[list(real.WEATHER_CHANNELS)].isna().any().any()
    assert sorted(s["symbol"].unique()) == sorted(real.STOCK_SYMBOLS) and len(s) == 560 and (s["price"] > 0).all()
    for name in ("weather", "stocks"):  # the tasks build from them
        x, y = task(name, 5).eval_batch()
        assert torch.isfinite(x).all() and torch.isfinite(y).all()


def test_the_url_loader_is_never_used():
    src = "\n".join(p.read_text() for p in (ROOT / "core").rglob("*.py"))
    assert "local_data" in src and "vega_datasets import data" not in src and "vega_datasets.data" not in src


def test_the_declared_longest_windows_follow_from_the_data():
    assert TASKS["weather"].max_seq_len == max_window(weather_series(), 365) == 1096 - 365
    assert TASKS["stocks"].max_seq_len == max_window(stocks_series(), 12) == 43 - 12
    for name in ("weather", "stocks"):
        hi = TASKS[name].max_seq_len
        t = task(name, hi)
        assert seq_len_range(name) == (2, hi)
        groups = t.series.group[t.train_ends]
        assert all((groups == g).sum() >= (365 if name == "weather" else 12) for g in np.unique(t.series.group))


# --- no look-ahead, no leak -------------------------------------------------------------------------
@pytest.mark.parametrize("T", [2, 30, 365])
def test_a_future_value_changes_no_input(T):
    df = weather_frame()
    s0 = weather_series(df)
    ends = np.r_[s0.ends(T, held_out=False), s0.ends(T, held_out=True)]
    x0, y0 = windows(s0, ends, T)
    for day in (400, 1200, 1400, 1460):  # in the training years and in the held-out one
        changed = df.copy()
        changed.loc[day, ["temp_max", "temp_min", "precipitation", "wind"]] += [30.0, 30.0, 100.0, 20.0]
        s1 = weather_series(changed)
        x1, y1 = windows(s1, ends, T)
        before = ends <= day  # windows whose target is on or before the changed day
        assert np.array_equal(x0[before], x1[before]), f"a window before day {day} saw it"
        assert np.array_equal(y0[ends < day], y1[ends < day])
        assert not np.array_equal(x0[ends == day + 1], x1[ends == day + 1]) or day + 1 not in ends  # the test can fail


@pytest.mark.parametrize("name,T", [("weather", 30), ("stocks", 12)])
def test_the_tasks_batches_are_these_windows(name, T):
    """What the models see is `windows` (the function the look-ahead tests change data under)."""
    t = task(name, T)
    x, y = t.eval_batch()
    wx, wy = windows(t.series, t.test_ends, T)
    assert np.allclose(t.raw_inputs(x), wx, atol=1e-4) and np.allclose(t.to_units(y.double()).numpy(), wy, atol=1e-4)
    g = torch.Generator().manual_seed(0)
    k = torch.randint(0, len(t.train_ends), (16,), generator=g)
    xs, ys = t.sample(16, torch.Generator().manual_seed(0))
    wx, wy = windows(t.series, t.train_ends[k.numpy()], T)
    assert np.allclose(t.raw_inputs(xs), wx, atol=1e-4) and np.allclose(t.to_units(ys.double()).numpy(), wy, atol=1e-4)


def test_a_later_price_changes_no_earlier_stock_input():
    df = stocks_frame()
    s0 = stocks_series(df)
    T = 12
    ends = np.r_[s0.ends(T, False), s0.ends(T, True)]
    x0, _ = windows(s0, ends, T)
    i = df.index[(df["symbol"] == "IBM") & (df["date"] == pd.Timestamp("2009-06-01"))][0]
    changed = df.copy()
    changed.loc[i, "price"] *= 3
    s1 = stocks_series(changed)
    x1, _ = windows(s1, ends, T)
    when = s0.dates[ends]
    ibm = s0.group[ends] == real.STOCK_SYMBOLS.index("IBM")
    early = ~ibm | (when <= np.datetime64("2009-06-01"))
    assert np.array_equal(x0[early], x1[early])
    assert not np.array_equal(x0, x1)  # later IBM windows do see it


@pytest.mark.parametrize("make,held_out", [(weather_series, lambda df: df["date"].dt.year == 2015),
                                           (stocks_series, None)])
def test_held_out_rows_never_enter_the_statistics(make, held_out):
    df = weather_frame() if make is weather_series else stocks_frame()
    s0 = make(df)
    changed = df.copy()
    if held_out is None:  # stocks: every symbol's last 24 returns, i.e. its last 24 prices
        last = changed.sort_values("date").groupby("symbol").tail(real.STOCKS_HELD_OUT).index
        changed.loc[last, "price"] *= 5
    else:
        cols = ["temp_max", "temp_min", "precipitation", "wind"]
        changed.loc[held_out(changed), cols] = changed.loc[held_out(changed), cols] * 3 + 40
    s1 = make(changed)
    assert not np.array_equal(s0.raw, s1.raw)
    assert np.array_equal(s0.mean, s1.mean) and np.array_equal(s0.std, s1.std)
    assert np.array_equal(s0.extreme, s1.extreme, equal_nan=True)
    # and a training row does move them (the check can fail)
    moved = df.copy()
    if held_out is None:
        moved.loc[moved.sort_values("date").index[0], "price"] *= 5
    else:
        moved.loc[0, "temp_max"] += 50
    assert not np.array_equal(s0.mean, make(moved).mean)


@pytest.mark.parametrize("name,T", [("weather", 30), ("weather", 731), ("stocks", 31)])
def test_training_windows_hold_only_training_rows(name, T):
    t = task(name, T)
    s = t.series
    idx = t.train_ends[:, None] - T + np.arange(T + 1)  # inputs and target of every training window
    assert s.train[idx].all()
    assert (~s.train[t.test_ends]).all() and len(t.test_ends) == (~s.train).sum()
    assert (s.group[idx] == s.group[t.train_ends][:, None]).all()  # no window crosses symbols


def test_held_out_batch_is_every_2015_day_in_order():
    t = task("weather", 30)
    dates = pd.DatetimeIndex(t.eval_dates)
    assert len(dates) == 365 and dates[0] == pd.Timestamp("2015-01-01") and dates.is_monotonic_increasing
    x, y = t.eval_batch()
    assert torch.equal(x, task("weather", 30).eval_batch()[0])
    w = weather_frame()
    assert np.allclose(t.to_units(y).numpy(), w.loc[w["date"].dt.year == 2015, "temp_max"].to_numpy(), atol=1e-4)
    raw_inputs = t.raw_inputs(x[:1])[0]  # the 30 days before 2015-01-01, in real units
    assert np.allclose(raw_inputs, w.iloc[1096 - 30:1096][list(real.WEATHER_CHANNELS)].to_numpy(), atol=1e-4)
    g = torch.Generator().manual_seed(3)
    a = t.sample(8, g)
    assert torch.equal(a[0], t.sample(8, torch.Generator().manual_seed(3))[0])


# --- baselines, two ways -------------------------------------------------------------------------
def test_persistence_and_climatology_two_ways():
    t = task("weather", 10)
    x, y = t.eval_batch()
    today, tomorrow = t.to_units(x[:, -1, 0].double()), t.to_units(y.double())
    assert t.chance == pytest.approx(((today - tomorrow) ** 2).mean().item(), rel=1e-6)
    assert t.chance == pytest.approx(8.4515, abs=1e-3)
    w = weather_frame()
    train = w[w["date"].dt.year < 2015]
    by_day: dict[tuple[int, int], list[float]] = {}
    for d, v in zip(train["date"], train["temp_max"]):
        by_day.setdefault((d.month, d.day), []).append(v)
    held = w[w["date"].dt.year == 2015]
    errs = [(v - np.mean(by_day[(d.month, d.day)])) ** 2 for d, v in zip(held["date"], held["temp_max"])]
    assert t.baselines()["climatology"] == pytest.approx(float(np.mean(errs)), rel=1e-9)
    assert list(t.baselines()) == ["persistence forecast", "climatology"]


def test_zero_return_two_ways():
    t = task("stocks", 12)
    _, y = t.eval_batch()
    assert len(y) == 5 * 24
    assert t.chance == pytest.approx((t.to_units(y.double()) ** 2).mean().item(), rel=1e-6)
    s = stocks_frame()
    rets = [np.diff(np.log(g.sort_values("date")["price"].to_numpy()))[-24:] for _, g in s.groupby("symbol")]
    assert t.chance == pytest.approx(float(np.mean(np.concatenate(rets) ** 2)), rel=1e-9)


def test_scores_are_in_real_units():
    t = task("weather", 10)
    x, y = t.eval_batch()
    out = torch.zeros(len(y), 1)  # the training years' mean temperature, every day
    std = float(t.series.std[0])
    assert t.score(out, y) == pytest.approx(((out.squeeze(-1) - y) ** 2).mean().item() * std ** 2, rel=1e-5)
    assert t.target == pytest.approx(0.9 * t.chance)
    assert t.label_name(y[0]).endswith("°C") and t.render(x[:1])[0][-1].startswith(f"{t.raw_inputs(x[:1])[0, -1, 0]:.1f}")


def test_storm_days_are_the_top_two_percent_of_training_days():
    s = weather_series()
    train = s.raw[s.train]
    storm = s.is_extreme(train)
    rain = train[:, 2] > np.quantile(train[:, 2], 0.98)
    wind = train[:, 3] > np.quantile(train[:, 3], 0.98)
    assert np.array_equal(storm, rain | wind) and 0.02 <= storm.mean() <= 0.04
    t = task("weather", 30)
    x, _ = t.eval_batch()
    rows = t.test_ends[:, None] - 30 + np.arange(30)
    assert np.array_equal(t.info_mask(x).numpy(), s.is_extreme(s.raw[rows]))  # from inputs = from rows


# --- the edges: CLI, sweep, link ---------------------------------------------------------------
@pytest.mark.parametrize("name,T,words", [("weather", 10, "persistence forecast"), ("stocks", 6, "zero-return forecast")])
def test_cli_trains_both_tasks(name, T, words, tmp_path, capsys):
    code = main(["train", "--task", name, "--seq-len", str(T), "--steps", "4", "--eval-every", "2",
                 "--hidden-size", "4", "--batch-size", "8", "--models", "rnn,lstm,gru", "--quiet", "--no-store",
                 "--out", str(tmp_path / "r")])
    out = capsys.readouterr().out
    assert code == 0 and words in out
    assert (tmp_path / "r" / "summary.json").exists()


def test_a_window_the_data_cannot_hold_is_one_line_and_status_2(tmp_path):
    p = subprocess.run([sys.executable, "-m", "core", "train", "--task", "stocks", "--seq-len", "40", "--steps", "2",
                        "--no-store", "--out", str(tmp_path / "x")], cwd=ROOT, capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert "between 2 and 31" in p.stderr and "GOOG" in p.stderr and "Traceback" not in p.stderr


@pytest.mark.parametrize("argv,words", [
    (["train", "--task", "weather", "--seq-len", "1"], "between 2 and 731, got 1"),
    (["train", "--task", "weather", "--seq-len", "800"], "weather: the 1,096 training days"),
    (["sweep", "--task", "stocks", "--lengths", "6,48", "--no-store"], "lengths must be between 2 and 31 for stocks"),
])
def test_bad_windows_in_process(argv, words, tmp_path, capsys):
    assert main([*argv, "--steps", "2", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert words in err and len(err.strip().splitlines()) == 1


def test_a_link_with_an_impossible_window_is_refused_in_one_line():
    from dashboard.components.controls import from_query

    cfg, problems = from_query({"task": "stocks", "seq_len": "200", "steps": "20"})
    assert cfg.task.name == "stocks" and len(problems) == 1
    assert "seq_len=200" in problems[0] and "31" in problems[0] and "\n" not in problems[0]
    with pytest.raises(ConfigError):
        validate(RunConfig(task=TaskConfig(name="stocks", seq_len=32)))


def test_a_sweep_of_stocks_validates_from_a_default_base():
    """The sweep form builds its base with the default T (100): the grid's lengths decide, not it."""
    from core.sweep import make_sweep

    sweep = make_sweep(RunConfig(task=TaskConfig(name="stocks")), "6,12", "0", ("rnn", "lstm"))
    assert [c.task.seq_len for c in sweep.jobs()] == [6, 6, 12, 12]
    with pytest.raises(ConfigError, match="lengths must be between 2 and 31 for stocks"):
        make_sweep(RunConfig(task=TaskConfig(name="stocks")), "12,100", "0")


def test_a_sweep_draws_the_baselines(tmp_path):
    from core.charts.sweep import baselines_frame, sweep_charts
    from core.sweep import make_sweep, run_sweep

    base = RunConfig(task=TaskConfig(name="weather", seq_len=5), model=ModelConfig(hidden_size=4),
                     train=TrainConfig(steps=2, eval_every=1, batch_size=8), models=("rnn",))
    result = run_sweep(make_sweep(base, "3,5", "0"))
    assert list(result.table["status"]) == ["finished", "finished"]
    b = baselines_frame(result.table)
    assert list(b["what"]) == ["persistence forecast", "climatology"]
    items = sweep_charts(result.table)
    assert "persistence forecast 8.45 °C²" in items[0].caption and "climatology" in items[0].caption


# --- the chapter's four checks, on tiny trained runs --------------------------------------------------
def tiny(name, T, steps=30):
    cfg = RunConfig(task=TaskConfig(name=name, seq_len=T), model=ModelConfig(hidden_size=8),
                    train=TrainConfig(steps=steps, batch_size=16, eval_every=10, n_checkpoints=2),
                    models=("rnn", "lstm", "gru"))
    return Trainer(validate(cfg), parallel=False).run()


@pytest.fixture(scope="module")
def weather_runs():
    return {T: tiny("weather", T, steps=20) for T in (5, 30)}


def _verdict_matches(check):
    head = {True: rc.HOLDS, False: rc.FAILS, None: rc.UNKNOWN}[check.holds]
    assert check.verdict.startswith(head + ":"), check.verdict
    assert "\n" not in check.verdict


def test_window_check_on_trained_runs(weather_runs):
    c = rc.window_check(list(weather_runs.values()))
    _verdict_matches(c)
    assert c.holds is not None and set(c.table["seq_len"]) == {5, 30}
    for v in ("rnn", "lstm", "gru"):
        g = c.table[c.table.variant == v].set_index("seq_len")["mse"]
        assert c.numbers[f"{v}_gain"] == pytest.approx(1 - g[30] / g[5])
        assert f"{g[5]:.2f}" in c.verdict
    assert c.holds == (c.numbers["lstm_gain"] >= rc.MIN_GAIN and c.numbers["lstm_gain"] > c.numbers["rnn_gain"])
    assert rc.window_check([weather_runs[5]]).holds is None  # one length cannot tell


def _table(rnn, lstm):
    rows = [{"task": "weather", "model": k, "init": "", "seq_len": T, "seed": 0, "metric": m, "chance": 8.45,
             "steps_to_target": None, "wall_s": 1.0, "status": "finished", "target": 7.6, "steps_run": 10,
             "hash": f"{k}{T}", "reused": False, "variant": k}
            for k, ms in (("rnn", rnn), ("lstm", lstm)) for T, m in zip((7, 30, 90), ms)]
    from core.sweep import table
    return table(rows)


@pytest.mark.parametrize("rnn,lstm,holds,words", [
    ((8.0, 8.1, 8.2), (8.0, 7.5, 7.2), True, "Holds here"),
    ((8.0, 7.0, 7.2), (8.0, 7.9, 7.8), False, "not the LSTM more than the vanilla RNN"),
    ((8.0, 7.0, 7.2), (8.0, 7.7, 7.6), False, "helps Vanilla RNN, LSTM, but not the LSTM more"),
    ((8.0, 8.0, 8.1), (7.5, 7.5, 7.45), False, "do not help here"),
])
def test_window_verdict_follows_the_numbers_either_way(rnn, lstm, holds, words):
    c = rc.window_check(_table(rnn, lstm))
    assert c.holds is holds and words in c.verdict
    _verdict_matches(c)


def test_lookback_check_is_the_gradient_of_the_forecast(weather_runs):
    result = weather_runs[30]
    c = rc.lookback_check(result)
    _verdict_matches(c)
    assert set(c.table["model"]) == {"rnn", "lstm", "gru"}
    for k, g in c.table.groupby("model"):
        assert g["share"].sum() == pytest.approx(1.0) and list(g["days_back"]) == list(range(1, 31))
    # the same number by finite differences: day 1 back (the last input day) of the LSTM
    from core.inspection import model_from_weights
    run = result.runs["lstm"]
    model = model_from_weights(run.config, "lstm", run.checkpoints[max(run.checkpoints)]).double()
    t = result.task
    x, _ = t.eval_batch()
    x = x.double()
    eps, cols = 1e-6, []
    with torch.no_grad():
        f0 = t.to_units(model(x).squeeze(-1))
        for ch in range(x.shape[-1]):
            xp = x.clone()
            xp[:, -1, ch] += eps
            cols.append((t.to_units(model(xp).squeeze(-1)) - f0) / eps)
    fd = torch.stack(cols, -1).norm(dim=-1).mean().item()
    day1 = c.table[(c.table.model == "lstm") & (c.table.days_back == 1)]["sensitivity"].item()
    assert day1 == pytest.approx(fd, rel=1e-3)
    assert c.holds == (c.numbers["lstm_beyond_week"] - c.numbers["rnn_beyond_week"] >= rc.MIN_SHARE_GAP)
    assert rc.lookback_check(weather_runs[5]).holds is None  # 5 days hold no day beyond a week


def test_storm_gate_check(weather_runs):
    result = weather_runs[30]
    c = rc.storm_gate_check(result)
    _verdict_matches(c)
    t = result.task
    storm = t.info_mask(t.eval_batch()[0])
    counts = dict(zip(c.table["days"], c.table["positions"]))
    assert counts["storm day"] == int(storm.sum()) and sum(counts.values()) == storm.numel()
    assert 0 < c.numbers["storm_days"] < 365
    assert c.holds == (c.numbers["f_ordinary"] - c.numbers["f_after"] >= rc.MIN_GATE_GAP)
    assert f"{c.numbers['f_after']:.3f}" in c.verdict


def test_stocks_check_and_held_out_errors():
    results = [tiny("stocks", 6, steps=20), tiny("stocks", 12, steps=20)]
    c = rc.stocks_check(results)
    _verdict_matches(c)
    assert c.holds is not None and len(c.table) == 6
    assert c.table["zero_mse"].iloc[0] == pytest.approx(results[0].task.chance, rel=1e-6)
    assert c.holds == bool(c.table["beats"].any())
    from core.charts.realdata import forecast_item, stocks_item
    assert stocks_item(c).chart.to_dict() and stocks_item(c).caption == c.verdict
    f = rc.forecast_frame(results[0])
    assert set(f["series"]) == set(real.STOCK_SYMBOLS) and forecast_item(f, "log return", "x").chart.to_dict()
    e = rc.heldout_errors(results[1])
    lstm = e[e.model == "lstm"].iloc[0]
    assert lstm["mse"] == pytest.approx(results[1].runs["lstm"].final_metric, rel=1e-4)  # the trainer's own score
    assert list(e[e.model == ""]["name"]) == ["zero-return forecast", "training-mean forecast"]
    with pytest.raises(ValueError, match="real-data task"):
        rc.heldout_errors(Trainer(validate(RunConfig(task=TaskConfig(seq_len=5), train=TrainConfig(steps=1)))).run())


def test_chapter_configs_are_valid():
    plan = rc.chapter_configs()
    assert [c.task.seq_len for c in plan["weather"]] == list(rc.WEATHER_LENGTHS)
    for cfgs in plan.values():
        for cfg in cfgs:
            assert validate(cfg) == cfg and cfg.models == rc.CHAPTER_MODELS


def test_forecast_table_and_the_checks_charts(weather_runs):
    from core.charts import realdata as charts

    result = weather_runs[30]
    f = rc.forecast_frame(result)
    t = result.task
    days = f[f.model == "actual"]
    assert len(days) == 365 and days["date"].iloc[0] == pd.Timestamp("2015-01-01")
    assert set(f["model"]) == {"actual", "baseline", "rnn", "lstm", "gru"}
    lstm = f[f.model == "lstm"]["value"].to_numpy()
    assert np.mean((lstm - days["value"].to_numpy()) ** 2) == pytest.approx(result.runs["lstm"].final_metric, rel=1e-4)
    base = f[f.model == "baseline"]["value"].to_numpy()
    assert np.mean((base - days["value"].to_numpy()) ** 2) == pytest.approx(t.chance)  # persistence, a third way
    items = [charts.forecast_item(f, "°C", "Tomorrow's high"),
             charts.window_item(rc.window_check(list(weather_runs.values())), "°C²"),
             charts.lookback_item(rc.lookback_check(result), "days"),
             charts.storm_item(rc.storm_gate_check(result))]
    for item in items:
        assert item.chart.to_dict()["$schema"] and len(item.data) and item.caption
    assert items[1].caption.startswith(("Holds here", "Does not hold here"))


def test_the_dashboard_trains_the_weather_and_its_pages_read_it():
    """A link to the weather trains it on the page, verdicts in °C², the Inside and Gradients pages
    draw it; choosing stocks brings T into its 31 months."""
    import streamlit as st

    from tests.test_app import app, click

    st.cache_data.clear()
    st.cache_resource.clear()
    at = app(task="weather", seq_len="10", steps="10", hidden_size="4", batch_size="8", models="rnn,lstm")
    assert not at.exception and not at.warning
    click(at, "train")
    assert not at.exception
    verdicts = [m.value for m in at.markdown if "persistence forecast 8.45 °C²" in m.value]
    assert len(verdicts) == 2 and all("°C²" in m.value for m in at.metric)
    for page in ("views/gradients.py", "views/inside.py"):
        at.switch_page(page).run()
        assert not at.exception and at.get("vega_lite_chart"), page
    assert any("°C" in c.value for c in at.caption)  # the example is shown in degrees
    at.switch_page("views/train.py").run()
    at.selectbox(key="task").set_value("stocks").run()
    assert not at.exception and at.slider(key="seq_len").value == 10
    at.selectbox(key="task").set_value("first_token").run()
    at.slider(key="seq_len").set_value(100).run()
    at.selectbox(key="task").set_value("stocks").run()
    assert not at.exception and (at.slider(key="seq_len").value, at.slider(key="seq_len").max) == (31, 31)
    st.cache_data.clear()
    st.cache_resource.clear()
