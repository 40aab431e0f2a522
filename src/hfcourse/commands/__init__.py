"""Subcommands of ``hfcourse`` that live in their own modules.

Every module in this package that defines ``register(sub)`` adds its subcommand(s) to the
``hfcourse`` parser: ``sub`` is argparse's sub-parser action, and each parser it adds sets
``func`` (a function of the parsed arguments returning the exit status). Keep imports of heavy
libraries inside ``func`` so that ``hfcourse --help`` stays fast."""

from __future__ import annotations

import argparse
import importlib
import pkgutil

__all__ = ["register_all"]


def register_all(sub: argparse._SubParsersAction) -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(sub)
