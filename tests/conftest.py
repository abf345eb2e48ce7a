"""Shared fixtures. Real xlsa17 metadata is read from ../shared/xlsa17 (never committed);
tests that need it skip cleanly when it is absent. Helpers shared by several test modules live in
``tests.helpers`` (test modules never import one another)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.helpers.shared_data import DATASETS, shared_xlsa17_root
from tests.helpers.xlsa17 import make_dataset


@pytest.fixture(scope="session")
def shared_root() -> Path:
    root = shared_xlsa17_root()
    if root is None:
        pytest.skip("real xlsa17 metadata not found (../shared/xlsa17 or $SZSL_SHARED_XLSA17)")
    return root


@pytest.fixture
def cache_dir(tmp_path, monkeypatch) -> Path:
    """A feature cache of the test's own (never ~/.cache); the xlsa17 test modules use it for every test."""
    path = tmp_path / "cache"
    monkeypatch.setenv("SZSL_CACHE_DIR", str(path))
    return path


@pytest.fixture(scope="session")
def pristine(shared_root, tmp_path_factory) -> Path:
    """The five xlsa17 datasets written from the real metadata (``tests.helpers.xlsa17.make_dataset``)."""
    root = tmp_path_factory.mktemp("xlsa17")
    for ds in DATASETS:
        make_dataset(shared_root, root, ds)
    return root


@pytest.fixture
def awa2(pristine, tmp_path) -> Path:
    """A private, writable copy of the AWA2 folder (returned), under tmp_path/data."""
    folder = tmp_path / "data" / "AWA2"
    shutil.copytree(pristine / "AWA2", folder, copy_function=shutil.copyfile)
    return folder
