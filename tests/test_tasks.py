"""Tasks: shapes, label ranges, information positions, and declared baselines checked on data."""
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from core.config import TaskConfig
from core.tasks import TASKS, SentimentBut, make_task, tokenize

SMALL_T = st.integers(min_value=4, max_value=60)
# The generated tasks: every example holds its evidence and the labels follow from it. The real
# series (weather, stocks) have their own tests in test_realdata.py.
SYNTHETIC = sorted(n for n, c in TASKS.items() if c.__module__ == "core.tasks.synthetic")


def task(name, T, **kw):
    return make_task(TaskConfig(name=name, seq_len=T, **kw))


@settings(max_examples=25, deadline=None)
@given(name=st.sampled_from(SYNTHETIC), T=SMALL_T, B=st.integers(1, 17), seed=st.integers(0, 10**6))
def test_shapes_labels_and_info_positions(name, T, B, seed):
    t = task(name, T)
    x, y = t.sample(B, torch.Generator().manual_seed(seed))
    assert x.shape[:2] == (B, T)
    assert y.shape == (B,)
    if t.input_kind == "tokens":
        assert x.dtype == torch.long and 0 <= x.min() and x.max() < len(t.vocab)
        assert 0 <= y.min() and y.max() < t.n_classes
    else:
        assert x.shape[-1] == t.n_channels
        assert ((0 <= y) & (y <= 2)).all()
    mask = t.info_mask(x)
    assert mask.shape == (B, T) and mask.any(dim=1).all()  # every example has its evidence
    assert len(t.render(x)) == B and all(len(r) == T for r in t.render(x))


@settings(max_examples=15, deadline=None)
@given(T=SMALL_T, seed=st.integers(0, 10**6))
def test_labels_follow_from_the_evidence(T, seed):
    """Recompute each label from the input by a different route than the generator's."""
    g = torch.Generator().manual_seed(seed)
    ft = task("first_token", T)
    x, y = ft.sample(32, g)
    assert torch.equal(x[:, 0], y) and (x[:, 1:] >= ft.K).all()
    ad = task("adding", T)
    x, y = ad.sample(32, g)
    marks = x[..., 1]
    assert (marks[:, : T // 2].sum(1) == 1).all() and (marks[:, T // 2 :].sum(1) == 1).all()
    assert torch.allclose((x[..., 0] * marks).sum(1), y)
    to = task("temporal_order", T)
    x, y = to.sample(32, g)
    for row, label in zip(to.render(x), y):
        xy = [s for s in row if s in "XY"]
        assert len(xy) == 2 and to.class_names[int(label)] == "".join(xy)
        assert row[0] == "E" and row[-1] == "B"


def test_sentiment_label_is_the_last_clause():
    t = task("sentiment_but", 30)
    x, y = t.sample(400, torch.Generator().manual_seed(0))
    pos, neg = {"loved", "enjoyed", "liked", "adored", "wonderful", "great", "brilliant", "superb", "moving"}, \
        {"hated", "disliked", "loathed", "despised", "disappointing", "boring", "awful", "terrible", "dull"}
    n_but = 0
    for words, label in zip(t.render(x), y):
        last = [w for w in words if w in pos | neg][-1]
        assert int(label) == (1 if last in pos else 0), " ".join(words)
        n_but += "but" in words
    assert 120 < n_but < 280  # about half the reviews turn round


def test_sentiment_encodes_the_explainer_sentence_and_rejects_unknown_words():
    t = task("sentiment_but", 10)
    ids = t.encode_text("I loved the movie, but the ending was disappointing")
    assert t.render(ids)[0] == tokenize("i loved the movie , but the ending was disappointing")
    with pytest.raises(ValueError, match="fantastic"):
        t.encode_text("the movie was fantastic")


@pytest.mark.parametrize("name", SYNTHETIC)
def test_declared_chance_matches_data(name):
    """A model that ignores its input scores the declared baseline (measured on a big batch)."""
    t = task(name, 40)
    x, y = t.sample(20000, torch.Generator().manual_seed(1))
    if t.metric == "accuracy":
        most_common = torch.bincount(y).max().item() / len(y)
        assert math.isclose(most_common, t.chance, abs_tol=0.02)
    else:
        assert math.isclose(((y - 1.0) ** 2).mean().item(), t.chance, abs_tol=0.01)


@pytest.mark.parametrize("name", sorted(n for n, c in TASKS.items() if not c.own_data))  # own data: test_own_data
def test_same_seed_same_data_and_fixed_held_out(name):
    t = task(name, 20)
    a = t.sample(8, torch.Generator().manual_seed(5))
    b = t.sample(8, torch.Generator().manual_seed(5))
    c = t.sample(8, torch.Generator().manual_seed(6))
    assert torch.equal(a[0], b[0]) and not torch.equal(a[0], c[0])
    assert torch.equal(t.eval_batch()[0], task(name, 20).eval_batch()[0])


def test_synthetic_tasks_are_found():
    assert SYNTHETIC == sorted(["first_token", "adding", "temporal_order", "sentiment_but", "stream"])


def test_first_token_chance_follows_k():
    assert task("first_token", 10, n_symbols=4).chance == 0.25


def test_minimum_lengths_work():
    for name, cls in TASKS.items():
        if cls.own_data:  # needs a file: tests/test_own_data.py
            continue
        t = task(name, cls.min_seq_len)
        x, _ = t.sample(3, torch.Generator().manual_seed(0))
        assert x.shape[1] == cls.min_seq_len
    assert SentimentBut.min_seq_len == 4


# --- the stream: segments never reset, the answer is the last segment's token --------------------
@settings(max_examples=25, deadline=None)
@given(T=st.integers(12, 120), B=st.integers(1, 33), seed=st.integers(0, 10**6))
def test_the_stream_answers_with_the_last_segments_token(T, B, seed):
    t = task("stream", T)
    x, y = t.sample(B, torch.Generator().manual_seed(seed))
    assert x.shape == (B, T) and y.shape == (B,)
    for row, label in zip(x.tolist(), y.tolist()):
        markers = [i for i, v in enumerate(row) if v == t.marker]
        assert markers[0] == 0 and 2 <= len(markers) <= t.MAX_SEGMENTS  # several segments, the first at 0
        assert all(m < T // 2 for m in markers)
        assert all(row[m + 1] < t.K for m in markers)  # each opens with a marker and a token
        assert row[markers[-1] + 1] == label  # the LAST segment's token, not the first's
        others = [v for i, v in enumerate(row) if i - 1 not in markers and i not in markers]
        assert all(t.K <= v < t.K + t.D for v in others)  # the rest is filler
    mask = t.info_mask(x)
    assert mask.sum(dim=1).tolist() == [1] * B
    assert (x[mask] == y).all()


def test_the_streams_chance_and_its_segments_vary():
    t = task("stream", 100)
    assert t.chance == pytest.approx(1 / 8) and t.n_classes == 8 and "|" in t.vocab
    x, y = t.sample(4000, torch.Generator().manual_seed(0))
    n = (x == t.marker).sum(dim=1)
    assert set(n.tolist()) == set(range(2, t.MAX_SEGMENTS + 1))  # the count of segments tells nothing
    first = x[:, 1]
    assert (first != y).float().mean() > 0.8  # the first segment's token is mostly not the answer
    assert abs(torch.bincount(y, minlength=8).float().div(4000).max().item() - 1 / 8) < 0.03
