"""The student's commands: ``notebook``, ``status``, ``next``, ``watch``, ``hint`` and ``reset``.

Every message a student reads is in ``MESSAGES`` in English and Chinese."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

__all__ = ["register", "MESSAGES", "after_check", "default_sections"]

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
    "status_total": ("{done}/{ready} sections, {score:g}/{max:g} points",
                     "{done}/{ready} 个小节满分，{score:g}/{max:g} 分"),
    "col_chapter": ("chapter", "章"),
    "col_done": ("full marks", "满分小节"),
    "col_changed": ("changed since checked", "检查后已修改"),
    "changed": ("changed since", "之后已修改"),
    "changed_list": ("Changed since their last check (check them again): {ids}", "上次检查之后已修改（请重新检查）：{ids}"),
    "details": ("Each section: hfcourse status --all (one chapter: hfcourse status 2)",
                "查看每个小节：hfcourse status --all（只看一章：hfcourse status 2）"),
    "check_next": ("Checking {sid} {title}, the first section without full marks (hfcourse check SECTION checks another)",
                   "检查 {sid} {title}：第一个还没满分的小节（hfcourse check 小节号 检查其他小节）"),
    "watch_offer": ("Next: {sid} {title} · press Enter to watch it (or: hfcourse watch {sid}), Ctrl-C to stop",
                    "下一节：{sid} {title} · 按回车开始监视它（或：hfcourse watch {sid}），按 Ctrl-C 停止"),
    "reset_done": ("restored {path} from its stub; your version is kept in {backup}",
                   "已把 {path} 恢复为初始模板；你原来的版本保存在 {backup}"),
    "reset_undo": ("  undo: cp {backup} {path}", "  撤销：cp {backup} {path}"),
    "reset_same": ("{path} is the untouched stub already: nothing to restore", "{path} 已经是未修改的初始模板，无需恢复"),
    "reset_nostub": ("cannot find the stub of {sid}: there is no solutions/ here and git does not know {path}",
                     "找不到 {sid} 的初始模板：这里没有 solutions/，git 里也没有 {path}"),
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
    """One summary line, then one row per chapter (``--all`` or chapters named: every section)."""
    from rich.table import Table

    from hfcourse import progress

    course = _course()
    state = progress.load(course)
    console = _console()
    lang = args.lang
    done, ready, score, top = progress.summary(course, state)
    console.print(_t("status_total", lang, done=done, ready=ready, score=score, max=top), style="bold")
    changed = [s.id for s in course.sections if s.ready and state.changed(course, s)]
    chapters = sorted({s.chapter for s in course.sections})
    wanted = [c for c in chapters if str(c) in args.chapters] if args.chapters else chapters
    if args.all or args.chapters:
        for chapter in wanted:
            _chapter_table(course, state, chapter, lang, console)
    else:
        table = Table(title_justify="left")
        for key, justify in (("col_chapter", "left"), ("col_done", "right"), ("col_points", "right"),
                             ("col_changed", "left")):
            table.add_column(_t(key, lang), justify=justify)
        for chapter in chapters:
            secs = [s for s in course.sections if s.chapter == chapter and s.ready]
            if not secs:
                continue
            earned = sum(state.sections[s.id]["score"] for s in secs if s.id in state.sections)
            full = sum(state.finished(s) for s in secs)
            style = "green" if full == len(secs) else None
            table.add_row(str(chapter), f"{full}/{len(secs)}", f"{earned:g} / {sum(s.points for s in secs):g}",
                          " ".join(sid for sid in changed if sid.split(".")[0] == str(chapter)), style=style)
        console.print(table)
        console.print(_t("details", lang), style="dim", highlight=False)
    if changed:
        console.print(_t("changed_list", lang, ids=", ".join(changed)), style="yellow", highlight=False)
    _print_next(course, state, lang, console)
    return 0


def _chapter_table(course, state, chapter: int, lang: str, console) -> None:
    from rich.table import Table
    from rich.text import Text

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
        when = Text(_when(entry["checked"]))
        if state.changed(course, sec):
            when.append(f" · {_t('changed', lang)}", style="yellow")
        table.add_row(sec.id, sec.title_in(lang), Text(f"{entry['score']:g} / {entry['max']:g}", style=style),
                      when, _target_label(course, entry["target"]))
    if top:
        table.add_section()
        table.add_row("", "", f"{earned:g} / {top:g}", "", "")
    console.print(table)


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


def default_sections(lang: str) -> list[str] | None:
    """``hfcourse check`` with no section: the first ready one without full marks, announced;
    None (and a word of praise) when every section has full marks."""
    from hfcourse import progress

    course = _course()
    sec = progress.next_section(course, progress.load(course))
    if sec is None:
        _console().print(_t("all_done", lang), style="green")
        return None
    print(_t("check_next", lang, sid=sec.id, title=sec.title_in(lang)), file=sys.stderr, flush=True)
    return [sec.id]


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


# -- reset --------------------------------------------------------------------------

def _stub_text(course, sec) -> str | None:
    """The untouched exercise of ``sec``: generated from its solution where solutions/ exists
    (the course's own checkout), else the file as git first recorded it (a student release)."""
    from hfcourse import stubs

    solution = course.root / "solutions" / sec.module
    if solution.is_file():
        return stubs.strip(solution.read_text(encoding="utf-8"), sec.id, f"solutions/{sec.module}")
    rel = f"exercises/{sec.module}"
    try:
        first = subprocess.run(["git", "-C", str(course.root), "log", "--diff-filter=A", "--format=%H", "--", rel],
                               capture_output=True, text=True, timeout=30, check=False).stdout.split()
        if not first:
            return None
        shown = subprocess.run(["git", "-C", str(course.root), "show", f"{first[-1]}:{rel}"],
                               capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return shown.stdout.decode("utf-8") if shown.returncode == 0 else None


def _cmd_reset(args: argparse.Namespace) -> int:
    course = _course()
    lang, console = args.lang, _console()
    sections = _select(course, args.sections, lang)
    if sections is None:
        return 2
    status = 0
    for sec in sections:
        path = course.root / "exercises" / sec.module
        shown = f"exercises/{sec.module}"
        stub = _stub_text(course, sec)
        if stub is None:
            print(_t("reset_nostub", lang, sid=sec.id, path=shown), file=sys.stderr)
            status = 2
            continue
        current = path.read_bytes() if path.exists() else None
        if current == stub.encode("utf-8"):
            console.print(_t("reset_same", lang, path=shown), highlight=False)
            continue
        backup = None
        if current is not None:
            folder = course.root / ".hfcourse" / "backups"
            folder.mkdir(parents=True, exist_ok=True)
            ignore = course.root / ".hfcourse" / ".gitignore"
            if not ignore.exists():
                ignore.write_text("# hfcourse progress state: personal, never committed\n*\n", encoding="utf-8")
            backup = folder / f"{Path(sec.module).stem}.{datetime.now().strftime('%Y%m%d-%H%M%S')}.py"
            n = 1
            while backup.exists():
                n += 1
                backup = backup.with_name(f"{Path(sec.module).stem}.{datetime.now().strftime('%Y%m%d-%H%M%S')}-{n}.py")
            backup.write_bytes(current)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(stub, encoding="utf-8")
        rel_backup = backup.relative_to(course.root).as_posix() if backup else "-"
        console.print(_t("reset_done", lang, path=shown, backup=rel_backup), style="green", highlight=False)
        if backup:
            console.print(_t("reset_undo", lang, path=shown, backup=rel_backup), highlight=False)
    return status


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


class _Keys:
    """Enter pressed on stdin (a terminal or a pipe); stdin at its end is never read again."""

    def __init__(self):
        self.open = sys.stdin is not None and not sys.stdin.closed

    def enter(self, timeout: float) -> bool:
        import select

        if not self.open:
            time.sleep(timeout)
            return False
        try:
            ready, _, _ = select.select([sys.stdin], [], [], timeout)
            if not ready:
                return False
            line = sys.stdin.readline()
        except (OSError, ValueError):
            line = ""
        if not line:
            self.open = False
        return bool(line)


def _offer(course, sections, target: str):
    """The section to watch next when every watched one has full marks (exercises only)."""
    from hfcourse import progress

    state = progress.load(course)
    if target != "exercises" or not all(state.finished(s) for s in sections):
        return None
    return progress.next_section(course, state)


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
    env = {**os.environ, "HFCOURSE_ROOT": str(course.root)}
    keys = _Keys()
    seen, n, offered = None, 0, None
    try:
        while True:
            paths = _watched(course, sections, args.target)
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
                    subprocess.run([sys.executable, "-m", "hfcourse.cli", "--lang", lang, "check",
                                    *[s.id for s in sections], "--target", args.target], env=env, check=False)
                offered = _offer(course, sections, args.target)
                if offered is not None:
                    console.print(_t("watch_offer", lang, sid=offered.id, title=offered.title_in(lang)),
                                  style="bold green", highlight=False)
                console.print(_t("watch_wait", lang), style="dim")
                sys.stdout.flush()
            if keys.enter(args.interval) and offered is not None:
                sections, seen, offered = [offered], None, None
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

    st = sub.add_parser("status", help="your progress: one summary line and your points per chapter")
    st.add_argument("chapters", nargs="*", metavar="CHAPTER", help="show every section of these chapters")
    st.add_argument("--all", action="store_true", help="show every section of every chapter")
    _lang_option(st).set_defaults(func=_cmd_status)
    _lang_option(sub.add_parser("next", help="the first section without full marks, and how to work on it")).set_defaults(func=_cmd_next)

    w = sub.add_parser("watch", help="check a section again every time you save: hfcourse watch 2.2")
    w.add_argument("sections", nargs="*", metavar="SECTION", help="default: the section `hfcourse next` names")
    w.add_argument("--target", default="exercises", help="exercises (default), a submission DIR, or a notebook .ipynb")
    w.add_argument("--interval", type=float, default=1.0, help="seconds between looks at the files (default: %(default)s)")
    _lang_option(w).set_defaults(func=_cmd_watch)

    r = sub.add_parser("reset", help="restore exercises from their stubs, keeping a backup: hfcourse reset 2.2")
    r.add_argument("sections", nargs="+", metavar="SECTION", help="section ids or chapters")
    _lang_option(r).set_defaults(func=_cmd_reset)

    h = sub.add_parser("hint", help="the next hint of a section, one level at a time: hfcourse hint 2.2")
    h.add_argument("section", metavar="SECTION")
    group = h.add_mutually_exclusive_group()
    group.add_argument("--all", action="store_true", help="show every hint of the section")
    group.add_argument("--reset", action="store_true", help="start again from the first hint")
    _lang_option(h).set_defaults(func=_cmd_hint)
