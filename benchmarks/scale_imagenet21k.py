"""One epoch of one model on ImageNet-21K-scale synthetic data read from a memory-mapped file.

N = 1,000,000 images x 2048 float32 features (8 GB on disk, in /tmp), C = 21,000 classes of
which 1,000 unseen, hidden 512, batch 1024. The file is generated in chunks (deterministic:
chunk i comes from seed (seed, i)), opened with ``np.load(mmap_mode="r")`` and handed to
``train_population`` as it is: no copy of X is made in process memory; pages are read through
the OS page cache. Reports wall times and peak memory: RSS (counts the page-cache pages of the
memmap the process touched, up to the file size) and anonymous RSS (what the process itself
allocated), sampled every 5 ms.

    python benchmarks/scale_imagenet21k.py                   # generate, train one epoch, delete the file
    python benchmarks/scale_imagenet21k.py --n 100000        # smaller
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import PeakMemory, machine, max_rss_mb  # noqa: E402
from szsl import TrainConfig  # noqa: E402
from szsl.train import train_population  # noqa: E402

CHUNK = 50_000


def generate(path: Path, n: int, d: int, seed: int) -> float:
    """Write X (n, d) float32 as a .npy file chunk by chunk; bounded memory."""
    start = time.perf_counter()
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, d))
    for i, s in enumerate(range(0, n, CHUNK)):
        rng = np.random.default_rng([seed, i])
        chunk = rng.random((min(CHUNK, n - s), d), dtype=np.float32)
        np.maximum(chunk - 0.35, 0, out=chunk)  # ~35 % exact zeros, like ReLU features
        out[s : s + chunk.shape[0]] = chunk
    out.flush()
    del out
    return time.perf_counter() - start


def main() -> int:
    p = argparse.ArgumentParser(description="one epoch at ImageNet-21K scale from a memmap")
    p.add_argument("--n", type=int, default=1_000_000)
    p.add_argument("--d", type=int, default=2048)
    p.add_argument("--classes", type=int, default=21_000)
    p.add_argument("--unseen", type=int, default=1_000)
    p.add_argument("--attributes", type=int, default=85)
    p.add_argument("--hidden", type=int, default=512)
    p.add_argument("--batch-size", type=int, default=1024)
    p.add_argument("--device", default="cpu")
    p.add_argument("--path", default="/tmp/szsl-scale-X.npy")
    p.add_argument("--keep", action="store_true", help="keep the generated file (default: delete it at the end)")
    p.add_argument("--json", metavar="OUT")
    a = p.parse_args()
    path = Path(a.path)
    info = {"machine": machine(), "n": a.n, "d": a.d, "classes": a.classes, "unseen": a.unseen, "hidden": a.hidden,
            "batch_size": a.batch_size, "device": a.device, "file_gb": a.n * a.d * 4 / 1e9}
    print(json.dumps(info), flush=True)
    try:
        if not path.exists():
            info["generate_s"] = generate(path, a.n, a.d, seed=0)
            print(f"generated {path} in {info['generate_s']:.0f} s", flush=True)
        X = np.load(path, mmap_mode="r")
        rng = np.random.default_rng(1)
        seen = a.classes - a.unseen
        y = rng.integers(0, seen, a.n)  # the last `unseen` classes have no image
        A = rng.random((a.classes, a.attributes)).astype(np.float32)
        A /= np.linalg.norm(A, axis=1, keepdims=True)
        cfg = TrainConfig(hidden=a.hidden, batch_size=a.batch_size, epochs=1)
        rss_before = max_rss_mb()
        with PeakMemory() as mem:
            start = time.perf_counter()
            (member,) = train_population(X, y, A, [cfg], device=a.device, progress=True)
            call = time.perf_counter() - start
        info.update({
            "call_s": call, "epoch_s": member.train_seconds, "validate_and_setup_s": call - member.train_seconds,
            "final_loss": member.final_loss, "diverged": member.diverged,
            "peak_rss_mb": mem.rss_mb, "peak_anon_mb": mem.anon_mb, "ru_maxrss_mb": max_rss_mb(),
            "rss_before_mb": rss_before, "n_times_c_float32_gb": a.n * a.classes * 4 / 1e9,
        })
        if torch.cuda.is_available() and torch.device(a.device).type == "cuda":
            info["cuda_peak_mb"] = torch.cuda.max_memory_allocated() / 2**20
        print(json.dumps(info, indent=2), flush=True)
        if a.json:
            Path(a.json).write_text(json.dumps(info, indent=2))
    finally:
        if not a.keep and path.exists():
            os.remove(path)
            print(f"deleted {path}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
