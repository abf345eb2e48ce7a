"""Facts of the official xlsa17 release (Xian et al. 2017), checked when ``szsl data download`` unpacks an archive.

The archive's own SHA-256 is not published and could not be computed here (no machine of the project could download
it), so the download checks what matters most for an honest evaluation instead: each dataset's Proposed Split. The
digest covers ``trainval_loc``, ``test_seen_loc`` and ``test_unseen_loc`` (the 1-based image indices, in the file's
order) and ``allclasses_names`` (in order), read from the archive's ``att_splits.mat`` as the loader reads it
(MATLAB v5 or v7.3), so a mirror that re-saves the file with the same content passes, and one whose split differs is
refused. Computed from copies of the release's ``att_splits.mat`` whose content is the official split (for CUB, two
public copies together); ``--no-verify`` skips the check (a mirror with another split, on purpose).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Mapping

import numpy as np

from szsl.errors import SZSLError

SPLIT_KEYS = ("trainval_loc", "test_seen_loc", "test_unseen_loc")

# dataset: (digest, images in trainval / test_seen / test_unseen, classes)
PROPOSED_SPLIT: dict[str, tuple[str, tuple[int, int, int], int]] = {
    "AWA1": ("f4b3a36ccef4876bc2086f8a19884409cd67704ae3f04dd539fd21b28f669dd2", (19832, 4958, 5685), 50),
    "AWA2": ("1d0a63a3ced1af588eeecc6117343677326b17ddfa43366fd40da55152021766", (23527, 5882, 7913), 50),
    "CUB": ("2ce31f5e636ad7302c70e6d03237730427223fb9618030c4af70fa6a867c3fd9", (7057, 1764, 2967), 200),
    "SUN": ("7740e4156c56950ced9d3ee6ff384af3e8464df01415e486126ca5dc1d26f3b3", (10320, 2580, 1440), 717),
    "APY": ("e109316a4551319cbad8c52316b209261d125749b4bbf6f49b25617591eb036f", (5932, 1483, 7924), 32),
}


def split_digest(splits: Mapping) -> str:
    """SHA-256 of a split as ``xlsa17._read_splits`` returns it (0-based indices; the digest is of the 1-based ones)."""
    h = hashlib.sha256()
    for key in SPLIT_KEYS:
        h.update(key.encode() + b":" + (np.asarray(splits[key], dtype="<i8") + 1).tobytes())
    h.update(b"classes:" + "\n".join(splits["class_names"]).encode("utf-8"))
    return h.hexdigest()


def check_proposed_split(path: Path, dataset: str) -> None:
    """SZSLError when the ``att_splits.mat`` at ``path`` parses but holds another split than the release's for ``dataset``.

    A file the loader cannot read is left to the loader's own one-line error (``szsl data check``); a dataset without
    a recorded digest is not checked."""
    from szsl.data.xlsa17 import _read_splits

    known = PROPOSED_SPLIT.get(dataset.upper())
    if known is None:
        return
    try:
        splits = _read_splits(Path(path))
    except SZSLError:
        return
    digest, sizes, n_classes = known
    if split_digest(splits) == digest:
        return
    got = tuple(len(splits[k]) for k in SPLIT_KEYS)
    raise SZSLError(
        f"att_splits.mat of {dataset}: not the xlsa17 release's Proposed Split (trainval / test_seen / test_unseen images "
        f"{'/'.join(map(str, got))}, {len(splits['class_names'])} classes; the release has {'/'.join(map(str, sizes))}, "
        f"{n_classes} classes{', with other indices or class names' if (got, len(splits['class_names'])) == (sizes, n_classes) else ''})"
    )
