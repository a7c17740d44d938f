"""RNN vs LSTM Lab: routes only. Views draw (dashboard/views), components hold widgets.

The page folder is `views/`, not `pages/`: a folder named `pages` beside the entry file switches
Streamlit to its legacy auto-discovered multipage mode even with st.navigation. Listed here, every
page's address (/ for the tour, /train, /gradients, /inside, /cell, /sweep,
/interview) is routed by
st.navigation alone.
"""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run dashboard/app.py` puts only dashboard/ on the path
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from core.trainer import one_compute_thread  # noqa: E402

one_compute_thread()  # the one process-wide torch setting, before any page computes
st.set_page_config(page_title="RNN vs LSTM Lab", page_icon="🧠", layout="wide")

VIEWS = Path(__file__).resolve().parent / "views"
TRAIN = "Train side by side"
# Material icons: they come with Streamlit's own font, so they show where no emoji font is installed.
nav = st.navigation([
    st.Page(VIEWS / "story.py", title="The story (start here)", icon=":material/menu_book:", default=True),
    st.Page(VIEWS / "train.py", title=TRAIN, icon=":material/compare_arrows:", url_path="train"),
    st.Page(VIEWS / "gradients.py", title="Gradients through time", icon=":material/trending_down:",
            url_path="gradients"),
    st.Page(VIEWS / "inside.py", title="Inside the LSTM", icon=":material/biotech:", url_path="inside"),
    st.Page(VIEWS / "cell.py", title="The cell, drawn live", icon=":material/memory:", url_path="cell"),
    st.Page(VIEWS / "sweep.py", title="Sweep sequence length", icon=":material/show_chart:", url_path="sweep"),
    st.Page(VIEWS / "interview.py", title="Interview mode", icon=":material/quiz:", url_path="interview"),
])
if nav.title != TRAIN:  # elsewhere, the session's training run goes on and shows in the sidebar
    from dashboard.components import training

    if training.job() is not None:  # a polling fragment only while there is a run to poll (views/story.py)
        with st.sidebar:  # before the page, which may st.stop() when it has nothing to show
            training.sidebar_status()
from dashboard.components import proof  # noqa: E402
from dashboard.components import page_style  # noqa: E402
from dashboard.components.session import store_notice  # noqa: E402

from dashboard.components import owned  # noqa: E402

store_notice()
proof.notice()  # a damaged shipped reference: one line, and its runs are trained here instead
with st.sidebar:
    owned.heartbeat()  # the session's jobs stay alive while it is (core.jobs.GONE_S)
page_style.apply()  # charts fit their column; no transitions or animations while jobs are polled
proof.start()  # once per server: retrain the shipped reference while no one's job waits
nav.run()
