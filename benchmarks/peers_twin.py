"""One peer method with its DEFAULTS on xlsa17-layout data (e.g. the realistic twins): GZSL U/S/H, ZSL T1, seconds.

    PYTHONPATH=src python benchmarks/peers_twin.py --root /tmp/twins/s1 --datasets APY CUB --method cn
    PYTHONPATH=src python benchmarks/peers_twin.py --root /tmp/twins/s1 --datasets APY --method sae --set lambda=0.2

Train on trainval (all its images), evaluate on test_seen + test_unseen among ALL classes
(U, S: per-class mean top-1; H their harmonic mean) and on test_unseen among the unseen
classes only (T1). ``--cub-seen-scale`` (default 1.0) sets cn's / cn-soft's ``seen_scale`` on
CUB, as the CN authors do; a module with ``authors_params(dataset)`` (f-clswgan, tf-vaegan) gets
its authors' per-dataset values. No hyperparameter is chosen on the test split here.

    PYTHONPATH=src python benchmarks/peers_twin.py --root /tmp/twins/s1 --datasets APY --method f-clswgan --set epochs=1
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import torch

import szsl
from szsl.metrics import gzsl_metrics, zsl_top1


def load_method(name: str):
    return importlib.import_module(f"szsl.methods.{name.replace('-', '_')}")


def parse_set(items):
    out = {}
    for item in items or []:
        key, _, value = item.partition("=")
        out[key] = json.loads(value) if value else value
    return out


def run_one(method: str, root: str, ds: str, *, seed: int, device: str, overrides: dict, cub_seen_scale: float) -> dict:
    mod = load_method(method)
    bench = szsl.load_xlsa17(root, ds)
    C = bench.n_classes
    params = mod.authors_params(ds) if hasattr(mod, "authors_params") else dict(mod.DEFAULTS)
    if ds.upper() == "CUB" and "seen_scale" in params:
        params["seen_scale"] = cub_seen_scale
    params.update(overrides)
    tv = bench.trainval
    t0 = time.perf_counter()
    fitted = mod.fit(bench.features[tv], bench.labels[tv], bench.attributes, params, seed=seed, device=device)
    fit_s = time.perf_counter() - t0
    test = np.concatenate([bench.test_seen, bench.test_unseen])
    scores = fitted.scores(bench.features[test])
    assert scores.shape == (test.size, C) and np.isfinite(scores).all()
    g = gzsl_metrics(bench.labels[test], scores.argmax(1), bench.seen, bench.unseen)
    su = fitted.scores(bench.features[bench.test_unseen])[:, bench.unseen]
    t1 = zsl_top1(bench.labels[bench.test_unseen], bench.unseen[su.argmax(1)], bench.unseen)
    return {"method": method, "dataset": ds, "root": root, "seed": seed, "U": g["U"], "S": g["S"], "H": g["H"], "T1": t1,
            "fit_seconds": fit_s, "total_seconds": time.perf_counter() - t0,
            "loss_first": fitted.loss_history_[0], "loss_last": fitted.loss_history_[-1],
            "params": {k: params[k] for k in sorted(params)}}


def run_fold(method: str, root: str, ds: str, fold: int, *, seed: int, device: str, overrides: dict,
             cub_seen_scale: float, holdout: float = 0.2) -> dict:
    """GZSL on validation fold ``fold`` (1-based) of trainval only -- the test classes are not even in the
    class set: train on ``1 - holdout`` of the images of the fold's train classes, U on its val classes'
    images, S on the held-out images of its train classes."""
    mod = load_method(method)
    bench = szsl.load_xlsa17(root, ds)
    f = bench.folds[fold - 1]
    classes = np.union1d(f.train_classes, f.val_classes)
    remap = -np.ones(bench.n_classes, dtype=np.int64)
    remap[classes] = np.arange(classes.size)
    tv = bench.trainval
    lab = remap[bench.labels[tv]]
    is_train_class = np.isin(bench.labels[tv], f.train_classes)
    rng = np.random.default_rng(1000 + fold)
    hold = np.zeros(tv.size, dtype=bool)
    for c in f.train_classes:
        idx = np.flatnonzero(bench.labels[tv] == c)
        hold[rng.choice(idx, size=round(holdout * idx.size), replace=False)] = True
    train = is_train_class & ~hold
    params = mod.authors_params(ds) if hasattr(mod, "authors_params") else dict(mod.DEFAULTS)
    if ds.upper() == "CUB" and "seen_scale" in params:
        params["seen_scale"] = cub_seen_scale
    params.update(overrides)
    t0 = time.perf_counter()
    fitted = mod.fit(bench.features[tv[train]], lab[train], bench.attributes[classes], params, seed=seed, device=device)
    fit_s = time.perf_counter() - t0
    test = ~train
    scores = fitted.scores(bench.features[tv[test]])
    seen_m, unseen_m = remap[f.train_classes], remap[f.val_classes]
    g = gzsl_metrics(lab[test], scores.argmax(1), seen_m, unseen_m)
    um = test & ~is_train_class
    su = fitted.scores(bench.features[tv[um]])[:, unseen_m]
    t1 = zsl_top1(lab[um], unseen_m[su.argmax(1)], unseen_m)
    return {"method": method, "dataset": ds, "root": root, "seed": seed, "fold": fold, "U": g["U"], "S": g["S"],
            "H": g["H"], "T1": t1, "fit_seconds": fit_s, "loss_first": fitted.loss_history_[0],
            "loss_last": fitted.loss_history_[-1], "params": {k: params[k] for k in sorted(params)}}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", required=True)
    ap.add_argument("--datasets", nargs="+", default=["APY", "CUB"])
    ap.add_argument("--method", default="cn")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--set", nargs="*", metavar="KEY=JSON", help="override one of the method's DEFAULTS")
    ap.add_argument("--cub-seen-scale", type=float, default=1.0)
    ap.add_argument("--fold", type=int, default=0, help="1..3: evaluate on that validation fold of trainval instead of the test split")
    ap.add_argument("--json", help="append one JSON line per dataset to this file")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    overrides = parse_set(args.set)
    if overrides:
        print(f"overrides: {overrides}" + (f"  (validation fold {args.fold})" if args.fold else "  (test split)"))
    print(f"{'method':8s} {'DS':5s} {'U':>6s} {'S':>6s} {'H':>6s} {'T1':>6s} {'sec':>7s}")
    for ds in args.datasets:
        if args.fold:
            r = run_fold(args.method, args.root, ds, args.fold, seed=args.seed, device=args.device, overrides=overrides,
                         cub_seen_scale=args.cub_seen_scale)
        else:
            r = run_one(args.method, args.root, ds, seed=args.seed, device=args.device, overrides=overrides,
                        cub_seen_scale=args.cub_seen_scale)
        print(f"{r['method']:8s} {ds:5s} {r['U']:6.1f} {r['S']:6.1f} {r['H']:6.1f} {r['T1']:6.1f} {r['fit_seconds']:7.1f}", flush=True)
        if args.json:
            with open(args.json, "a") as fh:
                fh.write(json.dumps(r) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
