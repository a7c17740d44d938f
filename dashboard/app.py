"""RNN vs LSTM Lab: routes only. Pages draw (dashboard/pages), components hold widgets."""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run dashboard/app.py` puts only dashboard/ on the path
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

st.set_page_config(page_title="RNN vs LSTM Lab", page_icon="🧠", layout="wide")

PAGES = Path(__file__).resolve().parent / "pages"
# Material icons: they come with Streamlit's own font, so they show where no emoji font is installed.
nav = st.navigation([
    st.Page(PAGES / "train.py", title="Train side by side", icon=":material/compare_arrows:",
            url_path="train", default=True),
    st.Page(PAGES / "gradients.py", title="Gradients through time", icon=":material/trending_down:",
            url_path="gradients"),
    st.Page(PAGES / "inside.py", title="Inside the LSTM", icon=":material/biotech:", url_path="inside"),
    st.Page(PAGES / "sweep.py", title="Sweep sequence length", icon=":material/show_chart:", url_path="sweep"),
])
nav.run()
