"""The tasks, with the data they read: a registry of classes (`TASKS`, built by `@register`).

- base.py: the Task interface, the registry and `make_task`;
- synthetic.py: the long-dependency tasks (first_token, adding, temporal_order, sentiment_but);
- real.py: the explainer's real examples (weather, stocks) and the series they read offline.

The order of the imports below is the order tasks are offered in. The real-data chapter's four
checks, computed from trained runs, build on the probes: they live with the story
(core/story/realdata.py), a layer above.
"""
from core.tasks.base import EVAL_SEED, EVAL_SIZE, TASKS, Task, make_task, register, task_names
from core.tasks.synthetic import Adding, FirstToken, SentimentBut, TemporalOrder, tokenize
from core.tasks.real import Stocks, Weather

__all__ = ["EVAL_SEED", "EVAL_SIZE", "TASKS", "Task", "make_task", "register", "task_names", "Adding",
           "FirstToken", "SentimentBut", "TemporalOrder", "tokenize", "Stocks", "Weather"]
