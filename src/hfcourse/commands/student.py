"""The student's commands: ``notebook``, ``status``, ``next``, ``watch`` and ``hint``.

Every message a student reads is in ``MESSAGES`` in English and Chinese."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

__all__ = ["register", "MESSAGES", "after_check"]

MESSAGES: dict[str, tuple[str, str]] = {
    "nb_wrote": ("wrote {path}", "已写入 {path}"),
    "nb_kept": ("kept {path}: it exists and may hold your work (--force overwrites it)",
                "保留 {path}：文件已存在，可能有你的作业（--force 会覆盖）"),
    "nb_done": ("{n} notebook(s) written. Open one with `jupyter lab {first}` (or VS Code) and run its cells.",
                "已写入 {n} 个笔记本。用 `jupyter lab {first}`（或 VS Code）打开并运行其中的单元格。"),
    "status_chapter": ("Chapter {chapter}", "第 {chapter} 章"),
    "col_section": ("section", "小节"),
    "col_title": ("title", "标题"),
    "col_points": ("points", "得分"),
    "col_checked": ("last checked", "上次检查"),
    "col_target": ("checked", "检查对象"),
    "never": ("not checked yet", "尚未检查"),
    "planned": ("planned", "计划中"),
    "status_total": ("{done} of {ready} sections at full marks · {score:g} / {max:g} points",
                     "{ready} 个小节中 {done} 个满分 · {score:g} / {max:g} 分"),
    "next_is": ("Next: {sid} {title}", "下一节：{sid} {title}"),
    "next_file": ("  edit      {path}", "  编辑      {path}"),
    "next_notebook": ("  or        {path} (notebook)", "  或        {path}（笔记本）"),
    "next_course": ("  read      {url}", "  阅读      {url}"),
    "next_check": ("  check     hfcourse check {sid}      (or: hfcourse watch {sid})",
                   "  检查      hfcourse check {sid}      （或：hfcourse watch {sid}）"),
    "next_hint": ("  stuck?    hfcourse hint {sid}", "  卡住了？  hfcourse hint {sid}"),
    "all_done": ("Every ready section has full marks. Well done!", "所有已就绪的小节都是满分，做得好！"),
    "hint_head": ("Hint {level}/{total} for {sid} {title}", "{sid} {title} 的提示 {level}/{total}"),
    "hint_more": ("Run `hfcourse hint {sid}` again for the next hint.", "再次运行 `hfcourse hint {sid}` 查看下一条提示。"),
    "hint_last": ("That was the last hint. Read the course section: {url}", "这是最后一条提示。请阅读课程小节：{url}"),
    "hint_none": ("Section {sid} has no hints yet. Read the course section: {url}", "{sid} 小节还没有提示。请阅读课程小节：{url}"),
    "hint_reset": ("Hints of {sid} start again from the first.", "{sid} 的提示已重置，将从第一条开始。"),
    "watch_head": ("watching {files} · check #{n} at {time} · Ctrl-C to stop",
                   "正在监视 {files} · 第 {n} 次检查于 {time} · 按 Ctrl-C 停止"),
    "watch_wait": ("waiting for you to save a change…", "等待你保存修改……"),
    "watch_stop": ("stopped watching", "已停止监视"),
    "watch_missing": ("{path} does not exist yet: create it (hfcourse notebook {sid}, or copy it from exercises/)",
                      "{path} 还不存在：请先创建它（hfcourse notebook {sid}，或从 exercises/ 复制）"),
    "check_full": ("✓ {sid} has full marks. Next: hfcourse next", "✓ {sid} 已满分。下一步：hfcourse next"),
    "check_more": ("Stuck? `hfcourse hint {sid}` shows the next hint.", "卡住了？`hfcourse hint {sid}` 会给出下一条提示。"),
    "error_section": ("error: {problem}", "错误：{problem}"),
}


def _t(key: str, lang: str, **kw) -> str:
    en, zh = MESSAGES[key]
    return (zh if lang == "zh" else en).format(**kw)


def _console():
    from rich.console import Console

    return Console(markup=False)


def _course():
    from hfcourse import manifest

    return manifest.load()


def _url(course, section, lang: str = "en") -> str:
    from hfcourse.notebooks import section_url

    return section_url(course, section, lang)


def _select(course, specs: list[str], lang: str, *, ready_only: bool = True):
    try:
        return course.select(specs, ready_only=ready_only)
    except KeyError as exc:
        print(_t("error_section", lang, problem=exc.args[0]), file=sys.stderr)
        return None


# -- notebook -----------------------------------------------------------------------

def _cmd_notebook(args: argparse.Namespace) -> int:
    from hfcourse.notebooks import write

    course = _course()
    sections = _select(course, [] if args.sections == ["all"] else args.sections, args.lang)
    if sections is None:
        return 2
    out = Path(args.out) if args.out else course.root / "notebooks"
    written, kept = write(course, sections, out, solutions=args.solutions, force=args.force)
    for path in written:
        print(_t("nb_wrote", args.lang, path=_rel(path)))
    for path in kept:
        print(_t("nb_kept", args.lang, path=_rel(path)))
    if written:
        print(_t("nb_done", args.lang, n=len(written), first=_rel(written[0])))
    return 0


def _rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


# -- status / next ------------------------------------------------------------------

def _when(stamp: str) -> str:
    return datetime.fromisoformat(stamp).astimezone().strftime("%Y-%m-%d %H:%M")


def _target_label(course, target: str) -> str:
    if target in ("exercises", "solutions"):
        return target
    path = Path(target)
    try:
        return str(path.relative_to(course.root))
    except ValueError:
        return path.name


def _cmd_status(args: argparse.Namespace) -> int:
    from rich.table import Table
    from rich.text import Text

    from hfcourse import progress

    course = _course()
    state = progress.load(course)
    console = _console()
    lang = args.lang
    chapters = sorted({s.chapter for s in course.sections})
    for chapter in chapters:
        table = Table(title=_t("status_chapter", lang, chapter=chapter), title_justify="left")
        for key, justify in (("col_section", "left"), ("col_title", "left"), ("col_points", "right"),
                             ("col_checked", "left"), ("col_target", "left")):
            table.add_column(_t(key, lang), justify=justify)
        earned = top = 0.0
        for sec in (s for s in course.sections if s.chapter == chapter):
            if not sec.ready:
                table.add_row(sec.id, sec.title_in(lang), "", _t("planned", lang), "", style="dim")
                continue
            entry = state.sections.get(sec.id)
            top += sec.points
            if entry is None:
                table.add_row(sec.id, sec.title_in(lang), Text(f"– / {sec.points:g}", style="dim"),
                              Text(_t("never", lang), style="dim"), "")
                continue
            earned += entry["score"]
            style = "green" if entry["score"] >= entry["max"] else ("yellow" if entry["score"] else "red")
            table.add_row(sec.id, sec.title_in(lang), Text(f"{entry['score']:g} / {entry['max']:g}", style=style),
                          _when(entry["checked"]), _target_label(course, entry["target"]))
        if top:
            table.add_section()
            table.add_row("", "", f"{earned:g} / {top:g}", "", "")
        console.print(table)
    ready = [s for s in course.sections if s.ready]
    done = [s for s in ready if state.finished(s)]
    score = sum(state.sections[s.id]["score"] for s in ready if s.id in state.sections)
    console.print(_t("status_total", lang, done=len(done), ready=len(ready), score=score,
                     max=sum(s.points for s in ready)))
    _print_next(course, state, lang, console)
    return 0


def _print_next(course, state, lang: str, console) -> None:
    from hfcourse import progress
    from hfcourse.notebooks import notebook_path

    sec = progress.next_section(course, state)
    if sec is None:
        console.print(_t("all_done", lang), style="green")
        return
    console.print(_t("next_is", lang, sid=sec.id, title=sec.title_in(lang)), style="bold")
    console.print(_t("next_file", lang, path=f"exercises/{sec.module}"), highlight=False)
    notebook = course.root / "notebooks" / notebook_path(sec)
    if notebook.exists():
        console.print(_t("next_notebook", lang, path=f"notebooks/{notebook_path(sec)}"), highlight=False)
    if course.url:
        console.print(_t("next_course", lang, url=_url(course, sec, lang)), highlight=False)
    console.print(_t("next_check", lang, sid=sec.id), highlight=False)
    console.print(_t("next_hint", lang, sid=sec.id), highlight=False)


def _cmd_next(args: argparse.Namespace) -> int:
    from hfcourse import progress

    course = _course()
    _print_next(course, progress.load(course), args.lang, _console())
    return 0


def after_check(run, lang: str) -> None:
    """Record a check's scores in the progress state and say what to do next."""
    from hfcourse import progress

    course = _course()
    progress.record(course, run)
    console = _console()
    for sec in run.sections:
        full = sec["score"] >= sec["max_points"]
        console.print(_t("check_full" if full else "check_more", lang, sid=sec["id"]),
                      style="green" if full else "cyan", highlight=False)


# -- hint ---------------------------------------------------------------------------

def _cmd_hint(args: argparse.Namespace) -> int:
    from rich.panel import Panel

    from hfcourse import progress

    course = _course()
    try:
        sec = course.section(args.section)
    except KeyError as exc:
        print(_t("error_section", args.lang, problem=exc.args[0]), file=sys.stderr)
        return 2
    lang, console = args.lang, _console()
    hints = sec.hints_zh if lang == "zh" else sec.hints
    state = progress.load(course)
    if args.reset:
        state.hints.pop(sec.id, None)
        state.save()
        console.print(_t("hint_reset", lang, sid=sec.id))
        return 0
    url = _url(course, sec, lang) if course.url else course.title_zh if lang == "zh" else course.title
    if not hints:
        console.print(_t("hint_none", lang, sid=sec.id, url=url), highlight=False)
        return 0
    shown = state.hints.get(sec.id, 0)
    level = len(hints) if args.all else min(shown + 1, len(hints))
    for i in range(level):
        newest = i == level - 1
        console.print(Panel(hints[i], title=_t("hint_head", lang, level=i + 1, total=len(hints), sid=sec.id,
                                                title=sec.title_in(lang)),
                            title_align="left", border_style="cyan" if newest else "dim",
                            style="none" if newest else "dim"))
    state.hints[sec.id] = level
    state.save()
    console.print(_t("hint_last" if level == len(hints) else "hint_more", lang, sid=sec.id, url=url), highlight=False)
    return 0


# -- watch --------------------------------------------------------------------------

def _watched(course, sections, target: str) -> list[Path]:
    if target.endswith(".ipynb"):
        return [Path(target).resolve()]
    base = course.root / target if target in ("exercises", "solutions") else Path(target).resolve()
    return [base / s.module for s in sections]


def _stamp(paths: list[Path]) -> tuple:
    out = []
    for p in paths:
        try:
            st = p.stat()
            out.append((st.st_mtime_ns, st.st_size))
        except OSError:
            out.append(None)
    return tuple(out)


def _cmd_watch(args: argparse.Namespace) -> int:
    from hfcourse import progress

    course = _course()
    lang, console = args.lang, _console()
    if args.sections:
        sections = _select(course, args.sections, lang)
        if sections is None:
            return 2
    else:
        nxt = progress.next_section(course, progress.load(course))
        if nxt is None:
            console.print(_t("all_done", lang), style="green")
            return 0
        sections = [nxt]
    paths = _watched(course, sections, args.target)
    cmd = [sys.executable, "-m", "hfcourse.cli", "--lang", lang, "check", *[s.id for s in sections],
           "--target", args.target]
    env = {**os.environ, "HFCOURSE_ROOT": str(course.root)}
    seen, n = None, 0
    try:
        while True:
            stamp = _stamp(paths)
            if stamp != seen:
                seen, n = stamp, n + 1
                console.clear()
                console.rule(_t("watch_head", lang, files=", ".join(_rel(p) for p in paths), n=n,
                                time=datetime.now().strftime("%H:%M:%S")))
                missing = [p for p in paths if not p.exists()]
                for p in missing:
                    console.print(_t("watch_missing", lang, path=_rel(p), sid=sections[0].id), style="red")
                if not missing:
                    sys.stdout.flush()
                    subprocess.run(cmd, env=env)
                console.print(_t("watch_wait", lang), style="dim")
                sys.stdout.flush()
            time.sleep(args.interval)
    except KeyboardInterrupt:
        console.print(_t("watch_stop", lang))
        return 0


# -- registration -------------------------------------------------------------------

def _lang_option(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """``--lang`` after the subcommand too (``hfcourse hint 2.2 --lang zh``); the global one otherwise."""
    parser.add_argument("--lang", choices=("en", "zh"), default=argparse.SUPPRESS, help="language (en or zh)")
    return parser


def register(sub: argparse._SubParsersAction) -> None:
    n = sub.add_parser("notebook", help="write Jupyter notebooks of sections: hfcourse notebook 2.2 (or all)")
    n.add_argument("sections", nargs="+", metavar="SECTION", help="section ids, chapters, or all")
    n.add_argument("--out", default=None, help="folder to write into (default: notebooks/ in the course)")
    n.add_argument("--solutions", action="store_true", help="notebooks of the reference solutions (instructors, tests)")
    n.add_argument("--force", action="store_true", help="overwrite notebooks that exist (your work in them is lost)")
    _lang_option(n).set_defaults(func=_cmd_notebook)

    _lang_option(sub.add_parser("status", help="your progress: points per section from your last checks")).set_defaults(func=_cmd_status)
    _lang_option(sub.add_parser("next", help="the first section without full marks, and how to work on it")).set_defaults(func=_cmd_next)

    w = sub.add_parser("watch", help="check a section again every time you save: hfcourse watch 2.2")
    w.add_argument("sections", nargs="*", metavar="SECTION", help="default: the section `hfcourse next` names")
    w.add_argument("--target", default="exercises", help="exercises (default), a submission DIR, or a notebook .ipynb")
    w.add_argument("--interval", type=float, default=1.0, help="seconds between looks at the files (default: %(default)s)")
    _lang_option(w).set_defaults(func=_cmd_watch)

    h = sub.add_parser("hint", help="the next hint of a section, one level at a time: hfcourse hint 2.2")
    h.add_argument("section", metavar="SECTION")
    group = h.add_mutually_exclusive_group()
    group.add_argument("--all", action="store_true", help="show every hint of the section")
    group.add_argument("--reset", action="store_true", help="start again from the first hint")
    _lang_option(h).set_defaults(func=_cmd_hint)
