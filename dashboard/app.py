"""RNN vs LSTM Lab: routes only. Pages draw (dashboard/pages), components hold widgets."""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run dashboard/app.py` puts only dashboard/ on the path
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

st.set_page_config(page_title="RNN vs LSTM Lab", page_icon="🧠", layout="wide")

PAGES = Path(__file__).resolve().parent / "pages"
nav = st.navigation([
    st.Page(PAGES / "train.py", title="Train side by side", icon="🏁", url_path="train", default=True),
    st.Page(PAGES / "gradients.py", title="Gradients through time", icon="📉", url_path="gradients"),
    st.Page(PAGES / "inside.py", title="Inside the LSTM", icon="🔬", url_path="inside"),
    st.Page(PAGES / "sweep.py", title="Sweep sequence length", icon="📈", url_path="sweep"),
])
nav.run()
