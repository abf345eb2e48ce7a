"""A toy GZSL training problem shared by the training and estimator tests."""

import numpy as np


def toy_problem(n=600, d=20, seed=0):
    rng = np.random.default_rng(seed)
    A = rng.random((8, 6)).astype(np.float32)
    A /= np.linalg.norm(A, axis=1, keepdims=True)
    y = rng.integers(0, 6, n)  # classes 6 and 7 have no images: unseen
    X = np.maximum(A[y] @ rng.standard_normal((6, d)) + 0.3 * rng.standard_normal((n, d)), 0).astype(np.float32)
    return X, y, A
