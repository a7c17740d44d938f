"""Train side by side: the experiment controls, live training, verdicts and the explainer."""
import streamlit as st

from dashboard.components import controls, explainer, export, own_data, seeds, training
from dashboard.components.plain import md

st.title("Train a vanilla RNN and an LSTM side by side")

# Before any widget: read the link once, and on the first open train the default experiment
# (unless it is already known) so that the controls below are drawn disabled while it trains.
controls.init()
first_cfg, _ = controls.current()
training.autostart(first_cfg, is_default=first_cfg == controls.DEFAULT)

own_data.panel(busy=training.busy())  # before the sidebar: a file just chosen sets the task
cfg = controls.sidebar(busy=training.busy(), actions=controls.Actions(
    train=training.start, stop=training.request_stop, step=training.step, pause=training.toggle_pause,
    reset=training.reset, more=training.continue_for, paused=training.paused(),
    can_continue=training.can_continue(controls.current()[0])))
controls.show_link_problems()  # refused link values, as text
if cfg is not None:
    line = controls.describe(cfg)
    st.caption(md(line) if cfg.task.data else line)  # the learner's file names columns: text, never Markdown

# The explainer sits below the run but is drawn first: the run's polling fragments must come last in
# the script, or a timer firing during a slow first run can address elements the browser has not got
# yet (a blank page; see views/story.py).
run_area, seeds_area, explain_area = st.container(), st.container(), st.container()
shown = None if training.busy() else training.lookup(cfg)
with explain_area:
    explainer.panel(cfg, shown.result if shown else None)
with run_area:
    training.panel(cfg)  # the run in progress (fragments that poll its job) or the known result
    if shown is not None:  # a finished run is on screen: offer its report
        export.export_report(shown.result, key="train-export")
with seeds_area:  # the experiment from several seeds (a fragment that polls its job while it trains)
    seeds.panel(cfg, busy=training.busy())
