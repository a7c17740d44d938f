"""Chapter 3, the conveyor belt: what the trained LSTM's cell keeps and what each gate does."""
from __future__ import annotations

import math


from core.inspection import resolve_step
from core.results import RunResult
from core.story import runs as X
from core.story.base import Chapter, Told, learned, read_first, told
from core.story.evidence import FAILS, HOLDS, Check, compare, outcome_of
from core.story.measures import (GATE_MARGIN, ORDERS_MARGIN, OUTPUT_MARGIN, forget_retention, gate_summary,
                                 holding_units, output_ablation)


# --- 3. the belt --------------------------------------------------------------------------------
def _gate_words(d, yes: str, no: str, unclear: str) -> str:
    return d.words() + (f": {yes}" if d.outcome == HOLDS else f": {no}" if d.outcome == FAILS else f"; {unclear}")


def tell_belt(long: RunResult) -> Told:
    run = long.runs.get("lstm")
    if run is None or not run.checkpoints:
        return told([], [])
    first, last = min(run.checkpoints), resolve_step(run)
    start, end = forget_retention(long, first), forget_retention(long, last)
    T = long.task.seq_len
    sentences = read_first(long) + [
        f"On a held-out example, over the {end['steps']} steps after its information, the trained LSTM's forget "
        f"gate $f_t$ averages {end['mean_f']:.3f}; its best unit keeps {end['best']:.1%} of the cell value written "
        f"at the information through the forget gates alone ($\\prod_t f_t$), and {end['half']} of {end['units']} "
        "units keep at least half.",
        f"At initialisation (step {first}) the same numbers were: mean forget gate {start['mean_f']:.3f}, best "
        f"unit {start['best']:.1%}, {start['half']} units keeping half: the lab's chrono start opens the gate "
        "before any training, and training " + (
            "kept it open." if end["half"] >= max(1, start["half"] // 2) else "closed most of it again."),
    ]
    units = holding_units(long, last)
    if len(units):
        names = ", ".join(str(int(u)) for u in units.unit)
        sentences.append(
            f"The units that hold the first token (those whose cell at t = {T} differs most between held-out "
            f"examples with different first tokens) are units {names}: the lines below. On the first example "
            f"their cell is small at t = 1 (|c| at most {units.c_first.max():.2g}) and reaches up to "
            f"{units.c_last.max():.3g} by t = {T}; their forget gates alone keep "
            f"{units.kept.min():.0%}-{units.kept.max():.0%} of a value across the gap.")
    g = gate_summary(long)
    sentences.append(f"Forget gate (\"before an exam, drop the topics you no longer need\"; its equation is taken "
                     f"apart in chapter 6): its mean over the {g['T']} steps of the example is {g['f_mean']:.3f}" + (
                         ", so this LSTM drops little: it keeps nearly everything." if g["f_mean"] >= 0.9 else
                         ", so it does drop a good part of its cell at each step." if g["f_mean"] < 0.7 else "."))
    sentences.append(f"The gates' differences below count when larger than {GATE_MARGIN} (a gate runs from 0 to 1); "
                     "within that, there is no clear difference.")
    di = compare(g["i_info"], g["i_else"], GATE_MARGIN)
    inputs = (f"Input gate $i_t$ (\"add the formulas to your notes\"): its mean is {g['i_info']:.3f} at the "
              f"information (the first token, t = 1) against {g['i_else']:.3f} elsewhere, " + _gate_words(
                  di, "it writes more where the information is, as the explainer says.",
                  "it writes less at the information than elsewhere, the opposite of the explainer's picture.",
                  "it does not clearly write more at the information."))
    if len(units):
        gu = gate_summary(long, units=[int(u) for u in units.unit])
        du = compare(gu["i_info"], gu["i_else"], GATE_MARGIN)
        inputs += (f" In the units that hold the token: {gu['i_info']:.3f} against {gu['i_else']:.3f}, "
                   f"{du.words()}" + (": this LSTM writes a little at the token and keeps adding to it." if
                                      du.outcome == FAILS else "."))
    sentences.append(inputs)
    if len(units):
        grows = compare(math.log10(max(units.c_last.max(), 1e-12) / max(units.c_first.max(), 1e-12)), 0.0,
                        ORDERS_MARGIN)
        adds = compare(gu["i_else"], 0.0, GATE_MARGIN)
        if grows.outcome == HOLDS and adds.outcome == HOLDS:
            sentences.append(f"So the explainer's \"only minor linear interactions\" says more than this LSTM does: in "
                             f"the units that hold the token the input gate keeps writing after it (mean "
                             f"{gu['i_else']:.2f}) and |c| grows by {math.log10(units.c_last.max() / units.c_first.max()):.1f} "
                             "orders of magnitude: the belt is written to all along, and carries what it wrote.")
    do = compare(g["o_last"], g["o_else"], GATE_MARGIN)
    sentences.append(f"Output gate $o_t$ (\"use the notes to answer\"): its mean is {g['o_last']:.3f} at the last "
                     f"step (t = {g['T']}), where the answer is read, against {g['o_else']:.3f} elsewhere, " +
                     _gate_words(do, "it opens more where the answer is needed.",
                                 "it opens less at the answer than elsewhere.",
                                 "it reads its cell about as much all along."))
    ab = output_ablation(long, last)
    dab = compare(ab["drop"], 0.0, OUTPUT_MARGIN)
    sentences.append(
        f"The output gate, ablated: forced open ($o_t = 1$ at every step, so $h_t = \\tanh(c_t)$) the same trained LSTM "
        f"answers {ab['intact']:.1%} → {ab['ablated']:.1%} of {ab['examples']} held-out examples right, a drop of "
        f"{ab['drop'] * 100:.1f} points against a margin of {OUTPUT_MARGIN * 100:.0f}: " + (
            "the answer needs what the gate holds back." if dab.outcome == HOLDS else
            "opening the gate changes little here: this answer does not need it."))
    return told(sentences, [
        Check("the LSTM learns the task", outcome_of(learned(long, "lstm"))),
        Check.of("the answer needs the output gate (forcing it open costs accuracy)", dab),
        Check(f"a unit keeps at least half of its cell across the {end['steps']} steps", outcome_of(end["best"] >= 0.5)),
        Check("the input gate writes more at the information than elsewhere", di.outcome),
        Check("the output gate opens more where the answer is read", do.outcome)])


CHAPTER = Chapter(
    3, "belt", "The conveyor belt and its three gates",
    "The cell state runs straight down the chain with only minor linear interactions. Three gates "
    "act on it: the forget gate decides what to keep (1: keep it all), the input gate what to add, "
    "the output gate what to read out.", (X.LONG,), X.LONG, tell_belt, charts=("belt_units", "states", "belt_gradient"),
    equations=("i", "g", "c", "o", "h"),
    cell=((X.LONG, 1, "See this LSTM's cell at t = 1, where it writes the first token, drawn as the explainer's "
           "diagram"),))
