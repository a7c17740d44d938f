"""The experiment controls: one widget per config field, mirrored in the URL query string.

The controls are the config fields whose rule has a `label` (core.config.controls()), plus the
models to compare: their widgets, URL keys, help, bounds and caption words all come from the
fields' rules, so a new field with a label appears here without an edit. Each widget's key is
also its query parameter (`?task=first_token&seq_len=50&models=rnn,lstm&...`), so a link
reproduces the exact experiment. Values from a link are checked field by field with
`core.config.validate` (plus the widgets' own bounds); a bad one is refused with a one-line message
and its default is used instead. The pure functions (`from_query`, `to_query`,
`config_from_values`) do not touch Streamlit and are tested directly.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import streamlit as st

from core.config import (SECTIONS, ConfigError, Control, RunConfig, check_memory, controls, memory_gb,
                         rule, sentence_task, seq_len_range, suggested_steps, validate, words)
from core.models import MODEL_NAMES, model_kinds
from core.tasks import TASKS
from dashboard.components.plain import echo, md


def default_config() -> RunConfig:
    """The core's defaults are the dashboard's defaults."""
    return validate(RunConfig(**{name: cls() for name, cls in SECTIONS.items()}))


def fields() -> tuple[str, ...]:
    """The query parameters, in the order they are applied: the task's fields first (the task sets
    seq_len's minimum), then the models, then the rest."""
    keys = [c.key for c in controls()]
    n_task = sum(c.section == "task" for c in controls())
    return (*keys[:n_task], MODELS_KEY, *keys[n_task:])


MODELS_KEY = "models"  # RunConfig.models: the one control that is not a section's field
DEFAULT = default_config()
FIELDS = fields()
# Widget bounds come from the config fields' rules (core.config), the one home of each bound. Some
# are tighter in the dashboard (`ui_lo`: the slider starts at T = 5, the learning rate at 1e-6); a
# widget refuses a value below its minimum, so the link check applies them too (_check_ui_bounds).

# The memory a run may need (MAX_RUN_GB, memory_gb) is core.config's: the sweep page applies it too.

_READY = "lab_controls_ready"  # set once the link has been read for this session
_PROBLEMS = "lab_controls_link_problems"  # messages about refused link values
_TASK_SHOWN = "lab_controls_task_shown"  # the task the controls showed last (for _task_changed)
OWN_DATA = "lab_own_data"  # the task fields of the learner's uploaded file (name, data, column, date_column)
_HIDDEN = "lab_controls_hidden"  # the controls a link's `hide=` leaves out (their values are kept)
# `?preset=1`: a link made by the lab (the tour's "try it in the lab") sets the controls even when
# this session has read a link before; the page then rewrites the URL without it.
PRESET, HIDE = "preset", "hide"


def values_of(cfg: RunConfig) -> dict[str, Any]:
    """A config as the widgets hold it (key -> value)."""
    out: dict[str, Any] = {}
    for c in controls():
        v = getattr(getattr(cfg, c.section), c.name)
        out[c.key] = float(v) if c.rule.kind == "float" else v
    out[MODELS_KEY] = list(cfg.models)
    return {k: out[k] for k in fields()}


def config_from_values(v: Mapping[str, Any], base: RunConfig | None = None) -> RunConfig:
    """Widget (or raw link) values -> a validated RunConfig; raises ConfigError (one line).
    Fields without a control (optimizer, clip, eval_every, ...) keep the base's values."""
    base = base or DEFAULT
    changes: dict[str, dict[str, Any]] = {}
    for c in controls():
        if c.key in v:
            changes.setdefault(c.section, {})[c.name] = v[c.key]
    cfg = base.replace(  # replace, never rebuild: a field without a control keeps its value
        **{s: dataclasses.replace(getattr(base, s), **kw) for s, kw in changes.items()},
        models=v.get(MODELS_KEY, base.models))
    for c in controls():  # in field order, so the first bad field is named, as validate() does
        if c.rule.slider and c.key in v:
            _check_ui_bounds(c, v[c.key])
    cfg = validate(cfg)
    check_memory(cfg)
    for c in controls():  # the rest, on validated values
        if not c.rule.slider and c.rule.ui_lo is not None:
            _check_ui_bounds(c, getattr(getattr(cfg, c.section), c.name))
    return cfg


def _check_ui_bounds(c: Control, v: Any) -> None:
    """A widget's range where it is tighter than the field's (`ui_lo`); a slider's is checked
    before validate() so the message names the slider's range."""
    r = c.rule
    lo = r.ui_lo if r.ui_lo is not None else r.lo
    try:
        f = float(v)
    except (TypeError, ValueError):
        return  # not a number: validate() words that error
    if not math.isfinite(f):
        return
    if r.kind == "int" and f == int(f) and not lo <= f <= r.hi:
        shown = echo(v) if isinstance(v, str) else int(f)  # what was typed, not a 100-digit integer
        raise ConfigError(f"{c.key} must be between {int(lo)} and {int(r.hi)}, got {shown}")
    if r.kind == "float" and f < lo:
        raise ConfigError(f"{c.key} must be at least {lo:g}, got {f:g}")


def from_query(params: Mapping[str, str], default: RunConfig | None = None) -> tuple[RunConfig, list[str]]:
    """Read a link's query parameters into a config, one field at a time; a value that does not
    validate is refused (its default kept) with a one-line message: plain text that quotes the value
    cut short (plain.echo); a page shows it escaped (`show_link_problems`). Unknown parameters are
    ignored (other pages or tracking links may add their own)."""
    default = default or DEFAULT
    values, problems = values_of(default), []
    for key in fields():
        if key not in params:
            continue
        raw = params[key]
        trial = {**values, key: [m.strip() for m in raw.split(",") if m.strip()] if key == "models" else raw}
        if key == "task":  # a real series holds shorter windows: bring T into the new task's range
            trial["seq_len"] = fit_seq_len(raw, values["seq_len"])
        try:
            values = values_of(config_from_values(trial, default))
        except ConfigError as e:
            shown = ",".join(values[key]) if key == "models" else values[key]
            why = " ".join(str(e).split())  # one line, whatever the value held
            problems.append(f"Ignored {key}={echo(raw)} from the link: {why}. Using {shown}.")
    return config_from_values(values, default), problems


def to_query(cfg: RunConfig) -> dict[str, str]:
    """The query string of a config: every control, defaults included, so a link keeps meaning
    the same experiment even if the defaults change later."""
    v = values_of(cfg)
    floats = {c.key for c in controls() if c.rule.kind == "float"}
    return {k: ",".join(v[k]) if k == MODELS_KEY else repr(v[k]) if k in floats else str(v[k]) for k in fields()}


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
    unknown = [n for n in names if n not in fields()]
    problems = [f"Ignored hide={echo(','.join(unknown))} from the link: not a control "
                f"(controls: {', '.join(fields())})."] if unknown else []
    return tuple(dict.fromkeys(n for n in names if n in fields())), problems


def hidden() -> tuple[str, ...]:
    return st.session_state.get(_HIDDEN, ())


def show_all() -> None:
    st.session_state[_HIDDEN] = ()


def current() -> tuple[RunConfig | None, str | None]:
    """The config the widgets describe now, or (None, why not)."""
    try:
        return config_from_values({k: st.session_state.get(k) for k in fields()}, own_base()), None
    except ConfigError as e:
        return None, str(e)


def own_base() -> RunConfig:
    """The defaults, with the task fields of the learner's file (components/own_data.py sets them)
    when the chosen task is the one that reads it."""
    own = st.session_state.get(OWN_DATA)
    if not own or own.get("name") != st.session_state.get("task"):
        return DEFAULT
    return DEFAULT.replace(task=dataclasses.replace(DEFAULT.task, data=own["data"], column=own["column"],
                                                    date_column=own["date_column"]))


def link_problems() -> list[str]:
    return st.session_state.get(_PROBLEMS, [])


def show_link_problems() -> None:
    """The refused link values, one warning each, as text."""
    for msg in link_problems():
        st.warning(md(msg))


def clear_link_problems() -> None:
    st.session_state[_PROBLEMS] = []


def describe(cfg: RunConfig, changes: bool = True) -> str:
    """The whole experiment in one line, each field worded by its rule, with what differs from the
    defaults named."""
    parts = words(cfg)
    parts.insert(1, " vs ".join(MODEL_NAMES[k] for k in cfg.models))  # after the task
    line = " · ".join(parts) + "."
    if not changes:
        return line
    now, d = values_of(cfg), values_of(DEFAULT)
    changed = [f"{k} (default {','.join(d[k]) if k == MODELS_KEY else d[k]})" for k in fields() if now[k] != d[k]]
    return line + (" Changed from the defaults: " + ", ".join(changed) + "." if changed
                   else " These are the lab's defaults.")


def _help(c: Control, default: Any) -> str:
    text = f"{c.rule.explain or c.rule.help[:1].upper() + c.rule.help[1:]} Default: {c.rule.shown(default)}."
    if c.key == "steps":  # what changing the task does to it
        text += " Suggested per task: " + ", ".join(f"{t.title}: {t.suggested_steps}" for t in TASKS.values()) + "."
    return text


def field_input(where, section: str, name: str, key: str, value: Any, **kw: Any) -> Any:
    """A number box for one config field outside the sidebar (the sweep form), with the field's
    rule for label, bounds, step and help."""
    r = rule(section, name)
    lo = r.ui_lo if r.ui_lo is not None else r.lo
    cast = int if r.kind == "int" else float
    return where.number_input(r.label or r.help[:1].upper() + r.help[1:], cast(lo), cast(r.hi), cast(value),
                              step=cast(r.ui_step or 1), key=key, help=r.explain or r.help, **kw)


def _widget(where, c: Control, default: Any, kw: dict) -> None:
    """The widget a field's rule asks for: a slider, a number box or a select box."""
    r, label, help = c.rule, c.rule.label, _help(c, default)
    if r.kind == "choice":
        extra = ({"on_change": _task_changed} if c.key == "task" else
                 {"on_change": _condition_changed} if any(o.rule.only_when and o.rule.only_when[0] == c.key
                                                          for o in controls()) else {})
        where.selectbox(label, r.choices(), key=c.key, format_func=r.shown, help=help, **kw, **extra)
    elif r.slider:
        lo = r.ui_lo if r.ui_lo is not None else r.lo
        hi = r.hi
        if c.key == "seq_len":  # its range is the task's (a real series holds shorter windows)
            lo, hi = seq_bounds(st.session_state.get("task"))
        where.slider(label, int(lo), int(hi), key=c.key, help=help, **kw)
    elif r.kind == "int":
        lo = r.ui_lo if r.ui_lo is not None else r.lo
        where.number_input(label, int(lo), int(r.hi), step=int(r.ui_step or 1), key=c.key, help=help, **kw)
    else:
        lo = r.ui_lo if r.ui_lo is not None else r.lo
        where.number_input(label, float(lo), float(r.hi), step=float(r.ui_step or 0.1), format="%g", key=c.key,
                           help=help, **kw)


def seq_bounds(task: Any) -> tuple[int, int]:
    """The T slider's range for a task: the dashboard's minimum (ui_lo), the task's longest window."""
    r = rule("task", "seq_len")
    lo, hi = seq_len_range(task) if task in TASKS else (int(r.lo), int(r.hi))
    return max(lo, int(r.ui_lo if r.ui_lo is not None else r.lo)), hi


def fit_seq_len(task: Any, seq_len: Any) -> Any:
    """seq_len brought into the task's range (a whole number outside it is clamped; anything else
    is left for validation to word)."""
    lo, hi = seq_bounds(task)
    return min(max(seq_len, lo), hi) if isinstance(seq_len, int) and not isinstance(seq_len, bool) else seq_len


def _task_changed() -> None:
    """Steps follow the new task's suggestion (adding needs ~3x first_token's), unless the user
    had set steps of their own; T moves into the new task's range (stocks hold 31 months)."""
    before = st.session_state.get(_TASK_SHOWN, DEFAULT.task.name)
    if st.session_state.get("steps") == suggested_steps(before):
        st.session_state["steps"] = suggested_steps(st.session_state["task"])
    st.session_state["seq_len"] = fit_seq_len(st.session_state["task"], st.session_state.get("seq_len"))
    if not sentence_task(st.session_state["task"]):  # attention, a reversed source: encoder-decoders only
        for c in controls():
            if c.rule.sentence_only:
                st.session_state[c.key] = getattr(getattr(DEFAULT, c.section), c.name)


def _condition_changed() -> None:
    """A field read only under a condition (its rule's `only_when`, e.g. the 1997 LSTM's gate start)
    goes back to its default when the field it depends on leaves that value, so the config stays valid."""
    for c in controls():
        w = c.rule.only_when
        if w is not None and st.session_state.get(w[0]) != w[1]:
            st.session_state[c.key] = getattr(getattr(DEFAULT, c.section), c.name)


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


def sidebar(busy: bool, actions: Actions) -> RunConfig | None:
    """Draw the controls; return the validated config (None if the widgets describe none).
    `busy`: a run is queued, training or paused, so every input that would change it is disabled.
    The buttons: Train and Stop always; Pause / Play, Step, Reset and Continue when `actions` has them."""
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
    pending: list[Control] = []  # number boxes go two to a row
    for key in fields():
        if key in hide:
            continue
        if key == MODELS_KEY:
            sb.multiselect("Models to compare", model_kinds(), key=key, format_func=MODEL_NAMES.get, **kw,
                           help="All chosen models train on exactly the same batches. Default: "
                                + " and ".join(MODEL_NAMES[k] for k in DEFAULT.models) + ".")
            continue
        c = next(c for c in controls() if c.key == key)
        if c.rule.kind in ("int", "float") and not c.rule.slider:
            pending.append(c)
            continue
        _widget(sb, c, d[key], kw)
    for i in range(0, len(pending), 2):
        for col, c in zip(sb.columns(2), pending[i:i + 2]):
            _widget(col, c, d[c.key], kw)
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
                               help="How many steps Continue trains on top of the run on screen (a run trains "
                                    f"at most {int(rule('train', 'steps').hi):,} steps in all).")
        c4.button("Continue", key="continue", on_click=lambda: actions.more(int(more)),
                  disabled=not actions.can_continue, width="stretch",
                  help="Train the run on screen further, with its optimizer state and data stream kept: "
                       "the numbers are those of one run trained for all the steps. Needs a run trained "
                       "(or paused) in this session.")
    if why:
        sb.warning(md(f"Cannot train this: {why}."))
    if cfg is not None:
        q = to_query(cfg)
        if hidden():
            q[HIDE] = ",".join(hidden())
        if st.query_params.to_dict() != q:  # write only on change: each write is a message to the browser
            st.query_params.from_dict(q)
    return cfg


__all__ = ["DEFAULT", "FIELDS", "fields", "default_config", "MODELS_KEY", "from_query", "to_query", "values_of", "config_from_values", "init",
           "current", "describe", "memory_gb", "sidebar", "link_problems", "show_link_problems",
           "clear_link_problems", "echo",
           "hide_from_query", "hidden", "show_all", "PRESET", "HIDE", "field_input"]
