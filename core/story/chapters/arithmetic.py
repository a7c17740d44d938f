"""Chapter 6, the forget gate's arithmetic at "but", and the cell that can only add (the 1997 LSTM)."""
from __future__ import annotations


from core.inspection import EXPLAINER_SENTENCE, forget_arithmetic, resolve_step
from core.results import RunResult
from core.story import runs as X
from core.story.base import Chapter, Table, Told, learned, read_first, reach, told, where
from core.story.evidence import FAILS, HOLDS, Check, compare, outcome_of
from core.story.measures import (DIP, arithmetic_at, dropped_share, forget_retention, most_dropped)


# --- 6. the forget gate's arithmetic ------------------------------------------------------------
def addition_only(long: RunResult, none: RunResult | None) -> tuple[list[str], list[Check]]:
    """What the 1997 LSTM (forget gate pinned at 1: the cell can only add) did on the task where the
    LSTM with a forget gate is measured, in sentences, and the check "the cell needs the multiplication"."""
    plain = none.runs.get("lstm") if none is not None else None
    if plain is None:
        return [], []
    ours = long.runs.get("lstm")
    f = (forget_retention(none, resolve_step(plain))["mean_f"] if plain.checkpoints else float("nan"))
    sentences = [f"Why not addition? The {plain.title} has no forget gate: its $f_t$ is pinned at 1 (measured here: "
                 f"mean {f:.3f} on a held-out example), so $c_t = c_{{t-1}} + i_t \\odot \\tilde{{c}}_t$ and the cell can "
                 f"only add. On {where(none)} it {reach(plain, none)}" + (
                     f"; the {ours.title} {reach(ours, long)}." if ours is not None else ".")]
    ok = learned(none, "lstm")
    if ok:
        sentences.append("So here the cell that can only add learned the task too: the multiplication by $f_t$ was "
                         "not needed at this length and budget.")
    else:
        sentences.append("Without the multiplication it never dropped the old sentiment (nor anything else): every "
                         "write stays in the cell to the end, and this model did not learn the task.")
    return sentences, [Check("a cell that can only add (no forget gate) does not learn the task", outcome_of(not ok))]


def tell_arithmetic(long: RunResult, none: RunResult | None = None, text: str = EXPLAINER_SENTENCE) -> Told:
    if "lstm" not in long.runs or not long.runs["lstm"].checkpoints:
        return told([], [])
    extra, extra_checks = addition_only(long, none)
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
    "forget gate) cannot drop anything.", (X.BUT_LONG, X.NO_FORGET), X.NO_FORGET, tell_arithmetic,
    charts=("forget_arithmetic", "addition_only"), tables=tables, equations=("f",))
