"""Data that crosses the grader/worker boundary, and nothing else.

A value is encoded as a JSON tree plus one safetensors blob holding every tensor
and array. Allowed: None, bool, int, float, str, bytes, list, tuple, dict with str
keys, torch tensors, numpy arrays, paths inside the worker's scratch directory,
and fixture references. Decoding builds fresh plain objects only (never pickle),
checks sizes first, and refuses anything else.
"""

from __future__ import annotations

import base64
import functools
import json
import math
import struct
import sys
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

__all__ = ["Ref", "Service", "ScratchPath", "CodecError", "encode", "decode", "pack", "unpack_lengths", "Limits",
           "inside"]

_MAX_DEPTH = 64
_MAX_INT_DIGITS = 100
_MAX_INT_BITS = 332
_FRAME = struct.Struct(">QQQ")


class CodecError(ValueError):
    """A value cannot cross the boundary; ``category`` says why."""

    def __init__(self, message: str, category: str = "UNSUPPORTED_TYPE"):
        super().__init__(message)
        self.category = category


@dataclass(frozen=True)
class Limits:
    header_bytes: int = 8 << 20
    blob_bytes: int = 256 << 20
    items: int = 1_000_000


@dataclass(frozen=True)
class Ref:
    """A course object (tokenizer, model, data set) that trusted code loads inside the worker."""

    fixture: str
    directory: str
    fresh: bool = False
    dropout: float | None = None
    """For a model: load it in training mode with this probability in every dropout layer, as a
    training loop leaves it (``None``: eval mode, as built)."""


@dataclass(frozen=True)
class Service:
    """A local stand-in server (``hfcourse.services.<name>``) that trusted code starts inside
    the worker; the student's function receives its base URL. ``state`` is a scratch path
    where the service keeps what it serves and records."""

    name: str
    state: str
    options: tuple = ()


@dataclass(frozen=True)
class ScratchPath:
    """A path relative to the worker's scratch directory."""

    relative: str


class _Encoder:
    def __init__(self, limits: Limits):
        self.limits = limits
        self.tensors: dict[str, Any] = {}
        self.items = 0
        self.text_bytes = 0
        self.tensor_bytes = 0

    def _tensor(self, t: Any, kind: str) -> dict:
        import torch

        if type(t) is not torch.Tensor:
            t = t.as_subclass(torch.Tensor)
        self.tensor_bytes += t.numel() * t.element_size()
        if self.tensor_bytes > self.limits.blob_bytes:
            raise CodecError(f"tensors of more than {self.limits.blob_bytes} bytes", "RESULT_TOO_BIG")
        t = t.detach().cpu().contiguous().clone()
        if t.is_complex() or t.dtype not in _torch_dtypes():
            raise CodecError(f"tensor dtype {t.dtype} cannot be returned")
        name = f"t{len(self.tensors)}"
        self.tensors[name] = t
        return {kind: name}

    def enc(self, v: Any, depth: int = 0) -> Any:
        self.items += 1
        if self.items > self.limits.items:
            raise CodecError(f"more than {self.limits.items} items", "RESULT_TOO_BIG")
        if depth > _MAX_DEPTH:
            raise CodecError(f"nested deeper than {_MAX_DEPTH} levels")
        if type(v) in (str, bytes):
            self.text_bytes += len(v)
            if self.text_bytes > self.limits.header_bytes:
                raise CodecError(f"more than {self.limits.header_bytes} bytes of text", "RESULT_TOO_BIG")
        if v is None or type(v) in (bool, str):
            return v
        if type(v) is int:
            if v.bit_length() > _MAX_INT_BITS:
                raise CodecError("an integer with more than 100 digits", "BAD_OUTPUT")
            return v
        if type(v) is float:
            return v if math.isfinite(v) else {"$float": repr(v)}
        if type(v) is bytes:
            return {"$bytes": base64.b64encode(v).decode()}
        if type(v) in (list, tuple):
            body = [self.enc(x, depth + 1) for x in v]
            return body if type(v) is list else {"$tuple": body}
        if isinstance(v, Ref):
            return {"$ref": {"fixture": v.fixture, "directory": v.directory, "fresh": v.fresh, "dropout": v.dropout}}
        if isinstance(v, ScratchPath):
            return {"$path": v.relative}
        if isinstance(v, Service):
            return {"$service": {"name": v.name, "state": v.state, "options": self.enc(dict(v.options), depth + 1)}}
        mod = type(v).__module__.split(".")[0]
        if _is_tensor(v):
            return self._tensor(v, "$tensor")
        if mod == "numpy":
            return self._numpy(v, depth)
        if isinstance(v, dict) or _is_mapping_like(v):
            out = {}
            for k, x in dict(v.items()).items():
                if type(k) is not str:
                    raise CodecError(f"dict key {k!r} is a {type(k).__name__}: only str keys can be returned")
                out[k] = self.enc(x, depth + 1)
            return {"$dict": out}
        raise CodecError(f"a {type(v).__module__}.{type(v).__qualname__} cannot be returned: return plain data (lists, dicts, numbers, str, tensors)")

    def _numpy(self, v: Any, depth: int) -> Any:
        import numpy as np
        import torch

        if isinstance(v, np.generic):
            return self.enc(v.item(), depth)
        if isinstance(v, np.ndarray):
            if v.dtype.kind not in "biuf":
                raise CodecError(f"numpy array of dtype {v.dtype} cannot be returned")
            return self._tensor(torch.from_numpy(np.ascontiguousarray(v)), "$ndarray")
        raise CodecError(f"numpy object {type(v).__name__} cannot be returned")


def _is_tensor(v: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(v, torch.Tensor)


def _is_mapping_like(v: Any) -> bool:
    """transformers' BatchEncoding and similar dict-like results."""
    return type(v).__name__ in ("BatchEncoding", "BatchFeature") and hasattr(v, "items")


@functools.cache
def _torch_dtypes() -> frozenset:
    import torch

    return frozenset({torch.float16, torch.bfloat16, torch.float32, torch.float64, torch.int8, torch.uint8,
            torch.int16, torch.int32, torch.int64, torch.bool})


def encode(value: Any, limits: Limits = Limits()) -> tuple[bytes, bytes]:
    """The (JSON header, safetensors blob) of ``value``."""
    enc = _Encoder(limits)
    tree = enc.enc(value)
    header = json.dumps(tree, allow_nan=False, separators=(",", ":")).encode()
    blob = b""
    if enc.tensors:
        from safetensors.torch import save

        blob = save(enc.tensors)
    if len(header) > limits.header_bytes or len(blob) > limits.blob_bytes:
        raise CodecError(f"result of {len(header) + len(blob)} bytes is over the limit", "RESULT_TOO_BIG")
    return header, blob


def _reject_constant(name: str) -> Any:
    raise CodecError(f"bare {name} in JSON", "BAD_OUTPUT")


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > _MAX_INT_DIGITS:
        raise CodecError("an integer with more than 100 digits", "BAD_OUTPUT")
    return int(text)


class _Decoder:
    def __init__(self, tensors: dict[str, Any], scratch: Path | None):
        self.tensors = tensors
        self.scratch = scratch
        self.used: set[str] = set()

    def dec(self, node: Any, depth: int = 0) -> Any:
        if depth > _MAX_DEPTH:
            raise CodecError("nested too deep", "BAD_OUTPUT")
        if node is None or type(node) in (bool, int, float, str):
            return node
        if type(node) is list:
            return [self.dec(x, depth + 1) for x in node]
        if type(node) is not dict or len(node) != 1:
            raise CodecError("malformed value", "BAD_OUTPUT")
        (tag, body), = node.items()
        if tag == "$dict" and type(body) is dict:
            return {str(k): self.dec(x, depth + 1) for k, x in body.items()}
        if tag == "$tuple" and type(body) is list:
            return tuple(self.dec(x, depth + 1) for x in body)
        if tag == "$float" and body in ("nan", "inf", "-inf"):
            return float(body)
        if tag == "$bytes" and type(body) is str:
            return base64.b64decode(body, validate=True)
        if tag in ("$tensor", "$ndarray") and type(body) is str and body in self.tensors:
            if body in self.used:
                raise CodecError("tensor referenced twice", "BAD_OUTPUT")
            self.used.add(body)
            t = self.tensors[body]
            return t.numpy() if tag == "$ndarray" else t
        if tag == "$path" and type(body) is str:
            return inside(self.scratch, body)
        if tag == "$service" and type(body) is dict:
            options = self.dec(body.get("options", {"$dict": {}}), depth + 1)
            return Service(str(body["name"]), str(body["state"]), tuple(sorted(options.items())))
        if tag == "$ref" and type(body) is dict:
            dropout = body.get("dropout")
            if dropout is not None and (type(dropout) not in (int, float) or not 0 <= dropout < 1):
                raise CodecError(f"a fixture's dropout must be a probability in [0, 1), not {dropout!r}", "BAD_OUTPUT")
            return Ref(str(body["fixture"]), str(body["directory"]), bool(body.get("fresh", False)),
                       None if dropout is None else float(dropout))
        raise CodecError(f"unknown tag {tag!r}", "BAD_OUTPUT")


def inside(scratch: Path | None, relative: str) -> Path:
    """``scratch/relative``, worked out from the names alone: nothing on disk is looked at (a
    link there is never followed); a path that climbs out with ``..`` or is absolute is refused.
    Trusted code reads what is there only through ``hfcourse.sandbox.scratchfs``."""
    if scratch is None:
        raise CodecError("a path was returned where none is allowed", "UNSUPPORTED_TYPE")
    rel = PurePosixPath(relative)
    if rel.is_absolute() or ".." in rel.parts or "\x00" in relative:
        raise CodecError("a path outside the scratch directory", "BAD_OUTPUT")
    return scratch.joinpath(*[p for p in rel.parts if p != "."])


def decode(header: bytes, blob: bytes, *, scratch: Path | None = None, limits: Limits = Limits()) -> Any:
    """Rebuild a value from ``encode`` output; plain types only."""
    if len(header) > limits.header_bytes or len(blob) > limits.blob_bytes:
        raise CodecError("result over the size limit", "RESULT_TOO_BIG")
    try:
        tree = json.loads(header, parse_constant=_reject_constant, parse_int=_parse_int)
    except (ValueError, RecursionError) as exc:
        if isinstance(exc, CodecError):
            raise
        raise CodecError(f"result is not valid JSON: {exc}", "BAD_OUTPUT") from None
    tensors: dict[str, Any] = {}
    if blob:
        from safetensors import SafetensorError
        from safetensors.torch import load

        try:
            tensors = load(blob)
        except (SafetensorError, ValueError, RuntimeError) as exc:
            raise CodecError(f"tensor payload is corrupt: {exc}", "BAD_OUTPUT") from None
    return _Decoder(tensors, scratch).dec(tree)


def pack(control: dict, header: bytes = b"", blob: bytes = b"") -> bytes:
    """One frame: three big-endian lengths, then a small JSON control part, the value header and blob."""
    ctl = json.dumps(control, separators=(",", ":")).encode()
    return _FRAME.pack(len(ctl), len(header), len(blob)) + ctl + header + blob


def unpack_lengths(prefix: bytes) -> tuple[int, int, int]:
    return _FRAME.unpack(prefix)


FRAME_PREFIX = _FRAME.size
