"""Train side by side: the experiment controls, live training, verdicts and the explainer."""
import streamlit as st

from dashboard.components import controls, explainer, training

st.title("Train a vanilla RNN and an LSTM side by side")

# Before any widget: read the link once, and on the first open train the default experiment
# (unless it is already known) so that the controls below are drawn disabled while it trains.
controls.init()
first_cfg, _ = controls.current()
training.autostart(first_cfg, is_default=first_cfg == controls.DEFAULT)

cfg = controls.sidebar(busy=training.busy(), on_train=training.start, on_stop=training.request_stop)
for msg in controls.link_problems():
    st.warning(msg)
st.caption(controls.describe(cfg) if cfg else "")

main, side = st.columns([5, 2], gap="large")
with side:
    shown = training.lookup(cfg) if not training.busy() else None
    explainer.panel(cfg, shown.result if shown else None)
with main:
    training.panel(cfg)
