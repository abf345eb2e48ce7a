"""Reading a saved model's file: torch's weights-only loader (never runs code), and the checks of its parts, each
failure one line naming the file. Used by ``SZSLClassifier`` / ``SZSLEnsemble`` loading (``szsl.model_file``)."""

from __future__ import annotations

import json
import pickle
import warnings
from pathlib import Path

import torch

from szsl.errors import SZSLError
from szsl.model import resolve_device


def json_field(payload: dict, key: str):
    """``payload[key]`` (a JSON string) parsed; ValueError on anything else, however deeply nested."""
    text = payload[key]
    if not isinstance(text, str):
        raise ValueError(f"{key} is {type(text).__name__}, expected a JSON string")
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError(f"{key} is nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{key} is not valid JSON ({exc})") from None


def checked_tensor(value, name: str, ndim: int | None) -> torch.Tensor:
    """``value`` if it is a dense tensor of finite real numbers with ``ndim`` dimensions (any if None); else ValueError."""
    if not isinstance(value, torch.Tensor):
        raise ValueError(f"{name} is {type(value).__name__}, expected a tensor")
    if value.layout != torch.strided or value.is_complex() or value.dtype == torch.bool or value.is_quantized:
        raise ValueError(f"{name} has dtype {value.dtype} ({value.layout}), expected a dense tensor of real numbers")
    if ndim is not None and value.ndim != ndim:
        raise ValueError(f"{name} has shape {tuple(value.shape)}, expected a {ndim}-D tensor")
    if value.is_floating_point() and not torch.isfinite(value).all():
        raise ValueError(f"{name} contains NaN or inf")
    return value


def read_model_file(path: Path):
    """The payload of a model file, read with torch's weights-only loader (never runs code); one-line SZSLError."""
    path = Path(path)
    if not path.is_file():
        raise SZSLError(f"{path}: model file not found")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's notes on foreign pickle protocols: the error below says what matters
            payload = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        # torch's text advises weights_only=False, i.e. running the file's code: never right for a file that is not a model
        raise SZSLError(
            f"{path}: not a valid szsl model file (UnpicklingError: it holds Python objects other than tensors and plain values; a model "
            "is written by szsl train --save or SZSLClassifier.save)"
        ) from None
    except Exception as exc:  # any unreadable / tampered file; weights_only never runs code
        raise SZSLError(f"{path}: not a valid szsl model file ({type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:200]})") from None
    return payload


def reason(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    if isinstance(exc, KeyError):
        return f"missing key {exc}"
    return str(exc)[:300]


def load_checked(path: Path, build):
    """``build()`` (a model from a read payload), its errors as one line naming ``path``; the model's device checked."""
    try:
        model = build()
    except SZSLError as exc:
        raise SZSLError(f"{path}: {exc}") from None
    except (KeyError, TypeError, ValueError, AttributeError, RecursionError) as exc:
        raise SZSLError(f"{path}: not a valid szsl model file ({reason(exc)})") from None
    resolve_device(model.device)
    return model
