"""Chapter 2, the gradient: how much of the learning signal at the answer reaches the first input."""
from __future__ import annotations

import math


from core.inspection import decay_table
from core.results import RunResult
from core.story import runs as X
from core.story.base import Chapter, Told, read_first, told
from core.story.evidence import HOLDS, Check, compare
from core.story.measures import ORDERS_MARGIN


# --- 2. the gradient ----------------------------------------------------------------------------
GRAD = r"$\lVert \partial L / \partial h_t \rVert$"


def _orders_words(orders: float) -> str:
    return "all of it (the gradient underflowed float32)" if math.isinf(orders) else f"{orders:.1f} orders of magnitude"


def _orders(row) -> tuple[float, float]:
    """Orders of magnitude lost from h_T to h_1 at initialisation and at the end
    (core.inspection.orders_lost: inf for an underflow, everything lost)."""
    return float(row.init_orders_lost), float(row.orders_lost)


def _share(orders: float) -> str:
    """What is left of a signal that lost `orders` orders of magnitude, in words."""
    if math.isinf(orders):
        return "nothing measurable"
    if math.isnan(orders):
        return "an unmeasurable share"
    return f"1/{10 ** orders:,.0f}" if orders >= 0.5 else f"{10 ** -orders:.2g} times"


def _novel(lost: dict[str, float], T: int) -> str:
    """The explainer's novel, in the chart's measured numbers: orders of magnitude lost after
    training, per model name."""
    parts = [f"{_share(end)} in the {name}" for name, end in lost.items()]
    return (f"The novel: the answer is asked at word {T} about word 1, like a question about the first chapter "
            "after reading the whole book. Of the learning signal at the last word, what reaches the first word "
            "after training is " + " and ".join(parts) + ": the chart, read from right to left, is that memory "
            "of chapter one fading.")


def tell_gradients(long: RunResult) -> Told:
    decay = decay_table(long).set_index("model")
    T = long.task.seq_len
    sentences = read_first(long, tuple(long.runs)) + [
        f"Over the {T - 1} steps back from the answer (t = {T}) to the first input (t = 1), {GRAD} loses:"]
    lost = {}
    for kind, row in decay.iterrows():
        at_init, at_end = _orders(row)
        lost[kind] = (at_init, at_end)
        sentences.append(f"the {row['name']}: {_orders_words(at_init)} at initialisation, "
                         f"{_orders_words(at_end)} after {int(row.step):,} training steps.")
    if lost:
        sentences.append(_novel({decay.loc[k, "name"]: end for k, (_, end) in lost.items()}, T))
    if "rnn" not in lost or "lstm" not in lost:
        return told(sentences, [])
    (r0, r1), (m0, m1) = lost["rnn"], lost["lstm"]
    checks = []
    for when, r, m in (("at initialisation", r0, m0), ("after training", r1, m1)):
        d = compare(r, m, ORDERS_MARGIN)
        sentences.append(f"Orders of magnitude lost {when}, the RNN's against the LSTM's: {d.words('.1f')}.")
        checks.append(Check(f"the RNN's signal fades by more orders of magnitude than the LSTM's {when}", d.outcome))
    worst = max(m0, m1)
    if compare(worst, 0.0, ORDERS_MARGIN).outcome == HOLDS:
        sentences.append(f"The explainer's \"lets it flow\" (and chapter 1's \"LSTMs do not have this problem\") says "
                         "more than these numbers: this "
                         f"LSTM's gradient too loses {_orders_words(m0)} at initialisation and {_orders_words(m1)} "
                         "after training. Its gradient vanishes far more slowly than the RNN's, not never.")
    else:
        sentences.append("This LSTM's gradient loses less than one order of magnitude at initialisation and after "
                         "training: here the explainer's \"lets it flow\" holds.")
    return told(sentences, checks)


CHAPTER = Chapter(
    2, "gradients", "Why: the gradient vanishes",
    "The learning signal reaching early steps of a vanilla RNN is multiplied at every step back, "
    "so it shrinks exponentially with the distance; the LSTM's additive cell state lets it flow. "
    "It is like being asked about a novel's first chapter after reading the whole book.",
    (X.LONG,), X.LONG, tell_gradients, charts=("gradient_decay",))
