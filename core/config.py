"""Experiment configuration: three dataclasses, validated once at the edge, saved with every run.

Each field carries its own rule (`whole`, `real`, `choice`: bounds, choices, help line, CLI flag,
and how people see it: widget label, longer help, the word in the experiment's one-line caption)
in its metadata: that is the one home of a field. The CLI flags and help, the dashboard's widgets,
URL keys and caption, validation and the sweep all read it from there (`rule(section, name)`,
`controls()`): a field with a `label` gets a widget and a URL key without touching the dashboard.

A run is identified by the hash of its config (`config_hash`). The device is left out of the
hash: it changes where a run happens, not what experiment it is. A field added after the hash was
defined (not in HASHED_V1) counts only when it differs from its default, so adding a field with a
default keeps every stored run's hash.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from core import owndata
from core.registry import MODELS, TASKS

# The starts each model kind offers (a config's choices; core.models implements them).
FORGET_INITS = ("zero", "one", "chrono", "none")  # LSTM forget-gate bias; none: the 1997 LSTM, f_t = 1
RNN_INITS = ("default", "orthogonal", "irnn")  # vanilla RNN
GRU_INITS = ("default", "chrono")  # GRU update-gate bias
# the 1997 LSTM's (forget_init "none") input- and output-gate biases: paper (Hochreiter & Schmidhuber 1997's
# negative gate biases against internal state drift) or zero (every gate bias 0)
GATE_STARTS = ("paper", "zero")
# encoder-decoder (core.seq2seq): the decoder's look back at the encoder's states; dot: Luong et al.
# 2015's global attention with the dot score, read after each decoder step
ATTENTIONS = ("none", "dot")
YES_NO = ("no", "yes")


def task_names() -> tuple[str, ...]:
    return tuple(TASKS)


def model_kinds() -> tuple[str, ...]:
    return tuple(MODELS)


def init_of(kind: str, cfg: "ModelConfig") -> str | None:
    """The initialisation a kind gets from a config ("irnn", "chrono", ...), None if it has no choice."""
    f = MODELS[kind].init_field
    return getattr(cfg, f) if f is not None else None

OPTIMIZERS = ("adam", "sgd", "rmsprop")
DEVICES = ("auto", "cpu", "cuda")


class ConfigError(ValueError):
    """A configuration value is out of range; the message is one line meant for a person."""


# --- the rule of a field -----------------------------------------------------------------------
@dataclass(frozen=True)
class Rule:
    """What values a config field takes, and how the CLI names and explains it."""

    kind: str  # "int", "float", "choice" or "text"
    help: str
    lo: float = 0
    hi: float = 0
    lo_open: bool = False  # float: lo itself is not allowed
    choices: Callable[[], tuple[str, ...]] | None = None  # read when checked: registries can grow
    flag: str | None = None  # CLI flag name when it differs from the field's
    ui_lo: float | None = None  # a tighter lower bound for the dashboard's widget
    only_for: tuple[str, ...] | None = None  # model kinds this field affects (None: all)
    # how people see it (the dashboard reads these; the CLI reads help and flag)
    label: str | None = None  # the widget's title: a field with a label is a control (widget + URL key)
    explain: str | None = None  # the widget's longer help (default: help)
    word: str | None = None  # the field in the experiment's one-line caption: "T = {v}", "{title}"
    titles: Callable[[str], str] | None = None  # how a choice is shown ("chrono" -> "chrono (Tallec ...)")
    ui_step: float | None = None  # the number widget's step
    slider: bool = False  # a slider instead of a number box
    pattern: str | None = None  # text: the whole value must match this regular expression
    bare: str | None = None  # choice: the value the CLI flag means when given alone (`--attention`)
    sentence_only: bool = False  # read only for tasks whose answer is a sentence (an encoder-decoder)
    # read only when another field of the same section has this value: ("forget_init", "none")
    only_when: tuple[str, str] | None = None

    def applies(self, sec: Any) -> bool:
        """Whether a section's values make this field count (its `only_when` holds)."""
        return self.only_when is None or getattr(sec, self.only_when[0], None) == self.only_when[1]

    def shown(self, v: Any) -> str:
        return self.titles(v) if self.titles is not None and isinstance(v, str) else str(v)

    def check(self, name: str, v: Any) -> Any:
        if self.kind == "int":
            return _int(name, v, int(self.lo), int(self.hi))
        if self.kind == "float":
            return _float(name, v, self.lo, self.hi, self.lo_open)
        if self.kind == "text":
            return _text(name, v, self.pattern)
        return _choice(name, v, self.choices() if self.choices else ())


def whole(lo: int, hi: int, help: str, **kw: Any) -> dict:
    return {"rule": Rule("int", help, lo, hi, **kw)}


def real(lo: float, hi: float, help: str, **kw: Any) -> dict:
    return {"rule": Rule("float", help, lo, hi, **kw)}


def text(help: str, pattern: str | None = None, **kw: Any) -> dict:
    return {"rule": Rule("text", help, pattern=pattern, **kw)}


def choice(choices: Callable[[], tuple[str, ...]], help: str, **kw: Any) -> dict:
    return {"rule": Rule("choice", help, choices=choices, **kw)}


MAX_SEQ_LEN = 1000  # a step at T=1000 costs ~0.15 s here; longer runs stop being interactive
MAX_STEPS = 100_000


@dataclass(frozen=True)
class TaskConfig:
    name: str = field(default="first_token", metadata=choice(
        task_names, "task", flag="task", label="Task", word="{title}", titles=lambda n: TASKS[n].title,
        explain="What the models must learn, always with the key information far from the answer: recall the "
                "first symbol; add two marked numbers; tell the order of X and Y; read a review's sentiment "
                "when a late 'but' turns it round; or forecast on real data: tomorrow's high in Seattle, a "
                "stock's next monthly return."))
    # the RNN stays at chance at T=100 (at T=50 it still learns, slowly); ~15 s to train
    seq_len: int = field(default=100, metadata=whole(
        2, MAX_SEQ_LEN, "sequence length T", ui_lo=5, label="Sequence length T", word="T = {v}", slider=True,
        explain="Time steps between the information and the question. Longer sequences are harder to "
                "remember and slower to train."))
    n_symbols: int = field(default=8, metadata=whole(2, 64, "first_token: number of signal symbols K (chance 1/K)"))
    n_distractors: int = field(default=8, metadata=whole(1, 64, "first_token: number of distractor symbols D"))
    # A learner's own CSV (own_series, own_text): the file by its content hash (core.owndata keeps it in
    # the data folder under that name), the column a series forecasts and the column that dates its rows.
    data: str = field(default="", metadata=text(
        "own_series, own_text: a CSV kept in the data folder, by its hash (train --csv FILE keeps it and sets this)",
        pattern=owndata.HASH_PATTERN.pattern, word="data file {v}"))
    column: str = field(default="", metadata=text("own_series: the column to forecast", flag="target",
                                                   word="forecasting column {v}"))
    date_column: str = field(default="", metadata=text("own_series: the column of dates that orders the rows "
                                                        "(empty: the rows' own order)", flag="date",
                                                        word="rows dated by {v}"))


@dataclass(frozen=True)
class ModelConfig:
    hidden_size: int = field(default=64, metadata=whole(1, 1024, "hidden units per model", label="Hidden size",
                                                        word="hidden {v}", ui_step=16,
                                                        explain="Units in each model's hidden state."))
    # chrono (Tallec & Ollivier 2018) sets b_f = log U(1, T-1), b_i = -b_f. Measured here: with
    # PyTorch's default (zero) or forget bias 1 the LSTM did not learn first_token at T>=50 in
    # 2,000 steps; with chrono it did in a few hundred. It is a visible control, not a hidden trick.
    forget_init: str = field(default="chrono", metadata=choice(
        lambda: FORGET_INITS, "LSTM forget-gate bias init: zero (PyTorch), one (Gers 2000), chrono (Tallec 2018), "
        "none (the 1997 LSTM: no forget gate, f_t = 1 for the whole run)",
        only_for=("lstm",), label="LSTM forget-gate init", word="LSTM forget-gate init {v}",
        titles=lambda v: {"zero": "zero (PyTorch default)", "one": "one (Gers et al.)",
                          "chrono": "chrono (Tallec & Ollivier)", "none": "none: no forget gate (1997 LSTM)"}.get(v, v),
        explain="How the LSTM's forget-gate bias starts. chrono: the gate starts open (close to 1) for time "
                "scales up to T, so memory survives from the start. With zero or one the LSTM usually cannot "
                "learn T >= 50 in a few hundred steps. none: the 1997 LSTM, whose cell can only add (f_t = 1)."))
    # Hochreiter & Schmidhuber (1997, sec. 4 "internal state drift" and the experiments of sec. 5) start
    # the input gates' and output gates' biases negative (-1, -2, -3, ... per memory cell block), so a
    # cell is written to and read from only once training opens its gates. "paper": b_i = -1, b_o = -2
    # for every unit (the first block's values in their experiments). Read only by the 1997 LSTM.
    gate_start: str = field(default="paper", metadata=choice(
        lambda: GATE_STARTS, "1997 LSTM (forget_init none) input/output gate biases: paper (Hochreiter & "
        "Schmidhuber 1997: b_i = -1, b_o = -2) or zero", only_for=("lstm",), only_when=("forget_init", "none"),
        label="1997 LSTM gate start", word="1997 gate start {v}",
        titles=lambda v: {"paper": "paper (b_i = -1, b_o = -2)", "zero": "zero (all gate biases 0)"}.get(v, v),
        explain="Only for the 1997 LSTM (no forget gate). paper: as Hochreiter & Schmidhuber (1997) did against "
                "internal state drift, the input gates start mostly shut (bias -1) and the output gates too "
                "(bias -2), so the cell, which can only add, is not filled by every input from the first step. "
                "zero: every gate bias starts at 0."))
    # PyTorch's default stays the RNN's default: the lab's RNN is the textbook tanh RNN, and the
    # measured table (docs/calibration_starts.md) says what orthogonal and IRNN starts buy against it.
    rnn_init: str = field(default="default", metadata=choice(
        lambda: RNN_INITS, "vanilla RNN init: default (PyTorch), orthogonal (W_hh orthogonal), "
        "irnn (Le et al. 2015: relu, W_hh = I, zero bias)", only_for=("rnn",), label="Vanilla RNN init",
        word="Vanilla RNN init {v}",
        titles=lambda v: {"default": "default (PyTorch)", "irnn": "IRNN (Le et al.)"}.get(v, v),
        explain="How the vanilla RNN starts. default: PyTorch's small random weights and tanh. orthogonal: the "
                "recurrent matrix is a rotation, so a signal neither shrinks nor grows at the start. IRNN (Le, "
                "Jaitly & Hinton 2015): relu, the recurrent matrix is the identity and the biases zero, so the "
                "state is copied forward unchanged until the input writes to it."))
    # chrono on the update gate z (PyTorch keeps z * h_{t-1}): b_z = log U(1, T-1)
    gru_init: str = field(default="default", metadata=choice(
        lambda: GRU_INITS, "GRU update-gate bias init: default (PyTorch), chrono (b_z = log U(1, T-1))",
        only_for=("gru",), label="GRU init", word="GRU init {v}",
        titles=lambda v: {"default": "default (PyTorch)", "chrono": "chrono (Tallec & Ollivier)"}.get(v, v),
        explain="How the GRU's update gate z starts; z is the share of the old state kept each step. default: "
                "PyTorch's small random bias, so about half is kept per step. chrono: b_z = log u with u between "
                "1 and T-1, so units start keeping their state over 2 to T steps, as the LSTM's chrono forget "
                "gate does."))
    # the two fields below apply to tasks whose answer is a sentence (an encoder-decoder, core.seq2seq)
    attention: str = field(default="none", metadata=choice(
        lambda: ATTENTIONS, "encoder-decoder tasks: none (one vector for the whole sentence) or dot (the "
        "decoder attends to every encoder state, Luong et al. 2015)", bare="dot", sentence_only=True, label="Attention",
        word="attention {v}", titles=lambda v: {"none": "none: one vector", "dot": "dot-product"}.get(v, v),
        explain="Translation and copying only. none: the decoder sees the source only through the encoder's "
                "last state, one vector for the whole sentence. dot: at every output word the decoder scores "
                "each encoder state by a dot product with its own state, and reads their softmax-weighted sum."))
    reverse_source: str = field(default="no", metadata=choice(
        lambda: YES_NO, "encoder-decoder tasks: read the source backwards (Sutskever et al. 2014)", bare="yes",
        sentence_only=True, label="Reverse the source", word="source reversed: {v}",
        explain="Translation and copying only. yes: the encoder reads the source sentence last word first, so "
                "the first words of the source are the last it read, close to the first words the decoder "
                "writes (Sutskever et al. 2014: BLEU 25.9 to 30.6)."))


@dataclass(frozen=True)
class TrainConfig:
    # the chrono LSTM needs 175-425 steps on first_token at T=100 (seeds 0-3)
    steps: int = field(default=500, metadata=whole(
        1, MAX_STEPS, "training steps", label="Training steps", word="{v:,} steps", ui_step=100,
        explain="Batches each model trains on; changing the task sets the steps it needs unless you chose your "
                "own."))
    batch_size: int = field(default=64, metadata=whole(1, 4096, "examples per step", label="Batch size",
                                                       word="batches of {v}", ui_step=16,
                                                       explain="Sequences per training step."))
    lr: float = field(default=3e-3, metadata=real(0.0, 10.0, "learning rate (the same for every model)",
                                                  lo_open=True, ui_lo=1e-6, label="Learning rate",
                                                  word="learning rate {v:g}", ui_step=1e-4,
                                                  explain="The optimizer's step size, the same for every model."))
    optimizer: str = field(default="adam", metadata=choice(lambda: OPTIMIZERS, "adam, sgd or rmsprop",
                                                           word="{title}", titles=str.capitalize))
    clip: float = field(default=1.0, metadata=real(0.0, 1e6, "global gradient-norm clipping (0: off)",
                                                   word="gradient clip {v:g}"))
    eval_every: int = field(default=25, metadata=whole(1, MAX_STEPS, "evaluate on the held-out batch every N steps",
                                                       word="evaluated every {v} steps on a fixed held-out batch"))
    seed: int = field(default=0, metadata=whole(0, 2**31 - 1, "seed of data and weights", label="Seed",
                                                word="seed {v}", ui_step=1,
                                                explain="Seeds the data stream and each model's initial weights. "
                                                        "Same seed, same numbers."))
    device: str = field(default="auto", metadata=choice(lambda: DEVICES, "auto, cpu or cuda"))
    # probes and weights kept at ~10 evenly spaced steps (plus step 0)
    n_checkpoints: int = field(default=10, metadata=whole(1, 100, "checkpoints kept for probes (plus step 0)"))
    # stop a model once it has held the target for this many evals; 0 = never
    patience: int = field(default=0, metadata=whole(
        0, MAX_STEPS, "stop a model after it held the target for N evaluations (0: never)",
        explain="Stop a run once it has held the target for this many evaluations (0: never). On the default "
                "sweep it trains 2.5x fewer steps with the same verdicts."))


SECTIONS = {"task": TaskConfig, "model": ModelConfig, "train": TrainConfig}
# The fields the config hash was defined over. A field not listed here joins the hash only when it
# differs from its default, so adding one leaves every existing configuration's hash as it was.
HASHED_V1 = {
    "task": ("name", "seq_len", "n_symbols", "n_distractors"),
    "model": ("hidden_size", "forget_init"),
    "train": ("steps", "batch_size", "lr", "optimizer", "clip", "eval_every", "seed", "n_checkpoints", "patience"),
}


@dataclass(frozen=True)
class Control:
    """A config field people set in the dashboard: where it lives and its URL key."""

    section: str  # "task", "model" or "train"
    name: str  # the field's name in its dataclass
    key: str  # URL key and widget key: the CLI flag with underscores ("task", "seq_len")
    rule: Rule


def controls() -> tuple[Control, ...]:
    """Every field with a `label`, in declaration order (the task's first: it bounds seq_len)."""
    return tuple(Control(s, f.name, flag_of(s, f.name).replace("-", "_"), f.metadata["rule"])
                 for s, cls in SECTIONS.items() for f in dataclasses.fields(cls)
                 if "rule" in f.metadata and f.metadata["rule"].label)


def words(cfg: "RunConfig") -> list[str]:
    """Each field's word in the experiment's one-line caption, in declaration order; a field only
    one kind of model reads is said when that model is in the run."""
    out = []
    for s, cls in SECTIONS.items():
        sec = getattr(cfg, s)
        for f in dataclasses.fields(sec):
            r = f.metadata.get("rule")
            if r is None or not r.word or (r.only_for and not set(r.only_for) & set(cfg.models)):
                continue
            if r.sentence_only and not sentence_task(cfg.task.name):
                continue
            if not r.applies(sec):
                continue
            v = getattr(sec, f.name)
            if r.kind == "text" and v == "":  # a text field left empty says nothing
                continue
            out.append(r.word.format(v=v, title=r.shown(v)))
    return out


def rule(section: str, name: str) -> Rule:
    """The rule of one field, e.g. rule("task", "seq_len").hi."""
    return next(f.metadata["rule"] for f in dataclasses.fields(SECTIONS[section]) if f.name == name)


def flag_of(section: str, name: str) -> str:
    """The CLI flag of a field, without the dashes: seq_len -> seq-len, TaskConfig.name -> task."""
    return (rule(section, name).flag or name).replace("_", "-")


def sentence_task(task: str) -> bool:
    """Whether a task's answer is a sentence, read by an encoder-decoder (core.seq2seq)."""
    return task in TASKS and TASKS[task].output_kind == "sentence"


def seq_len_range(task: str) -> tuple[int, int]:
    """(lo, hi) of the sequence length for a task: the field's bounds and the task's own minimum
    and, for a real series, the longest window its data can hold."""
    r, cls = rule("task", "seq_len"), TASKS[task]
    hi = int(r.hi) if cls.max_seq_len is None else min(int(r.hi), cls.max_seq_len)
    return max(int(r.lo), cls.min_seq_len), hi


def more_steps(trained: int, more: Any) -> int:
    """The steps in all of a run carried on `more` steps further (the lab's More steps, the CLI's
    --resume): `more` is a whole number of at least 1, and the total keeps to the steps rule's bound,
    as a new run does. ConfigError (one line) otherwise."""
    r = rule("train", "steps")
    m = _int("more steps", more, 1, int(r.hi))
    if trained + m > r.hi:
        raise ConfigError(f"{trained:,} steps trained + {m:,} more would be {trained + m:,}; a run trains at "
                          f"most {int(r.hi):,} steps in all")
    return trained + m


# A training step keeps about this many bytes per (sequence, time step, hidden unit) for the
# backward pass (measured: ~0.9 GB peak at batch 256, T=200, hidden 256, LSTM). The dashboard
# refuses runs that would need more than MAX_RUN_GB, a lab run and each run of a sweep alike, so
# one visitor cannot exhaust the machine's memory for every session (the CLI has no such limit).
BYTES_PER_UNIT_STEP = 80
MAX_RUN_GB = 4.0


def memory_gb(cfg: "RunConfig") -> float:
    """Rough peak memory of one training step (models train one after another in a step)."""
    return BYTES_PER_UNIT_STEP * cfg.train.batch_size * cfg.task.seq_len * cfg.model.hidden_size / 1e9


def check_memory(cfg: "RunConfig", limit_gb: float = MAX_RUN_GB, what: str = "a step") -> None:
    """ConfigError (one line) when a step of `cfg` would need more than `limit_gb` of memory."""
    if memory_gb(cfg) > limit_gb:
        raise ConfigError(f"batch_size x seq_len x hidden_size is too large: {what} would need about "
                          f"{memory_gb(cfg):.0f} GB of memory (the dashboard allows {limit_gb:g} GB); "
                          "lower one of them")


def suggested_steps(task: str) -> int:
    return TASKS[task].suggested_steps if task in TASKS else TrainConfig.steps


@dataclass(frozen=True)
class RunConfig:
    task: TaskConfig = field(default_factory=TaskConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    models: tuple[str, ...] = ("rnn", "lstm")

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["models"] = list(self.models)
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "RunConfig":
        """A config as saved (to_dict); its values are not checked: pass it to validate()."""
        if not isinstance(d, dict) or not all(isinstance(d.get(s, {}), dict) for s in SECTIONS):
            raise ConfigError("config does not match this version of the lab: not an object of "
                              f"sections ({', '.join(SECTIONS)})")
        try:
            return cls(
                task=TaskConfig(**d.get("task", {})),
                model=ModelConfig(**d.get("model", {})),
                train=TrainConfig(**d.get("train", {})),
                models=tuple(d.get("models", ("rnn", "lstm"))),
            )
        except TypeError as e:  # unknown or missing field in a saved config
            raise ConfigError(f"config does not match this version of the lab: {e}") from None

    def single(self, kind: str) -> "RunConfig":
        """The config of one model's share of this run (what the run store keys on). Fields that
        do not affect that model (their rule's `only_for` leaves it out) are set to their
        defaults, so changing the LSTM's forget-gate init does not make an identical RNN look
        like a new run."""
        sections = {}
        for name, cls in SECTIONS.items():
            sec = getattr(self, name)
            reset = {f.name: f.default for f in dataclasses.fields(cls)
                     if (r := f.metadata.get("rule")) is not None and r.only_for is not None and kind not in r.only_for}
            sections[name] = dataclasses.replace(sec, **reset) if reset else sec
        return dataclasses.replace(self, models=(kind,), **sections)

    def replace(self, **sections: Any) -> "RunConfig":
        return dataclasses.replace(self, **sections)


def config_hash(cfg: RunConfig) -> str:
    d: dict[str, Any] = {"models": list(cfg.models)}
    for name, cls in SECTIONS.items():
        sec = getattr(cfg, name)
        # a field read only under a condition (`only_when`) counts whenever that condition holds,
        # default or not: a run it shapes is told from one made before the field existed
        d[name] = {f.name: getattr(sec, f.name) for f in dataclasses.fields(sec)
                   if f.name in HASHED_V1[name]
                   or (f.name != "device" and getattr(sec, f.name) != _default(f))
                   or ((r := f.metadata.get("rule")) is not None and r.only_when is not None and r.applies(sec))}
    blob = json.dumps(d, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def _default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    return f.default_factory() if f.default_factory is not dataclasses.MISSING else dataclasses.MISSING


# --- validation ------------------------------------------------------------------------------
SHOWN_CHARS = 40  # a refused value is quoted in its error up to this many characters


def _shown(v: Any) -> str:
    """A refused value as its error quotes it: repr, cut after SHOWN_CHARS characters (a value
    from a link or a file may be thousands of characters long)."""
    r = repr(v)
    return r if len(r) <= SHOWN_CHARS else r[:SHOWN_CHARS] + "…"


def _typed(v: str) -> str:
    """A string as typed, stripped and cut like _shown ('1e99' stays '1e99')."""
    t = v.strip()
    return t if len(t) <= SHOWN_CHARS else t[:SHOWN_CHARS] + "…"


def _int(name: str, v: Any, lo: int, hi: int) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, float, str)):
        raise ConfigError(f"{name} must be a whole number, got {_shown(v)}")
    try:
        f = float(v)
    except (ValueError, OverflowError):  # OverflowError: a whole number of 400 digits from a file
        raise ConfigError(f"{name} must be a whole number, got {_shown(v)}") from None
    if not math.isfinite(f) or f != int(f):
        raise ConfigError(f"{name} must be a whole number, got {_shown(v)}")
    if not lo <= int(f) <= hi:
        # echo what was typed: '1e99' stays '1e99', not a 100-digit integer
        raise ConfigError(f"{name} must be between {lo} and {hi}, got {_typed(v) if isinstance(v, str) else int(f)}")
    return int(f)


def _above(v: Any, hi: int) -> bool:
    """Whether v reads as a number above hi (how a too-long window is told from other errors)."""
    try:
        return float(v) > hi
    except (TypeError, ValueError):
        return False


def _float(name: str, v: Any, lo: float, hi: float, lo_open: bool = False) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError, OverflowError):
        raise ConfigError(f"{name} must be a number, got {_shown(v)}") from None
    if not math.isfinite(f):
        raise ConfigError(f"{name} must be a finite number, got {_shown(v)}")
    if (f <= lo if lo_open else f < lo) or f > hi:
        bound = f"greater than {lo:g}" if lo_open else f"at least {lo:g}"
        raise ConfigError(f"{name} must be {bound} and at most {hi:g}, got {_shown(v)}")
    return f


TEXT_CHARS = 200  # the longest text a field takes (a column name from a file)


def _text(name: str, v: Any, pattern: str | None) -> str:
    """A text field: a string of printable characters, at most TEXT_CHARS, matching `pattern`
    when it is not empty (empty is a text field's default: not set)."""
    if not isinstance(v, str):
        raise ConfigError(f"{name} must be text, got {_shown(v)}")
    if len(v) > TEXT_CHARS or not v.isprintable():
        raise ConfigError(f"{name} must be at most {TEXT_CHARS} printable characters, got {_shown(v)}")
    if v and pattern and not re.fullmatch(pattern, v):
        raise ConfigError(f"{name} must match {pattern}, got {_shown(v)}")
    return v


def _choice(name: str, v: Any, choices: tuple[str, ...]) -> str:
    if not isinstance(v, str) or v not in choices:
        raise ConfigError(f"unknown {name} {_shown(v)}; choose from {', '.join(choices)}")
    return v


def parse_models(models: str | tuple | list) -> tuple[str, ...]:
    """'rnn, lstm' or a sequence -> ('rnn', 'lstm'), de-duplicated, each a known kind."""
    if isinstance(models, str):
        models = [s.strip() for s in models.split(",") if s.strip()]
    if not isinstance(models, (tuple, list)) or not all(isinstance(m, str) for m in models):
        raise ConfigError(f"models must be a list of model names ({', '.join(model_kinds())}), got {_shown(models)}")
    models = tuple(dict.fromkeys(models))  # de-duplicate, keep order
    if not models:
        raise ConfigError(f"choose at least one model ({', '.join(model_kinds())})")
    for k in models:
        _choice("model", k, model_kinds())
    return models


# --- model variants: a kind with a chosen initialisation ("rnn:irnn") ------------------------------
def parse_variants(models: str | tuple | list) -> tuple[str, ...]:
    """'rnn, rnn:irnn, lstm:zero' -> ('rnn', 'rnn:irnn', 'lstm:zero'): each a known kind, optionally
    with one of its initialisations after a colon; repeats dropped. Canonical forms come from
    `variant_of`, once the variant is applied to a config."""
    if isinstance(models, str):
        models = [s.strip() for s in models.split(",") if s.strip()]
    models = tuple(dict.fromkeys(m.strip() for m in models))
    if not models:
        raise ConfigError(f"choose at least one model ({', '.join(model_kinds())})")
    for m in models:
        kind, _, how = m.partition(":")
        _choice("model", kind, model_kinds())
        if how:
            f = MODELS[kind].init_field
            if f is None:
                raise ConfigError(f"model {kind!r} has no initialisation to choose; use {kind}")
            rule("model", f).check(f"{kind} init", how)
    return models


def variant_choices() -> tuple[str, ...]:
    """Every variant the lab offers: each kind (at its default init), then kind:init for its other
    inits ('rnn', 'rnn:orthogonal', 'rnn:irnn', 'lstm', 'lstm:zero', ...)."""
    out = []
    for kind, spec in MODELS.items():
        out.append(kind)
        if spec.init_field is not None:
            r, default = rule("model", spec.init_field), getattr(ModelConfig, spec.init_field)
            out += [f"{kind}:{how}" for how in r.choices() if how != default]
    return tuple(out)


def with_variant(cfg: RunConfig, variant: str) -> RunConfig:
    """The single-model config of a variant: 'rnn:irnn' -> cfg with rnn_init='irnn', models=('rnn',);
    a bare kind keeps cfg's own setting for its init."""
    kind, _, how = variant.partition(":")
    if how:
        cfg = cfg.replace(model=dataclasses.replace(cfg.model, **{MODELS[kind].init_field: how}))
    return cfg.single(kind)


def model_title(kind: str, model: ModelConfig | None = None) -> str:
    """A model's display name with its initialisation when that is not the lab's default:
    'Vanilla RNN', 'Vanilla RNN (IRNN init)', 'LSTM (zero init)', 'LSTM, source reversed + attention'
    (an encoder-decoder's settings when they are not the default). Every verdict, chart and caption
    names a model through this, so a non-default start is never shown as the plain model."""
    spec = MODELS[kind]
    how = init_of(kind, model) if model is not None else None
    title = spec.title
    if how is not None and how != getattr(ModelConfig, spec.init_field):
        title = f"{spec.title} ({(spec.init_labels or {}).get(how, f'{how} init')})"
    if model is not None and model.reverse_source == "yes":  # an encoder-decoder's settings, when set
        title += ", source reversed"
    if model is not None and model.attention != "none":
        title += " + attention"
    return title


def variant_of(single: RunConfig) -> str:
    """A single-model config's variant key: the kind, plus ':init' when its init is not the default
    ('rnn', 'rnn:irnn', 'lstm:zero')."""
    kind = single.models[0]
    how, f = init_of(kind, single.model), MODELS[kind].init_field
    return kind if how is None or how == getattr(ModelConfig, f) else f"{kind}:{how}"


def variant_label(key: str) -> str:
    """The display name of a variant key: 'rnn' -> 'Vanilla RNN', 'rnn:irnn' -> 'Vanilla RNN (IRNN
    init)' (a bare kind means its default init, as `variant_of` writes it)."""
    kind, _, how = key.partition(":")
    return model_title(kind, ModelConfig(**{MODELS[kind].init_field: how}) if how else None)


def variant_title(single: RunConfig) -> str:
    """'Vanilla RNN (IRNN init)': what every chart and verdict calls this model."""
    return model_title(single.models[0], single.model)


def validate(cfg: RunConfig) -> RunConfig:
    """Check every field once, at the edge, by its rule; return a config with normalised types.

    Works on the dataclasses as they are (`dataclasses.replace`), so a field without a rule is
    carried through unchanged, never dropped. Raises ConfigError with a one-line message naming
    the first bad field.
    """
    sections = {}
    for name in SECTIONS:
        sec = getattr(cfg, name)
        checked = {}
        for f in dataclasses.fields(sec):
            r = f.metadata.get("rule")
            if r is None:
                continue
            v = getattr(sec, f.name)
            if name == "task" and f.name == "seq_len":  # its bounds depend on the task
                lo, hi = seq_len_range(checked["name"])
                try:
                    checked[f.name] = _int("seq_len", v, lo, hi)
                except ConfigError as e:  # a real series says why its windows stop where they do
                    note = TASKS[checked["name"]].seq_len_note
                    above = _above(v, hi)
                    raise ConfigError(f"{e} ({checked['name']}: {note})" if note and above else str(e)) from None
            else:
                checked[f.name] = r.check(r.flag or f.name, v)  # named as the user knows it
        sections[name] = dataclasses.replace(sec, **checked)
        if name == "task":  # what only the task knows: the file it reads, the windows that file holds
            TASKS[checked["name"]].check_config(sections[name])
    task = sections["task"].name
    if not sentence_task(task):  # an encoder-decoder's setting on a task read by a SeqModel: refused
        for f in dataclasses.fields(ModelConfig):
            r = f.metadata.get("rule")
            if r is not None and r.sentence_only and getattr(sections["model"], f.name) != f.default:
                raise ConfigError(f"{flag_of('model', f.name)} applies to tasks whose answer is a sentence "
                                  f"({', '.join(n for n in TASKS if sentence_task(n)) or 'none registered'}), "
                                  f"not to {task}")
    for s_name, cls in SECTIONS.items():  # a field read only under a condition, set where it does not hold
        for f in dataclasses.fields(cls):
            r = f.metadata.get("rule")
            sec = sections[s_name]
            if r is not None and not r.applies(sec) and getattr(sec, f.name) != f.default:
                raise ConfigError(f"{flag_of(s_name, f.name)} applies only with "
                                  f"--{flag_of(s_name, r.only_when[0])} {r.only_when[1]}")
    return dataclasses.replace(cfg, models=parse_models(cfg.models), **sections)
