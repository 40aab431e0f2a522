"""Emitters: every report format is rendered from one RunResult.

``RENDERERS`` maps a ``--format`` name to a function ``RunResult -> str``; ``table`` prints a rich
table instead (``print_table``). Add a format by adding a module here and an entry below."""

from __future__ import annotations

from typing import Callable

from hfcourse.report.csvbook import csv_gradebook
from hfcourse.report.exercism import exercism_json
from hfcourse.report.github import github_report
from hfcourse.report.gradescope import gradescope_json
from hfcourse.report.junit import junit_xml
from hfcourse.report.table import print_table
from hfcourse.results import RunResult

RENDERERS: dict[str, Callable[[RunResult], str]] = {
    "json": RunResult.to_json,
    "gradescope": gradescope_json,
    "exercism": exercism_json,
    "junit": junit_xml,
    "github": github_report,
    "csv": csv_gradebook,
}
FORMATS = ("table", *RENDERERS)

__all__ = ["FORMATS", "RENDERERS", "gradescope_json", "print_table", "render"]


def render(run: RunResult, fmt: str) -> str:
    """The report text of ``run`` in format ``fmt`` (any of ``RENDERERS``)."""
    try:
        return RENDERERS[fmt](run)
    except KeyError:
        raise ValueError(f"unknown report format {fmt!r}; choose one of {', '.join(RENDERERS)}") from None
