"""The Task interface and the registry every task joins with `@register`.

Everything the lab knows about a task lives on its class: name, title, metric, chance (and, for
real data, the other baselines), target, the sequence-length bounds, the training steps the
dashboard suggests, how a verdict words its goal and the explainer's sentence about it. `TASKS`
is the registry built from the classes: adding a task is a new class and its test, nothing else.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import torch
import torch.nn.functional as F

from core import registry
from core.config import ConfigError
from core.config import task_names  # noqa: F401 (re-exported: the names config offers)

if TYPE_CHECKING:  # type hints only
    from core.config import TaskConfig

EVAL_SEED = 1_234_567  # held-out data: fixed, independent of the run seed
EVAL_SIZE = 512


class Task:
    name: ClassVar[str]
    title: ClassVar[str]
    metric: ClassVar[str]  # "accuracy" (higher is better) or "mse" (lower is better)
    min_seq_len: ClassVar[int] = 2
    # The longest window the task's data can hold (None: only the config field's bound); real
    # series are finite, and `seq_len_note` says why in the one-line error.
    max_seq_len: ClassVar[int | None] = None
    seq_len_note: ClassVar[str] = ""
    seq_len_unit: ClassVar[str] = "steps"  # what T counts: "days", "months" (axis titles, help)
    input_kind: ClassVar[str] = "tokens"  # or "continuous"
    # "label": one answer read at the last step (core.models.SeqModel); "sentence": a sequence of
    # tokens written by a decoder (core.seq2seq.Seq2Seq, core.tasks.sentences)
    output_kind: ClassVar[str] = "label"
    # Training steps the dashboard suggests (docs/calibration.md): enough for the chrono LSTM to
    # reach the target at T <= 100 with the default learning rate.
    suggested_steps: ClassVar[int] = 500
    # How a verdict words the goal, with {T}: (what the model had to do, what it did).
    goal: ClassVar[tuple[str, str]] = ("solve the task over {T} steps", "solved the task over {T} steps")
    # The explainer's sentence about the task; {T}, {n} (= T-1), {K} and {chance} are filled in.
    story: ClassVar[str] = ""
    # How verdicts and charts name the chance baseline ("persistence forecast" for the weather).
    chance_name: ClassVar[str] = "chance"
    metric_unit: ClassVar[str] = ""  # unit of an MSE as users read it ("°C²"); "" for none
    metric_format: ClassVar[str] = ".4f"  # how an MSE is printed
    reads_text: ClassVar[bool] = False  # a sentence typed by the user can be read (encode_text)
    own_data: ClassVar[bool] = False  # reads a learner's CSV named by the config's `data` (core.owndata)

    def __init__(self, cfg: TaskConfig):
        self.cfg = cfg
        self.seq_len = cfg.seq_len

    @classmethod
    def check_config(cls, cfg: TaskConfig) -> None:
        """What only the task can check in a config whose fields passed their rules (ConfigError, one
        line): here, that a task of the lab's own data is given no file."""
        if cfg.data or cfg.column or cfg.date_column:
            raise ConfigError(f"{cls.name} reads no file of yours: data, target and date are for the "
                              "own_series and own_text tasks")

    @property
    def notes(self) -> tuple[str, ...]:
        """What was done to the task's data that a user should hear of (missing values filled, words
        unknown to the training rows), one line each."""
        return ()

    def data_words(self) -> str:
        """Whose data this is, for captions and reports: '' for the lab's own."""
        return ""

    # --- what a model needs to know -----------------------------------------------------
    @property
    def input_size(self) -> int:
        return len(self.vocab) if self.input_kind == "tokens" else self.n_channels

    @property
    def output_size(self) -> int:
        return self.n_classes if self.metric == "accuracy" else 1

    vocab: list[str] = []
    n_classes: int = 0
    n_channels: int = 0
    class_names: list[str] = []

    # --- data --------------------------------------------------------------------------
    def sample(self, batch_size: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def eval_batch(self, n: int = EVAL_SIZE) -> tuple[torch.Tensor, torch.Tensor]:
        gen = torch.Generator().manual_seed(EVAL_SEED + self.seq_len)
        return self.sample(n, gen)

    def info_mask(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T) bool: the positions whose content decides the answer."""
        raise NotImplementedError

    def to_units(self, v: torch.Tensor) -> torch.Tensor:
        """A model's regression output (or a target) in the units a user reads: identity for the
        synthetic tasks; real-data tasks train on standardised values and undo that here."""
        return v

    # --- scoring -----------------------------------------------------------------------
    @property
    def chance(self) -> float:
        """The declared baseline: what a model that ignores the input scores."""
        raise NotImplementedError

    def baselines(self) -> dict[str, float]:
        """Every baseline worth drawing beside the models, name -> metric; the chance baseline first."""
        return {self.chance_name: self.chance}

    @property
    def higher_is_better(self) -> bool:
        return self.metric == "accuracy"

    @property
    def target(self) -> float:
        """99% of the task's best: accuracy 0.99, or an MSE of 1% of the chance baseline."""
        return 0.99 if self.metric == "accuracy" else 0.01 * self.chance

    def reached(self, metric: float) -> bool:
        return metric >= self.target if self.higher_is_better else metric <= self.target

    def outputs(self, model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """A model's outputs for a batch: with y, as it trains (a decoder is fed the true words:
        teacher forcing); without, as it is evaluated. One label read at the last step ignores y."""
        return model(x)

    def extra_scores(self, out: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
        """Scores reported beside the metric at every evaluation (a sentence's exact match); none here."""
        return {}

    def loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if self.metric == "accuracy":
            return F.cross_entropy(out, y)
        return F.mse_loss(out.squeeze(-1), y)

    def score(self, out: torch.Tensor, y: torch.Tensor) -> float:
        """The metric in the units a user reads (an MSE of values `to_units` gives)."""
        if self.metric == "accuracy":
            return (out.argmax(-1) == y).double().mean().item()
        return F.mse_loss(self.to_units(out.squeeze(-1)), self.to_units(y)).item()

    def value_words(self, v: float) -> str:
        """A value of the metric as verdicts print it: '0.0123', or with the task's unit '7.81 °C²'."""
        if self.metric == "accuracy":
            return f"{v:.0%}"
        return f"{v:{self.metric_format}}" + (f" {self.metric_unit}" if self.metric_unit else "")

    def chance_words(self) -> str:
        """'chance 12.5%', 'chance 0.167', 'persistence forecast 8.45 °C²'."""
        return f"chance {self.chance:.1%}" if self.metric == "accuracy" else f"chance {self.chance:.3f}"

    # --- words -------------------------------------------------------------------------
    def goal_words(self) -> tuple[str, str]:
        """(what a model had to do, what it did), for verdicts."""
        return tuple(g.format(T=self.seq_len) for g in self.goal)  # type: ignore[return-value]

    def story_text(self) -> str:
        """The explainer's sentence about this task at this length."""
        chance = f"{self.chance:.1%}" if self.metric == "accuracy" else f"{self.chance:.3f}"
        return self.story.format(T=self.seq_len, n=self.seq_len - 1, K=self.cfg.n_symbols, chance=chance)

    # --- display -----------------------------------------------------------------------
    def render(self, x: torch.Tensor) -> list[list[str]]:
        """Display names of each example's inputs, one string per time step."""
        return [[self.vocab[int(i)] for i in row] for row in x]

    def label_name(self, y: torch.Tensor | int | float) -> str:
        if self.metric == "accuracy":
            return self.class_names[int(y)]
        return f"{float(y):.3f}"

    def showcase(self, n: int = 4) -> tuple[torch.Tensor, torch.Tensor]:
        """A few held-out examples with different labels where possible, for traces."""
        x, y = self.eval_batch()
        if self.metric != "accuracy":
            return x[:n], y[:n]
        picked: list[int] = []
        for c in range(self.n_classes):  # one per class first, then fill in order
            hits = (y == c).nonzero().flatten()
            if len(hits) and len(picked) < n:
                picked.append(int(hits[0]))
        for i in range(len(y)):
            if len(picked) >= n:
                break
            if i not in picked:
                picked.append(i)
        idx = torch.tensor(sorted(picked))
        return x[idx], y[idx]


TASKS: dict[str, type[Task]] = registry.TASKS  # name -> class, in the order tasks are offered


def register(cls: type[Task]) -> type[Task]:
    """Add a task class to the registry (the CLI, the sidebar and verdicts read it from there)."""
    TASKS[cls.name] = cls
    return cls


def make_task(cfg: TaskConfig) -> Task:
    return TASKS[cfg.name](cfg)
