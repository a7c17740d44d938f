"""Tasks whose answer is a sentence, written word by word by an encoder-decoder (core.seq2seq).

Their metric is token accuracy (the share of target words right, on the fixed held-out batch: the
one the curves, targets and verdicts use); exact match, the share of whole sentences right, is
reported beside it at every evaluation (`exact_match` in the run's evals). The models train with
teacher forcing and are scored on what they write on their own (greedy decoding).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from core.tasks.base import Task, register

if TYPE_CHECKING:  # type hints only
    from core.config import TaskConfig


class SentenceTask(Task):
    """The shared part: a source of `src_len` words in, a target of `out_len` words out."""

    metric = "accuracy"
    output_kind = "sentence"
    target_names: list[str] = []  # the target language's words: the decoder's classes

    @property
    def src_len(self) -> int:
        return self.seq_len

    @property
    def out_len(self) -> int:
        return self.seq_len

    @property
    def n_classes(self) -> int:  # type: ignore[override]
        return len(self.target_names)

    @property
    def class_names(self) -> list[str]:  # type: ignore[override]
        return self.target_names

    def outputs(self, model, x, y=None):
        return model(x, y)  # with y: teacher forcing; without: greedy

    def loss(self, out, y):
        return F.cross_entropy(out.flatten(0, 1), y.flatten())  # every target word counts once

    def score(self, out, y):
        return (out.argmax(-1) == y).double().mean().item()  # token accuracy

    def extra_scores(self, out, y):
        return {"exact_match": (out.argmax(-1) == y).all(1).double().mean().item()}

    def info_mask(self, x):
        return torch.ones(x.shape[:2], dtype=torch.bool)

    def showcase(self, n: int = 4):
        x, y = self.eval_batch()
        return x[:n], y[:n]

    def label_name(self, y) -> str:
        return " ".join(self.target_names[int(i)] for i in torch.as_tensor(y).flatten())

    def chance_words(self) -> str:
        return f"chance {self.chance:.1%} of the words"


NOUNS = ["cat", "dog", "bird", "fish", "tree", "house", "boat", "star"]
ADJECTIVES = ["red", "big", "old", "small", "blue", "happy", "dark", "fast"]
NOMS = ["chat", "chien", "oiseau", "poisson", "arbre", "maison", "bateau", "etoile"]
ADJECTIFS = ["rouge", "grand", "vieux", "petit", "bleu", "heureux", "sombre", "rapide"]


@register
class Translation(SentenceTask):
    """Translate a toy English into a toy French: every word has its one translation, and an
    adjective moves behind its noun.

    The source is T words (`--seq-len`): noun phrases, each a noun alone or an adjective and a
    noun (8 nouns, 8 adjectives; at each free position a phrase of two words starts with chance
    1/2 when two positions are left). The target has the same T words: each word's translation
    (cat -> chat, red -> rouge, ...), with every adjective after its noun, as French puts most.

    Example, T=6:  red cat dog big boat fish  ->  chat rouge chien bateau grand poisson

    Why this design: a word-by-word dictionary alone would be a copy task, whose target words line
    up with the source's one for one; the local reordering makes each output word depend on a
    neighbour of its source position, so the decoder must know where in the sentence it is, yet the
    order stays close to the source's, as between English and French, the pair of Sutskever et al.
    2014 and Bahdanau et al. 2015: reading the source backwards puts its first words next to the
    first words written, and attention can find each word's source by looking. A date format
    (Seq2Seq-Vis) has a fixed length, and the papers' claims are about length. The whole source
    must pass through the encoder's last state without attention: about 3 bits a word, so 20
    words are 60 bits in one vector of 64 units.

    Chance: a model that ignores the source can only know the grammar: position t of the target
    is a noun with probability p_t (p_0 = 1, p_{t+1} = 1 - p_t / 2, towards 2/3), so its best
    guess at t is right with probability max(p_t, 1 - p_t) / 8: on average 8.9% at T = 5, 8.5% at
    T = 20, 8.3% for long sentences.
    """

    name = "translation"
    title = "Translation (toy English to toy French)"
    min_seq_len = 2
    # docs/calibration_translation.md (seed 0): with attention the vanilla RNN and the GRU reach 99% at
    # T = 20 in 300-650 steps; without, the LSTM is at 55-70% at T = 10 after 800, the RNN at chance
    suggested_steps = 800
    seq_len_unit = "words"
    goal = ("translate sentences of {T} words", "translated sentences of {T} words")
    story = ("A sentence of {T} words (nouns, and adjectives before them) must be translated word by word "
             "into another language that puts each adjective after its noun. Guessing gets {chance} of the "
             "words right.")

    def __init__(self, cfg: TaskConfig):
        super().__init__(cfg)
        self.vocab = NOUNS + ADJECTIVES
        self.target_names = NOMS + ADJECTIFS  # word i translates source word i

    @property
    def chance(self) -> float:
        p, total = 1.0, 0.0
        for t in range(self.seq_len):
            total += max(p, 1 - p) / len(NOUNS)
            p = 1 - p / 2  # a pair starts at a free position with chance 1/2, and then t + 1 is its adjective
        return total / self.seq_len

    def sample(self, batch_size, gen):
        B, T, N = batch_size, self.seq_len, len(NOUNS)
        nouns = torch.randint(0, N, (B, T), generator=gen)
        adjectives = torch.randint(N, N + len(ADJECTIVES), (B, T), generator=gen)
        coin = torch.rand(B, T, generator=gen) < 0.5
        adj = torch.zeros(B, T, dtype=torch.bool)
        free = torch.ones(B, dtype=torch.bool)
        for t in range(T - 1):  # a pair starts at a free position with two words left
            adj[:, t] = free & coin[:, t]
            free = ~adj[:, t]
        x = torch.where(adj, adjectives, nouns)
        y = x.clone()
        y[:, :-1] = torch.where(adj[:, :-1], x[:, 1:], y[:, :-1])  # the noun first ...
        y[:, 1:] = torch.where(adj[:, :-1], x[:, :-1], y[:, 1:])  # ... then its adjective
        return x, y


@register
class Copying(SentenceTask):
    """The copying-memory task (Arjovsky, Shah & Bengio 2016), for an encoder-decoder.

    The source is T steps (`--seq-len`): 10 symbols (of 8: A..H), then T - 10 blanks, the delay;
    the decoder must write the 10 symbols back. Arjovsky et al. feed the blanks and a delimiter to
    one network that answers in its last 10 steps; here the encoder reads the symbols and the delay
    and the decoder writes the answer, so the demand is the same (30 bits kept across the delay)
    and the same models, with attention, answer "what came after": attention reads the symbols
    where they are, whatever the delay. Reading the source backwards removes the delay (the
    symbols come last): the lab says so rather than hide it. Their delay T is `--seq-len` T + 10.

    Example, T=13 (a delay of 3):  C A H B B D G E F A _ _ _  ->  C A H B B D G E F A

    Chance: 1/8 per symbol, 12.5% (a whole answer: 8^-10).
    """

    name = "copying"
    title = "Copying memory (Arjovsky et al.)"
    n_copy = 10
    min_seq_len = n_copy + 1  # at least one blank step between the symbols and the answer
    # docs/calibration_translation.md (seed 0): the vanilla RNN with attention copies at T = 20 and 110
    # in 200-250 steps; the chrono LSTM, with or without attention, stays at 20-37% after 800
    suggested_steps = 800
    goal = ("copy 10 symbols back after {T} steps", "copied 10 symbols back after {T} steps")
    story = ("Ten symbols (of 8), then blank steps up to {T} in all: the model must then write the ten "
             "symbols back. Guessing gets {chance} of them right.")

    def __init__(self, cfg: TaskConfig):
        super().__init__(cfg)
        self.target_names = [chr(ord("A") + i) for i in range(8)]
        self.vocab = self.target_names + ["_"]

    @property
    def out_len(self) -> int:
        return self.n_copy

    @property
    def chance(self) -> float:
        return 1.0 / len(self.target_names)

    def sample(self, batch_size, gen):
        y = torch.randint(0, len(self.target_names), (batch_size, self.n_copy), generator=gen)
        blanks = torch.full((batch_size, self.seq_len - self.n_copy), len(self.target_names))
        return torch.cat([y, blanks], 1), y

    def info_mask(self, x):
        m = torch.zeros(x.shape[:2], dtype=torch.bool)
        m[:, : self.n_copy] = True
        return m


__all__ = ["SentenceTask", "Translation", "Copying", "NOUNS", "ADJECTIVES", "NOMS", "ADJECTIFS"]
