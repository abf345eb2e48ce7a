"""``dataset.json`` of an own-data folder (docs/own-data.md): read, check every key, and confine
the files it names to the dataset folder (``szsl.data.confine``)."""

from __future__ import annotations

import json
from pathlib import Path

from szsl.data.confine import Confinement
from szsl.data.tables import is_present, open_regular
from szsl.errors import SZSLError

CLASSES_FILE = "classes.csv"
MANIFEST_FILE = "dataset.json"
SEMANTICS = ("auto", "attributes", "text")
_MANIFEST_KEYS = ("name", "classes", "images", "features", "image_dir", "semantics", "weights", "random_init", "batch_size", "device")
_PATH = "a path (non-empty string)"
_MANIFEST_TYPES = {
    "name": "a string",
    "classes": _PATH,
    "images": _PATH,
    "features": _PATH,
    "image_dir": _PATH,
    "semantics": "a string",
    "weights": _PATH,
    "random_init": "true or false",
    "batch_size": "a positive integer",
    "device": "a string",
}
# The keys that name a file or folder the loader reads: each must stay inside the dataset folder.
PATH_KEYS = ("classes", "images", "features", "image_dir", "weights")


def read_manifest(spec: Path, confinement: Confinement | None = None) -> tuple[Path, dict]:
    """(dataset folder, checked manifest) of a folder or a dataset.json; ``{}`` for a folder without one.

    With ``confinement`` (for the folder ``spec`` is or holds), a dataset.json inside a folder and
    every path key must resolve inside it.
    """
    if spec.is_dir():
        folder, manifest_path = spec, spec / MANIFEST_FILE
        if not is_present(manifest_path):
            return folder, {}
        if confinement is not None:
            confinement.check(manifest_path, "dataset manifest")
    else:
        folder, manifest_path = spec.parent, spec
        if not is_present(spec):
            raise SZSLError(f"{spec}: dataset not found (expected a folder with {CLASSES_FILE} or a {MANIFEST_FILE}; see docs/own-data.md)")
    try:
        with open_regular(manifest_path, encoding="utf-8-sig", what="dataset manifest") as fh:
            manifest = json.loads(fh.read())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SZSLError(f"{manifest_path}: not valid JSON ({exc})") from None
    except RecursionError:
        raise SZSLError(f"{manifest_path}: JSON nested too deeply; expected a flat object of {', '.join(_MANIFEST_KEYS)}") from None
    if not isinstance(manifest, dict):
        raise SZSLError(f"{manifest_path}: expected a JSON object with keys among {', '.join(_MANIFEST_KEYS)}")
    unknown = sorted(set(manifest) - set(_MANIFEST_KEYS))
    if unknown:
        raise SZSLError(f"{manifest_path}: unknown key(s) {', '.join(unknown)}: expected some of {', '.join(_MANIFEST_KEYS)}")
    for key, value in manifest.items():
        expected = _MANIFEST_TYPES[key]
        ok = {
            "a string": isinstance(value, str),
            "a path (non-empty string)": isinstance(value, str) and value != "",
            "true or false": isinstance(value, bool),
            "a positive integer": isinstance(value, int) and not isinstance(value, bool) and value > 0,
        }[expected]
        if not ok:
            raise SZSLError(f"{manifest_path}: '{key}' is {json.dumps(value)[:60]}, expected {expected}")
    for key in PATH_KEYS:
        if "\0" in manifest.get(key, ""):
            raise SZSLError(f"{manifest_path}: '{key}' is {json.dumps(manifest[key])[:60]}, a path with a NUL character (no file has one)")
    if manifest.get("semantics", "auto") not in SEMANTICS:
        raise SZSLError(f"{manifest_path}: 'semantics' is {manifest['semantics']!r}, expected one of {', '.join(SEMANTICS)}")
    if confinement is not None:
        for key in PATH_KEYS:
            if key in manifest:
                confinement.check(folder / manifest[key], f"{manifest_path.name} '{key}'")
    return folder, manifest
