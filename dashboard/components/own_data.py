"""Your own data on the Train page: a CSV upload, checked and kept in the data folder by its content
hash (core.owndata), then offered as the task own_series (a column to forecast, optionally dated by
another) or own_text (columns text,label).

This component owns the upload's widget keys and `controls.OWN_DATA`, the task fields of the file
(data, column, date_column) that `controls.current()` puts into the config. It is drawn before the
sidebar, as choosing a file sets the task and brings T into what the file holds. Every message that
quotes the file (its name, a column, a value) is escaped as text (plain.md).
"""
from __future__ import annotations

import streamlit as st

from core import owndata
from core.config import ConfigError, RunConfig, TaskConfig, validate
from core.tasks import TASKS, make_task
from dashboard.components.controls import OWN_DATA
from dashboard.components.plain import md

UPLOAD, TARGET, DATE = "own-upload", "own-target", "own-date"
ROW_ORDER = "(the rows' own order)"
HELP = (f"A series (a column of numbers, optionally a date column) or labelled sentences (columns text,label), at "
        f"most {owndata.MAX_BYTES / 1e6:g} MB of UTF-8 CSV. The last {owndata.HELD_OUT_SHARE:.0%} of the rows are "
        "held out. The file is kept in the lab's data folder under its hash and sent nowhere.")
DATE_WORDS = ("date", "time", "day", "month", "year", "timestamp")


def _series_fields(t: owndata.Table, busy: bool) -> dict | None:
    """The column to forecast and the date column, chosen among the file's columns."""
    numeric = list(owndata.numeric_columns(t))
    if not numeric:
        st.error(md("Refused: no numeric column: a series needs a column of numbers (or columns text,label for "
                    "labelled sentences)."))
        return None
    c1, c2 = st.columns(2)
    target = c1.selectbox("Column to forecast", numeric, index=len(numeric) - 1, key=TARGET, disabled=busy,
                          help="The model forecasts this column's next value; every numeric column is an input.")
    dates = [ROW_ORDER] + [c for c in t.columns if c != target]
    guess = next((i for i, c in enumerate(dates) if c.strip().lower() in DATE_WORDS), 0)
    date = c2.selectbox("Date column", dates, index=guess, key=DATE, disabled=busy,
                        help="Orders the rows; the last rows by date are held out. Dates must be unique and sorted.")
    return {"name": "own_series", "column": target, "date_column": "" if date == ROW_ORDER else date}


def panel(busy: bool) -> None:
    """The upload, its checks (one line each) and what was done to the file."""
    own = TASKS.get(st.session_state.get("task"), None)
    with st.expander("Your own data: a CSV file", expanded=bool(own is not None and own.own_data)):
        # the browser refuses a file over the limit (rounded up to MB) before sending it; check_table, exactly
        up = st.file_uploader("CSV file", type=["csv"], key=UPLOAD, disabled=busy, help=HELP,
                              max_upload_size=-(-owndata.MAX_BYTES // 1_000_000))
        if up is None:
            st.session_state.pop(OWN_DATA, None)
            return
        raw = up.getvalue()
        try:
            table = owndata.check_table(raw)
        except owndata.DataError as e:
            st.session_state.pop(OWN_DATA, None)
            st.error(md(f"Refused {owndata.quoted(up.name)}: {e}."))
            return
        cols = {c.lower() for c in table.columns}
        fields = ({"name": "own_text", "column": "", "date_column": ""} if {"text", "label"} <= cols
                  else _series_fields(table, busy))
        if fields is None:
            st.session_state.pop(OWN_DATA, None)
            return
        fields["data"] = owndata.save(raw, up.name)
        _use(fields)


def _use(fields: dict) -> None:
    """Check the file as the task reads it; on success make it the experiment's task."""
    task = TaskConfig(name=fields["name"], seq_len=2, data=fields["data"], column=fields["column"],
                      date_column=fields["date_column"])
    try:
        validate(RunConfig(task=task))
    except ConfigError as e:
        st.session_state.pop(OWN_DATA, None)
        st.error(md(f"Refused: {e}."))
        return
    new = st.session_state.get(OWN_DATA) != fields  # a file (or column) just chosen: it becomes the task
    st.session_state[OWN_DATA] = fields
    shown = make_task(task)
    st.success(md(f"Using {shown.data_words()}."))
    for note in shown.notes:
        st.info(md(note[:1].upper() + note[1:] + "."))
    if new:
        st.session_state["task"] = fields["name"]
        seq = st.session_state.get("seq_len")
        longest = owndata.max_window(len(shown.series.raw)) if fields["name"] == "own_series" else None
        if longest is not None and isinstance(seq, int) and seq > longest:
            st.session_state["seq_len"] = longest


__all__ = ["panel", "UPLOAD", "TARGET", "DATE"]
