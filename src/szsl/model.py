"""g_W with the fixed attribute head, as a population of K stacked members.

One member is ``x -> act(x W1 + b1) W2 + b2`` (D -> hidden -> A), followed by the fixed,
non-trainable class-attribute matrix: ``logits = g_W(x) @ A^T`` over all C classes the model
knows, ``p = softmax(logits)``. K members that share a hidden size are stored stacked
(W1: K x D x H, ...) so that one batched matmul trains or scores all of them, each member with
its own activation if need be; a single model is simply K = 1.
"""

from __future__ import annotations

import itertools
import math
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from szsl.errors import SZSLError

PARAM_NAMES = ("W1", "b1", "W2", "b2")
WEIGHT_NAMES = ("W1", "W2")  # regularised by l2 / l1; biases are not


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except RuntimeError as exc:
        raise SZSLError(f"device={device!r}: expected auto, cpu, cuda or cuda:N") from exc
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise SZSLError(f"device={device!r}: CUDA is not available on this machine (use --device cpu or auto)")
    return resolved


def activation_fn(name: str):
    # hard-sigmoid is PyTorch's: relu6(x + 3) / 6 (Keras 2 used clip(0.2 x + 0.5, 0, 1)).
    return {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid, "hard-sigmoid": F.hardsigmoid}[name]


def init_member(seed: int, in_dim: int, hidden: int, out_dim: int) -> dict[str, torch.Tensor]:
    """Initial weights of one member, drawn on the CPU from its own seed.

    Same scheme as ``torch.nn.Linear`` (uniform in +-1/sqrt(fan_in)). Drawing on the CPU from a
    per-member generator makes a member's start independent of its population and device.
    """
    gen = torch.Generator().manual_seed(int(seed))

    def uniform(shape, fan_in):
        bound = 1.0 / math.sqrt(fan_in)
        return (torch.rand(shape, generator=gen, dtype=torch.float32) * 2 - 1) * bound

    return {
        "W1": uniform((in_dim, hidden), in_dim),
        "b1": uniform((hidden,), in_dim),
        "W2": uniform((hidden, out_dim), hidden),
        "b2": uniform((out_dim,), hidden),
    }


def stack_members(states: Sequence[dict[str, torch.Tensor]], device: torch.device) -> dict[str, torch.Tensor]:
    """Stack K member states into K-leading tensors (biases become K x 1 x n for broadcasting)."""
    stacked = {}
    for name in PARAM_NAMES:
        t = torch.stack([s[name] for s in states]).to(device=device, dtype=torch.float32)
        stacked[name] = t.unsqueeze(1) if name.startswith("b") else t
    return stacked


def unstack_members(params: dict[str, torch.Tensor]) -> list[dict[str, torch.Tensor]]:
    k = params["W1"].shape[0]
    out = []
    for i in range(k):
        out.append({name: (params[name][i, 0] if name.startswith("b") else params[name][i]).detach().cpu().clone() for name in PARAM_NAMES})
    return out


def embed(params: dict[str, torch.Tensor], x: torch.Tensor, activation: str | Sequence[str]) -> torch.Tensor:
    """g_W(x) for every member: x is (B, D) shared by all members or (K, B, D) per member -> (K, B, A).

    ``activation``: one name for all K members, or one per member (a heterogeneous group: each
    activation is applied to its members' slice of the hidden layer, so a member computes what it
    would alone; elementwise work only)."""
    if x.dim() == 2:
        x = x.unsqueeze(0).expand(params["W1"].shape[0], -1, -1)
    pre = torch.baddbmm(params["b1"], x, params["W1"])
    # Runs of consecutive members sharing an activation (``train`` orders a group's members so that each
    # activation is one run); one run is the whole stack, with no copy.
    runs = [(name, len(list(run))) for name, run in itertools.groupby([activation] if isinstance(activation, str) else activation)]
    if len(runs) == 1:
        h = activation_fn(runs[0][0])(pre)
    else:
        starts = itertools.accumulate([n for _, n in runs], initial=0)
        h = torch.cat([activation_fn(name)(pre[start : start + n]) for (name, n), start in zip(runs, starts)])
    return torch.baddbmm(params["b2"], h, params["W2"])


def logits(params: dict[str, torch.Tensor], x: torch.Tensor, class_attributes: torch.Tensor, activation) -> torch.Tensor:
    """Scores over all C known classes: g_W(x) @ A^T, (K, B, C). A is a constant, never trained.
    ``activation``: one name or one per member (``embed``)."""
    return embed(params, x, activation) @ class_attributes.T


class Scorer:
    """Logits of K members (same hidden size; one activation, or one per member) on any X: the weights
    are stacked on the device once, X is scored in row chunks (memory: one (K, chunk, C) block, whatever n)."""

    def __init__(
        self,
        states: Sequence[dict[str, torch.Tensor]],
        activation: str | Sequence[str],
        class_attributes,
        *,
        device: str | torch.device = "auto",
    ):
        self.device = resolve_device(device)
        self.params = stack_members(states, self.device)
        self.activation = activation if isinstance(activation, str) else tuple(activation)
        self.attributes = torch.as_tensor(np.asarray(class_attributes, dtype=np.float32), device=self.device)

    @torch.no_grad()
    def __call__(self, X, *, chunk_size: int = 4096) -> np.ndarray:
        """(K, n, C) float32."""
        n = int(X.shape[0])
        out = np.empty((self.params["W1"].shape[0], n, self.attributes.shape[0]), dtype=np.float32)
        for start in range(0, n, chunk_size):
            xb = torch.as_tensor(np.asarray(X[start : start + chunk_size], dtype=np.float32), device=self.device)
            out[:, start : start + xb.shape[0]] = logits(self.params, xb, self.attributes, self.activation).cpu().numpy()
        return out


def predict_scores(
    states: Sequence[dict[str, torch.Tensor]],
    activation: str | Sequence[str],
    X,
    class_attributes,
    *,
    device: str | torch.device = "auto",
    chunk_size: int = 4096,
) -> np.ndarray:
    """Logits of K members (same hidden size; one activation or one per member) on X, in row chunks: (K, n, C) float32."""
    return Scorer(states, activation, class_attributes, device=device)(X, chunk_size=chunk_size)
