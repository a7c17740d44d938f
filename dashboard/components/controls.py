"""The experiment controls: one widget per config field, mirrored in the URL query string.

Each widget has a stable key that is also its query parameter (`?task=first_token&seq_len=50
&models=rnn,lstm&...`), so a link reproduces the exact experiment. Values from a link are checked
field by field with `core.config.validate` (plus the widgets' own bounds); a bad one is refused
with a one-line message and its default is used instead. The pure functions (`from_query`,
`to_query`, `config_from_values`) do not touch Streamlit and are tested directly.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import streamlit as st

from core.config import ConfigError, RunConfig, rule, suggested_steps, validate
from core.models import FORGET_INITS, GRU_INITS, MODEL_NAMES, RNN_INITS, init_of, model_kinds
from core.tasks import TASKS, task_names

DEFAULT = validate(RunConfig())  # the core's defaults are the dashboard's defaults
# The query parameters, in the order they are applied (task first: it sets seq_len's minimum).
FIELDS = ("task", "seq_len", "models", "hidden_size", "forget_init", "rnn_init", "gru_init", "lr", "steps",
          "batch_size", "seed")
# Widget bounds come from the config fields' rules (core.config), the one home of each bound. Two
# are tighter in the dashboard (`ui_lo`): the slider starts at T = 5, and the learning rate at
# 1e-6; a number_input refuses a value below its minimum, so the link check applies them too.
SEQ = rule("task", "seq_len")
SEQ_MIN, MAX_SEQ_LEN = int(SEQ.ui_lo or SEQ.lo), int(SEQ.hi)
LR_MIN, LR_MAX = rule("train", "lr").ui_lo, rule("train", "lr").hi

# A training step keeps about this many bytes per (sequence, time step, hidden unit) for the
# backward pass (measured: ~0.9 GB peak at batch 256, T=200, hidden 256, LSTM). The dashboard
# refuses runs that would need more than MAX_RUN_GB, so one user cannot exhaust the machine's
# memory for every session (the CLI has no such limit).
BYTES_PER_UNIT_STEP = 80
MAX_RUN_GB = 4.0

_READY = "lab_controls_ready"  # set once the link has been read for this session
_PROBLEMS = "lab_controls_link_problems"  # messages about refused link values
_TASK_SHOWN = "lab_controls_task_shown"  # the task the controls showed last (for _task_changed)
_HIDDEN = "lab_controls_hidden"  # the controls a link's `hide=` leaves out (their values are kept)
# `?preset=1`: a link made by the lab (the tour's "try it in the lab") sets the controls even when
# this session has read a link before; the page then rewrites the URL without it.
PRESET, HIDE = "preset", "hide"
FORGET_LABELS = {"zero": "zero (PyTorch default)", "one": "one (Gers et al.)",
                 "chrono": "chrono (Tallec & Ollivier)", "none": "none: no forget gate (1997 LSTM)"}
RNN_LABELS = {"default": "default (PyTorch)", "orthogonal": "orthogonal", "irnn": "IRNN (Le et al.)"}
GRU_LABELS = {"default": "default (PyTorch)", "chrono": "chrono (Tallec & Ollivier)"}


def values_of(cfg: RunConfig) -> dict[str, Any]:
    """A config as the widgets hold it (key -> value)."""
    return {"task": cfg.task.name, "seq_len": cfg.task.seq_len, "models": list(cfg.models),
            "hidden_size": cfg.model.hidden_size, "forget_init": cfg.model.forget_init,
            "rnn_init": cfg.model.rnn_init, "gru_init": cfg.model.gru_init,
            "lr": float(cfg.train.lr), "steps": cfg.train.steps, "batch_size": cfg.train.batch_size,
            "seed": cfg.train.seed}


def config_from_values(v: Mapping[str, Any], base: RunConfig | None = None) -> RunConfig:
    """Widget (or raw link) values -> a validated RunConfig; raises ConfigError (one line).
    Fields without a control (optimizer, clip, eval_every, ...) keep the core's defaults."""
    base = base or DEFAULT
    cfg = base.replace(  # replace, never rebuild: a field without a control keeps its value
        task=dataclasses.replace(base.task, name=v["task"], seq_len=v["seq_len"]),
        model=dataclasses.replace(base.model, hidden_size=v["hidden_size"], forget_init=v["forget_init"],
                                  rnn_init=v.get("rnn_init", base.model.rnn_init),
                                  gru_init=v.get("gru_init", base.model.gru_init)),
        train=dataclasses.replace(base.train, steps=v["steps"], lr=v["lr"], batch_size=v["batch_size"],
                                  seed=v["seed"]),
        models=v["models"],
    )
    _check_slider_range(v["seq_len"])
    cfg = validate(cfg)
    if memory_gb(cfg) > MAX_RUN_GB:
        raise ConfigError(f"batch_size x seq_len x hidden_size is too large: a step would need about "
                          f"{memory_gb(cfg):.0f} GB of memory (the dashboard allows {MAX_RUN_GB:g} GB); "
                          "lower one of them")
    if cfg.train.lr < LR_MIN:
        raise ConfigError(f"lr must be at least {LR_MIN:g}, got {cfg.train.lr:g}")
    return cfg


def memory_gb(cfg: RunConfig) -> float:
    """Rough peak memory of one training step (models train one after another in a step)."""
    return BYTES_PER_UNIT_STEP * cfg.train.batch_size * cfg.task.seq_len * cfg.model.hidden_size / 1e9


def _check_slider_range(v: Any) -> None:
    """The slider's range (5..MAX), checked before validate() so the message names it."""
    try:
        f = float(v)
    except (TypeError, ValueError):
        return  # not a number: validate() words that error
    if math.isfinite(f) and f == int(f) and not SEQ_MIN <= f <= MAX_SEQ_LEN:
        shown = echo(v) if isinstance(v, str) else int(f)  # what was typed, not a 100-digit integer
        raise ConfigError(f"seq_len must be between {SEQ_MIN} and {MAX_SEQ_LEN}, got {shown}")


ECHO_CHARS = 60  # a link value is echoed up to this length


def echo(raw: str) -> str:
    """A link value as the user typed it, on one line: control characters (a newline) escaped,
    and cut after ECHO_CHARS characters."""
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in raw.strip())
    return text if len(text) <= ECHO_CHARS else text[:ECHO_CHARS] + "…"


def from_query(params: Mapping[str, str], default: RunConfig | None = None) -> tuple[RunConfig, list[str]]:
    """Read a link's query parameters into a config, one field at a time; a value that does not
    validate is refused (its default kept) with a one-line message. Unknown parameters are
    ignored (other pages or tracking links may add their own)."""
    default = default or DEFAULT
    values, problems = values_of(default), []
    for key in FIELDS:
        if key not in params:
            continue
        raw = params[key]
        trial = {**values, key: [m.strip() for m in raw.split(",") if m.strip()] if key == "models" else raw}
        try:
            values = values_of(config_from_values(trial, default))
        except ConfigError as e:
            shown = ",".join(values[key]) if key == "models" else values[key]
            why = " ".join(str(e).split())  # one line, whatever the value held
            problems.append(f"Ignored `{key}={echo(raw)}` from the link: {why}. Using {shown}.")
    return config_from_values(values, default), problems


def to_query(cfg: RunConfig) -> dict[str, str]:
    """The query string of a config: every control, defaults included, so a link keeps meaning
    the same experiment even if the defaults change later."""
    v = values_of(cfg)
    return {k: ",".join(v[k]) if k == "models" else repr(v[k]) if k == "lr" else str(v[k]) for k in FIELDS}


# --- Streamlit side -------------------------------------------------------------------------
def init() -> None:
    """Before any widget: once per session seed the widgets from the link (or the defaults);
    afterwards only refill a value that is missing (the widgets then never start at their minimum)."""
    params = st.query_params.to_dict()
    if st.session_state.get(_READY) and params.get(PRESET) != "1":
        for k, v in values_of(DEFAULT).items():
            if k not in st.session_state:
                st.session_state[k] = v
        for k in hidden():  # a control not drawn keeps its value: held as plain session state
            st.session_state[k] = st.session_state[k]
        return
    cfg, problems = from_query(params)
    for k, v in values_of(cfg).items():
        st.session_state[k] = v
    st.session_state[_HIDDEN], more = hide_from_query(params)
    st.session_state[_PROBLEMS] = problems + more
    st.session_state[_READY] = True


def hide_from_query(params: Mapping[str, str]) -> tuple[tuple[str, ...], list[str]]:
    """The controls a link's `hide=lr,batch_size` leaves out, and a one-line message for names
    that are no control (ignored)."""
    names = [n.strip() for n in params.get(HIDE, "").split(",") if n.strip()]
    unknown = [n for n in names if n not in FIELDS]
    problems = [f"Ignored `hide={echo(','.join(unknown))}` from the link: not a control "
                f"(controls: {', '.join(FIELDS)})."] if unknown else []
    return tuple(dict.fromkeys(n for n in names if n in FIELDS)), problems


def hidden() -> tuple[str, ...]:
    return st.session_state.get(_HIDDEN, ())


def show_all() -> None:
    st.session_state[_HIDDEN] = ()


def current() -> tuple[RunConfig | None, str | None]:
    """The config the widgets describe now, or (None, why not)."""
    try:
        return config_from_values({k: st.session_state.get(k) for k in FIELDS}), None
    except ConfigError as e:
        return None, str(e)


def link_problems() -> list[str]:
    return st.session_state.get(_PROBLEMS, [])


def clear_link_problems() -> None:
    st.session_state[_PROBLEMS] = []


def describe(cfg: RunConfig, changes: bool = True) -> str:
    """The whole experiment in one line, with what differs from the defaults named."""
    task = TASKS[cfg.task.name]
    tr = cfg.train
    inits = "".join(f"{MODEL_NAMES[k]} init {init_of(k, cfg.model)} · " for k in ("rnn", "gru") if k in cfg.models)
    line = (f"{task.title} · T = {cfg.task.seq_len} · {' vs '.join(MODEL_NAMES[k] for k in cfg.models)} · "
            f"hidden {cfg.model.hidden_size} · LSTM forget-gate init {cfg.model.forget_init} · {inits}"
            f"{tr.optimizer.capitalize()}, learning rate {tr.lr:g}, gradient clip {tr.clip:g} · "
            f"{tr.steps:,} steps of {tr.batch_size} sequences · seed {tr.seed} · "
            f"evaluated every {tr.eval_every} steps on a fixed held-out batch.")
    if not changes:
        return line
    now, d = values_of(cfg), values_of(DEFAULT)
    changed = [f"{k} (default {','.join(d[k]) if k == 'models' else d[k]})" for k in FIELDS if now[k] != d[k]]
    return line + (" Changed from the defaults: " + ", ".join(changed) + "." if changed
                   else " These are the lab's defaults.")


def _range(section: str, name: str) -> tuple[int, int]:
    r = rule(section, name)
    return int(r.lo), int(r.hi)


def _task_changed() -> None:
    """Steps follow the new task's suggestion (adding needs ~3x first_token's), unless the user
    had set steps of their own."""
    before = st.session_state.get(_TASK_SHOWN, DEFAULT.task.name)
    if st.session_state.get("steps") == suggested_steps(before):
        st.session_state["steps"] = suggested_steps(st.session_state["task"])


@dataclass
class Actions:
    """What the run buttons do (the training component's functions) and the state they follow."""

    train: Callable[[RunConfig], None]
    stop: Callable[[], None]
    step: Callable[[RunConfig], None] | None = None
    pause: Callable[[], None] | None = None  # pauses a running run, plays a paused one
    reset: Callable[[RunConfig], None] | None = None
    more: Callable[[int], None] | None = None  # continue the run on screen for N more steps
    paused: bool = False
    can_continue: bool = False


def sidebar(busy: bool, on_train: Callable[[RunConfig], None] | None = None,
            on_stop: Callable[[], None] | None = None, actions: Actions | None = None) -> RunConfig | None:
    """Draw the controls; return the validated config (None if the widgets describe none).
    `busy`: a run is queued, training or paused, so every input that would change it is disabled.
    The buttons: Train and Stop always; Pause / Play, Step, Reset and Continue when `actions` has them."""
    actions = actions or Actions(train=on_train or (lambda cfg: None), stop=on_stop or (lambda: None))
    init()
    d = values_of(DEFAULT)
    # persist_state="session": values survive a visit to another page of the lab
    kw = dict(disabled=busy, persist_state="session")
    sb = st.sidebar
    sb.header("Experiment")
    hide = set(hidden())  # a link's `hide=`: those controls are not drawn, their values are kept
    if hide:
        sb.caption("Some controls are hidden by the link: " + ", ".join(sorted(hide)) + " (their values are in "
                   "the line above the charts).")
        sb.button("Show all controls", key="show_all_controls", on_click=show_all, type="tertiary")
    if "task" not in hide:
        sb.selectbox("Task", task_names(), key="task", format_func=lambda n: TASKS[n].title, **kw,
                     on_change=_task_changed,
                     help="What the models must learn, always with the key information far from the answer: "
                          "recall the first symbol; add two marked numbers; tell the order of X and Y; read "
                          "a review's sentiment when a late 'but' turns it round. Default: first token.")
    if "seq_len" not in hide:
        sb.slider("Sequence length T", SEQ_MIN, MAX_SEQ_LEN, key="seq_len", **kw,
                  help=f"Time steps between the information and the question. Default {d['seq_len']}. "
                       "Longer sequences are harder to remember and slower to train.")
    if "models" not in hide:
        sb.multiselect("Models to compare", model_kinds(), key="models", format_func=MODEL_NAMES.get, **kw,
                       help="All chosen models train on exactly the same batches. Default: vanilla RNN "
                            "and LSTM.")
    if "forget_init" not in hide:
        sb.selectbox("LSTM forget-gate init", FORGET_INITS, key="forget_init", format_func=FORGET_LABELS.get,
                     **kw,
                     help=f"How the LSTM's forget-gate bias starts. Default {d['forget_init']}: the gate starts "
                          "open (close to 1) for time scales up to T, so memory survives from the start. "
                          "With zero or one the LSTM usually cannot learn T >= 50 in a few hundred steps.")
    if "rnn_init" not in hide:
        sb.selectbox("Vanilla RNN init", RNN_INITS, key="rnn_init", format_func=RNN_LABELS.get, **kw,
                     help=f"How the vanilla RNN starts (default {d['rnn_init']}). default: PyTorch's small random "
                          "weights and tanh. orthogonal: the recurrent matrix is a rotation, so a signal neither "
                          "shrinks nor grows at the start. IRNN (Le, Jaitly & Hinton 2015): relu, the recurrent "
                          "matrix is the identity and the biases zero, so the state is copied forward unchanged "
                          "until the input writes to it.")
    if "gru_init" not in hide:
        sb.selectbox("GRU init", GRU_INITS, key="gru_init", format_func=GRU_LABELS.get, **kw,
                     help=f"How the GRU's update gate z starts (default {d['gru_init']}); z is the share of the "
                          "old state kept each step. default: PyTorch's small random bias, so about half is kept "
                          "per step. chrono: b_z = log u with u between 1 and T-1, so units start keeping their "
                          "state over 2 to T steps, as the LSTM's chrono forget gate does.")
    c1, c2 = sb.columns(2)
    if "hidden_size" not in hide:
        c1.number_input("Hidden size", *_range("model", "hidden_size"), step=16, key="hidden_size", **kw,
                        help=f"Units in each model's hidden state. Default {d['hidden_size']}.")
    if "lr" not in hide:
        c2.number_input("Learning rate", LR_MIN, LR_MAX, step=1e-4, format="%g", key="lr", **kw,
                        help=f"Adam's step size, the same for every model. Default {d['lr']:g}.")
    if "steps" not in hide:
        c1.number_input("Training steps", *_range("train", "steps"), step=100, key="steps", **kw,
                        help=f"Batches each model trains on. Default {d['steps']}; changing the task sets "
                             "the steps it needs (" + ", ".join(f"{c.title}: {c.suggested_steps}"
                                                                for c in TASKS.values()) +
                             ") unless you chose your own.")
    if "batch_size" not in hide:
        c2.number_input("Batch size", *_range("train", "batch_size"), step=16, key="batch_size", **kw,
                        help=f"Sequences per training step. Default {d['batch_size']}.")
    if "seed" not in hide:
        sb.number_input("Seed", *_range("train", "seed"), step=1, key="seed", **kw,
                        help="Seeds the data stream and each model's initial weights. Same seed, same "
                             "numbers.")
    st.session_state[_TASK_SHOWN] = st.session_state["task"]
    cfg, why = current()

    def with_config(fn: Callable[[RunConfig], None]) -> Callable[[], None]:
        def call() -> None:  # a callback runs before the next script run draws anything, so that
            now, _ = current()  # run draws the controls disabled
            clear_link_problems()
            if now is not None:
                fn(now)
        return call

    b1, b2 = sb.columns(2)
    b1.button("Train", key="train", type="primary", on_click=with_config(actions.train),
              disabled=busy or cfg is None, width="stretch", icon=":material/play_arrow:",
              help="Train the chosen models side by side on the same batches, to the last step.")
    b2.button("Stop", key="stop", on_click=actions.stop, disabled=not busy, width="stretch",
              icon=":material/stop:", help="End training now and keep everything trained so far.")
    if actions.pause is not None and actions.step is not None and actions.reset is not None:
        b3, b4, b5 = sb.columns(3)
        b3.button("Play" if actions.paused else "Pause", key="pause", on_click=actions.pause, disabled=not busy,
                  width="stretch", help="Pause the run (it keeps everything) or play it on from where it is.")
        b4.button("Step", key="step", on_click=with_config(actions.step), width="stretch",
                  disabled=cfg is None or (busy and not actions.paused),
                  help="Train one evaluation interval "
                       f"({cfg.train.eval_every if cfg else DEFAULT.train.eval_every} steps), then pause.")
        b5.button("Reset", key="reset", on_click=with_config(actions.reset), disabled=cfg is None, width="stretch",
                  help="Back to the same initial weights, paused at step 0: press Play or Step.")
    if actions.more is not None:
        c3, c4 = sb.columns([3, 2], vertical_alignment="bottom")
        more = c3.number_input("More steps", 1, int(rule("train", "steps").hi), value=DEFAULT.train.steps,
                               step=100, key="more_steps",
                               help="How many steps Continue trains on top of the run on screen.")
        c4.button("Continue", key="continue", on_click=lambda: actions.more(int(more)),
                  disabled=not actions.can_continue, width="stretch",
                  help="Train the run on screen further, with its optimizer state and data stream kept: "
                       "the numbers are those of one run trained for all the steps. Needs a run trained "
                       "(or paused) in this session.")
    if why:
        sb.warning(f"Cannot train this: {why}.")
    if cfg is not None:
        q = to_query(cfg)
        if hidden():
            q[HIDE] = ",".join(hidden())
        if st.query_params.to_dict() != q:  # write only on change: each write is a message to the browser
            st.query_params.from_dict(q)
    return cfg


__all__ = ["DEFAULT", "FIELDS", "from_query", "to_query", "values_of", "config_from_values", "init",
           "current", "describe", "memory_gb", "sidebar", "link_problems", "clear_link_problems", "echo",
           "hide_from_query", "hidden", "show_all", "PRESET", "HIDE"]
