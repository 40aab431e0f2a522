"""course.toml: every section of chapters 1-7, consistent with the files on disk."""

from __future__ import annotations

import pytest

from hfcourse import manifest
from helpers import ROOT

REQUIRED = ["1.3", "1.8", "1.9", "2.2", "2.3", "2.4", "2.5", "2.6", "3.2", "3.3", "3.4", "3.5", "4.2", "4.3", "4.4",
            "5.2", "5.3", "5.4", "5.5", "5.6", "6.2", "6.3", "6.4", "6.5", "6.6", "6.7", "6.8",
            "7.2", "7.3", "7.4", "7.5", "7.6", "7.7"]


def test_every_course_section_is_listed(course):
    ids = [s.id for s in course.sections]
    assert set(REQUIRED) <= set(ids)
    assert ids == sorted(ids, key=lambda i: (int(i.split(".")[0]), int(i.split(".")[1].rstrip("abc")), i))


def test_titles_in_both_languages(course):
    for s in course.sections:
        assert s.title and s.title_zh and s.title != s.title_zh
        assert len(s.hints) == len(s.hints_zh)
    assert course.section("2.6").title_zh == "用Tokenizer搞定预处理pipeline"
    assert course.section("5.6").title_zh == "基于FAISS的语义检索引擎"


def test_ready_sections_have_all_their_files(course):
    for s in course.sections:
        files = [course.root / "solutions" / s.module, course.root / "exercises" / s.module, course.root / "graders" / s.grader]
        if s.ready:
            assert all(f.is_file() for f in files), s.id
            assert s.hints, f"{s.id} is ready but has no hints"
        else:
            assert not any(f.exists() for f in files), f"{s.id} has files but is planned"


def test_no_orphan_modules(course):
    known = {s.module for s in course.sections} | {s.grader for s in course.sections}
    for folder in ("solutions", "exercises", "graders"):
        for path in (course.root / folder).rglob("*.py"):
            assert path.relative_to(course.root / folder).as_posix() in known, f"{path} is in no course.toml section"


def test_select_by_section_and_chapter(course):
    assert [s.id for s in course.select(["2"])] == [s.id for s in course.sections if s.ready and s.chapter == 2]
    assert [s.id for s in course.select(["2.6", "2.2"])] == ["2.2", "2.6"]
    with pytest.raises(KeyError, match="no section"):
        course.select(["9.9"])


def test_a_planned_section_cannot_be_graded(tmp_path):
    text = (ROOT / "tests" / "adversarial" / "course" / "course.toml").read_text(encoding="utf-8")
    text += '\n[[section]]\nid = "9.3"\nslug = "later"\ntitle = "Later"\ntitle_zh = "以后"\npoints = 1\nstatus = "planned"\n'
    (tmp_path / "course.toml").write_text(text, encoding="utf-8")
    course = manifest.load(tmp_path / "course.toml")
    assert [s.id for s in course.select(["9"])] == ["9.1", "9.2"]
    with pytest.raises(KeyError, match="planned"):
        course.select(["9.3"])


@pytest.mark.parametrize("text, words", [
    ('format_version = 2\n', "format_version"),
    ('format_version = 1\n[[section]]\nid = "2.2"\n', "missing"),
    ('format_version = 1\n[[section]]\nid = "x"\nslug = "a"\ntitle = "t"\ntitle_zh = "z"\npoints = 1\n', "must look like"),
    ('format_version = 1\n[[section]]\nid = "2.2"\nslug = "a"\ntitle = "t"\ntitle_zh = "z"\npoints = 1\nhints = ["h"]\n', "hints_zh"),
    ('format_version = 1\n[[section]]\nid = "2.2"\nslug = "a"\ntitle = "t"\ntitle_zh = "z"\npoints = 1\ncolour = 1\n', "unknown key"),
])
def test_malformed_manifest_is_explained(tmp_path, text, words):
    path = tmp_path / "course.toml"
    path.write_text(text)
    with pytest.raises(manifest.ManifestError, match=words):
        manifest.load(path)
