"""ResNet-101 image features, as in xlsa17: 2048-d average-pooled activations.

Preprocessing is the xlsa17 / torchvision ImageNet one: RGB, resize the short side to 256,
center crop 224, ImageNet mean/std normalisation. Needs torchvision and pillow
(``pip install 'szsl[images]'``).

Weights (never downloaded by szsl):

* ``weights=None``: torchvision's ``ResNet101_Weights.IMAGENET1K_V1`` file in the torch hub
  cache (``<torch.hub.get_dir()>/checkpoints/resnet101-63fe2227.pth``), where
  ``torchvision.models.resnet101(weights="IMAGENET1K_V1")`` puts it on a machine with internet;
  copy that file there to work offline.
* ``weights=PATH``: a state-dict file of ``torchvision.models.resnet101`` (``fc.*`` optional).
* ``random_init=True``: a randomly initialised network (seed 0), for tests and demos only.

Extraction is resumable: every chunk of images is written to ``.<out>.parts/`` with a progress
marker; re-running with the same images and weights skips the finished chunks. The final
``out`` (.npy, float32, one row per image) and ``<out stem>.files.txt`` (the image of each
row) are written atomically.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Sequence

import numpy as np

from szsl.atomic import atomic_path, write_json, write_text
from szsl.data.tables import files_list_path, is_present, open_regular, read_files_list, regular_file
from szsl.errors import SZSLError

FEATURE_DIM = 2048
RESIZE, CROP = 256, 224
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm")
IMAGES_EXTRA = "pip install 'szsl[images]' (torchvision and pillow)"
PARTS_FORMAT = 1


def list_images(folder: str | os.PathLike) -> list[str]:
    """Image files under ``folder`` (recursive), as sorted POSIX paths relative to it."""
    folder = Path(folder)
    if not folder.is_dir():
        raise SZSLError(f"{folder}: image folder not found")
    files = sorted(
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )
    if not files:
        raise SZSLError(f"{folder}: no image files ({', '.join(IMAGE_SUFFIXES)})")
    return files


def _torchvision():
    try:
        import torchvision  # noqa: F401
        from PIL import Image  # noqa: F401
    except ImportError as exc:
        raise SZSLError(f"image features need torchvision and pillow ({exc.name or exc} is missing): {IMAGES_EXTRA}") from None
    except Exception as exc:  # e.g. a torchvision built for another torch ('operator torchvision::nms does not exist')
        raise SZSLError(
            f"torchvision does not work beside torch here ({type(exc).__name__}: {str(exc).splitlines()[0][:160]}); install matching "
            "versions, e.g. pip install torch==2.14.1 torchvision==0.29.1"
        ) from None
    import torchvision

    return torchvision


def default_weights_file() -> Path:
    """Where torchvision keeps ResNet101_Weights.IMAGENET1K_V1 (the torch hub checkpoint cache)."""
    import torch

    tv = _torchvision()
    url = tv.models.ResNet101_Weights.IMAGENET1K_V1.url
    return Path(torch.hub.get_dir()) / "checkpoints" / url.rsplit("/", 1)[-1]


def weights_identity(weights: str | os.PathLike | None, random_init: bool) -> str:
    """A string that changes whenever the network would (resumed chunks must match it)."""
    if random_init:
        return "random-init-seed0-zero-residual"
    path = Path(weights) if weights is not None else default_weights_file()
    st = path.stat() if path.is_file() else None
    return f"{path.resolve()}:{st.st_size if st else '-'}:{int(st.st_mtime) if st else '-'}"


def load_resnet101(weights: str | os.PathLike | None = None, random_init: bool = False, device="cpu"):
    """ResNet-101 with ``fc`` replaced by identity: image batch (B, 3, 224, 224) -> (B, 2048)."""
    import torch

    tv = _torchvision()
    if random_init and weights is not None:
        raise SZSLError("--weights and --random-init exclude each other")
    if random_init:
        print(
            "szsl: WARNING: --random-init: ResNet-101 with RANDOM weights (seed 0); these features are for tests and demos only, "
            "not for real zero-shot learning",
            file=sys.stderr,
        )
        torch.manual_seed(0)
        # zero_init_residual: every residual block starts as the identity, so random features stay
        # at a sane scale (default init grows them to ~1e4 over 33 blocks).
        net = tv.models.resnet101(weights=None, zero_init_residual=True)
    else:
        if weights is not None:
            path = Path(weights)
            regular_file(path, "weights file (--weights expects a state-dict file of torchvision.models.resnet101)")
        else:
            path = default_weights_file()
            if not path.is_file():
                url = tv.models.ResNet101_Weights.IMAGENET1K_V1.url
                raise SZSLError(
                    f"no ResNet-101 weights: szsl never downloads them. Offline, copy {path.name} (from {url}, or from "
                    f"~/.cache/torch/hub/checkpoints/ of a machine that ran torchvision.models.resnet101(weights='IMAGENET1K_V1')) "
                    f"to {path}, or pass --weights PATH (a resnet101 state-dict file); --random-init runs a random network for demos"
                )
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:
            raise SZSLError(
                f"{path}: cannot be read as a PyTorch state dict ({type(exc).__name__}: "
                f"{str(exc).splitlines()[0][:160] if str(exc) else ''})"
            ) from None
        if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
            state = state["state_dict"]
        if not isinstance(state, dict):
            raise SZSLError(f"{path}: expected a state dict (parameter name -> tensor), got {type(state).__name__}")
        net = tv.models.resnet101(weights=None)
        net.fc = torch.nn.Identity()
        state = {k.removeprefix("module."): v for k, v in state.items() if not k.removeprefix("module.").startswith("fc.")}
        expected = net.state_dict()
        missing = [k for k in expected if k not in state]
        unexpected = [k for k in state if k not in expected]
        wrong = [k for k in state if k in expected and getattr(state[k], "shape", None) != expected[k].shape]
        if missing or unexpected or wrong:
            what = (
                f"missing {missing[0]}"
                if missing
                else f"unexpected {unexpected[0]}"
                if unexpected
                else f"{wrong[0]} has shape {tuple(state[wrong[0]].shape)}, expected {tuple(expected[wrong[0]].shape)}"
            )
            raise SZSLError(
                f"{path}: not a torchvision resnet101 state dict ({len(missing)} missing, {len(unexpected)} unexpected, {len(wrong)} "
                f"wrongly shaped keys, e.g. {what})"
            )
        net.load_state_dict(state, strict=True)
    net.fc = torch.nn.Identity()
    return net.eval().to(device)


def preprocess_transform():
    tv = _torchvision()
    T = tv.transforms
    return T.Compose([T.Resize(RESIZE), T.CenterCrop(CROP), T.ToTensor(), T.Normalize(IMAGENET_MEAN, IMAGENET_STD)])


def _load_image(path: Path, transform):
    from PIL import Image, UnidentifiedImageError

    try:
        with open_regular(path, "rb", what="image file") as fh, Image.open(fh) as im:
            return transform(im.convert("RGB"))
    except UnidentifiedImageError:
        raise SZSLError(f"{path}: cannot be read as an image (not a format pillow recognises)") from None
    except Image.DecompressionBombError as exc:  # declared size beyond pillow's limit: refused before decoding
        raise SZSLError(f"{path}: image too large to decode ({exc})") from None
    except (OSError, ValueError) as exc:
        raise SZSLError(f"{path}: cannot be read as an image ({type(exc).__name__}: {exc})") from None


_last_net: dict[tuple[str, str], object] = {}


def _parts_dir(out: Path) -> Path:
    return out.parent / f".{out.name}.parts"


def extract_features(
    paths: Sequence[str | os.PathLike],
    out: str | os.PathLike,
    *,
    names: Sequence[str] | None = None,
    batch_size: int = 32,
    device: str = "auto",
    weights: str | os.PathLike | None = None,
    random_init: bool = False,
    progress: bool = True,
    chunk_images: int | None = None,
) -> np.ndarray:
    """Extract features of the images ``paths`` into ``out`` (.npy); return them (memory-mapped).

    ``names`` (default: the paths) go into ``<out stem>.files.txt``, one per feature row.
    Resumable: chunks of ``chunk_images`` (default 8 batches) are kept until the end.
    """
    import torch

    from szsl.model import resolve_device

    out = Path(out)
    if out.suffix.lower() != ".npy":
        raise SZSLError(f"{out}: features are written as .npy; name the output file *.npy")
    paths = [Path(p) for p in paths]
    names = [Path(p).as_posix() for p in paths] if names is None else [Path(n).as_posix() for n in names]
    if not paths:
        raise SZSLError("no images to extract features from")
    if len(names) != len(paths):
        raise SZSLError(f"{len(names)} names for {len(paths)} images")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise SZSLError(f"batch_size={batch_size!r}: expected an integer >= 1")
    chunk = int(chunk_images or 8 * batch_size)
    # Every image must be a regular file before anything is loaded or written: opening a FIFO would block forever.
    for p in paths:
        regular_file(p, "image file")
    if is_present(out):
        regular_file(out, "features output")
    identity = weights_identity(weights, random_init) if random_init or weights is not None else None
    dev = resolve_device(device)

    # Done already? (same images, same rows)
    if out.is_file() and read_files_list(out) == names:
        existing = np.load(out, mmap_mode="r")
        if existing.shape == (len(names), FEATURE_DIM):
            if progress:
                print(f"szsl: {out} already holds the features of these {len(names)} images", file=sys.stderr)
            return existing

    cached = _last_net.get((identity, str(dev))) if identity is not None else None
    if cached is not None:
        net = cached
        if random_init:
            print(
                "szsl: WARNING: --random-init: ResNet-101 with RANDOM weights (seed 0); these features are for tests and demos only",
                file=sys.stderr,
            )
    else:
        net = load_resnet101(weights, random_init, dev)  # fails early, with the how-to, when no weights
        identity = identity or weights_identity(weights, random_init)
        _last_net.clear()  # keep one network (~170 MB) for repeated calls in one process
        _last_net[(identity, str(dev))] = net
    transform = preprocess_transform()

    parts = _parts_dir(out)
    marker_path = parts / "progress.json"
    marker = {
        "format": PARTS_FORMAT,
        "images": hashlib.sha256("\n".join(names).encode("utf-8")).hexdigest(),
        "n_images": len(names),
        "chunk_images": chunk,
        "weights": identity,
        "done_chunks": 0,
    }
    done = 0
    if marker_path.is_file():
        try:
            old = json.loads(marker_path.read_text())
            if {k: v for k, v in old.items() if k != "done_chunks"} == {k: v for k, v in marker.items() if k != "done_chunks"}:
                done = int(old["done_chunks"])
        except (OSError, ValueError, KeyError, TypeError):
            done = 0
        if done == 0:
            shutil.rmtree(parts, ignore_errors=True)
    parts_existed = parts.is_dir()
    parts.mkdir(parents=True, exist_ok=True)
    n_chunks = (len(paths) + chunk - 1) // chunk
    # Only chunks whose file is really there count as done.
    while done > 0 and not (parts / f"chunk-{done - 1:05d}.npy").is_file():
        done -= 1

    from szsl.progress import progress_bar

    bar = progress_bar(len(paths), "features", "img", initial=min(done * chunk, len(paths)), enabled=progress, every=5.0)
    try:
        with torch.inference_mode():
            for c in range(done, n_chunks):
                lo, hi = c * chunk, min((c + 1) * chunk, len(paths))
                rows = []
                for b in range(lo, hi, batch_size):
                    batch = torch.stack([_load_image(p, transform) for p in paths[b : min(b + batch_size, hi)]])
                    rows.append(net(batch.to(dev)).float().cpu().numpy())
                    bar.update(batch.shape[0])
                block = np.concatenate(rows).astype(np.float32)
                with atomic_path(parts / f"chunk-{c:05d}.npy", suffix=".npy") as tmp:
                    np.save(tmp, block)
                write_json(marker_path, {**marker, "done_chunks": c + 1})
    except BaseException:
        if not parts_existed and not any(parts.glob("chunk-*.npy")):
            shutil.rmtree(parts, ignore_errors=True)  # nothing to resume from: leave no empty folder behind
        raise
    finally:
        bar.close()

    with atomic_path(out, suffix=".npy") as tmp:
        result = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(len(paths), FEATURE_DIM))
        for c in range(n_chunks):
            block = np.load(parts / f"chunk-{c:05d}.npy")
            result[c * chunk : c * chunk + block.shape[0]] = block
        result.flush()
        del result
    write_text(files_list_path(out), "".join(n + "\n" for n in names))
    shutil.rmtree(parts, ignore_errors=True)
    return np.load(out, mmap_mode="r")


__all__ = ["extract_features", "list_images", "load_resnet101", "default_weights_file", "preprocess_transform", "FEATURE_DIM"]
