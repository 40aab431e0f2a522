"""Fixtures of the suite's own tests."""

from __future__ import annotations

import pytest

from helpers import ROOT


@pytest.fixture(scope="session")
def course():
    from hfcourse import manifest

    return manifest.load(ROOT / "course.toml")


collect_ignore_glob = ["adversarial/course/*", "adversarial/submissions/*"]
