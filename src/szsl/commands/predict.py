"""``szsl predict``: top-k classes (seen and unseen) of new images with a saved model."""

from __future__ import annotations

import argparse
import csv
import io
import sys

import numpy as np

from szsl.commands._common import check_output_path
from szsl.commands.features import add_image_args
from szsl.errors import SZSLError

COLUMNS = ("image", "rank", "class", "split", "probability")


def add_parser(sub) -> None:
    parser = sub.add_parser(
        "predict",
        help="top-k classes of images or feature rows with a saved model",
        description="Score every image among ALL classes the model knows (seen and unseen) and write its top-k "
        "classes with probabilities as CSV: image, rank, class, split (seen|unseen), probability.",
    )
    parser.add_argument("--model", required=True, metavar="MODEL", help="a model saved by 'szsl train --save'")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--features", metavar="FEATS", help="features: .npy, .npz, .csv or .parquet, one row per image")
    source.add_argument("--images", metavar="DIR", help="a folder of images: ResNet-101 features are extracted first")
    parser.add_argument("--top-k", type=int, default=5, help="classes per image (default 5)")
    parser.add_argument("--out", metavar="CSV", help="write the predictions here (default: print them)")
    parser.add_argument(
        "--features-out",
        metavar="FEATS.npy",
        help="with --images: keep the extracted features here (default: a cache beside --out, resumable)",
    )
    add_image_args(parser)
    parser.set_defaults(func=run)


def predict_rows(clf, features: np.ndarray, names: list[str], top_k: int) -> list[tuple]:
    """(image, rank, class, split, probability) rows, best class first for every image."""
    proba = clf.predict_proba(features)
    k = min(top_k, proba.shape[1])
    order = np.argsort(-proba, axis=1, kind="stable")[:, :k]
    class_names = clf.class_names_ or [str(c) for c in range(proba.shape[1])]
    seen = set(int(c) for c in clf.seen_)
    rows = []
    for i, name in enumerate(names):
        for r, c in enumerate(order[i], start=1):
            rows.append((name, r, class_names[c], "seen" if int(c) in seen else "unseen", f"{proba[i, c]:.6f}"))
    return rows


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from szsl.atomic import atomic_open
    from szsl.data.tables import read_features, read_files_list
    from szsl.model_file import load_model

    check_output_path(args.out, "--out")
    check_output_path(args.features_out, "--features-out")
    if args.top_k < 1:
        raise SZSLError(f"--top-k={args.top_k}: expected an integer >= 1")
    clf = load_model(args.model, device=args.device)
    if args.images:
        from szsl.commands.features import extract_folder

        feats_out = args.features_out or (str(Path(args.out).with_suffix(".features.npy")) if args.out else None)
        if feats_out is None:  # printing only: keep nothing
            import tempfile

            with tempfile.TemporaryDirectory(prefix="szsl-predict-") as tmpdir:
                names, features = extract_folder(args, Path(tmpdir) / "features.npy")
                features = np.array(features)
        else:
            names, features = extract_folder(args, feats_out)
        source = args.images
    else:
        features = read_features(args.features)
        names = read_files_list(args.features)
        if names is None or len(names) != features.shape[0]:
            names = [str(i) for i in range(features.shape[0])]
        source = args.features
    if features.shape[1] != clf.n_features_in_:
        raise SZSLError(f"{source}: features have {features.shape[1]} columns but the model {args.model} expects {clf.n_features_in_}")
    bad = np.flatnonzero(~np.isfinite(np.asarray(features)).all(axis=1))
    if bad.size:
        raise SZSLError(f"{source}: row {int(bad[0])} ({names[bad[0]]}) has NaN or inf features")
    rows = predict_rows(clf, np.array(features, dtype=np.float32), names, args.top_k)
    if args.out:
        with atomic_open(args.out, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(COLUMNS)
            writer.writerows(rows)
        n_unseen = sum(1 for r in rows if r[1] == 1 and r[3] == "unseen")
        print(
            f"{args.out}: top-{min(args.top_k, len(clf.classes_))} classes of {len(names)} images ({n_unseen} predicted as an unseen class)"
        )
    else:
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(COLUMNS)
        writer.writerows(rows)
        sys.stdout.write(buf.getvalue())
    return 0
