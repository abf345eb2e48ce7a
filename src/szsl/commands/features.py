"""``szsl features``: ResNet-101 features of a folder of images (resumable)."""

from __future__ import annotations

import argparse

from szsl.commands._common import add_quiet_arg


def add_image_args(parser: argparse.ArgumentParser) -> None:
    """Options of the feature extractor (shared with ``szsl predict --images``)."""
    parser.add_argument("--batch-size", type=int, default=32, help="images per forward pass (default 32)")
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda, cuda:N")
    parser.add_argument(
        "--weights",
        metavar="PATH",
        default=None,
        help="a torchvision resnet101 state-dict file; "
        "default: ResNet101_Weights.IMAGENET1K_V1 from the torch hub cache (never downloaded)",
    )
    parser.add_argument("--random-init", action="store_true", help="use a RANDOMLY initialised ResNet-101 (tests and demos only)")
    add_quiet_arg(parser)


def add_parser(sub) -> None:
    parser = sub.add_parser(
        "features",
        help="extract 2048-d ResNet-101 features of a folder of images",
        description="Extract 2048-d average-pooled ResNet-101 features (resize 256, center crop 224, ImageNet "
        "normalisation) of every image under --images (recursive, sorted by path). Writes OUT (.npy, one row "
        "per image) and OUT-stem.files.txt (the image of each row). Interrupted runs resume where they stopped.",
    )
    parser.add_argument("--images", required=True, metavar="DIR", help="folder of images (searched recursively)")
    parser.add_argument("--out", required=True, metavar="FEATS.npy", help="output features file (.npy)")
    add_image_args(parser)
    parser.set_defaults(func=run)


def extract_folder(args: argparse.Namespace, out) -> tuple[list[str], object]:
    from pathlib import Path

    from szsl.features import extract_features, list_images

    names = list_images(args.images)
    feats = extract_features(
        [Path(args.images) / n for n in names],
        out,
        names=names,
        batch_size=args.batch_size,
        device=args.device,
        weights=args.weights,
        random_init=args.random_init,
        progress=not args.quiet,
    )
    return names, feats


def run(args: argparse.Namespace) -> int:
    names, feats = extract_folder(args, args.out)
    from szsl.data.tables import files_list_path

    print(f"{args.out}: {feats.shape[0]} images x {feats.shape[1]} features (rows listed in {files_list_path(args.out)})")
    return 0
