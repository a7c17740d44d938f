"""The registries: the task classes (`TASKS`) and the model kinds (`MODELS`), by name.

The one module below every other. core.tasks and core.models fill it (`register`) when they are
imported, and `core/__init__.py` imports both, so whoever imports anything of the lab finds them
filled; core.config reads them for its choices (task names, model kinds, their titles and starts)
without importing the modules that define them. So the imports form a tree: config knows the
registries, tasks and models know config, and nothing points back.
"""
from __future__ import annotations

from typing import Any

TASKS: dict[str, Any] = {}  # name -> Task class, in the order tasks are offered (core.tasks.base)
MODELS: dict[str, Any] = {}  # key -> Kind (core.models)
# a task's output kind -> the model class built for it when it is not the one-label SeqModel
# ("sentence" -> core.seq2seq.Seq2Seq, an encoder-decoder)
ARCHITECTURES: dict[str, Any] = {}

__all__ = ["TASKS", "MODELS", "ARCHITECTURES"]
