"""The /cell page's widgets: which runs, which input, which step t (`?run=` and `?t=` in the URL),
which units; stepping and playing through the input; the GRU trained as a job where no run has it.

The LSTM comes from the tour's experiment picked (`?run=`), the vanilla RNN and the GRU from the
experiment it is compared with (SOURCES), all from the run store, which serves the shipped reference
behind its own rows. The reference has no GRU on these tasks: it is trained here once, as a job every
session shares (owner "cell"), and kept in the run store. Numbers and charts come from core.cell,
core.belt and core.charts.cell; this module only lays them out.
"""
from __future__ import annotations

from dataclasses import replace

import streamlit as st
import torch

from core import story
from core.cell import UNITS_SHOWN, cell_step, informative_units
from core.charts.cell import belt_item, cell_diagram_item, growth_item
from core.config import RunConfig, config_hash, validate
from core.inspection import EXPLAINER_SENTENCE, showcase
from core.jobs import TrainJob, default_queue
from core.results import ModelRun, RunResult
from core.shipped import source_line
from core.store import RunStore
from core.tasks import Task, make_task
from dashboard.components import owned, plain
from dashboard.components.chart import show_chart

SOURCES = story.runs.CELL  # the tour's experiment whose LSTM is drawn -> (its words, the experiment of its RNN and GRU)
KINDS = ("lstm", "gru", "rnn")  # drawn in this order
SENTENCE, TYPED, EXAMPLE = "The explainer's sentence", "A sentence you type", "A held-out example of the task"
SOURCE, INPUT, TEXT, PICK, T_KEY, UNIT = "cell-run", "cell-input", "cell-text", "cell-example", "cell-t", "cell-unit"
PLAYING = "cell-playing"  # True while the page steps through the input on its own
PLAYED = "cell-played-at"  # the t the last playing run drew: a timer run moves on from it
READY, BAD_LINK, RESULTS, MECHANISM = "cell-link-read", "cell-bad-link", "cell-results", "cell-mechanism-step"
OWNER = "cell"  # the GRU jobs, shared by every session
PLAY_S = 1.2  # seconds per step while playing
POLL_S = 1.0


def _refuse(key: str, raw: str, why: str) -> None:
    st.session_state.setdefault(BAD_LINK, []).append(f"Ignored {key}={plain.echo(raw)} from the link: {why}.")


def read_link() -> None:
    """`?run=` once, on the page's first run (`?t=` is read by `step_picker_link`, once the input's length is known)."""
    if st.session_state.get(READY):
        return
    raw = st.query_params.get("run")
    if raw is not None:
        if raw in SOURCES:
            st.session_state[SOURCE] = raw
        else:
            _refuse("run", raw, f"runs are {', '.join(SOURCES)}; showing {next(iter(SOURCES))}")


def source_picker() -> str:
    cfgs = story.experiments()
    name = st.selectbox("Trained models", list(SOURCES), key=SOURCE,
                        format_func=lambda n: f"{SOURCES[n][0]}, T = {cfgs[n].task.seq_len} ({n})",
                        help="The tour's experiment whose LSTM is drawn; the RNN and the GRU are trained on the same task.")
    if st.query_params.get("run") != name:
        st.query_params["run"] = name
    return name


def link(run: str, t: int, label: str = "See the cell at this step") -> None:
    """A link to /cell showing the LSTM of tour experiment `run` at step t (from 1) of its default
    input (the explainer's sentence on sentiment_but, the first held-out example otherwise)."""
    if run not in SOURCES:
        raise ValueError(f"/cell draws the runs {', '.join(SOURCES)}, not {run!r}")
    st.page_link("views/cell.py", label=label, icon=":material/memory:", query_params={"run": run, "t": str(int(t))})


# --- the runs -----------------------------------------------------------------------------------
def _cfgs(name: str) -> dict[str, RunConfig]:
    """kind -> the single-model config of the run drawn for it."""
    cfgs = story.experiments()
    lstm, other = cfgs[name], cfgs[SOURCES[name][1]]
    return {"lstm": lstm.single("lstm"), "rnn": other.single("rnn"),
            "gru": validate(replace(other, models=("gru",)))}


def _stored(cfg: RunConfig) -> ModelRun | None:
    kept = st.session_state.setdefault(RESULTS, {})
    h = config_hash(cfg)
    if h not in kept:
        store = owned.store("the GRU is trained for this session only")
        run = store.get(cfg) if store is not None else None
        if run is None or not run.checkpoints:
            return None
        kept[h] = run
    return kept[h]


def _gru_job(cfg: RunConfig) -> TrainJob | None:
    """The job training this GRU (another session's, or a new one); None with a note if the queue is full."""
    h = config_hash(cfg)
    for j in default_queue().jobs(OWNER):
        if isinstance(j, TrainJob) and config_hash(j.cfg) == h and not j.error:
            return j
    job = TrainJob(cfg, owner=OWNER, store=RunStore)
    try:
        default_queue().submit(job)
    except Exception as e:  # the queue is full: say so, try again on the next run
        owned.note(f"The GRU was not started: {e}.")
        return None
    return job


def runs(name: str) -> tuple[dict[str, ModelRun], TrainJob | None]:
    """kind -> run for every kind that has one, and the job training the GRU when it is missing."""
    found, job = {}, None
    for kind, cfg in _cfgs(name).items():
        run = _stored(cfg)
        if run is not None:
            found[kind] = run
        elif kind == "gru":
            job = _gru_job(cfg)
            if job is not None and job.ended and not job.error:
                found[kind] = job.result().runs["gru"]
                st.session_state.setdefault(RESULTS, {})[config_hash(cfg)] = found[kind]
                default_queue().forget(job)
                job = None
    return found, job


def origin_line(found: dict[str, ModelRun]) -> None:
    if (line := source_line(found.values())) is not None:
        st.caption(line)


# --- the input and the step ----------------------------------------------------------------------
def input_picker(task: Task) -> tuple[torch.Tensor, list[str]]:
    """The input (1, T) and its words: the explainer's sentence, a typed one, or a held-out example."""
    options = [SENTENCE, TYPED, EXAMPLE] if task.name == "sentiment_but" else [EXAMPLE]
    how = st.segmented_control("Input", options, key=INPUT, default=options[0], required=True) or options[0]
    if how == EXAMPLE:
        x, _, labels = showcase(task)
        i = st.selectbox("Example (held out)", range(len(labels)), key=PICK, format_func=lambda i: labels[i]) or 0
        return x[i : i + 1], task.render(x[i : i + 1])[0]
    text = EXPLAINER_SENTENCE
    if how == TYPED:
        text = st.text_input("Your sentence, in the task's words", value=EXPLAINER_SENTENCE, key=TEXT,
                             help="Lower case; commas and full stops are words too.")
    try:
        x = task.encode_text(text)
    except ValueError as e:
        st.warning(plain.md(f"{e}; showing the explainer's sentence."))
        x = task.encode_text(EXPLAINER_SENTENCE)
    return x, task.render(x)[0]


def step_picker_link(T: int) -> None:
    """`?t=` on the page's first run, checked against 1..T; refused in one line."""
    if st.session_state.get(READY):
        return
    st.session_state[READY] = True
    raw = st.query_params.get("t")
    if raw is None:
        return
    if raw.strip().isdigit() and len(raw.strip()) <= 6 and 1 <= int(raw) <= T:
        st.session_state[T_KEY] = int(raw)
    else:
        _refuse("t", raw, f"t is a whole number from 1 to {T} for this input; showing t = 1")


def bad_links() -> None:
    for line in st.session_state.pop(BAD_LINK, []):
        st.warning(plain.md(line))


def _move(by: int, T: int) -> None:
    st.session_state[T_KEY] = min(max(int(st.session_state.get(T_KEY, 1)) + by, 1), T)


def _play(on: bool, T: int) -> None:
    st.session_state[PLAYING] = on
    if on and int(st.session_state.get(T_KEY, 1)) >= T:  # from the start again
        st.session_state[T_KEY] = 1


def step_controls(T: int) -> int:
    """Back, forward and a slider over t (from 1), mirrored in `?t=`; while playing, each run of the
    fragment (every PLAY_S) moves one step, and the last step stops the play."""
    t = min(max(int(st.session_state.get(T_KEY, 1)), 1), T)
    playing = bool(st.session_state.get(PLAYING))
    if playing and st.session_state.get(PLAYED) == t:  # this run is the timer's: one step on
        t = min(t + 1, T)
    st.session_state[T_KEY] = t
    st.session_state[PLAYED] = t if playing else None
    with st.container(horizontal=True, vertical_alignment="bottom"):
        st.button("Back", key="cell-back", icon=":material/chevron_left:", on_click=_move, args=(-1, T), disabled=t <= 1)
        st.button("Forward", key="cell-forward", icon=":material/chevron_right:", on_click=_move, args=(1, T),
                  disabled=t >= T)
    if T > 1:
        t = st.slider("Time step t (from 1)", 1, T, key=T_KEY)
    if st.query_params.get("t") != str(t):
        st.query_params["t"] = str(t)
    if playing and t >= T:  # the end: stop, and draw the page again without the timer
        st.session_state[PLAYING] = False
        st.rerun()
    return t


def play_button(T: int) -> None:
    """Play / stop, outside the fragment: a click reruns the whole page, which starts or stops its timer."""
    if st.session_state.get(PLAYING):
        st.button("Stop", key="cell-stop", icon=":material/stop:", on_click=_play, args=(False, T))
    else:
        st.button("Play through the input", key="cell-play", icon=":material/play_arrow:", on_click=_play,
                  args=(True, T), disabled=T <= 1, help=f"One step every {PLAY_S:g} s, to the end of the input.")


def unit_picker(H: int) -> int | None:
    """None: each model's units that hold the information; else one unit the user picked."""
    return st.selectbox("Units", [None, *range(H)], key=UNIT,
                        format_func=lambda u: f"the {UNITS_SHOWN} units of each model that hold the information"
                        if u is None else f"unit {u}",
                        help="Chosen from each model: the units whose last state differs most between the task's "
                             "held-out examples (as chapter 3 chooses the LSTM's).")


def live(found: dict[str, ModelRun], x: torch.Tensor, words: list[str], unit: int | None) -> None:
    """The step controls and the diagrams, redrawn alone (a fragment) on every step and, while playing,
    every PLAY_S seconds. A fragment on a timer: call it after every other element of the page."""
    play_button(len(words))

    @st.fragment(run_every=PLAY_S if st.session_state.get(PLAYING) else None)
    def draw() -> None:
        diagrams(found, x, words, step_controls(len(words)), unit)

    draw()


def diagrams(found: dict[str, ModelRun], x: torch.Tensor, words: list[str], t: int, unit: int | None) -> None:
    for kind in KINDS:
        run = found.get(kind)
        if run is None:
            continue
        units = informative_units(run) if unit is None else [unit]
        item = cell_diagram_item(cell_step(run, x, t - 1, units, words=words))
        show_chart(item, f"cell-{kind}")


@st.fragment(run_every=POLL_S)
def wait_for(job: TrainJob) -> None:
    """The GRU's progress while it trains; the page draws it when it is done. Call it last."""
    if job.ended:
        st.rerun()
    st.progress(min(job.step / max(job.total, 1), 1.0),
                text=f"Training the GRU on this task (once: it is kept in the run store): step {job.step:,} of {job.total:,}")


# --- the mechanism ---------------------------------------------------------------------------------
@st.cache_resource(max_entries=8, show_spinner=False)
def _mechanism(key: tuple, _belt: dict[str, RunResult], _growth: dict[str, RunResult], step: int | None):
    return belt_item(_belt, step), growth_item(_growth, step)


def mechanism() -> None:
    """The gradient along the belt, predicted and measured, for three starts; the 1997 cell growing."""
    names = {"chrono start (first token)": "long", "zero start (first token)": "zero_forget",
             "chrono start (long review)": "but_long", "no forget gate, 1997 (long review)": "no_forget"}
    cfgs = story.experiments()
    results: dict[str, list[RunResult]] = {}
    for label, n in names.items():  # every seed of the tour's experiment that is in the store or the reference
        for s in range(story.runs.SEEDS):
            c = story.runs.with_seed(cfgs[n], s).single("lstm")
            run = _stored(c)
            if run is not None:
                results.setdefault(label, []).append(RunResult(config=c, runs={"lstm": run}))
    if not results:
        st.info("These charts need the tour's LSTMs: open the tour once to train them.")
        return
    when = st.segmented_control("Weights", ["trained", "untrained start"], key=MECHANISM, default="trained",
                                required=True)
    step = 0 if when == "untrained start" else None
    growth = {k: v for k, v in results.items() if "long review" in k}
    key = (tuple(config_hash(r.config) for rs in results.values() for r in rs), step)
    with st.spinner("Measuring the gradient along the belt..."):
        belt, grow = _mechanism(key, results, growth, step)
    show_chart(belt, "cell-belt")
    if growth:
        show_chart(grow, "cell-growth")


def task_of(found: dict[str, ModelRun]) -> Task:
    return make_task(next(iter(found.values())).config.task)


__all__ = ["link", "read_link", "source_picker", "runs", "origin_line", "input_picker", "step_picker_link", "bad_links",
           "step_controls", "play_button", "unit_picker", "live", "diagrams", "wait_for", "mechanism", "task_of", "SOURCES"]
