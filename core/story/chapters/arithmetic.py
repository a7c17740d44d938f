"""Chapter 6, the forget gate's arithmetic at "but", and the cell that can only add (the 1997 LSTM)."""
from __future__ import annotations


import numpy as np

from core.inspection import EXPLAINER_SENTENCE, example_traces, forget_arithmetic, resolve_step
from core.results import RunResult
from core.story import runs as X
from core.story.base import Chapter, Table, Told, learned, read_first, reach, told, where
from core.story.evidence import FAILS, HOLDS, UNCLEAR, Check, compare, outcome_of
from core.story.measures import (DIP, arithmetic_at, dropped_share, forget_retention, most_dropped)


# --- 6. the forget gate's arithmetic ------------------------------------------------------------
# "the cell grows over the stream": mean |c_t| (over held-out streams and units) in the last quarter of
# the stream is more than CELL_GROWTH times its mean in the first quarter
CELL_GROWTH = 2.0
N_STREAMS = 64  # held-out streams the cell is measured on


def cell_size(result: RunResult, kind: str = "lstm") -> np.ndarray | None:
    """Mean |c_t| over N_STREAMS held-out examples and the units, at each step t (T,), with the weights
    of the run's last checkpoint; None when the run has no such LSTM or no checkpoint."""
    run = result.runs.get(kind)
    if run is None or not run.checkpoints:
        return None
    x, _ = result.task.eval_batch(N_STREAMS)
    c = example_traces(result, kind, None, x)["c"]  # (B, T, H)
    return np.abs(c).mean(axis=(0, 2))


def quarters(size: np.ndarray) -> tuple[float, float]:
    """(mean of the first quarter, mean of the last quarter) of a (T,) series."""
    q = max(len(size) // 4, 1)
    return float(size[:q].mean()), float(size[-q:].mean())


def _learns(result: RunResult | None) -> str:
    return outcome_of(learned(result, "lstm")) if result is not None else UNCLEAR


def addition_only(long: RunResult, none: RunResult | None, first: RunResult | None = None,
                  none_first: RunResult | None = None, stream: RunResult | None = None,
                  stream_none: RunResult | None = None) -> tuple[list[str], list[Check]]:
    """What the 1997 LSTM (forget gate pinned at 1, its paper's start: the cell can only add) did against
    the LSTM with a forget gate, with the same steps, on one seed: first_token and the long review (can
    addition carry one fact?), then the stream never reset (can it let go of one?)."""
    plain = none.runs.get("lstm") if none is not None else None
    if plain is None:
        return [], []
    ours = long.runs.get("lstm")
    f = (forget_retention(none, resolve_step(plain))["mean_f"] if plain.checkpoints else float("nan"))
    sentences = [f"Why not addition? The {plain.title} has no forget gate: its $f_t$ is pinned at 1 (measured here: "
                 f"mean {f:.3f} on a held-out example), so $c_t = c_{{t-1}} + i_t \\odot \\tilde{{c}}_t$ and the cell can "
                 "only add. It starts as Hochreiter & Schmidhuber (1997) started it, input and output gates mostly "
                 f"shut. On {where(none)} it {reach(plain, none)}" + (
                     f"; the {ours.title} {reach(ours, long)}." if ours is not None else ".")]
    checks = []
    if none_first is not None and "lstm" in none_first.runs:
        other = first.runs.get("lstm") if first is not None else None
        sentences.append(f"On {where(none_first)} it {reach(none_first.runs['lstm'], none_first)}" + (
            f"; the {other.title} {reach(other, first)}." if other is not None else "."))
        checks.append(Check(f"the 1997 LSTM with its paper start learns {none_first.task.name} at T = "
                            f"{none_first.task.seq_len}", _learns(none_first)))
    checks.append(Check("the 1997 LSTM with its paper start learns the long review", _learns(none)))
    if learned(none, "lstm") or (none_first is not None and learned(none_first, "lstm")):
        sentences.append("So a cell that can only add can carry one fact across the whole sequence: keeping is not "
                         "what the multiplication by $f_t$ is for.")
    if stream is not None and stream_none is not None and "lstm" in stream_none.runs:
        gated, added = stream.runs.get("lstm"), stream_none.runs["lstm"]
        words = [f"On {where(stream_none)}, segments never reset, the answer the token of the last one: the "
                 f"{added.title} {reach(added, stream_none)}"]
        if gated is not None:
            words.append(f"the {gated.title} {reach(gated, stream)}")
        if "rnn" in stream.runs:
            words.append(f"the {stream.runs['rnn'].title} {reach(stream.runs['rnn'], stream)}")
        sentences.append("; ".join(words) + ".")
        both = learned(stream, "lstm")
        checks.append(Check("on the stream, the forget-gate LSTM reaches the target and the 1997 LSTM does not (same steps)",
                            UNCLEAR if both is None else outcome_of(both and not learned(stream_none, "lstm"))))
        size = cell_size(stream_none)
        if size is not None:
            early, late = quarters(size)
            d = compare(late, CELL_GROWTH * early, 0.0)
            gated_size = cell_size(stream)
            sentences.append(
                f"Its cell along {N_STREAMS} held-out streams: mean $|c_t|$ {early:.2f} over the first quarter, "
                f"{late:.2f} over the last" + (
                    f" (the {gated.title}: {quarters(gated_size)[0]:.2f} and {quarters(gated_size)[1]:.2f})"
                    if gated_size is not None else "") + ".")
            checks.append(Check(f"the 1997 LSTM's cell grows over the stream (last quarter's mean |c| over "
                                f"{CELL_GROWTH:g}x the first's)", d.outcome))
    return sentences, checks


def tell_arithmetic(long: RunResult, none: RunResult | None = None, first: RunResult | None = None,
                    none_first: RunResult | None = None, stream: RunResult | None = None,
                    stream_none: RunResult | None = None, text: str = EXPLAINER_SENTENCE) -> Told:
    """One seed's chapter 6: the forget gate's arithmetic at "but" (long), then the 1997 LSTM against
    the forget-gate LSTM on the long review, first_token and the stream."""
    if "lstm" not in long.runs or not long.runs["lstm"].checkpoints:
        return told([], [])
    extra, extra_checks = addition_only(long, none, first, none_first, stream, stream_none)
    at = arithmetic_at(long, text, "but")
    t = int(at.t.iloc[0])  # from 1
    words = long.task.render(long.task.encode_text(text))[0]
    u = most_dropped(at, 1).iloc[0]
    f = at["f_t = σ(z)"]
    sentences = read_first(long) + [
        f"At \"but\" (word {t}: t = {t}) the LSTM of T = {long.task.seq_len} computes, for each of its {len(at)} "
        r"units, $f_t = \sigma(W_f \cdot [h_{t-1}, x_t] + b_f)$, the equation above. "
        f"Its forget gates range from {f.min():.2f} to {f.max():.2f} (mean {f.mean():.2f}).",
        f"The unit that drops most, unit {int(u.unit)}: the part of $W_f$ that reads $h_{{t-1}}$ gives "
        f"{u['W_f·h_{t-1}']:.2f}, the part that reads $x_t$ gives {u['W_f·x_t']:.2f}, and $b_f = {u['b_f']:.2f}$, "
        f"so $z = {u['z = W_f·[h_{t-1}, x_t] + b_f']:.2f}$ and $f_t = \\sigma(z) = {u['f_t = σ(z)']:.2f}$; its cell "
        f"held $c_{{t-1}} = {u['c_{t-1}']:.2f}$ and keeps $f_t \\odot c_{{t-1}} = {u['f_t ⊙ c_{t-1} (kept)']:.2f}$.",
    ]
    if t < 2:
        return told(sentences + extra, extra_checks)
    share = dropped_share(at)
    prev = dropped_share(forget_arithmetic(long, long.task.encode_text(text), t - 2))
    d = compare(share, prev, DIP)
    sentences.append(f"Over the whole cell the forget gate drops {share:.0%} of $\\lVert c_{{t-1}} \\rVert$ at "
                     f"\"but\" (t = {t}), against {prev:.0%} at \"{words[t - 2]}\" (t = {t - 1}) just before: "
                     f"{d.words('.2f')}" + (
                         "." if d.outcome == HOLDS else
                         ": it drops less at \"but\"; this LSTM's clearing is in a few units (the table), not the whole "
                         "belt." if d.outcome == FAILS else
                         ": this LSTM's clearing is in a few units (the table), not the whole belt."))
    return told(sentences + extra, [Check("the forget gate drops more of the cell at \"but\" than at the word before",
                                          d.outcome)] + extra_checks)



def tables(results: dict[str, RunResult]) -> list[Table]:
    table = arithmetic_at(results[X.BUT_LONG])
    return [Table("arithmetic", "**The arithmetic, unit by unit** (the units that drop most; every unit in the CSV):",
                  most_dropped(table), csv="forget_arithmetic_at_but.csv", full=table,
                  csv_label="All units (CSV)")]


CHAPTER = Chapter(
    6, "arithmetic", "The forget gate's arithmetic",
    r"$f_t = \sigma(W_f \cdot [h_{t-1}, x_t] + b_f)$, then $f_t \odot c_{t-1}$: each unit of the cell is "
    "multiplied by a number between 0 (forget) and 1 (keep). At \"but\" the old sentiment should be "
    "dropped. Why multiply and not add? An LSTM whose cell can only add (the 1997 LSTM, before the "
    "forget gate, from its paper's start) is trained on the same tasks with the same steps, and on a "
    "stream that is never reset (Gers et al. 2000).",
    (X.BUT_LONG, X.NO_FORGET, X.LONG, X.NO_FORGET_FIRST, X.STREAM, X.STREAM_NO_FORGET), X.NO_FORGET, tell_arithmetic,
    charts=("forget_arithmetic", "addition_only", "cell_growth"), tables=tables, equations=("f",),
    cell=((X.BUT_LONG, 6, "See this LSTM's cell at \"but\" (t = 6), drawn as the explainer's diagram"),
          (X.NO_FORGET, 6, "See the 1997 LSTM's cell at \"but\" (t = 6)")))
