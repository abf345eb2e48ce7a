"""An independent, plain PyTorch implementation of the same model and loss, for timing only.

What a user would write without szsl: ``nn.Sequential(Linear, ReLU, Linear)``, logits against
the fixed class-attribute matrix, the soft labels of paper eq. 1 precomputed for the seen
classes (a small C x C matrix at AwA2 scale), ``F.cross_entropy`` with probability targets,
``torch.optim.Adam`` with its defaults for the device, and the standard mini-batch loop over
in-memory tensors (a fresh ``randperm`` per epoch, ``X[perm[i:i+B]]``). No szsl code is used.

    python benchmarks/plain_torch_reference.py --n 23527 --epochs 1     # times one epoch
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def soft_label_matrix(A: torch.Tensor, seen: torch.Tensor, unseen: torch.Tensor, q: float, tau: float) -> torch.Tensor:
    """(C, C): row c = soft label of class c (1 - q on c, q * softmax(<a_c, a_u> / tau) on the unseen u)."""
    C = A.shape[0]
    S = torch.zeros(C, C)
    S[seen, seen] = 1.0 - q
    S[seen[:, None], unseen[None, :]] = q * torch.softmax(A[seen] @ A[unseen].T / tau, dim=1)
    return S


def train_plain(X, y, A, *, hidden=1500, batch_size=256, epochs=1, lr=1e-3, q=0.3, tau=0.2, alpha=0.5, seed=0, device="cpu"):
    """Train the plain model; returns (model, list of seconds per epoch)."""
    torch.manual_seed(seed)
    dev = torch.device(device)
    X = torch.as_tensor(X, dtype=torch.float32).to(dev)  # in memory (a copy, as a user's loader would make)
    y = torch.as_tensor(y, dtype=torch.long).to(dev)
    A = torch.as_tensor(A, dtype=torch.float32).to(dev)
    seen = torch.unique(y)
    unseen = torch.tensor(np.setdiff1d(np.arange(A.shape[0]), seen.cpu().numpy()), dtype=torch.long, device=dev)
    S = soft_label_matrix(A.cpu(), seen.cpu(), unseen.cpu(), q, tau).to(dev)
    model = nn.Sequential(nn.Linear(X.shape[1], hidden), nn.ReLU(), nn.Linear(hidden, A.shape[1])).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    n = X.shape[0]
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        perm = torch.randperm(n, device=dev)
        for i in range(0, n, batch_size):
            idx = perm[i : i + batch_size]
            xb, yb = X[idx], y[idx]
            logits = model(xb) @ A.T
            loss = alpha * F.cross_entropy(logits, S[yb]) + (1 - alpha) * F.cross_entropy(logits, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
        if dev.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return model, times


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=23527)
    p.add_argument("--d", type=int, default=2048)
    p.add_argument("--classes", type=int, default=50)
    p.add_argument("--unseen", type=int, default=10)
    p.add_argument("--attributes", type=int, default=85)
    p.add_argument("--hidden", type=int, default=1500)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--device", default="cpu")
    a = p.parse_args()
    rng = np.random.default_rng(0)
    X = rng.random((a.n, a.d), dtype=np.float32)
    y = rng.integers(0, a.classes - a.unseen, a.n)
    A = rng.random((a.classes, a.attributes)).astype(np.float32)
    _, times = train_plain(X, y, A, hidden=a.hidden, batch_size=a.batch_size, epochs=a.epochs, device=a.device)
    print("seconds per epoch:", " ".join(f"{t:.3f}" for t in times))


if __name__ == "__main__":
    main()
