"""Synthetic image features in the exact xlsa17 file format.

``synthesize_xlsa17(root, dataset, out)`` reads the REAL ``<root>/<DS>/att_splits.mat`` and
class lists (and ``labels_1based.npy`` when present) and writes ``<out>/<DS>/res101.mat``
plus copies of the metadata, so ``szsl.data.xlsa17.load_xlsa17(out, DS)`` reads it unchanged.

Generative model (docs/data.md has the measured difficulty):

1. attributes ``a_c`` (columns of ``att``) are standardised per attribute across classes;
   ``s_c = W2 tanh(W1 z_c + b1)`` (random two-layer map, latent dim L), standardised;
2. ``r_c ~ N(0, I_L)``: a class-specific component the attributes cannot explain;
3. class latent ``m_c = sqrt(rho) s_c + sqrt(1 - rho) r_c``;
4. image latent ``u_i = m_{y_i} + sigma_within * diag(spectrum) e_i`` (anisotropic, shared
   nuisance directions);
5. lift to D dims: ``x_i = gain_i * relu(u_i M + bias + sigma_pixel * n_i)`` with a fixed random
   ``M`` (L x D), a per-dimension bias that leaves ~35 % exact zeros, a log-normal per-image
   gain (like the varying activation energy of real average-pooled ResNet features).
"""

from __future__ import annotations

import datetime as _dt
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from szsl.atomic import atomic_directory, atomic_path
from szsl.data.xlsa17 import SPLIT_KEYS, SPLITS_FILE, read_metadata
from szsl.errors import SZSLError

LOC_KEYS = SPLIT_KEYS
MAT_FORMATS = ("v5", "v73")


@dataclass(frozen=True)
class SynthParams:
    latent_dim: int = 96
    hidden_dim: int = 192
    rho: float = 0.7  # share of class-latent variance explained by the attributes
    sigma_within: float = 1.3  # within-class variation in the latent space
    sigma_pixel: float = 0.35  # independent per-dimension noise after the lift
    zero_fraction: float = 0.35  # target share of exact zeros (ReLU)
    gain_sigma: float = 0.15  # log-normal per-image gain
    imbalance_sigma: float = 0.3  # log-normal class-size weights (no real labels)


DEFAULT_PARAMS = SynthParams()


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class _Meta:
    folder: Path
    name: str
    att: np.ndarray  # (A, C) as stored in att_splits.mat
    class_names: tuple[str, ...]
    locs: dict  # key -> (n,) int64 1-based
    n_images: int
    seen: np.ndarray  # sorted 0-based class indices
    unseen: np.ndarray
    real_labels: np.ndarray | None  # (N,) int64 1-based


def _read_meta(root: str | os.PathLike, dataset: str) -> _Meta:
    """The real metadata (read and checked by the xlsa17 reader) plus what synthesis needs on top."""
    meta = read_metadata(root, dataset)
    mat_path = meta.folder / SPLITS_FILE
    locs = {key: meta.splits[key] + 1 for key in LOC_KEYS}
    all_idx = np.concatenate([locs[k] for k in LOC_KEYS])
    n_images = int(all_idx.max())
    counts = np.bincount(all_idx, minlength=n_images + 1)[1:]
    if not np.all(counts == 1):
        bad = int(np.flatnonzero(counts != 1)[0]) + 1
        raise SZSLError(
            f"{mat_path}: trainval_loc, test_seen_loc and test_unseen_loc must cover every image 1..{n_images} exactly once; image {bad} "
            f"occurs {int(counts[bad - 1])} times"
        )
    n_classes = len(meta.splits["class_names"])
    real = None
    lab_path = meta.folder / "labels_1based.npy"
    if lab_path.is_file():
        try:
            real = np.load(lab_path, allow_pickle=False)
        except Exception as exc:
            raise SZSLError(f"{lab_path}: cannot read: {exc}") from exc
        real = np.asarray(real).ravel()
        if real.shape != (n_images,) or real.dtype.kind not in "iuf" or not np.all(real == np.round(real)):
            raise SZSLError(f"{lab_path}: expected {n_images} integer 1-based labels, got shape {real.shape} dtype {real.dtype}")
        real = real.astype(np.int64)
        if real.min() < 1 or real.max() > n_classes:
            raise SZSLError(f"{lab_path}: labels must lie in 1..{n_classes}")
        seen_set, unseen_set = meta.seen + 1, meta.unseen + 1
        for key, allowed in (("trainval_loc", seen_set), ("test_seen_loc", seen_set), ("test_unseen_loc", unseen_set)):
            if not np.isin(real[locs[key] - 1], allowed).all():
                raise SZSLError(
                    f"{lab_path}: labels of {key} images are not all in the {'seen' if allowed is seen_set else 'unseen'} classes"
                )
    att = np.asarray(meta.splits["attributes"], dtype=np.float64).T
    return _Meta(meta.folder, meta.name, att, meta.splits["class_names"], locs, n_images, meta.seen, meta.unseen, real)


# --------------------------------------------------------------------------- generating


def _allocate(n: int, weights: np.ndarray, minimum: int) -> np.ndarray:
    """Split n items over len(weights) bins proportionally, each bin at least ``minimum``."""
    k = len(weights)
    minimum = min(minimum, n // k)
    rest = n - k * minimum
    share = weights / weights.sum() * rest
    counts = np.floor(share).astype(np.int64)
    left = rest - int(counts.sum())
    if left:
        order = np.argsort(-(share - counts), kind="stable")
        counts[order[:left]] += 1
    return counts + minimum


def synth_labels(meta: _Meta, rng: np.random.Generator, params: SynthParams = DEFAULT_PARAMS) -> np.ndarray:
    """(N,) int64 1-based labels consistent with the splits (real ones when available)."""
    if meta.real_labels is not None:
        return meta.real_labels.copy()
    labels = np.zeros(meta.n_images, dtype=np.int64)
    w_seen = rng.lognormal(0.0, params.imbalance_sigma, size=len(meta.seen))
    w_unseen = rng.lognormal(0.0, params.imbalance_sigma, size=len(meta.unseen))
    for key, classes, w in (
        ("trainval_loc", meta.seen, w_seen),
        ("test_seen_loc", meta.seen, w_seen),
        ("test_unseen_loc", meta.unseen, w_unseen),
    ):
        loc = meta.locs[key]
        if len(loc) < len(classes):
            raise SZSLError(f"{meta.folder / 'att_splits.mat'}: {key} has {len(loc)} images, fewer than its {len(classes)} classes")
        counts = _allocate(len(loc), w, 1)
        assigned = np.repeat(classes + 1, counts)
        labels[loc[rng.permutation(len(loc))] - 1] = assigned
    return labels


def synth_features(
    att: np.ndarray, labels0: np.ndarray, feature_dim: int, rng: np.random.Generator, params: SynthParams = DEFAULT_PARAMS
) -> np.ndarray:
    """(N, feature_dim) float32 non-negative features for 0-based labels; see module docstring."""
    att_c = np.asarray(att, dtype=np.float64).T  # (C, A)
    n_classes, n_att = att_c.shape
    L, H, D = params.latent_dim, params.hidden_dim, int(feature_dim)
    z = (att_c - att_c.mean(0)) / (att_c.std(0) + 1e-8)
    W1 = rng.standard_normal((n_att, H)) * (1.5 / np.sqrt(n_att))
    b1 = rng.standard_normal(H) * 0.5
    W2 = rng.standard_normal((H, L)) / np.sqrt(H)
    s = np.tanh(z @ W1 + b1) @ W2
    s = (s - s.mean(0)) / (s.std(0) + 1e-8)
    r = rng.standard_normal((n_classes, L))
    m = np.sqrt(params.rho) * s + np.sqrt(1.0 - params.rho) * r  # (C, L)
    spectrum = np.sqrt(np.linspace(1.8, 0.2, L))
    spectrum /= np.sqrt(np.mean(spectrum**2))
    M = (rng.standard_normal((L, D)) / np.sqrt(L)).astype(np.float32)
    n = labels0.shape[0]
    gain = rng.lognormal(0.0, params.gain_sigma, size=n).astype(np.float32)
    # per-dimension threshold chosen so ~zero_fraction of entries are exactly 0
    from scipy.stats import norm

    total_sd = np.sqrt(1.0 + params.sigma_within**2 + params.sigma_pixel**2)
    bias = np.float32(-norm.ppf(params.zero_fraction) * total_sd) + rng.standard_normal(D).astype(np.float32) * 0.2
    out = np.empty((n, D), dtype=np.float32)
    chunk = 8192
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        u = m[labels0[start:stop]] + params.sigma_within * spectrum * rng.standard_normal((stop - start, L))
        block = u.astype(np.float32) @ M
        block += bias
        block += rng.standard_normal((stop - start, D), dtype=np.float32) * np.float32(params.sigma_pixel)
        np.maximum(block, 0.0, out=block)
        block *= gain[start:stop, None] * np.float32(0.5)
        out[start:stop] = block
    return out


# --------------------------------------------------------------------------- writing


def _matlab_header(version: str) -> bytes:
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%a %b %d %H:%M:%S %Y")
    text = f"MATLAB {version} MAT-file, Platform: GLNXA64, Created on: {now} HDF5 schema 1.00 ."
    return text.encode("ascii")[:116].ljust(116, b" ") + b"\x00" * 8 + b"\x00\x02" + b"IM"


def _write_v5(path: Path, features_dn: np.ndarray, labels: np.ndarray, image_files: list[str]) -> None:
    import scipy.io

    cells = np.empty((len(image_files), 1), dtype=object)
    for i, f in enumerate(image_files):
        cells[i, 0] = f
    with atomic_path(path, suffix=".mat") as tmp:
        scipy.io.savemat(
            str(tmp),
            {"features": features_dn, "labels": labels.reshape(-1, 1).astype(np.float64), "image_files": cells},
            format="5",
            do_compression=False,
            oned_as="column",
        )


def _write_v73(path: Path, features_dn: np.ndarray, labels: np.ndarray, image_files: list[str]) -> None:
    """MATLAB v7.3 layout: HDF5 with a 512-byte userblock; arrays stored transposed."""
    import h5py

    with atomic_path(path, suffix=".mat") as tmp:
        with h5py.File(tmp, "w", userblock_size=512, libver="earliest") as f:
            # MATLAB (D, N) column-major == HDF5 (N, D) row-major
            ds = f.create_dataset("features", data=np.ascontiguousarray(features_dn.T))
            ds.attrs["MATLAB_class"] = np.bytes_("single")
            ds = f.create_dataset("labels", data=labels.reshape(1, -1).astype(np.float64))
            ds.attrs["MATLAB_class"] = np.bytes_("double")
            refs_group = f.create_group("#refs#")
            ref_dtype = h5py.special_dtype(ref=h5py.Reference)
            refs = np.empty((1, len(image_files)), dtype=object)
            for i, name in enumerate(image_files):
                chars = np.frombuffer(name.encode("utf-16-le"), dtype=np.uint16).reshape(-1, 1)
                d = refs_group.create_dataset(f"s{i}", data=chars)
                d.attrs["MATLAB_class"] = np.bytes_("char")
                d.attrs["MATLAB_int_decode"] = np.int32(2)
                refs[0, i] = d.ref
            ds = f.create_dataset("image_files", data=refs, dtype=ref_dtype)
            ds.attrs["MATLAB_class"] = np.bytes_("cell")
        with open(tmp, "r+b") as fh:
            fh.write(_matlab_header("7.3"))


def synthesize_xlsa17(
    root: str | os.PathLike,
    dataset: str,
    out: str | os.PathLike,
    seed: int = 0,
    feature_dim: int = 2048,
    mat_format: str = "v5",
    params: SynthParams = DEFAULT_PARAMS,
) -> Path:
    """Write ``<out>/<DS>/res101.mat`` with synthetic features + copies of the real metadata.

    Returns the dataset folder. Deterministic given ``seed``. When ``<out>/<DS>`` is the
    source folder itself only ``res101.mat`` is (atomically) added; otherwise the dataset
    folder is built in a temporary folder and renamed into place.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise SZSLError(f"--seed must be a non-negative integer, got {seed!r}")
    if isinstance(feature_dim, bool) or not isinstance(feature_dim, (int, np.integer)) or not 1 <= feature_dim <= 65536:
        raise SZSLError(f"--feature-dim must be an integer in 1..65536, got {feature_dim!r}")
    if mat_format not in MAT_FORMATS:
        raise SZSLError(f"mat_format must be one of {', '.join(MAT_FORMATS)}, got {mat_format!r}")
    meta = _read_meta(root, dataset)
    name = meta.name
    rng = np.random.default_rng([int(seed), 0x5A51])
    labels = synth_labels(meta, rng, params)
    features = synth_features(meta.att, labels - 1, int(feature_dim), rng, params)
    image_files = [f"synthetic/{meta.class_names[c - 1]}/{i + 1}.jpg" for i, c in enumerate(labels.tolist())]
    writer = _write_v5 if mat_format == "v5" else _write_v73
    features_dn = features.T  # MATLAB layout (D, N); savemat writes column-major from this view

    out_dir = Path(out)
    final = out_dir / name
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SZSLError(f"{out_dir}: cannot create output folder: {exc}") from exc
    if final.exists() and final.resolve() == meta.folder.resolve():
        writer(final / "res101.mat", features_dn, labels, image_files)
        return final
    try:
        with atomic_directory(final) as tmp_dir:
            writer(tmp_dir / "res101.mat", features_dn, labels, image_files)
            for src in sorted(meta.folder.iterdir()):
                if src.is_file() and (src.name == "att_splits.mat" or src.suffix == ".txt"):
                    shutil.copyfile(src, tmp_dir / src.name)
    except OSError as exc:
        raise SZSLError(f"{final}: cannot write synthetic dataset: {exc}") from exc
    return final


# --------------------------------------------------------------------------- difficulty check


def ridge_check(
    features: np.ndarray, labels0: np.ndarray, attributes_ca: np.ndarray, trainval, test_seen, test_unseen, seen, unseen, lam: float = 1.0
) -> dict:
    """The simple difficulty check of docs/data.md.

    Ridge map features -> (L2-normalised) class attributes fitted on trainval; prediction =
    the class whose attribute vector has the largest dot product with the mapped image.
    Returns per-class mean top-1: ``zsl`` (unseen images among unseen classes), GZSL ``U``,
    ``S`` (among all classes) and ``H``; ``unseen_as_seen`` = share of unseen images
    predicted as a seen class.
    """
    A = np.asarray(attributes_ca, dtype=np.float64)
    X = np.asarray(features[trainval], dtype=np.float64)
    mu, sd = X.mean(0), X.std(0) + 1e-6
    X = (X - mu) / sd
    T = A[labels0[trainval]]
    W = np.linalg.solve(X.T @ X + lam * len(X) / 100.0 * np.eye(X.shape[1]), X.T @ T)

    def mapped(idx):
        return ((np.asarray(features[idx], dtype=np.float64) - mu) / sd) @ W

    def per_class_acc(pred, true):
        return float(np.mean([np.mean(pred[true == c] == c) for c in np.unique(true)]))

    seen, unseen = np.asarray(seen), np.asarray(unseen)
    Pu, Ps = mapped(test_unseen), mapped(test_seen)
    yu, ys = labels0[test_unseen], labels0[test_seen]
    zsl = per_class_acc(unseen[np.argmax(Pu @ A[unseen].T, 1)], yu)
    pu, ps = np.argmax(Pu @ A.T, 1), np.argmax(Ps @ A.T, 1)
    U, S = per_class_acc(pu, yu), per_class_acc(ps, ys)
    H = 0.0 if U + S == 0 else 2 * U * S / (U + S)
    return {"zsl": zsl, "U": U, "S": S, "H": H, "unseen_as_seen": float(np.isin(pu, seen).mean())}


__all__ = ["synthesize_xlsa17", "synth_features", "synth_labels", "ridge_check", "SynthParams", "DEFAULT_PARAMS"]
