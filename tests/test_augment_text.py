"""Brand-voice augmentation: classifier, filters, dedupe, diversity, CLI and bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from synthcust.augment import BrandVoiceClassifier, augment_text, distinct_n, read_seed_lines
from synthcust.augment.text import GENERIC_COPY
from synthcust.cli import app
from synthcust.exceptions import DataError, ReadError
from synthcust.llm import FakeBackend
from synthcust.personas.knowledge import TfidfEmbedder

SEED = [
    "Wander slow. Our linen breathes with you, from dawn coffee to dusk.",
    "Crafted by hand in small batches, for mornings that take their time.",
    "Soft as the first light, our cotton is grown without hurry.",
    "Made to be lived in, mended and loved for years.",
    "Quiet colours, honest seams, and linen that softens with every wash.",
    "For slow Sundays and long walks by the sea.",
    "We weave with patience, so your shirt can keep its shape for seasons.",
    "Breathe out. Our undyed wool keeps the evening chill at bay.",
    "Every thread chosen with care, every seam sewn to last.",
    "Small batches, natural fibres, made for slow living.",
    "Linen that remembers the summer, long after it has gone.",
    "From our looms to your slow mornings, gently made.",
]

NEW = [
    "Slow mornings deserve linen that breathes and softens with time.",
    "Buy now and save big on all our products!",  # generic -> off brand
    "Wander slow. Our linen breathes with you, from dawn coffee to dusk.",  # copy of a seed
    "Hand-woven cotton for long, unhurried evenings by the sea.",
    "Slow mornings deserve linen that breathes and softens with time.",  # repeat
    "",
    "Gently made wool for quiet walks and slow Sundays.",
    "Slow linen, call us on (915) 268-3047 for quiet mornings.",  # invented phone number
]


def test_classifier_separates_brand_from_generic():
    clf = BrandVoiceClassifier(TfidfEmbedder(), random_state=0).fit(SEED, GENERIC_COPY)
    p = clf.predict_proba(["Linen made slowly for quiet mornings.",
                           "Limited time offer, don't miss out on great deals!"])
    assert p[0] > 0.5 > p[1]
    assert set(clf.heldout) >= {"precision", "roc_auc", "n_test"} and clf.heldout["n_test"] >= 10
    assert clf.heldout["roc_auc"] > 0.8
    with pytest.raises(DataError, match="at least 4"):
        BrandVoiceClassifier(TfidfEmbedder()).fit(SEED[:2], GENERIC_COPY)


def test_augment_filters_off_brand_and_duplicates():
    fb = FakeBackend(NEW, cycle=False)
    res = augment_text(SEED, 4, fb, embedder=TfidfEmbedder(), max_attempts=len(NEW))
    assert res.generated == len(NEW)
    assert res.rejected["off_brand"] >= 1 and res.rejected["duplicate"] >= 2
    assert res.rejected["empty"] == 1 and res.rejected["pii"] == 1
    assert len(res.accepted) == len(set(res.accepted)) >= 2
    assert not set(res.accepted) & set(SEED)
    assert "Buy now and save big on all our products!" not in res.accepted
    assert res.acceptance_rate == pytest.approx(len(res.accepted) / len(NEW))
    assert 0 < res.diversity["distinct_1"] <= 1 and res.diversity["spread"] > 0
    # the model saw a handful of seed lines, and each attempt has its own seed
    assert "Approved examples:" in fb.calls[0].user
    assert len({c.seed for c in fb.calls}) == len(fb.calls)


def test_distinct_n():
    assert distinct_n(["a b a b"], 1) == 0.5
    assert distinct_n(["a b c"], 2) == 1.0 and distinct_n([], 2) == 0.0


def test_bad_seed_input(tmp_path):
    with pytest.raises(DataError, match="seed set is empty"):
        augment_text(["  ", ""], 3, FakeBackend())
    (tmp_path / "empty.txt").write_text("\n \n", encoding="utf-8")
    with pytest.raises(DataError, match="holds no text"):
        read_seed_lines(tmp_path / "empty.txt")
    (tmp_path / "latin.txt").write_bytes("Caf\u00e9 cr\u00e8me\n".encode("cp1252"))
    with pytest.raises(ReadError, match=r"not UTF-8 \(byte 0xe9 at offset 3\)"):
        read_seed_lines(tmp_path / "latin.txt")
    with pytest.raises(ReadError, match="does not exist"):
        read_seed_lines(tmp_path / "nope.txt")


def test_cli_augment_text(tmp_path):
    (tmp_path / "seed.txt").write_text("\n".join(SEED), encoding="utf-8")
    r = CliRunner().invoke(app, [
        "augment-text", str(tmp_path / "seed.txt"), "-n", "2", "-o", str(tmp_path / "out.txt"),
        "--backend", "fake", "--no-cache", "--report", str(tmp_path / "rep.json"),
        "--max-attempts", "3", "--embedder", "tfidf"])
    assert r.exit_code == 0, r.output
    rep = json.loads((tmp_path / "rep.json").read_text(encoding="utf-8"))
    assert rep["generated"] == 3 and "classifier_heldout" in rep
    lines = (tmp_path / "out.txt").read_text(encoding="utf-8").splitlines()
    assert lines == rep["accepted"]
    assert np.isfinite(rep["acceptance_rate"])
