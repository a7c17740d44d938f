"""Interview mode on screen (core.story.interview): a question at a time (`?q=N`), the learner commits
a guess before anything is shown, then sees the measured answer beside it, a chart and what to say in an
interview; a score over the session and the whole interview as one HTML page.

Its runs are the tour's (dashboard.components.story): taken from the run store, or trained as the tour's
shared background jobs, whose progress the page shows while they train.
"""
from __future__ import annotations

import streamlit as st

from core import story
from core.charts.interview import answer_item
from core.story import interview
from dashboard.components import owned, plain
from dashboard.components import story as tour
from dashboard.components.chart import show_chart

Q = "interview_q"  # the question on screen (its picker's key)
GUESSES = "interview_guesses"  # question number -> the committed guess
SEEN = "interview_link_seen"  # the last ?q= value read, so a link to another question is followed
BAD_LINK = "interview_bad_link"
NUMBERS = [q.number for q in interview.QUESTIONS]


def start() -> None:
    """The runs the questions are measured in: the tour's, from the store or training as its jobs."""
    tour.start()
    tour.collect()
    owned.show_notes()  # what went wrong on the way (a damaged stored run), in one line each


def picker() -> interview.Question:
    """The question on screen: `?q=N` (followed whenever the link changes), else the picker."""
    raw = st.query_params.get("q")
    if raw is not None and raw != st.session_state.get(SEEN):
        st.session_state[SEEN] = raw
        if raw.strip().isdigit() and int(raw) in NUMBERS:
            st.session_state[Q] = int(raw)
            st.session_state.pop(BAD_LINK, None)
        else:
            st.session_state[BAD_LINK] = (f"Ignored q={plain.echo(raw)} from the link: questions are "
                                          f"{NUMBERS[0]}-{NUMBERS[-1]}.")
    st.session_state.setdefault(Q, NUMBERS[0])
    if BAD_LINK in st.session_state:
        st.warning(plain.md(st.session_state[BAD_LINK]))
    guesses = st.session_state.get(GUESSES, {})
    st.segmented_control("Question", NUMBERS, key=Q, required=True,
                         format_func=lambda n: f"{n}" + (" ✓" if n in guesses else ""),
                         help="✓: answered. Each question can also be opened by its link (below).")
    n = st.session_state.get(Q) or NUMBERS[0]
    if st.query_params.get("q") != str(n):
        st.query_params["q"] = str(n)
        st.session_state[SEEN] = str(n)
    return interview.BY_NUMBER[n]


def links() -> None:
    """A link per question."""
    with st.expander("All questions (a link each)"):
        for q in interview.QUESTIONS:
            st.page_link("views/interview.py", label=f"{q.number}. {q.area}: {q.short}", query_params={"q": str(q.number)})


def _commit_form(q: interview.Question) -> None:
    with st.form(key=f"interview-form-{q.number}", border=True):
        if q.slider:
            lo, hi, step = q.scale
            fmt = ("%.2f" if step < 1 else "%.0f") + q.unit.replace("%", "%%")
            guess = st.slider("Your guess" + (f" ({q.unit.strip()})" if q.unit else ""), lo, hi, (lo + hi) / 2,
                              step, format=fmt, key=f"interview-guess-{q.number}")
        else:
            guess = st.radio("Your answer", q.choices, index=None, key=f"interview-guess-{q.number}")
        if st.form_submit_button("Commit my answer", type="primary", icon=":material/lock:",
                                 key=f"interview-commit-{q.number}"):
            if guess is None:
                st.warning("Choose an answer first.")
            else:
                st.session_state.setdefault(GUESSES, {})[q.number] = guess
                st.rerun()


def _answer(q: interview.Question) -> interview.Answer | None:
    results = st.session_state.get(tour.RESULTS, {})
    if any(n not in results for n in q.needs):
        return None
    return interview.answer(q, {n: r for n, r in results.items() if story.runs.base_name(n) in q.needs})


def _next(n: int) -> None:
    st.session_state[Q] = NUMBERS[(NUMBERS.index(n) + 1) % len(NUMBERS)]


def show(q: interview.Question) -> None:
    """The question; once committed, the measured answer beside the guess, its chart and what to say."""
    prompt = q.prompt(story.experiments())
    st.header(f"{q.number}. {q.area}")
    st.markdown(f"**{prompt}**")
    guesses = st.session_state.get(GUESSES, {})
    if q.number not in guesses:
        st.caption("Commit an answer first: the lab's measured answer is shown after, beside yours.")
        _commit_form(q)
        return
    guess = guesses[q.number]
    a = _answer(q)
    if a is None:
        st.info(f"Your answer ({q.fmt(guess)}) is kept. The measured one appears when this question's runs have "
                "trained; their learning curves are drawn below as they learn.")
        tour.live(q.needs)  # a fragment: the view calls show() after every other element
        return
    left, right = st.columns(2)
    left.metric("Your answer", q.fmt(guess))
    right.metric("Measured in the lab", a.shown)
    ok = q.right(guess, a)
    within = f" (a guess within ±{q.fmt(q.tolerance)} of the measured value counts)" if q.slider else ""
    (st.success if ok else st.error)(("Right" if ok else "Not quite") + within + ".")
    show_chart(answer_item(q, a, guess, prompt), key=f"interview-chart-{q.number}")
    st.markdown("**What to say in an interview:** " + " ".join(a.say))
    with st.container(horizontal=True):
        tour.lab_link(None, q.lab)
        st.button("Next question", icon=":material/arrow_forward:", on_click=_next, args=(q.number,),
                  key=f"interview-next-{q.number}")


def entries() -> list[interview.Entry]:
    cfgs = story.experiments()
    return [interview.Entry(q, q.prompt(cfgs), g, _answer(q))
            for q in interview.QUESTIONS if (g := st.session_state.get(GUESSES, {}).get(q.number)) is not None]


def score() -> None:
    """The session's score, and the interview as one HTML page once a question is answered."""
    done = entries()
    right, answered = interview.score(done)
    st.sidebar.metric("Interview score", f"{right} of {answered}",
                      help="Questions answered whose measured answer is in; a slider guess counts within its tolerance.")
    if done:  # made here, in the script run: a callable runs on Streamlit's download thread, where this
        # session's state is not readable (it found no answers: "Score: 0 of 0")
        st.download_button("My interview (HTML)", data=interview.report_html(done).encode(),
                           file_name="lab-interview.html", mime="text/html", on_click="ignore",
                           icon=":material/download:", key="interview-report",
                           help="Every question you answered, your answer, the measured one and what to say.")


__all__ = ["start", "picker", "links", "show", "score", "entries", "Q", "GUESSES"]
