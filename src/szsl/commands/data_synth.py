"""``szsl data synth``: synthetic features in the xlsa17 file format (see docs/data.md)."""

from __future__ import annotations

import time


def add_parser(data_sub) -> None:
    p = data_sub.add_parser(
        "synth",
        help="write <OUT>/<DS>/res101.mat with synthetic features beside copies of the real xlsa17 metadata",
    )
    p.add_argument("--root", required=True, help="folder holding the real <DS>/att_splits.mat and class lists")
    p.add_argument("--dataset", required=True, help="AWA1, AWA2, CUB, SUN or APY (case-insensitive)")
    p.add_argument("--out", required=True, help="output folder; <OUT>/<DS>/ is written atomically")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0); same seed -> identical features")
    p.add_argument("--feature-dim", type=int, default=2048, help="feature dimension D (default 2048, like ResNet-101)")
    p.add_argument("--mat-format", choices=["v5", "v73"], default="v5", help="MATLAB v5 (scipy) or v7.3 (HDF5) res101.mat (default v5)")
    p.set_defaults(func=run)


def run(args) -> int:
    from szsl.data.synth import synthesize_xlsa17

    start = time.perf_counter()
    folder = synthesize_xlsa17(args.root, args.dataset, args.out, seed=args.seed, feature_dim=args.feature_dim, mat_format=args.mat_format)
    print(f"wrote {folder / 'res101.mat'} ({time.perf_counter() - start:.1f} s)")
    return 0
