"""The story: the LSTM explainer's claims, chapter by chapter, told with models trained here."""
import streamlit as st

from dashboard.components import story

st.title("The story: why LSTMs remember what RNNs forget")
st.markdown("A tour of the classic LSTM explainer. Each chapter states one of its claims, then shows what "
            "small models trained on this machine actually did: the numbers and the verdict are computed from "
            "them, and where the claim does not hold here, the chapter says so. Each chapter ends with a link "
            "that opens its experiment in the lab.")
story.conventions()  # how the tour counts time steps and words, said once

chapter = story.chapter_picker()
story.start(chapter)  # the runs this page needs: from the run store, or trained in the background
# The chapter is drawn into its place above the report but last in the script: a chapter whose runs
# train draws their live curves in a fragment, and a fragment that reruns on a timer must come after
# every other element, or a timer firing during the page's first (slow, cold-import) run can address
# an element that the browser has not got yet ("Bad delta path index": a blank page, seen in 1 of 3
# fresh loads).
chapter_area, report_area = st.container(), st.container()


def report() -> None:
    with report_area:
        story.export_tour()
        if story.complete():
            st.caption(story.complete_line())


training = story.pending()
if training:  # drawn before the chapter, whose live curves are a fragment (see above)
    report()
with chapter_area:
    story.show(chapter)
story.start(read=False)  # the other chapters' runs: trained if missing, read when their chapter is shown
if not training:  # nothing trains here: no fragment on the page, and the report sees every run read above
    report()
story.progress()  # every chapter's progress, redrawn on its own while runs train
