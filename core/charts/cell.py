"""The explainer's cell diagram drawn with a trained model's numbers, and the belt's mechanism measured.

- `cell_diagram_item(step)`: the LSTM cell (the GRU's, the vanilla RNN's) at one step, every box and
  arrow of the explainer's picture, each box holding the values of a few units (core.cell.CellStep) as
  numbers and as colour on the Inside page's scales (core.charts.inside.quantity_scale), with the
  equations on the picture. Drawn as a Vega-Lite chart on a fixed canvas (x 0-104, y 0-H, y down).
- `belt_item(results)`: the gradient along the belt predicted from the forget gates against the
  measured ||dL/dc_t|| (core.belt), one panel per start, one line per seed.
- `growth_item(results)`: ||c_t|| step by step, the 1997 LSTM's cell (no forget gate) beside others.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import altair as alt
import numpy as np
import pandas as pd

from core.belt import belt_frame, growth_frame
from core.cell import CELL, EQUATIONS, GATES, QUANTITIES, CellStep
from core.charts import WIDTH, ChartItem, finalize
from core.charts.inside import quantity_scale
from core.results import RunResult

CANVAS_W = 104  # canvas units across; a unit is PX pixels
PX = 7.5
CELL_W, CELL_H = 5.0, 3.6  # one unit's value: a coloured cell with its number
FRAME_MIN = 7.5  # half width of a box's frame at the least (its label must fit)
ARROW, OP = "#555555", "#333333"

# Box centres (cx, cy) per kind; a box's frame spans cy - 4.6 (its label on top) to cy + 2.4
LAYOUT = {
    "lstm": {"c_prev": (10, 10), "kept": (40, 10), "c": (72, 10), "written": (55, 22), "tanh_c": (92, 22),
             "f": (27, 48), "i": (44, 48), "g": (64, 48), "o": (81, 48), "h": (93, 62), "h_prev": (10, 62),
             "x": (38, 64)},
    "gru": {"h_prev": (10, 10), "kept": (40, 10), "h": (72, 10), "written": (55, 22), "z": (27, 48),
            "n": (64, 48), "r": (84, 48), "x": (38, 64)},
    "rnn": {"h_prev": (14, 20), "h": (88, 20), "x": (52, 36)},
}
HEIGHT = {"lstm": 84, "gru": 78, "rnn": 50}  # canvas units down, equations included
SHORT = {  # box labels on the picture (core.cell.QUANTITIES says them in full)
    "h_prev": "h_{t-1}", "c_prev": "c_{t-1}", "f": "σ  f_t forget", "i": "σ  i_t input", "g": "tanh  c̃_t candidate",
    "o": "σ  o_t output", "kept": "f_t ⊙ c_{t-1} kept", "written": "i_t ⊙ c̃_t written", "c": "c_t", "tanh_c": "tanh(c_t)",
    "h": "h_t", "r": "σ  r_t reset", "z": "σ  z_t update", "n": "tanh  n_t candidate", "x": "x_t input",
}
GRU_SHORT = {"kept": "z_t ⊙ h_{t-1} kept", "written": "(1−z_t) ⊙ n_t written"}
# Operators: name -> (x, y, symbol)
OPS = {
    "lstm": {"fx": (27, 8.9, "×"), "plus": (55, 8.9, "+"), "ix": (55, 33, "×"), "ox": (92, 33, "×")},
    "gru": {"zx": (27, 8.9, "×"), "plus": (55, 8.9, "+"), "nx": (55, 33, "×"), "minus": (40, 33, "1 −")},
    "rnn": {"tanh": (52, 18.9, "tanh")},
}
# Arrows as polylines; the last point gets the head. Bus lines (no head) start with "-".
ARROWS = {
    "lstm": [[(18.6, 8.9), (25.4, 8.9)], [(28.6, 8.9), (31.4, 8.9)], [(48.6, 8.9), (53.4, 8.9)],
             [(56.6, 8.9), (63.4, 8.9)], [(80.6, 8.9), (103, 8.9)], [(92, 8.9), (92, 17.4)],
             [(92, 24.4), (92, 31.4)], [(92, 34.6), (92, 57.4)], [(27, 43.4), (27, 10.5)],
             [(55, 17.4), (55, 10.5)], [(55, 31.4), (55, 24.4)], [(44, 43.4), (44, 33), (53.4, 33)],
             [(64, 43.4), (64, 33), (56.6, 33)], [(81, 43.4), (81, 33), (90.4, 33)],
             ["-", (10, 57.4), (10, 56), (81, 56)], [(27, 56), (27, 50.4)], [(44, 56), (44, 50.4)],
             [(64, 56), (64, 50.4)], [(81, 56), (81, 50.4)], ["-", (38, 59.4), (38, 56)]],
    "gru": [[(18.6, 8.9), (25.4, 8.9)], [(28.6, 8.9), (31.4, 8.9)], [(48.6, 8.9), (53.4, 8.9)],
            [(56.6, 8.9), (63.4, 8.9)], [(80.6, 8.9), (103, 8.9)], [(27, 43.4), (27, 10.5)],
            [(55, 17.4), (55, 10.5)], [(55, 31.4), (55, 24.4)], [(27, 33), (37.6, 33)], [(42.4, 33), (53.4, 33)],
            [(64, 43.4), (64, 33), (56.6, 33)], [(75.4, 46.9), (72.6, 46.9)],
            ["-", (10, 12.4), (10, 56), (84, 56)], [(27, 56), (27, 50.4)], [(64, 56), (64, 50.4)],
            [(84, 56), (84, 50.4)], ["-", (38, 59.4), (38, 56)]],
    "rnn": [[(22.6, 18.9), (47.6, 18.9)], [(56.4, 18.9), (79.4, 18.9)], [(96.6, 18.9), (103, 18.9)],
            [(52, 31.4), (52, 20.8)]],
}
NOTES = {  # words on the picture: (x, y, text, align)
    "lstm": [(2, 2.6, "the cell state c: the conveyor belt (× f_t, + i_t ⊙ c̃_t)", "left"),
             (103, 6.6, "to t + 1", "right"), (102, 68.2, "to the head and t + 1", "right")],
    "gru": [(2, 2.6, "the hidden state h is the GRU's belt (× z_t, + (1 − z_t) ⊙ n_t)", "left"),
            (103, 6.6, "to the head and t + 1", "right")],
    "rnn": [(2, 2.6, "no belt: everything passes through one tanh at every step", "left"),
            (103, 26.5, "to the head and t + 1", "right"), (52, 15.6, "W·[h_{t-1}, x_t] + b", "center")],
}


def fmt(v: float) -> str:
    """A value as the diagram writes it, in a cell 5 characters wide: 3 decimals below 1 without the
    leading zero (".461", "-.005", as the hover shows 6 figures), then 3 significant figures at most."""
    if not math.isfinite(v):
        return str(v)
    a = abs(v)
    if a < 1:
        text = f"{v:.3f}".replace("0.", ".", 1)
        return "0" if text in (".000", "-.000") else text
    return f"{v:.2f}" if a < 10 else f"{v:.1f}" if a < 100 else f"{v:.0f}"


def scale_of(kind: str, q: str) -> str:
    """Which colour scale a quantity is drawn on: "gate" (0-1), "belt" (the LSTM's cell, symmetric log)
    or "tanh" (-1 to 1: h, candidates, the GRU's belt)."""
    if q in GATES:
        return "gate"
    return "belt" if kind == "lstm" and q in CELL else "tanh"


def _ink(value: float, scale: str, m: float) -> str:
    """Black or white numbers, whichever reads on the cell's colour."""
    if scale == "gate":
        return "white" if value < 0.45 else "black"
    if scale == "belt":
        c = max(m / 1000, 1e-6)
        pos = math.copysign(math.log1p(abs(value) / c), value) / math.log1p(max(m, 1e-6) / c)
    else:
        pos = value
    return "white" if abs(pos) > 0.6 else "black"


def _half(n_units: int) -> float:
    return max(n_units * CELL_W / 2, FRAME_MIN) + 0.6


def diagram_frames(step: CellStep) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(cells, frames): one row per unit of each box (x, x2, y, y2, value, text, scale, ink, quantity,
    label, unit, t) and one per box (its frame and label)."""
    kind, K = step.kind, len(step.units)
    labels = {**SHORT, **(GRU_SHORT if kind == "gru" else {})}
    cells, frames = [], []
    for q, (cx, cy) in LAYOUT[kind].items():
        half = _half(K if q != "x" else 1)
        frames.append({"quantity": q, "x": cx - half, "x2": cx + half, "y": cy - 4.6, "y2": cy + 2.4,
                       "label": labels[q], "lx": cx, "ly": cy - 3.0})
        if q == "x":
            cells.append({"quantity": "x", "label": "x_t input", "unit": -1, "value": 0.0, "text": step.word,
                          "x": cx - half + 0.6, "x2": cx + half - 0.6, "y": cy - 1.8, "y2": cy + 1.8,
                          "scale": "word", "ink": "black", "t": step.t + 1})
            continue
        sc = scale_of(kind, q)
        for k, (u, v) in enumerate(zip(step.units, step.values[q])):
            x0 = cx - K * CELL_W / 2 + k * CELL_W
            cells.append({"quantity": q, "label": QUANTITIES[kind][q], "unit": int(u), "value": float(v),
                          "text": fmt(float(v)), "x": x0 + 0.15, "x2": x0 + CELL_W - 0.15, "y": cy - 1.8,
                          "y2": cy + 1.8, "scale": sc, "ink": _ink(float(v), sc, step.belt_max), "t": step.t + 1})
    return pd.DataFrame(cells), pd.DataFrame(frames)


def _arrows(kind: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    lines, heads = [], []
    for a, pts in enumerate(ARROWS[kind]):
        bus = pts[0] == "-"
        pts = pts[1:] if bus else pts
        for j, (x, y) in enumerate(pts):
            lines.append({"arrow": a, "order": j, "x": x, "y": y})
        if not bus:
            (x0, y0), (x1, y1) = pts[-2], pts[-1]
            shape = ("triangle-right" if x1 > x0 else "triangle-left") if abs(x1 - x0) > abs(y1 - y0) else \
                ("triangle-down" if y1 > y0 else "triangle-up")  # y runs down the canvas
            heads.append({"x": x1, "y": y1, "shape": shape})
    return pd.DataFrame(lines), pd.DataFrame(heads)


def _equations(kind: str, top: float) -> pd.DataFrame:
    eqs = EQUATIONS[kind]
    half = math.ceil(len(eqs) / 2) if len(eqs) > 2 else len(eqs)
    rows = [{"x": 2 + 52 * (j // half), "y": top + 4.2 * (j % half), "text": e} for j, e in enumerate(eqs)]
    return pd.DataFrame(rows)


def cell_diagram(step: CellStep) -> alt.TopLevelMixin:
    kind, H = step.kind, HEIGHT[step.kind]
    cells, frames = diagram_frames(step)
    xs = alt.Scale(domain=[0, CANVAS_W], nice=False, zero=False)
    ys = alt.Scale(domain=[0, H], nice=False, zero=False, reverse=True)
    # the vertical axis is kept as a bare line at the left edge: the canvas's extent, drawn white
    x = dict(scale=xs, axis=None)
    y_axis = alt.Axis(labels=False, ticks=False, title=None, grid=False, domainColor="white")

    def enc(chart, **more):
        return chart.encode(x=alt.X("x:Q", **x), y=alt.Y("y:Q", scale=ys, axis=y_axis), **more)

    layers = [enc(alt.Chart(frames).mark_rect(fill="#f6f6f6", stroke="#b0b0b0", cornerRadius=4), x2="x2:Q", y2="y2:Q"),
              alt.Chart(frames).mark_text(fontSize=12, fontWeight="bold", color="#333333").encode(
                  x=alt.X("lx:Q", **x), y=alt.Y("ly:Q", scale=ys, axis=y_axis), text="label:N")]
    lines, heads = _arrows(kind)
    layers.append(enc(alt.Chart(lines).mark_line(color=ARROW, strokeWidth=1.6), detail="arrow:N", order="order:Q"))
    if len(heads):
        layers.append(enc(alt.Chart(heads).mark_point(filled=True, color=ARROW, size=70, opacity=1),
                          shape=alt.Shape("shape:N", scale=None)))
    ops = pd.DataFrame([{"x": ox, "y": oy, "text": s} for ox, oy, s in OPS[kind].values()])
    wide = ops.text.str.len() > 1
    for sub, size in ((ops[~wide], 420), (ops[wide], 1100)):
        if len(sub):
            layers.append(enc(alt.Chart(sub).mark_point(shape="circle", filled=True, fill="white", stroke=OP,
                                                        strokeWidth=1.5, size=size, opacity=1)))
    layers.append(enc(alt.Chart(ops).mark_text(fontSize=13, fontWeight="bold", color=OP, baseline="middle"),
                      text="text:N"))
    tips = [alt.Tooltip("label:N", title="quantity"), alt.Tooltip("unit:Q"), alt.Tooltip("value:Q", format=".6g")]
    titles = {"gate": "gates (0 closed, 1 open)", "belt": "cell state (symmetric log)", "tanh": "−1 to 1 (h, tanh)"}
    for sc in ("gate", "belt", "tanh"):
        part = cells[cells.scale == sc]
        if not len(part):
            continue
        q = {"gate": "f", "belt": "c", "tanh": "h"}[sc]
        span = pd.Series([step.belt_max, -step.belt_max])
        layers.append(enc(alt.Chart(part).mark_rect(stroke="white", strokeWidth=0.5), x2="x2:Q", y2="y2:Q",
                          color=alt.Color("value:Q", scale=quantity_scale(q, span), title=titles[sc],
                                          legend=alt.Legend(gradientLength=120, format=".2~g")),
                          tooltip=tips))
    text = cells.assign(tx=(cells.x + cells.x2) / 2, ty=(cells.y + cells.y2) / 2)
    layers.append(alt.Chart(text).mark_text(fontSize=12, baseline="middle").encode(
        x=alt.X("tx:Q", **x), y=alt.Y("ty:Q", scale=ys, axis=y_axis), text="text:N",
        color=alt.Color("ink:N", scale=None), tooltip=tips))
    notes = pd.DataFrame(NOTES[kind], columns=["x", "y", "text", "align"])
    for align, part in notes.groupby("align"):
        layers.append(enc(alt.Chart(part).mark_text(fontSize=11, fontStyle="italic", color="#555555", align=align),
                          text="text:N"))
    top = H - 4.2 * (math.ceil(len(EQUATIONS[kind]) / 2) if len(EQUATIONS[kind]) > 2 else len(EQUATIONS[kind])) + 1.5
    layers.append(enc(alt.Chart(_equations(kind, top)).mark_text(fontSize=12, align="left", color="#222222"),
                      text="text:N"))
    chart = alt.layer(*layers).resolve_scale(color="independent").properties(
        width=CANVAS_W * PX, height=H * PX)
    return alt.vconcat(chart)  # a vconcat of one: Streamlit would stretch a single view into its height


CAPTIONS = {
    "lstm": ("The forget gate f_t multiplies the old cell c_{t-1} (what is kept), the input gate i_t scales the "
             "candidate c̃_t (what is written), and their sum is the new cell c_t; the output gate o_t decides how "
             "much of tanh(c_t) leaves as h_t."),
    "gru": ("The GRU has no separate cell: its hidden state h is the belt. The update gate z_t keeps z_t ⊙ h_{t-1} "
            "and writes (1 − z_t) ⊙ n_t; the reset gate r_t decides how much of h_{t-1} the candidate n_t sees."),
    "rnn": ("The vanilla RNN has no gate and no belt: the whole state goes through one tanh at every step, so "
            "what it holds is rewritten each time."),
}


def cell_diagram_item(step: CellStep, source: str = "") -> ChartItem:
    """The diagram of one cell at one step as a ChartItem (data: every number it shows, t from 1)."""
    t, T = step.t + 1, step.T
    units = ", ".join(map(str, step.units))
    title = f"{step.title} cell at t = {t} of {T}: input \u201c{step.word}\u201d"
    sub = [f"Weights of training step {step.step}{'; ' + source if source else ''}.",
           f"Each box: unit{'s' if len(step.units) > 1 else ''} {units}, left to right; every number is the "
           "model's own step-by-step trace."]
    data = step.frame()
    return ChartItem(
        name=f"cell_{step.kind}_t{t}", title=f"The {step.title} cell", chart=finalize(cell_diagram(step), title, sub),
        data=data,
        caption=(f"{CAPTIONS[step.kind]} Numbers and colours are the trained model's values at t = {t} (from 1) for "
                 f"unit{'s' if len(step.units) > 1 else ''} {units}; colours on the Inside page's scales (gates 0-1, "
                 "the cell state on a symmetric log scale, h and tanh values -1 to 1)."))


# --- the belt's mechanism, measured --------------------------------------------------------------
WHAT = {"measured": "measured ||dL/dc_t||", "predicted": "predicted along the belt: ||dL/dc_T ⊙ ∏ f||"}


def belt_chart(df: pd.DataFrame) -> alt.TopLevelMixin:
    long = df.melt(id_vars=["label", "start", "task", "seed", "step", "t", "gap"], value_vars=["measured", "predicted"],
                   var_name="what", value_name="grad")
    long["what"] = long["what"].map(WHAT)
    long = long[(long.grad > 0) & np.isfinite(long.grad)]
    panels = []
    for label in dict.fromkeys(df.label):
        d = long[long.label == label]
        first = df[df.label == label].iloc[0]
        panels.append(alt.Chart(d).mark_line(strokeWidth=1.8).encode(
            x=alt.X("gap:Q", title="steps back from the answer (T − t)"),
            y=alt.Y("grad:Q", title="gradient at c_t (log scale)", scale=alt.Scale(type="log")),
            color=alt.Color("what:N", title=None, legend=alt.Legend(orient="bottom", labelLimit=400), scale=alt.Scale(domain=list(WHAT.values()),
                                                                  range=["#1f77b4", "#ff7f0e"])),
            strokeDash=alt.StrokeDash("what:N", legend=None, scale=alt.Scale(domain=list(WHAT.values()),
                                                                             range=[[1, 0], [5, 3]])),
            detail="seed:N",
            tooltip=["start:N", "task:N", "seed:Q", "step:Q", "t:Q", "gap:Q", "what:N",
                     alt.Tooltip("grad:Q", format=".3g")],
        ).properties(width=WIDTH, height=240, title=alt.TitleParams(
            label, subtitle=f"{first.start}; {first.task}, training step {int(first.step)}")))
    rows = [alt.hconcat(*panels[i:i + 2]) for i in range(0, len(panels), 2)]
    return alt.vconcat(*rows).resolve_scale(y="independent")


def belt_item(results: Mapping[str, RunResult | Sequence[RunResult]], step: int | None = None,
              name: str = "belt_gradient") -> ChartItem:
    """Predicted (from the forget gates) against measured gradient along the LSTM's belt, one panel per
    label, one line per seed: e.g. {"chrono": results["long"], "zero": results["zero_forget"],
    "no forget gate": results["no_forget"]}."""
    df = belt_frame(results, step)
    said = []
    for label, g in df.groupby("label", sort=False):
        far = g[g.gap == g.gap.max()]
        m, p = float(far.measured.mean()), float(far.predicted.mean())
        said.append(f"{label}: at the first step measured {m:.2g}, predicted {p:.2g}")
    chart = finalize(belt_chart(df), title="The gradient along the belt: predicted from the forget gates, and measured",
                     subtitle=["Along c alone, dc_t/dc_(t-1) = f_t: over k steps the gradient is multiplied by k forget gates",
                               "Solid: measured (every path); dashed: predicted along the belt from the gates"])
    return ChartItem(
        name=name, title="The gradient along the belt", chart=chart, data=df,
        caption=("For each start, the mean over the probe batch of ||dL/dc_t||, the gradient of each example's loss at "
                 "the last step with respect to the cell state at step t (solid, all paths), and of "
                 "||dL/dc_T ⊙ f_T ⊙ ... ⊙ f_(t+1)||, what the belt alone carries back: the gradient at the last cell "
                 "times the product of the forget gates in between (dashed). Where the two lines meet, the belt is "
                 "the path the gradient takes; a product of gates below 1 falls exponentially with the gap, and "
                 "without a forget gate (f = 1) it stays flat. One line per seed. " + "; ".join(said) + "."))


def growth_chart(df: pd.DataFrame) -> alt.TopLevelMixin:
    names = list(dict.fromkeys(df.label))
    colors = ["#1f77b4", "#8c6d31", "#17becf", "#9467bd"][: len(names)]
    line = alt.Chart(df).mark_line(strokeWidth=1.8).encode(
        x=alt.X("t:Q", title="time step t (from 1)"),
        y=alt.Y("c_norm:Q", title="||c_t|| (mean over examples)"),
        color=alt.Color("label:N", title="LSTM", scale=alt.Scale(domain=names, range=colors)), detail="seed:N",
        tooltip=["label:N", "start:N", "task:N", "seed:Q", "t:Q", alt.Tooltip("c_norm:Q", format=".3g"),
                 alt.Tooltip("c_max:Q", format=".3g", title="largest |c_t| of a unit")])
    return alt.vconcat(line.properties(width=2 * WIDTH, height=240))


def growth_item(results: Mapping[str, RunResult | Sequence[RunResult]], step: int | None = None,
                name: str = "cell_growth") -> ChartItem:
    """||c_t|| step by step for each LSTM: e.g. {"with a forget gate": results["but_long"],
    "1997, no forget gate": results["no_forget"]}: the cell that can only add grows."""
    df = growth_frame(results, step)
    ends = "; ".join(f"{label}: {float(g[g.t == g.t.min()].c_norm.mean()):.3g} at t = 1, "
                     f"{float(g[g.t == g.t.max()].c_norm.mean()):.3g} at t = {int(g.t.max())}"
                     for label, g in df.groupby("label", sort=False))
    chart = finalize(growth_chart(df), title="The cell state step by step: a cell that can only add grows",
                     subtitle="Without a forget gate, c_t = c_(t-1) + i_t ⊙ c̃_t: nothing is ever removed")
    return ChartItem(
        name=name, title="The cell growing", chart=chart, data=df,
        caption=("The norm of the cell state ||c_t|| at every step t, averaged over the probe batch, for each "
                 f"LSTM at its last kept checkpoint, one line per seed: {ends}. The 1997 LSTM has no forget gate "
                 "(f_t = 1), so its cell can only add what the input gate writes."))


__all__ = ["cell_diagram", "cell_diagram_item", "diagram_frames", "belt_chart", "belt_item", "growth_chart",
           "growth_item", "fmt", "scale_of", "LAYOUT", "CAPTIONS"]
