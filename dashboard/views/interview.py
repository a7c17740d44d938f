"""Interview mode: the explainer's interview questions, predict first, then see what the lab's models did."""
import streamlit as st

from dashboard.components import interview
from dashboard.components import story as tour

st.title("Interview mode: predict, then see")
st.markdown("The explainer's interview questions (why LSTMs beat RNNs, each gate, the formulas, the forget gate, "
            "real-world uses), asked as predictions. Commit your answer first; then the lab shows the answer "
            "measured in its own trained models, beside yours, with two sentences to say in an interview, worded "
            "from those numbers.")

interview.start()  # the tour's runs: from the run store, or training in the background
question = interview.picker()
# The question is drawn into its place above the links but last in the script: while its runs train it
# draws their live curves in a fragment, and a fragment on a timer must come after every other element
# (views/story.py says why).
question_area = st.container()
interview.links()
interview.score()
with question_area:
    interview.show(question)
tour.progress()  # redrawn on its own while the runs train
