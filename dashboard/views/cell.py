"""The cell, drawn live: the explainer's LSTM diagram with a trained model's numbers at step t, the
GRU and the vanilla RNN beside it, and the gradient along the belt measured."""
import streamlit as st

from dashboard.components import cell

st.title("The cell, drawn live")
st.markdown("The explainer's picture of the LSTM cell, with the numbers a trained model computes at one step of "
            "its input: the gates, what the forget gate keeps of the old cell, what the input gate writes, the new "
            "cell and what the output gate lets out. The GRU and the vanilla RNN are drawn the same way below it. "
            "Step through the input with the buttons or the slider, or play it.")

cell.read_link()
name = cell.source_picker()
found, job = cell.runs(name)
if "lstm" not in found:
    cell.bad_links()
    st.info("This experiment's LSTM is not in the run store yet: open the tour once to train it.")
    st.page_link("views/story.py", label="Go to the tour", icon=":material/menu_book:")
    st.stop()
cell.origin_line(found)
task = cell.task_of(found)
x, words = cell.input_picker(task)
cell.step_picker_link(len(words))
cell.bad_links()
unit = cell.unit_picker(found["lstm"].config.model.hidden_size)
# a fragment with a timer only while playing, which a click starts once the page is drawn
cell.live(found, x, words, unit)

st.subheader("The mechanism, measured")
st.markdown(r"Along the cell state alone, $\partial c_t / \partial c_{t-1} = f_t$: a gradient carried back k steps on the belt is "
            "multiplied by k forget gates. Here that prediction, from the gates, beside the gradient measured "
            "through every path, for three starts of the forget gate; and the cell of the 1997 LSTM, which has "
            "no forget gate and can only add.")
cell.mechanism()
if job is not None:  # a fragment on a timer: after every other element
    cell.wait_for(job)
