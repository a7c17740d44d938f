"""The explainer panel: the LSTM story in plain words, told with the numbers on screen.

Every figure in it is computed from the chosen configuration (T, forget-gate init) or read from
the run being shown, so it describes this experiment, not a textbook's. The text builders are
plain functions (tested without Streamlit); `panel` draws them.
"""
from __future__ import annotations

import math

import streamlit as st

from core.config import RunConfig
from core.results import RunResult, format_metric, reach_phrase
from core.tasks import make_task


def task_story(cfg: RunConfig) -> str:
    return make_task(cfg.task).story_text()  # each task words its own story (core.tasks)


def rnn_story(T: int, result: RunResult | None = None) -> str:
    """Why the RNN forgets, ending with what the RNN of the run on screen actually did."""
    left = 0.9 ** (T - 1)
    text = (r"**Why the vanilla RNN forgets.** It rewrites its whole hidden state at every step, "
            r"$h_t = \tanh(W h_{t-1} + U x_t)$. The learning signal from the answer must travel back "
            f"through {T - 1} such rewrites to reach the start, and each one multiplies it by W and the "
            f"tanh slope, usually a factor below 1. At 0.9 per step, $0.9^{{{T - 1}}}$ = {left:.2g} of "
            f"it is left at T = {T}.")
    rnn = result.runs.get("rnn") if result is not None else None
    if rnn is None or not rnn.evals:
        return text + (" At this short length the RNN can still learn; try T = 100 or more to see it fail."
                       if left > 0.05 else " The gradient all but vanishes, so the RNN struggles to learn "
                       "what the start of the sequence said.")
    if rnn.steps_to_target is not None:
        lstm = result.runs.get("lstm")
        than = (f", against step {lstm.steps_to_target:,} for the LSTM" if lstm is not None
                and lstm.steps_to_target is not None else "")
        return text + (f" Here enough of it got through: the RNN reached the target at step "
                       f"{rnn.steps_to_target:,}{than}. Make T longer and watch that stop working.")
    if left > 0.05:
        return text + (" At this short length that is not what holds the RNN back here: it needs more "
                       "training steps.")
    return text + " That is why the RNN here stayed short of the target."


LSTM_STORY = (
    r"**How the LSTM keeps it.** Beside $h_t$ it carries a cell state $c_t$, a conveyor belt that "
    r"is updated by addition rather than rewritten: $c_t = f_t \odot c_{t-1} + i_t \odot g_t$. "
    r"Three gates, each a number between 0 and 1 per unit, run it: the **forget gate** $f_t$ "
    r"decides how much of the belt to keep, the **input gate** $i_t$ how much new information to "
    r"write onto it, and the **output gate** $o_t$ how much of it to show as $h_t$. With $f_t$ near "
    r"1 and $i_t$ near 0 after the important token, that token rides the belt to the end "
    r"unchanged, and so does its gradient."
)


def forget_retention(forget_init: str, T: int) -> float:
    """Fraction of the cell state left after T-1 steps if the forget gate stayed at its initial
    value; for chrono, the unit with the longest time scale (b_f = log(T-1) at most)."""
    sig = lambda b: 1.0 / (1.0 + math.exp(-b))  # noqa: E731
    if forget_init == "none":  # the 1997 LSTM: f_t = 1, the cell keeps everything
        return 1.0
    b = {"zero": 0.0, "one": 1.0, "chrono": math.log(max(T - 1, 2))}[forget_init]
    return sig(b) ** (T - 1)


def forget_story(forget_init: str, T: int) -> str:
    kept = forget_retention(forget_init, T)
    if forget_init == "none":
        how = (r"'none' is the LSTM of 1997, before the forget gate was added: $f_t = 1$ at every step for the "
               r"whole run, so $c_t = c_{t-1} + i_t \odot \tilde{c}_t$. The cell keeps all it was given and can "
               "only add to it: nothing is ever dropped, not even an old sentiment after \"but\".")
    elif forget_init == "chrono":
        how = (rf"chrono gives each unit its own forget bias $b_f = \log u$, $u$ between 1 and "
               rf"{max(T - 1, 2)}, so units start out remembering over 1 to {T - 1} steps; the slowest "
               rf"keeps {kept:.0%} of its cell after {T - 1} steps before any training.")
    else:
        f0 = 0.5 if forget_init == "zero" else 1 / (1 + math.exp(-1))
        how = (rf"'{forget_init}' starts every forget gate at $\sigma(b_f)$ = {f0:.2f}, so after {T - 1} "
               rf"steps ${f0:.2f}^{{{T - 1}}}$ = {kept:.1e} of the cell is left: the LSTM starts as "
               "forgetful as an RNN and must first learn to open its forget gate, which at long T it "
               "often never does.")
    return f"**The forget gate's starting point ({forget_init}).** " + how


START_STORY = (
    "**Does the RNN's best start close the gap?** Each start is a control in the sidebar: train the "
    "same experiment with each and compare. The measured table of every start at T = 50, 100 and 200 "
    "(steps to the target, final metric; `python -m benchmarks.calibrate`) is in docs/calibration.md: "
    "there a good start helps the vanilla RNN at T = 50, and none gets it to the target at T = 100 in "
    "the steps the LSTM needs.")


def start_story(cfg: RunConfig) -> str:
    """What the chosen starts are, and what the measured table says each buys."""
    parts = []
    if "rnn" in cfg.models:
        how = cfg.model.rnn_init
        parts.append(f"**The vanilla RNN's start ({how}).** " + {
            "default": "PyTorch's small random weights and tanh: the plain textbook RNN.",
            "orthogonal": r"The recurrent matrix W starts orthogonal (a rotation), so at first "
                          r"$W h_{t-1}$ neither shrinks nor grows the state; only the tanh slope does.",
            "irnn": r"The IRNN (Le, Jaitly & Hinton 2015): $h_t = \mathrm{relu}(W h_{t-1} + U x_t)$ with W "
                    r"the identity and zero bias, so the state is carried forward unchanged until the input "
                    r"writes to it; its gradient is not shrunk by a slope below 1 either.",
        }[how])
    if "gru" in cfg.models:
        how, T = cfg.model.gru_init, cfg.task.seq_len
        parts.append(f"**The GRU's start ({how}).** " + (
            f"Its update gate z keeps the old state ($h_t = (1-z) n + z h_{{t-1}}$); chrono sets "
            rf"$b_z = \log u$, u between 1 and {max(T - 1, 2)}, so units start keeping their state over 2 to "
            f"{T} steps." if how == "chrono" else
            "PyTorch's small random bias: its update gate z starts near 0.5, so half of the old state is kept "
            f"per step and $0.5^{{{T - 1}}}$ of it is left after {T - 1} steps."))
    if "rnn" in cfg.models or "gru" in cfg.models:
        parts.append(START_STORY)
    return "\n\n".join(parts)


def result_story(result: RunResult) -> str:
    """What this run showed, in one or two sentences."""
    task, parts = result.task, []
    for kind, run in result.runs.items():
        parts.append(f"the {run.title} {reach_phrase(run, task)}")
    return "**In this run:** " + "; ".join(parts) + "."


def paragraphs(cfg: RunConfig, result: RunResult | None) -> list[str]:
    """The explainer's paragraphs (markdown) for this configuration and the run on screen."""
    T = cfg.task.seq_len
    out = [task_story(cfg)]
    if result is not None and result.runs:
        out.append(result_story(result))
    out += [rnn_story(T, result), LSTM_STORY]
    if "lstm" in cfg.models:
        out.append(forget_story(cfg.model.forget_init, T))
    if "gru" in cfg.models:
        out.append("**The GRU** has the same kind of shortcut with two gates: an update gate z_t mixes "
                   "the old state with a new candidate, so the old state can pass through untouched.")
    if "rnn" in cfg.models or "gru" in cfg.models:
        out.append(start_story(cfg))
    return out


def panel(cfg: RunConfig | None, result: RunResult | None) -> None:
    with st.container(border=True, key="explainer"):
        st.subheader("What is going on, in plain words")
        if cfg is None:
            st.write("Choose an experiment in the sidebar.")
            return
        paras = paragraphs(cfg, result)
        half = (len(paras) + 1) // 2
        left, right = st.columns(2, gap="large")
        for col, part in ((left, paras[:half]), (right, paras[half:])):
            for text in part:
                col.markdown(text)
        st.caption("See it happen: the gradient reaching back through time on *Gradients through time*, "
                   "the cell state and gates on *Inside the LSTM* (both show the run on this page).")


__all__ = ["task_story", "rnn_story", "forget_story", "forget_retention", "start_story", "result_story", "paragraphs",
           "panel", "LSTM_STORY"]
