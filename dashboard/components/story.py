"""The tour (core.story) on screen: its runs taken from the run store or trained as background jobs,
progress per chapter, one chapter at a time (`?chapter=N`), and a "try it in the lab" link each.

The tour's jobs are shared by every browser session (owner "story"): two visitors of a fresh
server wait for the same training, not for two. Each finished run lands in the run store, so a
second open shows the tour at once.
"""
from __future__ import annotations

import streamlit as st

from core import story
from core.charts import export
from core.charts.story import chapter_charts, tour_report
from core.config import RunConfig, config_hash
from core.jobs import TrainJob, default_queue
from core.results import RunResult
from core.store import RunStore, StoreError
from dashboard.components import cell, controls, owned, plain, proof, training
from dashboard.components.chart import show_chart

CHAPTER = "story-chapter"  # the chapter on screen (its widget's key)
RESULTS = "story-results"  # experiment name -> RunResult, complete
JOBS = "story-jobs"  # experiment name -> TrainJob training it
FOUND = "story-found"  # experiment names the store or the reference holds, read when their chapter is shown
READY = "story-link-read"
BAD_LINK = "story-bad-link"  # the warning about a refused ?chapter= value
FILLER = "story-filler"  # the long review's neutral words (its slider's key)
OWNER = "story"  # the tour's jobs, shared between sessions
POLL_S = 1.0
IN_FLIGHT = 4  # the tour's jobs on the queue at once (the queue refuses more than 8 waiting jobs)


def _shared_job(cfg: RunConfig) -> TrainJob | None:
    """A tour job for this config that another session already submitted (running or just ended)."""
    h = config_hash(cfg)
    for j in default_queue().jobs(OWNER):
        if isinstance(j, TrainJob) and config_hash(j.cfg) == h and not j.error:
            return j
    return None


def start(chapter: story.Chapter | None = None, read: bool = True) -> None:
    """Find every run the tour needs: from this session, the run store or a tour job in flight;
    submit a job for the rest, in chapter order (chapter 1 fills in first), at most IN_FLIGHT at a
    time: the queue holds a few jobs per visitor, and the rest follow as these end (each rerun).
    With `chapter`: that chapter's runs only, every seed (the page on screen draws before the other
    chapters' runs are read; the view calls start() again after it). With `read` False: runs the store
    or the reference holds are left unread (read when their chapter is shown), only missing ones start."""
    results, jobs = st.session_state.setdefault(RESULTS, {}), st.session_state.setdefault(JOBS, {})
    cfgs = story.all_experiments()
    store = None
    first = [n for n in story.needed() if chapter is None or n in chapter.needs]
    # seed 0 of every chapter first (the runs the pages draw), then the other seeds (the verdicts pool them),
    # once every seed-0 run is found or on its way (in the same script run: a fresh store finds them all at once)
    found = st.session_state.setdefault(FOUND, set())  # held by the store or the reference, not read yet

    def names():
        yield from first
        if all(n in results or n in jobs or n in found for n in first):
            yield from (n for n in cfgs if n not in first and story.runs.base_name(n) in first)
    for name in names():
        if name in results or name in jobs:
            continue
        if sum(not j.ended for j in jobs.values()) >= IN_FLIGHT:
            return
        cfg = cfgs[name]
        store = store or owned.store("the tour trains its models in this session only")
        if not read and store is not None and all(store.holds(cfg.single(k)) for k in cfg.models):
            found.add(name)
            continue
        try:
            stored, missing = (store.get_result(cfg) if store is not None else (None, list(cfg.models)))
        except StoreError as e:  # a damaged row: said once, and the run is trained again (its row replaced)
            owned.note(f"A stored run of the tour cannot be used ({e}); it is trained again.")
            stored, missing = None, list(cfg.models)
        if stored is not None and not missing:
            results[name] = stored
            continue
        job = _shared_job(cfg)
        if job is None:
            job = TrainJob(cfg, reused=dict(stored.runs) if stored is not None else {}, owner=OWNER,
                           store=RunStore)
            try:
                default_queue().submit(job)  # kept in the tour's dict of jobs, shared by sessions
            except Exception as e:  # the queue is full: say so once, try again on the next open
                owned.note(f"Chapter runs not started: {e}.")
                return
        owned.hold(job)  # kept alive while a session that waits for it is (core.jobs.GONE_S)
        jobs[name] = job


def collect() -> bool:
    """Take the results of tour jobs that have ended; True if any did."""
    results, jobs = st.session_state.setdefault(RESULTS, {}), st.session_state.setdefault(JOBS, {})
    done = [n for n, j in jobs.items() if j.ended]
    for name in done:
        j = jobs.pop(name)
        if j.error:
            owned.note(f"{name}: {j.error}")
        else:
            results[name] = j.result()
        owned.forget_job(j)
    return bool(done)


def pending() -> bool:
    return bool(st.session_state.get(JOBS))


def chapter_picker() -> story.Chapter:
    """Which chapter is on screen: `?chapter=N` on the first open, then the picker (mirrored in the URL)."""
    numbers = [c.number for c in story.CHAPTERS]
    if not st.session_state.get(READY):
        st.session_state[READY] = True
        raw = st.query_params.get("chapter")
        if raw is not None:
            if raw.strip().isdigit() and int(raw) in numbers:
                st.session_state[CHAPTER] = int(raw)
            else:  # kept until another chapter is picked: a rerun (a tour run finishing) must not drop it
                st.session_state[BAD_LINK] = (f"Ignored chapter={plain.echo(raw)} from the link: chapters are "
                                              f"{numbers[0]}-{numbers[-1]}. Starting at chapter {numbers[0]}.")
    st.session_state.setdefault(CHAPTER, numbers[0])
    if BAD_LINK in st.session_state:
        if st.session_state.get(CHAPTER) in (None, numbers[0]):
            st.warning(plain.md(st.session_state[BAD_LINK]))
        else:
            del st.session_state[BAD_LINK]
    st.segmented_control("Chapter", numbers, key=CHAPTER, required=True,
                         format_func=lambda n: f"{n}. {story.BY_NUMBER[n].title}",
                         help="The tour's chapters; each is told with models trained on this machine.")
    n = st.session_state.get(CHAPTER) or numbers[0]
    if st.query_params.get("chapter") != str(n):
        st.query_params["chapter"] = str(n)
    return story.BY_NUMBER[n]


def _status(chapter: story.Chapter) -> tuple[float, str]:
    """(share done, one line) of a chapter's runs."""
    results, jobs = st.session_state.get(RESULTS, {}), st.session_state.get(JOBS, {})
    done = total = 0
    waiting = []
    for name in chapter.needs:
        j = jobs.get(name)
        if name in results or name in st.session_state.get(FOUND, ()):
            done, total = done + 1, total + 1
        elif j is not None:
            done, total = done + min(j.step / max(j.total, 1), 1.0), total + 1
            waiting.append(f"T = {j.cfg.task.seq_len}: step {j.step:,} of {j.total:,}" if j.step
                           else f"T = {j.cfg.task.seq_len}: queued")
        else:
            total += 1
            waiting.append(f"{name}: not started")
    share = done / max(total, 1)
    return share, "ready" if not waiting else "training " + "; ".join(waiting)


@st.fragment(run_every=POLL_S)
def progress() -> None:
    """Every chapter's progress, redrawn on its own while the tour's runs train; a finished run
    reruns the page so its chapter fills in."""
    if collect():
        st.rerun()
    if not pending():
        return
    with st.container(border=True, key="story-progress"):
        st.caption("The tour's models (the interview's too) are training on this machine (once: they are kept in "
                   "the run store).")
        for c in story.CHAPTERS:
            share, line = _status(c)
            st.progress(share, text=f"Chapter {c.number}. {c.title}: {line}")
        results, seeded = st.session_state.get(RESULTS, {}), story.seeded_experiments()
        held = st.session_state.get(FOUND, set())
        done = sum(n in results or n in held for n in seeded if story.runs.base_name(n) in story.needed())
        total = sum(story.runs.base_name(n) in story.needed() for n in seeded)
        st.progress(done / max(total, 1), text=f"The other seeds ({story.runs.SEEDS - 1} more of each experiment, which "
                    f"the verdicts count): {done} of {total} trained")


@st.fragment(run_every=training.CHART_POLL_S)
def live(needs: tuple[str, ...]) -> None:
    """The learning curves of these tour runs (a chapter's, an interview question's) while they train,
    from step 0, as the lab draws its own (redrawn every CHART_POLL_S seconds; each run's chart is
    built again only when it has a new evaluation). A run still queued says so; one that has finished
    while the others train keeps its final curves here. A fragment: call it after every other element
    of the script."""
    jobs: dict[str, TrainJob] = st.session_state.get(JOBS, {})
    results: dict[str, RunResult] = st.session_state.get(RESULTS, {})
    for name in needs:
        j = jobs.get(name)
        if name in results:
            _trained_curves(name, results[name])
            continue
        if j is None or j.ended:
            continue
        what = f"**{name}** (T = {j.cfg.task.seq_len}), live"
        if owned.ahead(j):
            st.markdown(f"{what} — queued behind {owned.ahead(j)} job(s); its curves start when it trains.")
            continue
        st.markdown(what)
        training.draw_live(j, key=f"story-live-{name}", cache=f"story-live-{name}")


def _trained_curves(name: str, result: RunResult) -> None:
    """A run of the chapter that has finished while the others train: its final curves."""
    key = f"story-trained-{name}"
    cached = st.session_state.get(key)
    if cached is None or cached[0] is not result:
        cached = (result, training.curves_item(result, result.config.train.steps,
                                               "Trained: the chapter draws it with the others once they are in."))
        st.session_state[key] = cached
    st.markdown(f"**{name}** (T = {result.config.task.seq_len}), trained")
    if cached[1] is not None:
        show_chart(cached[1], key=key, downloads=False)


def hidden_controls() -> tuple[str, ...]:
    """The lab's controls a tour link leaves out: those no experiment of the tour sets to another value
    than the others do (their values still travel in the link)."""
    queries = [controls.to_query(cfg) for cfg in story.experiments().values()]
    return tuple(k for k in controls.FIELDS if len({q[k] for q in queries}) == 1)


def lab_link(chapter: story.Chapter | None, name: str | None = None, label: str = "Try it in the lab") -> None:
    """A link to the lab with an experiment preset (default: the chapter's own; the interview names one)."""
    name = name or chapter.lab
    cfg = story.experiments()[name]
    query = {**controls.to_query(cfg), "hide": ",".join(hidden_controls()), "preset": "1"}
    st.page_link("views/train.py", label=label, icon=":material/science:", query_params=query,
                 help="Opens the training page with this experiment; change T or the models and train.")


def _filler() -> int:
    st.session_state.setdefault(FILLER, story.FILLER)
    return int(st.slider("Neutral words after the sentence", 0, story.MAX_FILLER, key=FILLER,
                         help="Filler words of the task's own vocabulary, added after \"disappointing\"."))


def _extras(chapter: story.Chapter, results: dict[str, RunResult]) -> None:
    """The tables the chapter adds beside its charts, and the links it offers."""
    for table in chapter.tables(results):
        st.markdown(table.intro)
        st.dataframe(table.frame, hide_index=True, key=f"story-{table.key}")
        if table.csv:
            rows = table.frame if table.full is None else table.full
            st.download_button(table.csv_label, data=rows.to_csv(index=False).encode(), file_name=table.csv,
                               mime="text/csv", on_click="ignore", icon=":material/download:",
                               key=f"story-{table.key}-csv")
    for run, t, words in chapter.cell:
        cell.link(run, t, label=words)
    if chapter.links_every_run:
        st.markdown("**Every experiment of the tour, preset in the lab:**")
        for name in story.experiments():
            lab_link(chapter, name, label=story.label(name))


def export_tour() -> None:
    """The tour as one HTML report (every chapter ready so far: charts and verdicts)."""
    results: dict[str, RunResult] = st.session_state.get(RESULTS, {})
    if not results:
        return
    st.subheader("Export report")
    filler = int(st.session_state.get(FILLER, story.FILLER))
    st.download_button("The tour as a report (HTML)", key="story-report",
                       data=lambda: export.report_html(tour_report(every_result(dict(results)), filler)).encode(),
                       file_name="lab-story-report.html", mime="text/html", on_click="ignore",
                       icon=":material/download:",
                       help="Every ready chapter's charts (data inline) and verdicts in one file that opens offline.")


def conventions() -> None:
    """The tour's counting convention, stated once at its top."""
    st.caption(story.COUNTING)


def equations(chapter: story.Chapter) -> None:
    """The LSTM equations this chapter measures (each of the six is shown in one chapter only), and
    where the others are."""
    if not chapter.equations:
        return
    st.markdown("**The LSTM equations this chapter measures** ($\\sigma$: the logistic function, "
                "$\\odot$: element-wise product):")
    for key in chapter.equations:
        st.latex(story.EQUATIONS[key])
    elsewhere = [", ".join(f"${story.EQUATIONS[k].split(' = ')[0]}$" for k in c.equations) + f" in chapter {c.number}"
                 for c in story.CHAPTERS if c is not chapter and c.equations]
    if elsewhere:
        st.caption("The LSTM's other equations in the tour: " + ", ".join(elsewhere) + ".")


def configs_line(chapter: story.Chapter) -> str:
    cfgs = story.experiments()
    return " ".join(f"**{name}**: {controls.describe(cfgs[name], changes=False)}" for name in chapter.needs)


def show(chapter: story.Chapter) -> None:
    """The chapter: the explainer's claim, then (once its runs are in) the numbers, charts and verdict."""
    owned.show_notes()
    st.header(f"{chapter.number}. {chapter.title}")
    st.markdown(f"**The explainer:** {chapter.claim}")
    equations(chapter)
    results: dict[str, RunResult] = st.session_state.get(RESULTS, {})
    ref = proof.source(r for n in chapter.needs if n in results for r in results[n].runs.values())
    st.caption(("Trained here: " if ref is None else "The experiments: ") + configs_line(chapter))
    if ref is not None:
        proved = proof.seeds({s: [r for n in chapter.needs for r in results[story.runs.seeded(n, s)].runs.values()]
                              for s in chapter.seeds_in(results)})
        st.caption(ref + (f" {proved}" if proved else ""), help="`python -m core reference check` trains these runs again on this machine and "
                             "compares.")
    if any(n not in results for n in chapter.needs):
        share, line = _status(chapter)
        st.info(f"This chapter fills in when its models have trained ({line}). Their learning curves are drawn "
                "below as they learn.")
        lab_link(chapter)
        live(chapter.needs)  # a fragment: the view calls show() last (see views/story.py)
        return
    filler = _filler() if chapter.filler else int(st.session_state.get(FILLER, story.FILLER))
    told = story.tell(chapter, results, filler)
    st.markdown("**What the models here did:**\n\n" + "\n".join(f"- {s}" for s in told.sentences))
    (st.success if told.holds else st.warning if told.holds is False else st.info)(told.verdict)
    for item in chapter_charts(chapter, results, filler, told):
        show_chart(item, key=f"story-{chapter.number}-{item.name}")
    _extras(chapter, results)
    lab_link(chapter)


def every_result(results: dict[str, RunResult]) -> dict[str, RunResult]:
    """`results` with every other tour run the run store (or the reference behind it) holds, read now
    (the report asks for them when it is downloaded, outside the page's script)."""
    out = dict(results)
    try:
        store = RunStore()
    except Exception:  # the store cannot be opened: the report has what this session read
        return out
    for name, cfg in story.all_experiments().items():
        if name not in out:
            got, missing = store.get_result(cfg)
            if got is not None and not missing:
                out[name] = got
    return out


def complete() -> bool:
    """Every chapter's runs (seed 0) read in this session or held by the run store or the reference."""
    results = st.session_state.get(RESULTS, {})
    rest = [n for n in story.needed() if n not in results]
    if not rest:
        return True
    store, cfgs = owned.store(), story.experiments()
    return store is not None and all(store.holds(cfgs[n].single(k)) for n in rest for k in cfgs[n].models)


def complete_line() -> str:
    """What the tour's runs are, once every chapter is drawn."""
    results: dict[str, RunResult] = st.session_state.get(RESULTS, {})
    if any(r.source for res in results.values() for r in res.runs.values()):
        return ("The tour is complete: every chapter is drawn, from the reference shipped with the lab where "
                "this machine has not trained a chapter's models itself.")
    return "The tour is complete: every chapter's models are trained and kept in the run store."


__all__ = ["start", "collect", "pending", "chapter_picker", "progress", "show", "live", "lab_link", "complete", "hidden_controls",
           "complete_line",
           "export_tour", "conventions", "equations"]
