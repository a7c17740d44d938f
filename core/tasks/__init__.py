"""The tasks, with the data they read: a registry of classes (`TASKS`, built by `@register`).

- base.py: the Task interface, the registry and `make_task`;
- synthetic.py: the long-dependency tasks (first_token, adding, temporal_order, sentiment_but);
- real.py: the explainer's real examples (weather, stocks) and the series they read offline;
- any other module here: found and imported below, after those (a new task is one module and its test).

Tasks are offered in the order they register: synthetic.py's, real.py's, then the other modules' by
name. The real-data chapter's four checks, computed from trained runs, build on the probes: they live
with the story (core/story/realdata.py), a layer above.
"""
import importlib
import pkgutil

from core.tasks.base import EVAL_SEED, EVAL_SIZE, TASKS, Task, make_task, register, task_names
from core.tasks.synthetic import Adding, FirstToken, SentimentBut, TemporalOrder, tokenize
from core.tasks.real import Stocks, Weather

for _info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if _info.name not in ("base", "synthetic", "real"):
        importlib.import_module(f"{__name__}.{_info.name}")

__all__ = ["EVAL_SEED", "EVAL_SIZE", "TASKS", "Task", "make_task", "register", "task_names", "Adding",
           "FirstToken", "SentimentBut", "TemporalOrder", "tokenize", "Stocks", "Weather"]
