"""Exercise stubs are generated from solutions; bad markers are errors with file:line."""

from __future__ import annotations

import pytest

from hfcourse import stubs

GOOD = '''"""Doc."""

def f(x: int) -> int:
    """Double it."""
    # BEGIN SOLUTION
    y = x * 2
    return y
    # END SOLUTION


class C:
    def g(self):
        # BEGIN SOLUTION
        return 1
        # END SOLUTION
'''


def test_strip_keeps_signature_and_docstring_and_raises():
    out = stubs.strip(GOOD, "9.9", "s.py")
    assert 'def f(x: int) -> int:\n    """Double it."""\n    # TODO: implement f' in out
    assert 'raise NotImplementedError("9.9 f: not implemented yet")' in out
    assert '        raise NotImplementedError("9.9 g: not implemented yet")' in out
    assert "x * 2" not in out and "return 1" not in out
    compile(out, "s.py", "exec")


@pytest.mark.parametrize("source, line, words", [
    ("def f():\n    # BEGIN SOLUTION\n    # BEGIN SOLUTION\n", 3, "nested"),
    ("def f():\n    # BEGIN SOLUTION\n    return 1\n", 2, "never closed"),
    ("def f():\n    return 1\n    # END SOLUTION\n", 3, "without a matching"),
    ("# BEGIN SOLUTION\nx = 1\n# END SOLUTION\n", 1, "outside a function"),
    ("def f():\n    # BEGIN SOLUTION here\n", 2, "malformed"),
    ("def f():\n    return 1\n", 1, "no '# BEGIN SOLUTION'"),
])
def test_bad_markers_name_file_and_line(source, line, words):
    with pytest.raises(stubs.StubError, match=rf"^s\.py:{line}: .*{words}"):
        stubs.strip(source, "9.9", "s.py")


def test_committed_exercises_are_in_step(course):
    assert stubs.check(course) == []


def test_check_reports_drift(course, tmp_path, monkeypatch):
    import shutil

    from hfcourse import manifest

    for name in ("course.toml", "solutions", "exercises"):
        src = course.root / name
        (shutil.copytree if src.is_dir() else shutil.copyfile)(src, tmp_path / name)
    copy = manifest.load(tmp_path / "course.toml")
    ready = [s for s in copy.sections if s.ready][0]
    (tmp_path / "exercises" / ready.module).write_text("# edited by hand\n")
    drift = stubs.check(copy)
    assert [d.path for d in drift] == [tmp_path / "exercises" / ready.module]
    assert stubs.generate(copy) == [tmp_path / "exercises" / ready.module]
    assert stubs.check(copy) == []
