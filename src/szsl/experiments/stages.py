"""The stage cache of ``reproduce``: ``<out>/<DS>/<stage>.json`` holds a result with the inputs it
was computed from; a stage is reused only when its file is complete and made from the same inputs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from szsl.atomic import write_json


def load_stage(path: Path, key: dict[str, Any]) -> dict[str, Any] | None:
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    if not isinstance(content, dict) or not content.get("complete") or content.get("key") != json.loads(json.dumps(key)):
        return None
    return content["result"]


def save_stage(path: Path, key: dict[str, Any], result: dict[str, Any]) -> None:
    write_json(path, {"complete": True, "key": key, "result": result})
