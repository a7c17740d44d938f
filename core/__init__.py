"""RNN vs LSTM Lab: the library. Importing any part of it fills the registries of tasks and model
kinds (core.registry), which the configs read for their choices."""
from core import models as _models, seq2seq as _seq2seq, tasks as _tasks  # noqa: F401 - registering is their import's work
