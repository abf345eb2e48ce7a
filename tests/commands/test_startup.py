"""`szsl --help` is cheap: it imports neither torch nor optuna (Ctrl-C at start-up has nothing to interrupt); `szsl --version`."""

import importlib.metadata
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import szsl
from szsl.cli import main

REPO = Path(__file__).resolve().parents[2]


def test_help_imports_neither_torch_nor_optuna():
    code = (
        "import io, json, sys, contextlib\n"
        "from szsl.cli import main\n"
        "buf = io.StringIO()\n"
        "with contextlib.redirect_stdout(buf):\n"
        "    try:\n"
        "        main(['--help'])\n"
        "    except SystemExit as exc:\n"
        "        code = exc.code\n"
        "print(json.dumps({'code': code, 'help': buf.getvalue(), 'loaded': sorted(m for m in ('torch', 'optuna', 'sklearn') if m in "
        "sys.modules)}))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["code"] == 0 and "train" in result["help"] and "compare" in result["help"]
    assert result["loaded"] == []


def test_version_prints_name_and_version_and_exits_0(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"szsl {szsl.__version__}"
    try:  # one version: the installed distribution's metadata agrees with the package
        installed = importlib.metadata.version("szsl")
    except importlib.metadata.PackageNotFoundError:
        return
    assert installed == szsl.__version__
