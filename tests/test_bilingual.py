"""Everything a student reads exists in English and in Chinese: section titles and hints,
graders' hints and likely mistakes, result categories, CLI and notebook messages, and the
messages of hfcourse.expect. The Chinese text must contain CJK characters."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from helpers import ROOT

CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")
"""Chinese characters, and the CJK punctuation a Chinese sentence made only of code ends with."""
LATIN = re.compile(r"[A-Za-z]")


def _pair_problem(en: str, zh: str) -> str | None:
    if not en.strip() or not LATIN.search(en):
        return f"English text missing: {en!r}"
    if not CJK.search(zh):
        return f"Chinese text has no Chinese characters: {zh!r}"
    return None


def _text(node: ast.AST) -> str | None:
    """The literal text of a str constant or f-string (with {…} for the fields); None otherwise."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{…}" for v in node.values)
    return None


def test_section_titles_and_hints(course):
    problems = []
    for sec in course.sections:
        if (p := _pair_problem(sec.title, sec.title_zh)):
            problems.append(f"{sec.id} title: {p}")
        if sec.ready and len(sec.hints) < 2:
            problems.append(f"{sec.id}: a ready section needs at least 2 hint levels, has {len(sec.hints)}")
        if len(sec.hints) != len(sec.hints_zh):
            problems.append(f"{sec.id}: {len(sec.hints)} hints but {len(sec.hints_zh)} hints_zh")
        for i, (en, zh) in enumerate(zip(sec.hints, sec.hints_zh)):
            if (p := _pair_problem(en, zh)):
                problems.append(f"{sec.id} hint {i + 1}: {p}")
    assert problems == []


def test_result_categories():
    from hfcourse.results import CATEGORIES

    assert [f"{k}: {p}" for k, (en, zh) in CATEGORIES.items() if (p := _pair_problem(en, zh))] == []


def test_cli_and_notebook_messages():
    from hfcourse import notebooks
    from hfcourse.commands import server, student

    MESSAGES = {**student.MESSAGES, **{f"server.{k}": v for k, v in server.MESSAGES.items()}}
    problems = [f"{key}: {p}" for key, (en, zh) in MESSAGES.items() if (p := _pair_problem(en, zh))]
    for key, (en, zh) in MESSAGES.items():
        if set(re.findall(r"{(\w+)}", en)) != set(re.findall(r"{(\w+)}", zh)):
            problems.append(f"{key}: the two languages use different fields")
    for text in (notebooks._HOWTO, notebooks._CHECK, notebooks._UNSAVED):
        if not (CJK.search(text) and LATIN.search(text)):
            problems.append(f"notebook text is not in both languages: {text[:60]!r}")
    assert problems == []


def _likely_values(tree: ast.Module, node: ast.AST, seen: set[str]) -> list[ast.AST]:
    """The literal values a ``likely=`` argument can take: a tuple, a constant or local name bound
    to one, a dict of them indexed, or a function parameter given by its callers."""
    if isinstance(node, ast.Tuple):
        return [node]
    if isinstance(node, ast.Subscript):
        return [v for d in _likely_values(tree, node.value, seen) for v in
                (d.values if isinstance(d, ast.Dict) else [d])]
    if isinstance(node, ast.Dict):
        return [node]
    if isinstance(node, ast.Constant) and node.value is None:
        return []
    if not isinstance(node, ast.Name) or node.id in seen:
        return [node]
    seen = seen | {node.id}
    found: list[ast.AST] = []
    for n in ast.walk(tree):
        if isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == node.id for t in n.targets):
            found += _likely_values(tree, n.value, seen)
        elif isinstance(n, ast.FunctionDef) and node.id in [a.arg for a in n.args.args + n.args.kwonlyargs]:
            position = [a.arg for a in n.args.args].index(node.id) if node.id in [a.arg for a in n.args.args] else None
            for call in ast.walk(tree):
                if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == n.name:
                    args = [kw.value for kw in call.keywords if kw.arg == node.id]
                    if position is not None and position < len(call.args):
                        args.append(call.args[position])
                    for arg in args:
                        found += _likely_values(tree, arg, seen)
    return found or [node]


UNTRANSLATED: dict[str, str] = {}
"""Graders known to miss Chinese text; strict: the test fails once they are fixed, so the entry goes."""
IN_PROGRESS: dict[str, str] = {}
"""Graders of chapters still being written that miss Chinese text (not strict while they change)."""


def _grader_files() -> list:
    params = []
    for path in sorted((ROOT / "graders").rglob("test_*.py")):
        rel = path.relative_to(ROOT / "graders").as_posix()
        marks = [pytest.mark.xfail(strict=True, reason=UNTRANSLATED[rel])] if rel in UNTRANSLATED else []
        if rel in IN_PROGRESS:
            marks = [pytest.mark.xfail(strict=False, reason=IN_PROGRESS[rel])]
        params.append(pytest.param(path, id=rel, marks=marks))
    return params


@pytest.mark.parametrize("path", _grader_files())
def test_grader_hints_and_likely_mistakes(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    problems = []
    for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
        kws = {kw.arg: kw.value for kw in call.keywords}
        if "hint" in kws or "hint_zh" in kws:
            en, zh = _text(kws.get("hint", ast.Constant(""))), _text(kws.get("hint_zh", ast.Constant("")))
            if en is None or zh is None or (p := _pair_problem(en, zh)):
                problems.append(f"line {call.lineno} hint: {p if en is not None and zh is not None else 'not literal text'}")
        if "likely" in kws:
            for value in _likely_values(tree, kws["likely"], set()):
                texts = [_text(e) for e in value.elts] if isinstance(value, ast.Tuple) else []
                if len(texts) != 2 or None in texts:
                    problems.append(f"line {call.lineno} likely: not an (English, 中文) pair: {ast.unparse(value)[:80]}")
                elif (p := _pair_problem(*texts)):
                    problems.append(f"line {call.lineno} likely: {p}")
    assert problems == []


def test_expect_messages_and_guesses():
    """Every failure message of hfcourse.expect is written in both languages, and so is every
    likely mistake it guesses."""
    from hfcourse import expect

    tree = ast.parse(Path(expect.__file__).read_text(encoding="utf-8"))
    problems, pairs = [], 0
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "_fail2":
            texts = [_text(a) for a in node.args[:2]]
            pairs += 1
            if None in texts or (p := _pair_problem(*texts)):
                problems.append(f"line {node.lineno}: message not in both languages")
            public = next((kw.value for kw in node.keywords if kw.arg == "public"), None)
            if isinstance(public, ast.Tuple) and (p := _pair_problem(*[_text(e) or "" for e in public.elts])):
                problems.append(f"line {node.lineno}: public message: {p}")
        if isinstance(node, (ast.Return, ast.Assign)) and isinstance(node.value, ast.Tuple) \
                and len(node.value.elts) == 2 and all(_text(e) for e in node.value.elts):
            pairs += 1
            if (p := _pair_problem(*[_text(e) for e in node.value.elts])):
                problems.append(f"line {node.lineno}: {p}")
    assert pairs > 15 and problems == []


def test_student_guide_in_both_languages():
    en, zh = (ROOT / "docs" / "students.md").read_text(), (ROOT / "docs" / "students.zh.md").read_text()
    headings = [re.findall(r"^#+ ", text, re.M) for text in (en, zh)]
    assert headings[0] == headings[1], "the two guides have different sections"
    assert CJK.search(zh) and "hfcourse check 2.2" in en and "hfcourse check 2.2" in zh


def test_every_chapter_folder_has_a_readme_listing_its_sections(course):
    for chapter in sorted({s.chapter for s in course.sections}):
        readme = (ROOT / "exercises" / f"ch{chapter}" / "README.md").read_text()
        assert CJK.search(readme) and "students.md" in readme and "students.zh.md" in readme
        for sec in (s for s in course.sections if s.chapter == chapter):
            name = sec.module.split("/")[1]
            assert f"| {sec.id} |" in readme and f"]({name})" in readme, (chapter, sec.id)
            assert f"chapter{sec.chapter}/{sec.number})" in readme, (chapter, sec.id)


def test_chinese_links_go_to_the_zh_cn_course(course):
    """Chinese text links the course's Chinese pages (.../llm-course/zh-CN/chapterN/M), English text the English."""
    from hfcourse.commands import student
    from hfcourse.notebooks import build, section_url

    problems = []
    for sec in (s for s in course.sections if s.ready):
        en, zh = section_url(course, sec), section_url(course, sec, "zh")
        if zh != en.replace("/llm-course/", "/llm-course/zh-CN/") or "zh-CN" in en:
            problems.append(f"{sec.id}: {en} / {zh}")
        for where in ("solutions", "exercises"):
            head = (ROOT / where / sec.module).read_text(encoding="utf-8")[:3000]
            if f"Course: {en}\n" not in head or f"中文课程：{zh}\n" not in head:
                problems.append(f"{where}/{sec.module}: the module docstring lacks the English or the zh-CN link")
        readme = (ROOT / "exercises" / f"ch{sec.chapter}" / "README.md").read_text(encoding="utf-8")
        if f"({zh})" not in readme:
            problems.append(f"exercises/ch{sec.chapter}/README.md: no zh-CN link of {sec.id}")
        if student._url(course, sec, "zh") != zh:
            problems.append(f"{sec.id}: `hfcourse --lang zh next|hint` links {student._url(course, sec, 'zh')}")
    assert problems == []
    intro = build(course, course.section("2.2")).cells[0].source
    assert section_url(course, course.section("2.2"), "zh") in intro and section_url(course, course.section("2.2")) in intro


def test_pipeline_is_spelt_right_wherever_a_student_reads_it():
    misspelt = "pip" + "line"  # written in two parts, so that this file does not hold the word
    places = [ROOT / "course.toml", ROOT / "README.md", *(ROOT / "docs").glob("*.md"),
              *(ROOT / "solutions").rglob("*.py"), *(ROOT / "exercises").rglob("*.py"),
              *(ROOT / "exercises").rglob("*.md"), *(ROOT / "src" / "hfcourse").rglob("*.py")]
    assert [str(p.relative_to(ROOT)) for p in places if misspelt in p.read_text(encoding="utf-8")] == []


def test_graded_contracts_are_stated_in_docstrings_and_hints(course):
    """A function a grader probes for autograd history says so in its docstring, and its section's
    hints say so in both languages (a property graded but never asked for is a trap)."""
    probed = re.compile(r'student\.call\("(\w+)"[^\n]*probe="grad"')
    problems = []
    for sec in (s for s in course.sections if s.ready):
        grader = ROOT / "graders" / sec.module.replace("/s", "/test_s", 1)
        names = sorted(set(probed.findall(grader.read_text(encoding="utf-8")))) if grader.exists() else []
        if not names:
            continue
        tree = ast.parse((ROOT / "solutions" / sec.module).read_text(encoding="utf-8"))
        docs = {n.name: ast.get_docstring(n) or "" for n in tree.body if isinstance(n, ast.FunctionDef)}
        for name in names:
            if "autograd history" not in docs.get(name, "") or "torch.no_grad()" not in docs.get(name, ""):
                problems.append(f"{sec.id} {name}: the docstring does not ask for a result without autograd history")
        if not any("autograd history" in h and all(n in h for n in names) for h in sec.hints):
            problems.append(f"{sec.id}: no hint names {names} and the autograd history")
        if not any("自动求导" in h for h in sec.hints_zh):
            problems.append(f"{sec.id}: no Chinese hint about 自动求导历史")
    assert problems == []
