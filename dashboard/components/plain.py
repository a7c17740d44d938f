"""Outside text on a page, as text: the one escape of the dashboard.

Everything a page did not write itself (a URL value, a typed box, a file, a row of the run store, the
shipped reference, an error message that quotes any of them) goes through `md()` before it reaches
st.markdown, st.warning, st.caption and the other elements that read Markdown. `md()` puts a
backslash before every character Markdown, Streamlit's Markdown extensions (math, colours, icons) or
HTML give a meaning to, so the text shows as typed: `[x](http://ev.il)` is no link, `![x](...)`
fetches nothing, a backtick opens no code span, `<b>` is no tag, `$x$` no formula. CommonMark lets
any ASCII punctuation be escaped this way and shows the character alone.

`echo()` is how a refused value is quoted in a message: one line (control characters spelled out)
and cut after ECHO_CHARS characters with its whole length said, so a 5,000-character value costs a
short line. A message that
quotes it is plain text; the page escapes the whole message with `md()`.
"""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent  # the project's folder
ECHO_CHARS = 60  # a refused value is quoted up to this many characters, then "… (N characters)"
# Every ASCII punctuation character that Markdown (CommonMark + GFM: emphasis, code, links, images,
# autolinks, tables, strike-through, lists, headings, entities), Streamlit's extensions (`$` math,
# `:red[...]` colours, `:material/...:` icons) or HTML can read as syntax.
SPECIAL = frozenset("\\`*_{}[]()<>#+-.!|~$:&@")


def _folders() -> tuple[tuple[str, str], ...]:
    """The server's own folders, as a page names them instead (longest first)."""
    from core.shipped import default_folder
    from core.store import default_dir

    named = [(default_dir(), "LAB_DATA_DIR"), (default_folder(), "LAB_REFERENCE"), (ROOT, "the lab")]
    out = {}
    for path, name in named:
        if path is not None:
            for p in {str(path), str(Path(path).resolve())}:
                out.setdefault(p, name)
    return tuple(sorted(out.items(), key=lambda kv: -len(kv[0])))


# GFM turns a bare address into a link after the escapes are read (a find-and-replace on the text:
# `https://...`, `www.`, `name@host`), so a backslash cannot stop it. An invisible zero-width space
# after `://`'s colon, after `www` and after `@` does: the text reads the same and links nowhere. md()
# spells out any zero-width space of the value itself (it is not printable), so every one in its
# output is its own and unescape() takes them out.
NO_LINK = "\u200b"
AUTOLINK = re.compile(r"(?<=:)(?=//)|(?<=[wW]{3})(?=\.)|(?<=@)")


def md(value: object) -> str:
    """`value` as text that every Markdown element of Streamlit shows literally: each special
    character backslash-escaped. Control characters (a newline) are spelled out, so it stays one
    line; the server's folders (an error about the run store names its file) are named by what
    sets them (LAB_DATA_DIR, LAB_REFERENCE), never spelled out."""
    text = "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in str(value))
    for path, name in _folders():
        text = text.replace(path, name)
    text = AUTOLINK.sub(NO_LINK, text)
    return "".join("\\" + c if c in SPECIAL else c for c in text)


def unescape(escaped: str) -> str:
    """The text `md()` was given (after its control characters were spelled out): what a reader of
    the page sees. For tests and for checking that nothing was lost."""
    escaped = escaped.replace(NO_LINK, "")  # md() spells out any of the original's: these are its own
    out, i = [], 0
    while i < len(escaped):
        if escaped[i] == "\\" and i + 1 < len(escaped) and escaped[i + 1] in SPECIAL:
            i += 1
        out.append(escaped[i])
        i += 1
    return "".join(out)


def echo(raw: object, limit: int = ECHO_CHARS) -> str:
    """A refused value as the user sent it, on one line: control characters spelled out, cut after
    `limit` characters ("…" and the whole length mark the cut). Plain text: escape the message that
    holds it with md()."""
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(raw).strip())
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters)"


__all__ = ["md", "unescape", "echo", "ECHO_CHARS", "SPECIAL"]
