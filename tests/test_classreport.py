"""The HTML class report and the student feedback page, on batch directories written here.

Fast tests build RunResult objects in the test; the slow test grades real submissions (the solution,
the stubs and chapter 2 mutants), renders the report and opens it in headless Chromium."""

from __future__ import annotations

import json
import re
import shutil
import statistics
import subprocess
import tempfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markupsafe import escape

from hfcourse import manifest, mutants
from hfcourse.classreport import (BatchError, load_batch, render_class_report, render_student_page,
                                  write_class_report, write_student_page)
from hfcourse.classreport.aggregate import bench_series, box_stats, cell, failing_tests, section_infos, section_stats
from hfcourse.results import BenchFigure, RunResult, TestResult
from helpers import ROOT, run_cli, run_grade

ARTIFACTS = ROOT / "tests" / "artifacts"
CANARY = "CANARY-7f3a"
SEED = 918273645


# -- batch directories built in the test -------------------------------------------------------

def _test(section: str, name: str, points: float, max_points: float, *, category: str | None = None,
          visibility: str = "visible", hidden_secret: bool = False) -> TestResult:
    secret = f" {CANARY}" if hidden_secret else ""
    return TestResult(
        section=section, name=name + (f"_{CANARY}" if hidden_secret else ""), nodeid=f"graders/x.py::{name}{secret}",
        points=points, max_points=max_points, status="passed" if points >= max_points else "failed",
        category=None if points >= max_points else (category or "WRONG_RESULT"),
        message="" if points >= max_points else f"expected [1, 2] got [2, 1]{secret}",
        likely=f"off by one{secret}", likely_zh=f"差一{secret}", output=f"print from student{secret}",
        visibility=visibility, hint=f"hint for {name}{secret}", hint_zh=f"{name} 的提示{secret}")


def _run(results: dict[str, list[TestResult]], bench: list[BenchFigure] = ()) -> RunResult:
    run = RunResult(target="/subs/x", seed=SEED, started="2026-11-30T01:02:03+00:00", duration=4.5,
                    sandbox={"level": "L1"}, versions={"torch": "2.13.0", "transformers": "5.24.0"})
    titles = {"2.2": ("Behind the pipeline", "pipline的内部结构"), "2.6": ("Putting it all together", "用Tokenizer搞定")}
    for sid, tests in results.items():
        run.tests += tests
        run.sections.append({"id": sid, "title": titles[sid][0], "title_zh": titles[sid][1],
                             "max_points": sum(t.max_points for t in tests), "score": sum(t.points for t in tests)})
    run.benchmarks = list(bench)
    return run


def _student_run(a: float, b: float, c: float, ratio: float, *, attempted_26: bool = True,
                 secret: bool = False) -> RunResult:
    """2.2: visible test_a (2 points) and hidden test_b (3); 2.6: hidden test_c (4) with a benchmark."""
    cat = None if attempted_26 else "NOT_ATTEMPTED"
    tests = {"2.2": [_test("2.2", "test_a", a, 2), _test("2.2", "test_b", b, 3, visibility="hidden", hidden_secret=secret)],
             "2.6": [_test("2.6", "test_c", c, 4, category=cat, visibility="hidden", hidden_secret=secret)]}
    bench = [BenchFigure("2.6", tests["2.6"][0].name, "sentences/s", 100 * ratio, 100.0, ratio, 0.5, 7)] if attempted_26 else []
    return _run(tests, bench)


def _write_batch(directory: Path, runs: dict[str, RunResult | str], seed: int | None = None) -> Path:
    """A batch directory as grade-batch writes it; a str instead of a run is that student's error."""
    students = []
    for name, run in runs.items():
        entry = {"name": name, "submission": f"/subs/{name}", "duration": 2.0, "report": None, "error": None}
        if isinstance(run, str):
            entry.update(status="error", score=0, max_score=0, error=run)
        else:
            rel = f"students/{name}/report.json"
            (directory / rel).parent.mkdir(parents=True, exist_ok=True)
            (directory / rel).write_text(run.to_json(), encoding="utf-8")
            entry.update(status="graded", score=run.score, max_score=run.max_score, report=rel)
        students.append(entry)
    meta = {"course": "Hugging Face NLP course — exercises", "started": "2026-11-30T01:00:00+00:00",
            "finished": "2026-11-30T01:05:00+00:00", "sections": ["2.2", "2.6"], "seed": seed, "students": students}
    (directory / "batch.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    return directory


@pytest.fixture
def batch_dir(tmp_path: Path) -> Path:
    return _write_batch(tmp_path, {
        "ada": _student_run(2, 3, 4, 1.1),
        "李雷": _student_run(2, 0, 4, 0.4),
        "<b>bo": _student_run(0, 0, 0, 0.0, attempted_26=False),
        "cy": _student_run(2, 3, 0, 0.8),
        "dee": "grading timed out after 300 s",
    })


class _Doc(HTMLParser):
    """Elements of an HTML page as (tag, attributes) plus the text of each ``<tr>``."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.rows: list[tuple[dict[str, str], list[str]]] = []
        self._cells: list[str] | None = None
        self.feed(text)
        self.rows = [(a, [c.strip() for c in cells]) for a, cells in self.rows]

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attrs = {k: v or "" for k, v in attrs}
        self.elements.append((tag, attrs))
        if tag == "tr":
            self._cells = []
            self.rows.append((attrs, self._cells))
        elif tag in ("td", "th") and self._cells is not None:
            self._cells.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr":
            self._cells = None

    def handle_data(self, data: str) -> None:
        if self._cells:
            self._cells[-1] += data

    def find(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        return [a for t, a in self.elements if t == tag and all(a.get(k.rstrip("_")) == v for k, v in attrs.items())]


# -- aggregation -----------------------------------------------------------------------------

def test_aggregation_of_sections_cells_failures_and_benchmarks(batch_dir: Path):
    batch = load_batch(batch_dir)
    assert [s.name for s in batch.graded] == ["ada", "李雷", "<b>bo", "cy"]
    assert batch.student("dee").error == "grading timed out after 300 s" and not batch.student("dee").graded
    infos = section_infos(batch)
    assert [i.id for i in infos] == ["2.2", "2.6"]
    assert infos[0].title == manifest.load().section("2.2").title and infos[0].url.endswith("/chapter2/2")

    stats = {s.info.id: s for s in section_stats(batch, infos)}
    assert stats["2.2"].fractions == [("ada", 1.0), ("李雷", 0.4), ("<b>bo", 0.0), ("cy", 1.0)]
    assert stats["2.2"].mean == pytest.approx(2.4 / 4) and stats["2.2"].full == 2
    assert stats["2.6"].not_attempted == 1 and stats["2.6"].median == pytest.approx(0.5)

    bo = batch.student("<b>bo").run
    assert cell(bo, "2.6").state == "not_attempted" and cell(bo, "2.2").state == "zero"
    assert cell(batch.student("李雷").run, "2.2").state == "partial" and cell(None, "2.2").state == "missing"

    rows = {(f.section.id, f.name): f for f in failing_tests(batch, infos)}
    assert rows[("2.2", "test_b")].failed == 2 and rows[("2.2", "test_b")].ran == 4
    assert rows[("2.6", "test_c")].categories == Counter({"NOT_ATTEMPTED": 1, "WRONG_RESULT": 1})
    assert rows[("2.2", "test_a")].failed == 1
    assert [f.failed for f in failing_tests(batch, infos)] == sorted((f.failed for f in rows.values()), reverse=True)

    (series,) = bench_series(batch, infos)
    assert sorted(r for _, r, _, _ in series.points) == [0.4, 0.8, 1.1] and series.threshold == 0.5


def test_box_stats_are_quartiles():
    assert box_stats([]) is None and box_stats([0.3]) == (0.3,) * 5
    lo, q1, med, q3, hi = box_stats([4.0, 1.0, 3.0, 2.0, 5.0])
    assert (lo, med, hi) == (1.0, 3.0, 5.0) and q1 == statistics.quantiles([1, 2, 3, 4, 5], n=4, method="inclusive")[0]


# -- the instructor's report ---------------------------------------------------------------------

def test_class_report_has_plots_heatmap_failures_benchmarks_and_facts(batch_dir: Path):
    text = render_class_report(load_batch(batch_dir))
    doc = _Doc(text)
    assert len(doc.find("svg")) == 3, "histogram, section boxes and benchmark plot"
    assert len([a for a in doc.find("rect") if a.get("class") == "bar"]) == 10
    points = [a for a in doc.find("circle") if a.get("class") == "point"]
    assert len(points) == 4 * 2 + 3, "a point per graded student per section, and per benchmark figure"
    assert doc.find("line", class_="threshold")

    heat = [(a, cells) for a, cells in doc.rows if "data-student" in a]
    assert [a["data-student"] for a, _ in heat] == sorted(["ada", "李雷", "<b>bo", "cy", "dee"], key=str.casefold)
    by_name = {a["data-student"]: cells for a, cells in heat}
    assert by_name["李雷"][1:] == ["6 / 9", "40%", "100%"]
    assert by_name["<b>bo"][3] == "n/a" and by_name["dee"][2] == "–"
    assert "<b>bo" not in text and "&lt;b&gt;bo" in text, "student names are escaped"

    failing = {cells[1]: cells for _, cells in doc.rows if len(cells) > 8 and cells[1].startswith("test_")}
    assert failing["test_c"][3] == "2 / 4" and failing["test_c"][4] == "1" and failing["test_c"][7] == "1"
    assert doc.find("a", href="#section-2-6") and doc.find("tr", id="section-2-6")
    assert "grading timed out after 300 s" in text, "ungraded students are listed with their error"
    assert str(SEED) in text and "L1" in text and "transformers 5.24.0" in text, "run facts (instructor copy)"
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", text.replace('href="https://huggingface.co/learn', "")), \
        "nothing is loaded from elsewhere"
    assert doc.find("meta", **{"http-equiv": "Content-Security-Policy"})[0]["content"].startswith("default-src 'none'")


def test_labels_exist_in_both_languages(batch_dir: Path):
    batch = load_batch(batch_dir)
    for text in (render_class_report(batch, lang="zh"), render_student_page(batch, "ada")):
        doc = _Doc(text)
        en, zh = len(doc.find("span", lang="en")), len(doc.find("span", lang="zh"))
        assert en == zh > 5
    assert 'data-lang="zh"' in render_class_report(batch, lang="zh")
    assert "学生 × 小节" in render_class_report(batch)
    with pytest.raises(ValueError, match="choose en or zh"):
        render_class_report(batch, lang="fr")


# -- the student's page ----------------------------------------------------------------------

def test_student_page_leaks_nothing_of_hidden_tests(tmp_path: Path):
    batch_dir = _write_batch(tmp_path, {"ada": _student_run(0, 1, 2, 0.3, secret=True),
                                        "bo": _student_run(2, 3, 4, 1.0, secret=True)}, seed=SEED)
    instructor = render_class_report(load_batch(batch_dir))
    assert CANARY in instructor and str(SEED) in instructor, "the canary is there to be leaked"
    for name in ("ada", "bo"):
        page = write_student_page(batch_dir, name).read_text(encoding="utf-8")
        assert CANARY not in page and str(SEED) not in page
        assert "sentences/s" not in page, "a hidden test's benchmark figure is hidden too"
    page = (batch_dir / "students" / "ada" / "feedback.html").read_text(encoding="utf-8")
    assert "test_a" in page and "expected [1, 2] got [2, 1]" in page and "hint for test_a" in page
    assert "test_a 的提示" in page and "off by one" in page
    assert "Hidden tests: 0 passed, 1 failed (1 of 3 points)" in page
    assert "隐藏测试：0 个通过，1 个未通过（1 / 3 分）" in page
    assert "Hidden tests: 0 passed, 1 failed (2 of 4 points)" in page
    assert "3 / 9" in page and "WRONG_RESULT" not in page


def test_student_page_shows_visible_benchmarks_and_errors(tmp_path: Path):
    run = _student_run(2, 3, 4, 1.0)
    run.benchmarks.append(BenchFigure("2.2", "test_a", "tokens/s", 61.5, 123.0, 0.5, 0.4, 5))
    batch_dir = _write_batch(tmp_path, {"ada": run, "dee": "worker crashed: secret traceback"})
    page = render_student_page(load_batch(batch_dir), "ada")
    assert "61.5 tokens/s" in page and "123.0 tokens/s" in page
    ungraded = render_student_page(load_batch(batch_dir), "dee")
    assert "could not be graded" in ungraded and "secret traceback" not in ungraded


# -- bad input and the command -----------------------------------------------------------------

def test_bad_batch_directories_are_named_with_a_fix(tmp_path: Path):
    with pytest.raises(BatchError, match="grade-batch"):
        load_batch(tmp_path)
    (tmp_path / "batch.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(BatchError, match="not valid JSON"):
        load_batch(tmp_path)
    _write_batch(tmp_path, {"ada": _student_run(2, 3, 4, 1.0), "bo": _student_run(2, 3, 4, 1.0)})
    (tmp_path / "students" / "bo" / "report.json").unlink()
    meta = json.loads((tmp_path / "batch.json").read_text())
    meta["students"].append({**meta["students"][0], "name": "eve", "report": "../../etc/passwd"})
    meta["students"].append({"name": "../up", "status": "error", "error": "unsafe name"})
    (tmp_path / "batch.json").write_text(json.dumps(meta))
    batch = load_batch(tmp_path)
    assert "missing" in batch.student("bo").error and "outside" in batch.student("eve").error
    with pytest.raises(BatchError, match=r"no student 'zed'.*ada, bo, eve"):
        batch.student("zed")
    with pytest.raises(BatchError, match="not a safe directory name"):
        write_student_page(tmp_path, "../up")
    assert not (tmp_path / "up").exists()
    assert "Could not be graded" in render_class_report(batch)


def test_batch_still_running_without_a_section_list(tmp_path: Path):
    _write_batch(tmp_path, {"ada": _student_run(2, 3, 4, 1.0), "bo": "queued"})
    meta = json.loads((tmp_path / "batch.json").read_text())
    meta.update(finished=None, sections=[])
    meta["students"][1]["status"] = "pending"
    (tmp_path / "batch.json").write_text(json.dumps(meta))
    batch = load_batch(tmp_path)
    assert [i.id for i in section_infos(batch)] == ["2.2", "2.6"] and batch.finished == ""
    assert not batch.student("bo").graded and batch.student("bo").error == "queued"
    assert len(_Doc(render_class_report(batch)).find("svg")) == 3


def test_report_command_writes_default_paths(batch_dir: Path, tmp_path: Path):
    proc = run_cli("report", str(batch_dir), timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert (batch_dir / "report.html").is_file() and "report.html" in proc.stdout
    proc = run_cli("report", str(batch_dir), "--student", "李雷", "--lang", "zh", timeout=120)
    assert proc.returncode == 0, proc.stderr
    page = (batch_dir / "students" / "李雷" / "feedback.html").read_text(encoding="utf-8")
    assert 'data-lang="zh"' in page and "李雷" in page
    proc = run_cli("report", str(batch_dir), "--all-students", timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert {p.parent.name for p in batch_dir.glob("students/*/feedback.html")} == {"ada", "李雷", "<b>bo", "cy", "dee"}
    out = tmp_path / "elsewhere" / "class.html"
    assert write_class_report(batch_dir, out) == out and out.read_text(encoding="utf-8").startswith("<!doctype html>")
    proc = run_cli("report", str(batch_dir), "--student", "nobody", timeout=120)
    assert proc.returncode == 2 and "no student 'nobody'" in proc.stderr
    proc = run_cli("report", str(tmp_path / "missing"), timeout=120)
    assert proc.returncode == 2 and "is not a directory" in proc.stderr


# -- a real class, in a real browser -------------------------------------------------------------

SECTIONS = ("2.4", "2.6")


def _submissions(root: Path) -> dict[str, str]:
    """Eleven submissions of sections 2.4 and 2.6: name -> grading target."""
    course = manifest.load()
    found = [m for m in mutants.load(ROOT / "tests" / "mutants" / "ch2.toml") if m.section in SECTIONS]
    m24 = [m for m in found if m.section == "2.4"]
    m26 = [m for m in found if m.section == "2.6"]

    def solution(sid: str, directory: Path) -> None:
        module = course.section(sid).module
        (directory / module).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / "solutions" / module, directory / module)

    subs: dict[str, str] = {"solution": "solutions", "stub": "exercises"}
    plans: dict[str, list] = {f"pair-{i + 1}": [m24[i], m26[i + 1]] for i in range(min(len(m24), len(m26) - 1, 4))}
    plans |= {"only-2-4-buggy": [m24[0]], "only-2-4-right": ["2.4"], "only-2-6-right": ["2.6"],
              "slow-2-6": ["2.4", m26[0]], "syntax-error-2-6": ["2.4", "syntax"]}
    for name, parts in plans.items():
        directory = root / name
        directory.mkdir(parents=True)
        for part in parts:
            if part == "syntax":
                path = directory / course.section("2.6").module
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text("def classify(:\n", encoding="utf-8")
            elif isinstance(part, str):
                solution(part, directory)
            else:
                mutants.write_submission(part, course, directory)
        subs[name] = str(directory)
    return subs


def _grade_batch(submissions: dict[str, str], out: Path) -> Path:
    """Grade every submission with `hfcourse grade` (two at a time) into grade-batch's layout."""
    from datetime import datetime, timezone
    import time

    def one(item: tuple[str, str]) -> tuple[str, str, float, subprocess.CompletedProcess, dict | None]:
        start = time.monotonic()
        proc, report = run_grade("--target", item[1], "--sections", *SECTIONS, timeout=900)
        return item[0], item[1], time.monotonic() - start, proc, report

    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(one, submissions.items()))
    students = []
    for name, target, duration, proc, report in results:
        folder = out / "students" / name
        folder.mkdir(parents=True)
        (folder / "log.txt").write_text(proc.stdout + proc.stderr, encoding="utf-8")
        entry = {"name": name, "submission": target, "duration": round(duration, 2), "report": None, "error": None,
                 "status": "error", "score": 0, "max_score": 0}
        if report is not None:
            (folder / "report.json").write_text(json.dumps(report, ensure_ascii=False), encoding="utf-8")
            entry.update(status="graded", score=report["score"], max_score=report["max_score"],
                         report=f"students/{name}/report.json")
        else:
            entry["error"] = proc.stderr[-2000:] or f"exit status {proc.returncode}"
        students.append(entry)
    meta = {"course": manifest.load().title, "started": started,
            "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "sections": list(SECTIONS), "seed": None, "students": students}
    (out / "batch.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
    return out


def _browser(url: str, *args: str, work: Path) -> subprocess.CompletedProcess:
    """Headless Chromium on an empty profile; host names resolve to nothing, so nothing can leave."""
    profile = Path(tempfile.mkdtemp(dir=work, prefix="profile-"))
    cmd = [shutil.which("chromium") or "chromium", "--headless", "--no-sandbox", f"--user-data-dir={profile}",
           "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", "--host-resolver-rules=MAP * ~NOTFOUND", *args, url]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180)


def _page_requests(netlog: Path) -> list[str]:
    """URLs a page asked the network stack for (the browser's own background requests have no origin)."""
    data, _ = json.JSONDecoder().raw_decode(netlog.read_text(encoding="utf-8"))
    start_job = data["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    urls = []
    for event in data["events"]:
        params = event.get("params") or {}
        if event["type"] == start_job and "url" in params and (
                params.get("initiator") != "not an origin" or "file://" in params.get("network_isolation_key", "")):
            urls.append(params["url"])
    return urls


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("chromium") is None,
                    reason="chromium is not on PATH (Debian/Ubuntu: apt-get install -y chromium)")
def test_class_report_of_real_gradings_in_headless_chromium(tmp_path: Path):
    _check_in_browser(_grade_batch(_submissions(tmp_path / "subs"), tmp_path / "batch"), tmp_path / "browser")


def _check_in_browser(batch_dir: Path, work: Path) -> None:
    """The report of a graded class renders in Chromium, with its plots, and asks the network for nothing."""
    batch = load_batch(batch_dir)
    assert len(batch.graded) >= 10, [(s.name, s.error) for s in batch.students if not s.graded]
    solution, stub = batch.student("solution").run, batch.student("stub").run
    assert solution.score > stub.score == 0 and solution.max_score == stub.max_score > 0
    assert {cell(stub, sid).state for sid in SECTIONS} == {"not_attempted"}
    assert any(b.section == "2.6" for s in batch.graded for b in s.run.benchmarks)

    report = write_class_report(batch_dir)
    work.mkdir()
    netlog = work / "net.json"
    proc = _browser(report.as_uri() + "#sort=total&lang=zh", "--dump-dom", f"--log-net-log={netlog}", work=work)
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = _Doc(proc.stdout)
    assert dom.find("body", **{"data-ready": "1"}), "the page's script ran"
    assert dom.find("html", **{"data-lang": "zh"}), "the language switch ran"
    assert dom.find("table", id="heatmap", **{"data-sorted": "total:desc"})
    rows = [(a["data-student"], cells) for a, cells in dom.rows if "data-student" in a]
    assert {name for name, _ in rows} == {s.name for s in batch.students}
    fractions = [s.fraction if s.graded else -1 for s in map(batch.student, (name for name, _ in rows))]
    assert fractions == sorted(fractions, reverse=True), "rows sorted by total score after the script ran"
    assert len([a for a in dom.find("rect") if a.get("class") == "bar"]) == 10
    assert len(dom.find("svg")) == 3, "score histogram, section box plot and throughput plot"
    points = [a for a in dom.find("circle") if a.get("class") == "point"]
    assert len(points) >= len(batch.graded) * len(SECTIONS)
    assert _page_requests(netlog) == [], "the report asked for something over the network"

    control = work / "control.html"
    control.write_text('<!doctype html><img src="http://example.invalid/x.png">', encoding="utf-8")
    _browser(control.as_uri(), "--dump-dom", f"--log-net-log={work / 'control.json'}", work=work)
    assert _page_requests(work / "control.json") == ["http://example.invalid/x.png"], "the net-log check works"

    ARTIFACTS.mkdir(exist_ok=True)
    for url, shot, size in ((report.as_uri() + "#sort=total", "class-report.png", "1280,2600"),
                            (write_student_page(batch_dir, "pair-1").as_uri(), "student-page.png", "1100,1500")):
        (ARTIFACTS / shot).unlink(missing_ok=True)
        proc = _browser(url, "--hide-scrollbars", f"--window-size={size}", f"--screenshot={ARTIFACTS / shot}", work=work)
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert (ARTIFACTS / shot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and (ARTIFACTS / shot).stat().st_size > 20_000

    for student in batch.graded:
        page = write_student_page(batch_dir, student.name).read_text(encoding="utf-8")
        shown = {c.strip() for t, c in re.findall(r"<(code)>(.*?)</code>", page)}
        seen = {x for t in student.run.tests if t.visibility == "visible" for x in (t.message, t.hint)}
        for t in student.run.tests:
            if t.visibility == "hidden":
                assert t.name not in shown, (student.name, t.name)
                for secret in (t.message, t.hint):
                    assert not secret or secret in seen or escape(secret) not in page, (student.name, t.name, secret)
        assert str(student.run.seed) not in page
