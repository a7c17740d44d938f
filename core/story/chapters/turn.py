"""Chapter 7, your turn: the LSTM from PyTorch's default forget-gate start, and what to try next."""
from __future__ import annotations


from core.results import RunResult
from core.story import runs as X
from core.story.base import Chapter, Told, reach, told, where
from core.story.evidence import Check, outcome_of
from core.story.measures import forget_retention


# --- 7. your turn -------------------------------------------------------------------------------
def tell_start(long: RunResult, zero: RunResult) -> Told:
    chrono, plain = long.runs.get("lstm"), zero.runs.get("lstm")
    if chrono is None or plain is None:
        return told([], [])
    T = zero.task.seq_len
    sentences = [f"{where(long)}: the {chrono.title} {reach(chrono, long)}; the {plain.title} "
                 f"{reach(plain, zero)}."]
    if plain.checkpoints:
        s0 = forget_retention(zero, min(plain.checkpoints))
        left = s0["mean_f"] ** (T - 1)
        sentences.append(f"At initialisation the zero-init forget gate averages {s0['mean_f']:.2f} ($\\sigma(0) = 0.5$ "
                         f"plus noise): a cell kept at that rate for {T - 1} steps keeps {left:.2g} of itself, and so "
                         "does the gradient through it.")
    ok = plain.steps_to_target is not None
    if not ok:
        sentences.append(f"At T = {T}, in {plain.steps_run:,} steps, the LSTM learned the gap only from the chrono "
                         "start: the explainer's LSTM keeps information once its forget gate is open, and finding "
                         "that from a half-closed start is what failed here.")
    return told(sentences, [Check(f"the LSTM learns the gap of {T} from PyTorch's default (zero) forget-gate start "
                                  "too", outcome_of(ok))])


def tell_turn(long: RunResult, zero: RunResult) -> Told:
    """Your turn: what happened from the zero forget-gate start (tell_start), and what to try next."""
    out = tell_start(long, zero)
    plain = zero.runs.get("lstm")
    if plain is not None:
        out.sentences.append(
            "Try next: open the lab with the forget-gate start at `zero` (the link below) and train it longer, or "
            f"shorten T until it learns; from that start, at T = {zero.task.seq_len}, the LSTM here {reach(plain, zero)}. "
            "The other chapters' experiments are one click below.")
    return out


CHAPTER = Chapter(
    7, "turn", "Your turn",
    "The explainer says the LSTM remembers by design. Training has to find that design: the one "
    "control to try next is where the forget gate starts.", (X.LONG, X.ZERO_FORGET), X.ZERO_FORGET, tell_turn,
    charts=("starts",), links_every_run=True)
