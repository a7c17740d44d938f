"""Synthetic long-dependency tasks.

Every task draws batches from a seeded `torch.Generator`, so the same seed gives the same data
stream, and keeps a deterministic held-out batch of its own (seeded by task and length, not by the
run seed, so every run of a configuration is scored on the same examples). Each declares its
metric, the chance baseline of that metric, display names for its input symbols and which
positions carry the information the answer depends on (`info_mask`), so charts can mark them.

Everything the lab knows about a task lives on its class (core.tasks.base.Task); `@register`
adds it to the registry.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

import torch

from core.tasks.base import Task, register

if TYPE_CHECKING:  # type hints only
    from core.config import TaskConfig


def _symbol_names(prefix: str, n: int, letters: bool) -> list[str]:
    if letters and n <= 26:
        return [chr(ord("A") + i) for i in range(n)]
    return [f"{prefix}{i}" for i in range(n)]


@register
class FirstToken(Task):
    """Remember the first token.

    K signal symbols (A, B, ... default 8) may appear at position 0; positions 1..T-1 hold
    distractors from a separate set of D symbols (0, 1, ... default 8). The answer, read at the
    last step, is the first symbol. Chance is 1/K.

    Example, T=6, K=8, D=8:   C 4 0 7 7 2  ->  class C
    """

    name = "first_token"
    title = "Remember the first token"
    metric = "accuracy"
    min_seq_len = 2
    suggested_steps = 500
    goal = ("remember the first token over {T} steps", "remembered the first token over {T} steps")
    story = ("The first symbol (one of {K}) is followed by {n} random distractors; at the end the "
             "model must say which symbol came first. Guessing scores {chance}.")

    def __init__(self, cfg: TaskConfig):
        super().__init__(cfg)
        self.K, self.D = cfg.n_symbols, cfg.n_distractors
        self.class_names = _symbol_names("S", self.K, letters=True)
        self.vocab = self.class_names + [str(i) for i in range(self.D)]
        self.n_classes = self.K

    @property
    def chance(self) -> float:
        return 1.0 / self.K

    def sample(self, batch_size, gen):
        y = torch.randint(0, self.K, (batch_size,), generator=gen)
        x = torch.randint(self.K, self.K + self.D, (batch_size, self.seq_len), generator=gen)
        x[:, 0] = y
        return x, y

    def info_mask(self, x):
        m = torch.zeros(x.shape[:2], dtype=torch.bool)
        m[:, 0] = True
        return m


@register
class Adding(Task):
    """The adding problem (Hochreiter & Schmidhuber 1997, in the form of Arjovsky et al. 2016).

    Two input channels: values drawn from U[0, 1], and a marker channel with exactly one 1 in
    each half of the sequence. The target is the sum of the two marked values; the metric is
    MSE. Always answering 1 scores Var(U1 + U2) = 1/6 ~ 0.167, the chance baseline.

    Example, T=6:  values  .31 .82 .10 | .55 .04 .97
                   markers  0   1   0  |  0   0   1    ->  0.82 + 0.97 = 1.79
    """

    name = "adding"
    title = "Adding problem"
    metric = "mse"
    input_kind = "continuous"
    n_channels = 2
    min_seq_len = 2
    suggested_steps = 1500
    goal = ("add the two marked numbers over {T} steps", "added the two marked numbers over {T} steps")
    story = ("{T} random numbers go by, two of them marked, one in each half; at the end the model must "
             "output their sum. Always answering 1 scores an error (MSE) of {chance}.")

    @property
    def chance(self) -> float:
        return 1.0 / 6.0

    def sample(self, batch_size, gen):
        T, half = self.seq_len, self.seq_len // 2
        values = torch.rand(batch_size, T, generator=gen)
        first = torch.randint(0, half, (batch_size,), generator=gen)
        second = torch.randint(half, T, (batch_size,), generator=gen)
        markers = torch.zeros(batch_size, T)
        rows = torch.arange(batch_size)
        markers[rows, first] = 1.0
        markers[rows, second] = 1.0
        x = torch.stack([values, markers], dim=-1)  # (B, T, 2)
        y = values[rows, first] + values[rows, second]
        return x, y

    def info_mask(self, x):
        return x[..., 1] > 0.5

    def render(self, x):
        return [[f"{v:.2f}*" if m > 0.5 else f"{v:.2f}" for v, m in row.tolist()] for row in x]


@register
class TemporalOrder(Task):
    """Temporal order (Hochreiter & Schmidhuber 1997, experiment 6a), scaled to length T.

    The sequence starts with E and ends with B; between them are distractors a-d, except at two
    positions, one in the window [0.1T, 0.2T] and one in [0.5T, 0.6T], which each hold X or Y.
    The class is the order of those two: XX, XY, YX or YY. Chance is 0.25.

    Example, T=10:   E a X c d Y b a d B   ->  class XY
    """

    name = "temporal_order"
    title = "Temporal order"
    metric = "accuracy"
    min_seq_len = 4
    suggested_steps = 600
    goal = ("tell the order of X and Y over {T} steps", "told the order of X and Y over {T} steps")
    story = ("Two symbols, X or Y, appear early and in the middle of {T} distractors; at the end the "
             "model must say in which order they came (XX, XY, YX or YY). Guessing scores {chance}.")
    vocab = ["E", "B", "X", "Y", "a", "b", "c", "d"]
    class_names = ["XX", "XY", "YX", "YY"]
    n_classes = 4

    @property
    def chance(self) -> float:
        return 0.25

    def windows(self) -> tuple[tuple[int, int], tuple[int, int]]:
        T = self.seq_len
        a0 = max(1, int(0.1 * T))
        a1 = max(a0, int(0.2 * T))
        b0 = max(a1 + 1, int(0.5 * T))
        b1 = min(T - 2, max(b0, int(0.6 * T)))
        return (a0, a1), (b0, b1)

    def sample(self, batch_size, gen):
        (a0, a1), (b0, b1) = self.windows()
        x = torch.randint(4, 8, (batch_size, self.seq_len), generator=gen)
        x[:, 0], x[:, -1] = 0, 1
        p1 = torch.randint(a0, a1 + 1, (batch_size,), generator=gen)
        p2 = torch.randint(b0, b1 + 1, (batch_size,), generator=gen)
        s1 = torch.randint(0, 2, (batch_size,), generator=gen)
        s2 = torch.randint(0, 2, (batch_size,), generator=gen)
        rows = torch.arange(batch_size)
        x[rows, p1] = 2 + s1
        x[rows, p2] = 2 + s2
        return x, 2 * s1 + s2

    def info_mask(self, x):
        return (x == 2) | (x == 3)


# --- the review language of the sentiment task ----------------------------------------------
_POS_VERBS = ["loved", "enjoyed", "liked", "adored"]
_NEG_VERBS = ["hated", "disliked", "loathed", "despised"]
_POS_ADJ = ["wonderful", "great", "brilliant", "superb", "moving"]
_NEG_ADJ = ["disappointing", "boring", "awful", "terrible", "dull"]
_SUBJECTS = ["i", "we"]
_NOUNS = ["movie", "film", "story", "acting", "plot", "music", "ending", "cast"]
_FILLER = (
    "we watched it on friday with some friends . the cinema was full and the seats were red . "
    "it ran for two hours and then we went home . my sister came along after dinner . "
    "the tickets were cheap on a rainy night in the old town ."
).split()


@register
class SentimentBut(Task):
    """Sentiment where "but" flips the meaning: a tiny review language.

    A review opens with a clause that carries sentiment ("i loved the movie" / "we hated the
    plot"), neutral filler words stretch it to length T, and half of the reviews contain, at a
    random place, a clause that turns it round: ", but the ending was disappointing". The label
    is the sentiment of the last clause that carries one (1 = positive). Chance is 0.5.

    Example, T=10:   i loved the movie , but the ending was disappointing  ->  negative
    Example, T=12:   we hated the plot the cinema was full and the seats   ->  negative
    """

    name = "sentiment_but"
    title = "Sentiment with a 'but'"
    metric = "accuracy"
    min_seq_len = 4
    suggested_steps = 800
    reads_text = True
    goal = ("read the sentiment of {T}-word reviews", "read the sentiment of {T}-word reviews")
    story = ("A {T}-word review: \"i loved the movie\", filler words, and sometimes \", but the "
             "ending was disappointing\", which turns it round. Guessing scores {chance}.")
    class_names = ["negative", "positive"]
    n_classes = 2
    OPEN_LEN, BUT_LEN = 4, 6  # "i loved the movie" / ", but the ending was disappointing"

    def __init__(self, cfg: TaskConfig):
        super().__init__(cfg)
        words = _SUBJECTS + _POS_VERBS + _NEG_VERBS + ["the", ",", "but", "was"]
        words += _NOUNS + _POS_ADJ + _NEG_ADJ + _FILLER
        self.vocab = list(dict.fromkeys(words))
        self.index = {w: i for i, w in enumerate(self.vocab)}
        ids = lambda ws: torch.tensor([self.index[w] for w in ws])  # noqa: E731
        self._subj, self._nouns = ids(_SUBJECTS), ids(_NOUNS)
        self._verbs = torch.stack([ids(_NEG_VERBS), ids(_POS_VERBS)])  # (2, 4): [sentiment]
        self._adjs = torch.stack([ids(_NEG_ADJ), ids(_POS_ADJ)])  # (2, 5)
        self._filler = ids(_FILLER)
        self._sentiment = torch.zeros(len(self.vocab), dtype=torch.bool)
        self._sentiment[torch.cat([self._verbs.flatten(), self._adjs.flatten()])] = True

    @property
    def chance(self) -> float:
        return 0.5

    def _pick(self, table: torch.Tensor, rows: torch.Tensor, gen) -> torch.Tensor:
        col = torch.randint(0, table.shape[-1], rows.shape, generator=gen)
        return table[rows, col] if table.dim() == 2 else table[col]

    def sample(self, batch_size, gen):
        B, T = batch_size, self.seq_len
        # filler: a window of the neutral text starting at a random offset, so it stays readable
        start = torch.randint(0, len(self._filler), (B, 1), generator=gen)
        x = self._filler[(start + torch.arange(T)) % len(self._filler)]  # (B, T)
        s1 = torch.randint(0, 2, (B,), generator=gen)
        x[:, 0] = self._pick(self._subj, s1, gen)
        x[:, 1] = self._pick(self._verbs, s1, gen)
        x[:, 2] = self.index["the"]
        x[:, 3] = self._pick(self._nouns, s1, gen)
        label = s1.clone()
        if T >= self.OPEN_LEN + self.BUT_LEN:
            has_but = torch.rand(B, generator=gen) < 0.5
            pos = torch.randint(self.OPEN_LEN, T - self.BUT_LEN + 1, (B,), generator=gen)
            adj = self._pick(self._adjs, 1 - s1, gen)
            noun = self._pick(self._nouns, s1, gen)
            clause = [self.index[","], self.index["but"], self.index["the"], None, self.index["was"], None]
            for k, w in enumerate(clause):
                w = noun if k == 3 else adj if k == 5 else torch.full((B,), w)
                rows = has_but.nonzero().flatten()
                x[rows, pos[rows] + k] = w[rows]
            label = torch.where(has_but, 1 - s1, s1)
        return x, label

    def info_mask(self, x):
        return self._sentiment[x] | (x == self.index["but"])

    @staticmethod
    def filler_words(n: int) -> list[str]:
        """n neutral filler words (the ones that stretch reviews to length T), in their running order."""
        return [_FILLER[k % len(_FILLER)] for k in range(max(int(n), 0))]

    def encode_text(self, text: str) -> torch.Tensor:
        """Token ids (1, L) of a sentence in the task's vocabulary; ValueError names unknown words."""
        words = tokenize(text)
        if not words:
            raise ValueError("type a sentence, e.g. 'i loved the movie , but the ending was dull'")
        unknown = [w for w in words if w not in self.index]
        if unknown:
            raise ValueError(
                f"not in the task's vocabulary: {', '.join(dict.fromkeys(unknown))} "
                f"(known words include: {', '.join(_POS_VERBS + _NEG_ADJ[:2] + _NOUNS[:3])}, ...)"
            )
        return torch.tensor([[self.index[w] for w in words]])


# Every run of non-space characters is a token, with ',' and '.' split off as tokens of their own
# ('movie,' -> 'movie', ','). Nothing is dropped or rewritten: an emoji, a non-Latin word or an
# accented one ('ñandú') stays itself, so encode_text can name it as unknown.
_TOKEN = re.compile(r"[,.]|[^\s,.]+")


def tokenize(text: str) -> list[str]:
    """Lower-cased tokens of `text`; their concatenation is `text.lower()` less its white space."""
    return _TOKEN.findall(text.lower())


@register
class Stream(Task):
    """The last of a stream: segments with no reset between them (Gers, Schmidhuber & Cummins 2000,
    "Learning to forget", whose point is that without a forget gate the cell grows without bound on
    a stream that is never reset).

    A sequence is 2 to MAX_SEGMENTS segments back to back; each opens with the marker "|" and a token
    (one of K signal symbols), then filler (D distractors) up to the next marker. The first segment
    starts at step 0, the others at random even steps in the first half of the sequence, and their
    number is random, so neither a clock nor a count of markers tells which segment is the last: a
    model must overwrite what it holds at every marker. The answer, read at the last step, is the
    token of the LAST segment. Chance is 1/K.

    Example, T=12, K=8, D=8:   | C 4 0 | A 7 2 1 5 3 0  ->  class A
    """

    name = "stream"
    title = "The last of a stream"
    metric = "accuracy"
    min_seq_len = 12
    suggested_steps = 600
    MAX_SEGMENTS = 5
    goal = ("name the last segment's token over {T} steps", "named the last segment's token over {T} steps")
    story = ("A stream of {T} steps, never reset: several segments, each a marker \"|\", a token (one of {K}) "
             "and filler. The model must say the token of the last segment. Guessing scores {chance}.")

    def __init__(self, cfg: TaskConfig):
        super().__init__(cfg)
        self.K, self.D = cfg.n_symbols, cfg.n_distractors
        self.class_names = _symbol_names("S", self.K, letters=True)
        self.vocab = self.class_names + [str(i) for i in range(self.D)] + ["|"]
        self.marker = self.K + self.D
        self.n_classes = self.K

    @property
    def chance(self) -> float:
        return 1.0 / self.K

    def sample(self, batch_size, gen):
        B, T = batch_size, self.seq_len
        x = torch.randint(self.K, self.K + self.D, (B, T), generator=gen)
        slots = torch.arange(2, T // 2, 2)  # where a later segment may start (even: marker, token fit)
        most = max(1, min(self.MAX_SEGMENTS, 1 + len(slots)))  # below min_seq_len (make_task alone): fewer
        tokens = torch.randint(0, self.K, (B, most), generator=gen)
        n = torch.randint(min(2, most), most + 1, (B,), generator=gen)  # segments in each stream
        order = torch.rand(B, len(slots), generator=gen).argsort(dim=1)[:, : most - 1]
        starts = torch.cat([torch.zeros(B, 1, dtype=torch.long), slots[order].sort(dim=1).values], dim=1)
        used = torch.arange(most) < n[:, None]  # (B, most)
        rows = torch.arange(B)[:, None].expand_as(starts)
        x[rows[used], starts[used]] = self.marker
        x[rows[used], starts[used] + 1] = tokens[used]
        y = tokens[torch.arange(B), n - 1]
        return x, y

    def last_token_at(self, x: torch.Tensor) -> torch.Tensor:
        """The step of each stream's last segment token (the one after its last marker)."""
        T = x.shape[1]
        pos = torch.where(x == self.marker, torch.arange(T), torch.full_like(x, -1))
        return pos.max(dim=1).values + 1

    def info_mask(self, x):
        m = torch.zeros(x.shape[:2], dtype=torch.bool)
        m[torch.arange(x.shape[0]), self.last_token_at(x)] = True
        return m
