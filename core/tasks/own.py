"""A learner's own data: a series or labelled sentences from a CSV they bring (core.owndata checks
the file and keeps it in the data folder by its content hash; the config names it by that hash).

- `own_series`: forecast the next value of a column from the last T rows of every numeric column,
  exactly like the weather: the last 20% of the rows (by date, or by row order) are held out, the
  statistics come from the training rows only, and the chance line is persistence (the next value =
  the last); the training rows' mean is the other baseline. MSE in the column's own units.

  Example, T=3 (column 'sales'):   12.0 14.5 13.0  ->  15.5

- `own_text`: tell each sentence's label from its words (columns `text,label`). The last 20% of
  each label's rows (in file order) are held out; the vocabulary comes from the training rows only,
  and a word it lacks is read as <unk> (the task names them). A sentence is its last T words,
  padded in front. Chance is what always answering the most common training label scores.

  Example, T=5:   <pad> great food , slow  ->  'positive'
"""
from __future__ import annotations

import functools
from collections import Counter
from typing import TYPE_CHECKING

import numpy as np
import torch

from core import owndata
from core.config import ConfigError
from core.tasks.base import EVAL_SIZE, Task, register
from core.tasks.real import STORM_QUANTILE, RealSeriesTask, Series, persistence_mse, train_mean_mse
from core.tasks.synthetic import tokenize

if TYPE_CHECKING:  # type hints only
    from core.config import TaskConfig

PAD, UNK = "<pad>", "<unk>"
MAX_VOCAB = 5000  # the most frequent training words; rarer ones are read as <unk>


def _needs_file(cls: type[Task], cfg: TaskConfig) -> None:
    if not cfg.data:
        raise ConfigError(f"{cls.name} needs your CSV file: train --csv FILE, or upload one on the Train page")


# --- a series ------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=16)
def _series(h: str, column: str, date: str) -> tuple[Series, owndata.SeriesData]:
    d = owndata.series_table(owndata.check_table(owndata.load(h)), column, date)
    n = len(d.raw)
    train = np.arange(n) < owndata.train_rows(n)
    extreme = np.full(d.raw.shape[1], np.nan)
    extreme[0] = np.quantile(d.raw[train, 0], STORM_QUANTILE)  # a peak: the target's top 2%
    s = Series(dates=d.dates, raw=d.raw, group=np.zeros(n, dtype=int), train=train, target=0, extreme=extreme)
    return s, d


@register
class OwnSeries(RealSeriesTask):
    """The next value of a column of the learner's CSV from the last T rows (module docstring)."""

    name = "own_series"
    title = "Your series (CSV)"
    own_data = True
    seq_len_unit = "rows"
    suggested_steps = 300
    goal = ("forecast the next value from the last {T} rows", "forecast the next value from the last {T} rows")
    story = ("Your file, its last rows held out: from the last {T} rows, forecast the next value. Saying 'the same "
             "as the last row' scores an error (MSE) of {chance}; the target is {target}.")
    chance_name = "persistence forecast"
    extreme_word = "peak"
    label_format = ".4g"

    @classmethod
    def check_config(cls, cfg: TaskConfig) -> None:
        _needs_file(cls, cfg)
        if not cfg.column:
            raise ConfigError("own_series needs the column to forecast: --target COLUMN")
        try:
            s, _ = _series(cfg.data, cfg.column, cfg.date_column)
        except owndata.DataError as e:
            raise ConfigError(str(e)) from None
        n, hi = len(s.raw), owndata.max_window(len(s.raw))
        if hi < cls.min_seq_len:
            raise ConfigError(f"too few rows: the file has {n:,}; a series needs at least "
                              f"{_rows_for(cls.min_seq_len):,} (its last {owndata.HELD_OUT_SHARE:.0%} are held out "
                              f"and {owndata.MIN_TRAIN_WINDOWS} training windows must remain)")
        if isinstance(cfg.seq_len, int) and cfg.seq_len > hi:
            raise ConfigError(f"seq_len must be at most {hi} for this file, got {cfg.seq_len} (its {n:,} rows keep "
                              f"{owndata.train_rows(n):,} for training, and {owndata.MIN_TRAIN_WINDOWS} training "
                              "windows must remain)")

    @classmethod
    def series_of(cls, cfg: TaskConfig) -> Series:
        return _series(cfg.data, cfg.column, cfg.date_column)[0]

    def __init__(self, cfg: TaskConfig):
        super().__init__(cfg)
        self.data = _series(cfg.data, cfg.column, cfg.date_column)[1]
        self.n_channels = len(self.data.channels)
        self.units = ("",) * self.n_channels

    @property
    def notes(self) -> tuple[str, ...]:
        return self.data.notes

    def data_words(self) -> str:
        c = self.cfg
        order = f", rows ordered by {owndata.quoted(c.date_column)}" if c.date_column else ", rows in file order"
        return (f"your file {owndata.quoted(owndata.source_name(c.data))} (sha256 {c.data}…), forecasting "
                f"{owndata.quoted(c.column)}{order}; MSE in that column's units squared")

    def chance_forecast(self, ends: np.ndarray) -> np.ndarray:
        """Persistence: the next value is the last."""
        return self.series.raw[ends - 1, self.series.target]

    @property
    def chance(self) -> float:
        return persistence_mse(self.series)

    def baselines(self) -> dict[str, float]:
        return {self.chance_name: self.chance, "training-mean forecast": train_mean_mse(self.series)}

    def render(self, x):
        raw = self.raw_inputs(x)
        peak = self.series.is_extreme(raw)
        return [[f"{v:.4g}" + ("*" if p else "") for v, p in zip(row[:, 0], prow)] for row, prow in zip(raw, peak)]


def _rows_for(T: int) -> int:
    """The fewest rows whose series holds windows of T."""
    n = T
    while owndata.max_window(n) < T:
        n += 1
    return n


# --- labelled sentences --------------------------------------------------------------------------------------
class _Sentences:
    """The file's sentences as tokens, the split and the vocabulary (independent of T)."""

    def __init__(self, h: str):
        s = owndata.sentence_table(owndata.check_table(owndata.load(h)))
        self.notes = s.notes
        self.classes = list(dict.fromkeys(s.labels))  # in order of first appearance
        self.y = np.array([self.classes.index(v) for v in s.labels])
        self.train = np.ones(len(self.y), dtype=bool)
        for c in range(len(self.classes)):  # the last 20% of every label's rows are held out
            rows = np.flatnonzero(self.y == c)
            self.train[rows[owndata.train_rows(len(rows)):]] = False
        self.tokens = [tokenize(t) for t in s.texts]
        counts = Counter(w for i in np.flatnonzero(self.train) for w in self.tokens[i])
        self.vocab = [PAD, UNK] + [w for w, _ in counts.most_common(MAX_VOCAB)]
        self.index = {w: i for i, w in enumerate(self.vocab)}
        self.unknown = Counter(w for i in np.flatnonzero(~self.train) for w in self.tokens[i] if w not in self.index)


@functools.lru_cache(maxsize=16)
def _sentences(h: str) -> _Sentences:
    return _Sentences(h)


@register
class OwnText(Task):
    """The label of a sentence of the learner's CSV from its last T words (module docstring)."""

    name = "own_text"
    title = "Your labelled sentences (CSV)"
    metric = "accuracy"
    own_data = True
    reads_text = True
    seq_len_unit = "words"
    suggested_steps = 300
    goal = ("tell the label from the last {T} words", "told the label from the last {T} words")
    story = ("Your sentences, a fifth of each label's rows held out: from a sentence's last {T} words, tell its "
             "label. Always answering the most common label scores {chance}.")

    @classmethod
    def check_config(cls, cfg: TaskConfig) -> None:
        _needs_file(cls, cfg)
        if cfg.column or cfg.date_column:
            raise ConfigError("own_text reads the columns text,label: --target and --date are for own_series")
        try:
            _sentences(cfg.data)
        except owndata.DataError as e:
            raise ConfigError(str(e)) from None

    def __init__(self, cfg: TaskConfig):
        super().__init__(cfg)
        self.data = d = _sentences(cfg.data)
        self.vocab, self.index, self.class_names, self.n_classes = d.vocab, d.index, d.classes, len(d.classes)
        T = self.seq_len
        x = torch.zeros(len(d.tokens), T, dtype=torch.long)  # <pad> = 0 in front
        for i, words in enumerate(d.tokens):
            ids = [d.index.get(w, 1) for w in words[-T:]]
            if ids:
                x[i, T - len(ids):] = torch.tensor(ids)
        self._x, self._y = x, torch.as_tensor(d.y)
        self.train_rows = torch.as_tensor(np.flatnonzero(d.train))
        self.test_rows = torch.as_tensor(np.flatnonzero(~d.train))
        self.n_cut = sum(len(w) > T for w in d.tokens)

    @property
    def notes(self) -> tuple[str, ...]:
        d, out = self.data, list(self.data.notes)
        if d.unknown:
            shown = ", ".join(owndata.quoted(w) for w, _ in d.unknown.most_common(5))
            out.append(f"{sum(d.unknown.values()):,} held-out words are not in the training rows and read as {UNK}: "
                       f"{shown}{', …' if len(d.unknown) > 5 else ''} ({len(d.unknown):,} different)")
        if self.n_cut:
            out.append(f"{self.n_cut:,} sentences have more than T = {self.seq_len} words: the model reads their "
                       "last T")
        return tuple(out)

    def data_words(self) -> str:
        return (f"your file {owndata.quoted(owndata.source_name(self.cfg.data))} (sha256 {self.cfg.data}…), "
                f"{len(self.data.y):,} labelled sentences, {len(self.vocab) - 2:,} words from the training rows")

    @property
    def chance(self) -> float:
        """Always the most common training label, scored on the held-out rows."""
        majority = int(np.bincount(self.data.y[self.data.train]).argmax())
        return float((self.data.y[~self.data.train] == majority).mean())

    def sample(self, batch_size, gen):
        k = torch.randint(0, len(self.train_rows), (batch_size,), generator=gen)
        rows = self.train_rows[k]
        return self._x[rows], self._y[rows]

    def eval_batch(self, n: int = EVAL_SIZE):
        """Every held-out sentence, in file order; at most n of them."""
        rows = self.test_rows[:n]
        return self._x[rows], self._y[rows]

    def info_mask(self, x):
        """The words the model knows (neither padding nor <unk>)."""
        return x > 1

    def example_text(self) -> str:
        """The first training sentence, in the words the model knows (what the Inside page offers to edit)."""
        words = self.data.tokens[int(self.train_rows[0])]
        return " ".join(w for w in words if w in self.index) or self.vocab[-1]

    def encode_text(self, text: str) -> torch.Tensor:
        """Token ids (1, L) of a typed sentence; ValueError names words the training rows lack."""
        words = tokenize(text)
        if not words:
            raise ValueError("type a sentence")
        unknown = [w for w in words if w not in self.index]
        if unknown:
            raise ValueError(f"not in the training rows' vocabulary: {', '.join(owndata.quoted(w) for w in dict.fromkeys(unknown))}")
        return torch.tensor([[self.index[w] for w in words]])
