"""Emitters: every report format is rendered from one RunResult."""

from __future__ import annotations

from hfcourse.report.gradescope import gradescope_json
from hfcourse.report.table import print_table

FORMATS = ("table", "json", "gradescope")

__all__ = ["FORMATS", "gradescope_json", "print_table"]
