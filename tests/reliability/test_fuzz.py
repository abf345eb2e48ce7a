"""Hostile inputs: every reader ends in a correct load or an SZSLError, never another exception,
a hang or a memory blow-up.

Targets (hypothesis, bounded): res101.mat (v5, v5 compressed, v7.3), att_splits.mat (v5 and
v7.3, the real AWA2 one), the class lists, saved models, --space JSON, own-data CSVs and
features, and the values of every ``szsl train`` option (in-process CLI: exit 0, or exit 2 with
one line on stderr). Mutations: byte flips, truncations, inserted garbage, deleted spans and
absurd integers written over size fields.

Each example runs under ``guard``: a SIGALRM timeout (a hang fails the test) and a bound on the
growth of the process's peak RSS over the whole target (an absurd declared size must be refused
before allocating). ``SZSL_FUZZ_EXAMPLES=N`` runs N examples per target (CI default: 60, fixed
seed); ``SZSL_RELIABILITY_LOG=FILE`` appends one JSON line of counts per target (also printed).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import string
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import scipy.io
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from szsl.errors import SZSLError
from tests.helpers.reliability import report
from tests.helpers.timing import alarm_after

EXAMPLES = int(os.environ.get("SZSL_FUZZ_EXAMPLES", "60"))
LONG = "SZSL_FUZZ_EXAMPLES" in os.environ
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=not LONG,  # CI: the same inputs every run; long runs: fresh random inputs
    suppress_health_check=list(HealthCheck),
)
TIMEOUT_S = 30  # per example; a reader that takes longer is hung
RSS_LIMIT_MB = 400  # peak-RSS growth allowed over one whole target


class Hang(Exception):
    pass


def _peak_rss_mb() -> float:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024 if sys.platform != "darwin" else kb / 2**20


def guard(seconds: int = TIMEOUT_S):
    return alarm_after(seconds, Hang)


class Outcomes:
    """Counts loads and SZSLErrors of one target; anything else escapes (and fails the test)."""

    def __init__(self, target: str):
        self.target = target
        self.counts: Counter = Counter()
        self.rss0 = _peak_rss_mb()
        self.start = time.monotonic()

    def run(self, fn) -> bool:
        with guard():
            try:
                fn()
            except SZSLError as exc:
                message = str(exc)
                assert message and "\n" not in message, repr(message)
                self.counts["szsl_error"] += 1
                return False
        self.counts["loaded"] += 1
        return True

    def baseline(self) -> None:
        """Measure growth from here: a target's own setup (importing torch, fitting the model it mutates: about 550 MB
        when this file runs alone, nothing when an earlier test already paid it) is not a hostile input's cost."""
        self.rss0 = _peak_rss_mb()

    def finish(self) -> None:
        growth = _peak_rss_mb() - self.rss0
        report(
            self.target,
            tried=sum(self.counts.values()),
            **self.counts,
            peak_rss_growth_mb=round(growth, 1),
            seconds=round(time.monotonic() - self.start, 1),
        )
        assert growth < RSS_LIMIT_MB, f"{self.target}: peak RSS grew by {growth:.0f} MB"


@pytest.fixture
def outcomes(request):
    o = Outcomes(request.node.name)
    yield o
    o.finish()


# ------------------------------------------------------------------------------ mutations

HUGE = [0xFFFFFFFF, 0x7FFFFFFF, 0x80000000, 10**9, 2**31 + 7, 0xFFFFFFFFFFFFFFFF, 2**62, 10**15]


@st.composite
def mutations(draw, max_ops: int = 4):
    """A list of edit operations, applied by ``mutate`` to any byte string."""
    ops = []
    for _ in range(draw(st.integers(1, max_ops))):
        kind = draw(st.sampled_from(["flip", "truncate", "insert", "delete", "huge", "huge_header", "zero"]))
        ops.append((kind, draw(st.floats(0, 1)), draw(st.integers(0, 2**32)), draw(st.binary(min_size=1, max_size=64))))
    return ops


def mutate(raw: bytes, ops) -> bytes:
    data = bytearray(raw)
    for kind, where, arg, blob in ops:
        if not data:
            data = bytearray(blob)
            continue
        pos = min(int(where * len(data)), len(data) - 1)
        if kind == "flip":
            data[pos] ^= 1 << (arg % 8)
        elif kind == "truncate":
            del data[pos:]
        elif kind == "insert":
            data[pos:pos] = blob
        elif kind == "delete":
            del data[pos : pos + 1 + arg % 256]
        elif kind == "zero":
            data[pos : pos + 1 + arg % 64] = bytes(len(data[pos : pos + 1 + arg % 64]))
        else:  # an absurd integer over what may be a size field (headers get it most: "huge_header")
            if kind == "huge_header":
                pos = min(pos, 600) // 4 * 4
            value = HUGE[arg % len(HUGE)]
            width = 8 if value > 0xFFFFFFFF or arg % 3 == 0 else 4
            order = "little" if arg % 2 == 0 else "big"
            data[pos : pos + width] = value.to_bytes(width, order)
    return bytes(data)


# ------------------------------------------------------------------------------ res101.mat


def _tiny_res101(path: Path, fmt: str, n: int = 60, dim: int = 8) -> None:
    rng = np.random.default_rng(0)
    features = np.maximum(rng.normal(size=(dim, n)), 0).astype(np.float32)
    labels = (np.arange(n) % 5 + 1).astype(np.float64).reshape(-1, 1)
    if fmt == "v73":
        from tests.helpers.xlsa17 import savemat73

        savemat73(path, {"features": features, "labels": labels})
    else:
        scipy.io.savemat(path, {"features": features, "labels": labels}, do_compression=(fmt == "v5z"))


@pytest.mark.parametrize("fmt", ["v5", "v5z", "v73"])
def test_fuzz_res101_and_feature_cache(fmt, tmp_path, outcomes):
    from szsl.data import xlsa17

    pristine = tmp_path / "pristine.mat"
    _tiny_res101(pristine, fmt)
    raw = pristine.read_bytes()

    @FUZZ
    @given(mutations())
    def check(ops):
        work = Path(tempfile.mkdtemp(dir=tmp_path))
        try:
            path = work / "res101.mat"
            path.write_bytes(mutate(raw, ops))

            def load():
                features, labels = xlsa17._cached_features(path, "AWA2", 5, work / "cache")
                assert features.ndim == 2 and features.dtype == np.float32 and labels.shape == (features.shape[0],)
                assert labels.dtype == np.int64

            if outcomes.run(load):  # a second load comes from the cache and agrees
                features, _ = xlsa17._cached_features(path, "AWA2", 5, work / "cache")
                assert isinstance(features, np.memmap)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    check()


# ------------------------------------------------------------------------------ att_splits.mat and class lists


@pytest.fixture(scope="module")
def awa2_root(shared_root, tmp_path_factory) -> Path:
    """AWA2 with the real metadata and a small synthetic res101.mat (built as test_xlsa17 does)."""
    from tests.helpers.xlsa17 import make_dataset

    root = tmp_path_factory.mktemp("fuzz_xlsa17")
    make_dataset(shared_root, root, "AWA2")
    return root


def _load_mutated_awa2(awa2_root: Path, tmp_path: Path, replace: dict[str, bytes], cache: Path):
    from szsl.data.xlsa17 import load_xlsa17

    work = Path(tempfile.mkdtemp(dir=tmp_path))
    folder = work / "AWA2"
    folder.mkdir()
    for f in (awa2_root / "AWA2").iterdir():
        if f.name in replace:
            (folder / f.name).write_bytes(replace[f.name])
        else:
            os.symlink(f, folder / f.name)  # the big res101.mat is shared, not copied
    try:
        b = load_xlsa17(work, "AWA2", cache_dir=cache)
        assert b.n_classes == len(b.class_names) and b.features.shape[0] == b.labels.shape[0]
    finally:
        shutil.rmtree(work, ignore_errors=True)


@pytest.mark.parametrize("fmt", ["v5", "v73"])
def test_fuzz_att_splits(fmt, awa2_root, tmp_path, outcomes):
    source = awa2_root / "AWA2" / "att_splits.mat"
    if fmt == "v73":
        from tests.helpers.xlsa17 import to_v73

        copy = tmp_path / "att_splits.mat"
        shutil.copyfile(source, copy)
        to_v73(copy)
        source = copy
    raw = source.read_bytes()
    cache = tmp_path / "cache"

    @FUZZ
    @given(mutations())
    def check(ops):
        outcomes.run(lambda: _load_mutated_awa2(awa2_root, tmp_path, {"att_splits.mat": mutate(raw, ops)}, cache))

    check()


LIST_FILES = ["trainvalclasses.txt", "testclasses.txt", "trainclasses1.txt", "valclasses2.txt"]


@st.composite
def class_list_edits(draw, names: list[str]):
    """Realistic damage to a class list: names dropped, repeated, swapped in from elsewhere,
    misspelt, blank/whitespace lines, CRLF, BOM, invalid UTF-8, NUL bytes, huge lines."""
    lines = list(names)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(
            st.sampled_from(["drop", "repeat", "foreign", "misspell", "blank", "crlf", "bom", "bad_utf8", "nul", "huge", "empty", "text"])
        )
        i = draw(st.integers(0, max(len(lines) - 1, 0)))
        if op == "drop" and lines:
            lines.pop(i)
        elif op == "repeat" and lines:
            lines.insert(i, lines[i])
        elif op == "foreign":
            lines.insert(i, draw(st.sampled_from(names + ["persian+cat", "dolphin", "blue+whale"])))
        elif op == "misspell" and lines:
            lines[i] = lines[i][:-1] + draw(st.sampled_from(list(string.printable)))
        elif op == "blank":
            lines.insert(i, draw(st.sampled_from(["", " ", "\t", "  \t "])))
        elif op == "huge":
            lines.insert(i, "x" * 100_000)
        elif op == "empty":
            lines = []
        elif op == "text":
            lines.insert(i, draw(st.text(max_size=30)))
        elif op in ("crlf", "bom", "bad_utf8", "nul"):
            lines.append({"crlf": "\r", "bom": "\ufeff", "bad_utf8": "\udcff", "nul": "\0"}[op])
    text = "\n".join(lines)
    return text.encode("utf-8", "surrogateescape")


def test_fuzz_class_lists(awa2_root, tmp_path, outcomes):
    names = {f: (awa2_root / "AWA2" / f).read_text().split() for f in LIST_FILES}
    cache = tmp_path / "cache"

    @FUZZ
    @given(st.sampled_from(LIST_FILES).flatmap(lambda f: st.tuples(st.just(f), class_list_edits(names[f]))))
    def check(edit):
        name, content = edit
        outcomes.run(lambda: _load_mutated_awa2(awa2_root, tmp_path, {name: content}, cache))

    check()


# ------------------------------------------------------------------------------ saved models


def test_fuzz_saved_model(tmp_path, outcomes):
    from szsl import SZSLClassifier
    from tests.helpers.train import toy_problem

    X, y, A = toy_problem(n=120)
    SZSLClassifier(hidden=4, epochs=1, device="cpu").fit(X, y, A, class_names=list("abcdefgh")).save(tmp_path / "m.pt")
    raw = (tmp_path / "m.pt").read_bytes()
    SZSLClassifier.load(tmp_path / "m.pt").predict(X[:5])  # the first load and predict set up what every later one reuses
    outcomes.baseline()

    @FUZZ
    @given(mutations())
    def check(ops):
        path = tmp_path / "fuzzed.pt"
        path.write_bytes(mutate(raw, ops))

        def load():
            clf = SZSLClassifier.load(path)
            assert clf.predict(X[:5]).shape == (5,)

        outcomes.run(load)

    check()


def test_model_loading_never_unpickles_code(tmp_path):
    """weights_only: a pickle that would run code (here: create a file) is refused, nothing runs."""
    import pickle
    import zipfile

    from szsl import SZSLClassifier

    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.mkdir, (str(marker),))

    # A legacy (non-zip) pickle file and a zip checkpoint whose data.pkl was swapped.
    (tmp_path / "legacy.pt").write_bytes(pickle.dumps({"format": "szsl-model-v1", "x": Evil()}))
    import torch

    torch.save({"format": "szsl-model-v1"}, tmp_path / "ok.pt")
    with zipfile.ZipFile(tmp_path / "ok.pt") as src, zipfile.ZipFile(tmp_path / "swapped.pt", "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith("data.pkl"):
                data = pickle.dumps({"format": "szsl-model-v1", "x": Evil()}, protocol=2)
            dst.writestr(info, data)
    (tmp_path / "empty.pt").write_bytes(b"")  # torch raises with an empty message (was IndexError)
    for name in ("legacy.pt", "swapped.pt", "empty.pt"):
        with pytest.raises(SZSLError, match=rf"{name}: not a valid szsl model file"):
            SZSLClassifier.load(tmp_path / name)
    assert not marker.exists()


# ------------------------------------------------------------------------------ --space JSON

_FIELDS = [
    "q",
    "tau",
    "alpha",
    "hidden",
    "activation",
    "batch_size",
    "lr",
    "epochs",
    "l2",
    "l1",
    "seed",
    "optimizer",
    "soft_label",
    "method",
    "dcn_temperature",
    "dcn_entropy",
]
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**400), 10**400),
    st.integers(-5, 2000),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(-2, 2),
    st.text(max_size=12),
    st.sampled_from(["relu", "tanh", "adam", "sgd", "similarity", "nearest", "szsl", "dcn"]),
)
_JSON = st.recursive(
    _SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4), max_leaves=12
)
_RANGE = st.fixed_dictionaries(
    {"low": _SCALARS, "high": _SCALARS},
    optional={"log": _SCALARS, "grid": _SCALARS, "extra": _SCALARS},
)
_PARAM = st.one_of(_SCALARS, _RANGE, st.fixed_dictionaries({"choices": st.lists(_SCALARS, max_size=4) | _JSON}), _JSON)
_SPACE = st.one_of(st.dictionaries(st.sampled_from(_FIELDS + ["nope", ""]), _PARAM, max_size=6), _JSON)


def test_fuzz_space_json(tmp_path, outcomes):
    from szsl.search_space import load_space

    path = tmp_path / "space.json"
    valid = json.dumps({"hidden": {"choices": [16, 32]}, "tau": {"low": 0.1, "high": 1, "log": True}, "l1": 0, "epochs": 2}).encode()

    @FUZZ
    @given(st.one_of(_SPACE.map(lambda v: json.dumps(v).encode()), mutations().map(lambda ops: mutate(valid, ops))), st.booleans())
    def check(content, search_mass):
        path.write_bytes(content)

        def load():
            space = load_space(path, search_mass=search_mass)
            space.fingerprint()
            space.grid_size()

        outcomes.run(load)

    check()


# ------------------------------------------------------------------------------ own-data CSVs and features


@st.composite
def csv_edits(draw):
    ops = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["bytes", "cell", "line", "quote", "header"]))
        ops.append(
            (
                kind,
                draw(st.floats(0, 1)),
                draw(st.text(alphabet=st.sampled_from(list(',"\n\r\t x-1e9NaN;\0é')), max_size=12)),
                draw(mutations(2)),
            )
        )
    return ops


def edit_csv(raw: bytes, ops) -> bytes:
    for kind, where, text, byte_ops in ops:
        if kind == "bytes":
            raw = mutate(raw, byte_ops)
            continue
        lines = raw.decode("utf-8", "surrogateescape").split("\n")
        i = min(int(where * len(lines)), len(lines) - 1)
        if kind == "header":
            i = 0
        if kind == "line":
            lines.insert(i, text)
        else:
            cells = lines[i].split(",")
            j = min(int(where * 1000) % max(len(cells), 1), len(cells) - 1)
            cells[j] = ('"' + text) if kind == "quote" else text
            lines[i] = ",".join(cells)
        raw = "\n".join(lines).encode("utf-8", "surrogateescape")
    return raw


@pytest.mark.parametrize("target", ["classes.csv", "images.csv", "features.npy"])
def test_fuzz_own_data(target, tmp_path, outcomes):
    from szsl.data.generic import load_generic
    from tests.helpers.generic import small_dataset

    pristine = tmp_path / "pristine"
    small_dataset(pristine)
    raw = (pristine / target).read_bytes()
    strategy = mutations() if target.endswith(".npy") else csv_edits()

    @FUZZ
    @given(strategy)
    def check(ops):
        work = Path(tempfile.mkdtemp(dir=tmp_path)) / "data"
        shutil.copytree(pristine, work)
        (work / target).write_bytes(mutate(raw, ops) if target.endswith(".npy") else edit_csv(raw, ops))

        def load():
            b = load_generic(work, progress=False)
            assert b.features.shape[0] == b.labels.shape[0] and np.isfinite(np.asarray(b.features)).all()

        try:
            outcomes.run(load)
        finally:
            shutil.rmtree(work.parent, ignore_errors=True)

    check()


# ------------------------------------------------------------------------------ szsl train option values

# Options whose large valid values mean large work (user-requested, not hostile): ints kept small.
_SIZE_OPTIONS = {"--hidden": 64, "--batch-size": 64, "--epochs": 2}
_OPTIONS = [
    "--q", "--tau", "--alpha", "--hidden", "--activation", "--batch-size", "--lr", "--epochs", "--l2", "--l1", "--seed",
    "--optimizer", "--soft-label", "--method", "--dcn-temperature", "--dcn-entropy", "--eszsl-gamma", "--eszsl-lambda",
    "--device", "--dataset", "--root",
]  # fmt: skip
_VALUES = st.one_of(
    st.text(max_size=16),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(-3, 3).map(str),
    st.integers(-(10**25), 10**25).map(str),
    st.integers(-3, 70).map(str),
    st.sampled_from(
        [
            "nan",
            "inf",
            "-inf",
            "1e-320",
            "1e308",
            "0",
            "-0",
            "1",
            "0x10",
            "1_000",
            " 2 ",
            "",
            "-",
            "--q",
            "cuda",
            "cuda:7",
            "cpu",
            "eszsl",
            "dcn",
            "hard",
            "AWA2",
            "/",
            "..",
            "digits",
        ]
    ),
)


def _too_big(option: str, value: str) -> bool:
    try:
        return int(value) > _SIZE_OPTIONS[option]
    except (KeyError, ValueError):
        return False


def test_fuzz_train_cli_values(tmp_path, outcomes, capsys):
    from szsl.cli import main

    out = tmp_path / "r.json"

    @FUZZ
    @given(st.lists(st.tuples(st.sampled_from(_OPTIONS), _VALUES), min_size=1, max_size=3))
    def check(pairs):
        argv = ["train", "--epochs", "1", "--hidden", "8", "--device", "cpu", "--json", str(out)]
        for option, value in pairs:
            if _too_big(option, value):
                value = "3"
            argv += [f"{option}={value}"]  # '=' so that values starting with '-' stay values
        out.unlink(missing_ok=True)
        capsys.readouterr()
        with guard():
            try:
                code = main(argv)
            except SystemExit as exc:  # argparse rejects a value
                code = exc.code
        err = capsys.readouterr().err
        assert "Traceback" not in err
        # What a terminal shows: the progress bar redraws itself with '\r' and clears on close.
        err = "\n".join(line.rsplit("\r", 1)[-1] for line in err.split("\n"))
        if code == 0:
            outcomes.counts["loaded"] += 1
            assert json.loads(out.read_text())["H"] >= 0
        else:
            outcomes.counts["szsl_error"] += 1
            assert code == 2, (argv, code, err)
            assert len(err.strip().splitlines()) == 1, (argv, err)
            assert not out.exists()

    check()


def test_absurd_hidden_size_is_one_line_not_a_traceback(capsys):
    """A network too big to allocate: one line, exit 2 (the kernel refuses 256 GB at once)."""
    if Path("/proc/sys/vm/overcommit_memory").is_file() and Path("/proc/sys/vm/overcommit_memory").read_text().strip() == "1":
        pytest.skip("vm.overcommit_memory=1: the kernel would grant the allocation and the test would exhaust memory")
    from szsl.cli import main

    assert main(["train", "--hidden", "1000000000", "--epochs", "1", "--device", "cpu"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("szsl: error: out of memory") and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "content",
    [
        b'\x80{"hidden": 16}',  # not UTF-8 (was UnicodeDecodeError)
        b'{"hidden": {"low": 1, "high": 1' + b"0" * 400 + b"}}",  # was OverflowError
        b'{"tau": 1' + b"0" * 400 + b"}",  # was OverflowError in TrainConfig
        b'{"lr": {"low": 0.001, "high": 0.01, "log": true, "grid": 1' + b"0" * 400 + b"}}",  # was ValueError in np.linspace
        b'{"epochs": {"low": 1, "high": 100000000000000000000}}',  # was UFuncTypeError (object ints)
        b'{"tau": NaN}',
        b'{"q": Infinity}',
        b"[1, 2]",
        b"",
        b"{",
    ],
)
def test_space_files_found_by_fuzzing(content, tmp_path):
    from szsl.search_space import load_space

    (tmp_path / "s.json").write_bytes(content)
    with pytest.raises(SZSLError) as exc:
        load_space(tmp_path / "s.json")
    assert "\n" not in str(exc.value)
