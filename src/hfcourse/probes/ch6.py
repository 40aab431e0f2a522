"""Chapter 6 probes: tokenizers and corpus iterators that student code returns, as data."""

from __future__ import annotations

from typing import Any, Callable


def _two_passes(obj: Any) -> dict[str, Any]:
    """Iterate a corpus object twice; report its type and both passes."""
    first = [list(batch) for batch in obj]
    second = [list(batch) for batch in obj]
    return {"type": type(obj).__name__, "is_list": isinstance(obj, (list, tuple)),
            "first": first, "second": second}


def _batches(obj: Any) -> list[list[Any]]:
    """One pass over an iterable of batches (a generator included)."""
    return [list(batch) for batch in obj]


def _backend_json(tok: Any) -> str:
    """A ``tokenizers.Tokenizer`` (or a fast tokenizer's backend) as its JSON string."""
    backend = getattr(tok, "backend_tokenizer", tok)
    if type(backend).__module__.split(".")[0] != "tokenizers" or type(backend).__name__ != "Tokenizer":
        raise TypeError(f"expected a tokenizers.Tokenizer, got a {type(tok).__module__}.{type(tok).__name__}")
    return backend.to_str()


def _fast_tokenizer(tok: Any) -> dict[str, Any]:
    """A transformers fast tokenizer: class, special tokens, padding side and backend JSON."""
    if not getattr(tok, "is_fast", False):
        raise TypeError(f"expected a fast transformers tokenizer, got a {type(tok).__name__}")
    named = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token")
    return {"class": type(tok).__name__, "len": len(tok), "json": _backend_json(tok),
            "special": {n: getattr(tok, n) for n in named if getattr(tok, n, None) is not None},
            "padding_side": tok.padding_side}


PROBES: dict[str, Callable[[Any], Any]] = {
    "two_passes": _two_passes,
    "batches": _batches,
    "backend_json": _backend_json,
    "fast_tokenizer": _fast_tokenizer,
}
