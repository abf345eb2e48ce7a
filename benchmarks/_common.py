"""Helpers shared by the benchmark scripts: machine description, peak memory, GEMM floor, data."""

from __future__ import annotations

import json
import os
import platform
import resource
import threading
import time

import numpy as np
import torch


def machine() -> dict:
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info = {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none",
    }
    try:
        info["load_avg_1min_at_start"] = os.getloadavg()[0]
    except OSError:
        pass
    return info


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


class PeakMemory:
    """Peak resident memory of this process while the block runs (sampled every few ms).

    rss: all resident pages (file-backed pages of a memmap that the process touched included);
    anon: anonymous memory only (what the process itself allocated: numpy / torch buffers).
    """

    def __init__(self, interval: float = 0.005):
        self.interval = interval

    def __enter__(self):
        self.rss_mb = self.anon_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._sample()
        self._thread.start()
        return self

    def _sample(self):
        self.rss_mb = max(self.rss_mb, _status_kb("VmRSS") / 1024)
        self.anon_mb = max(self.anon_mb, _status_kb("RssAnon") / 1024)

    def _run(self):
        while not self._stop.wait(self.interval):
            self._sample()

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self._sample()
        if torch.cuda.is_available():
            self.cuda_mb = torch.cuda.max_memory_allocated() / 2**20
        return False


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def batch_sizes(n: int, bs: int) -> list[int]:
    return [min(bs, n - s) for s in range(0, n, bs)]


class GemmFloor:
    """The matrix multiplications of one epoch of one model, alone, on preallocated buffers.

    Per mini-batch of B rows: forward x@W1 (B,D)x(D,H), h@W2 (B,H)x(H,A), g@A^T (B,A)x(A,C);
    backward dlogits@A, h^T@dg (dW2), dg@W2^T (dh), x^T@dh (dW1). No dx (the data needs no gradient).
    """

    def __init__(self, n, d, h, a, c, bs, device="cpu"):
        dev = torch.device(device)
        self.sizes = batch_sizes(n, bs)
        r = lambda *s: torch.rand(*s, device=dev)  # noqa: E731
        self.x, self.W1, self.W2, self.A = r(bs, d), r(d, h), r(h, a), r(c, a)
        self.h, self.g, self.z = r(bs, h), r(bs, a), r(bs, c)
        self.dW1, self.dW2, self.dh, self.dg = r(d, h), r(h, a), r(bs, h), r(bs, a)
        self.dev = dev

    def epoch(self) -> float:
        start = time.perf_counter()
        for b in self.sizes:
            x, h, g, z, dh, dg = self.x[:b], self.h[:b], self.g[:b], self.z[:b], self.dh[:b], self.dg[:b]
            torch.mm(x, self.W1, out=h)
            torch.mm(h, self.W2, out=g)
            torch.mm(g, self.A.T, out=z)
            torch.mm(z, self.A, out=dg)
            torch.mm(h.T, dg, out=self.dW2)
            torch.mm(dg, self.W2.T, out=dh)
            torch.mm(x.T, dh, out=self.dW1)
        if self.dev.type == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - start


def synthetic(n, d, classes, unseen, attributes=85, seed=0):
    """Random AwA2-shaped data: X (n, d) float32 >= 0, y over the first classes - unseen classes, A (classes, attributes)."""
    rng = np.random.default_rng(seed)
    X = rng.random((n, d), dtype=np.float32)
    y = rng.integers(0, classes - unseen, n)
    A = rng.random((classes, attributes)).astype(np.float32)
    A /= np.linalg.norm(A, axis=1, keepdims=True)
    return X, y, A


def median(xs):
    return float(np.median(np.asarray(xs, dtype=np.float64)))


def spread(xs):
    """(min, max) / median - 1: how noisy the repeats were."""
    m = median(xs)
    return f"{min(xs) / m - 1:+.0%}..{max(xs) / m - 1:+.0%}"


def parse_assignments(pairs) -> dict:
    """NAME=VALUE pairs (a benchmark's --set) as a dict: VALUE read as JSON, else kept as text."""
    out = {}
    for pair in pairs or ():
        name, _, value = pair.partition("=")
        try:
            out[name] = json.loads(value)
        except json.JSONDecodeError:
            out[name] = value
    return out
