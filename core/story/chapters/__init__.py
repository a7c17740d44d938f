"""The tour's chapters, one module each (a `CHAPTER = Chapter(...)`, core.story.base), found here by
their module and ordered by their number: a new chapter is a new module and its test. The numbers
must run 1, 2, ... without a gap or a repeat, and each key is one chapter's."""
from __future__ import annotations

import importlib
import pkgutil

from core.story.base import Chapter


def discover(path, package: str) -> tuple[Chapter, ...]:
    """The CHAPTER of every module of `package` (whose folders are `path`), in chapter order."""
    found = []
    for info in pkgutil.iter_modules(path):
        module = importlib.import_module(f"{package}.{info.name}")
        chapter = getattr(module, "CHAPTER", None)
        if not isinstance(chapter, Chapter):
            raise TypeError(f"{module.__name__} has no CHAPTER = Chapter(...)")
        found.append(chapter)
    return check(found)


def check(chapters: list[Chapter]) -> tuple[Chapter, ...]:
    """The chapters in their order, once their numbers run 1..N and their keys are unique."""
    chapters = sorted(chapters, key=lambda c: c.number)
    numbers, keys = [c.number for c in chapters], [c.key for c in chapters]
    if numbers != list(range(1, len(chapters) + 1)):
        raise ValueError(f"chapter numbers must run 1..{len(chapters)} once each, not {numbers}")
    if len(set(keys)) != len(keys):
        raise ValueError(f"two chapters share a key: {keys}")
    return tuple(chapters)


CHAPTERS = discover(__path__, __name__)
BY_NUMBER = {c.number: c for c in CHAPTERS}

__all__ = ["CHAPTERS", "BY_NUMBER", "check", "discover"]
