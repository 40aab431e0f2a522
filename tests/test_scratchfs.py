"""The one trusted way into a worker's scratch: no link is followed, nothing outside is touched,
special files are refused, reads are bounded."""

from __future__ import annotations

import os
import threading
import pytest

from hfcourse.sandbox import scratchfs
from hfcourse.sandbox.scratchfs import Budget, Refused


@pytest.fixture
def places(tmp_path):
    """A scratch directory and, beside it, an outside folder holding a secret."""
    scratch, outside = tmp_path / "scratch", tmp_path / "outside"
    scratch.mkdir()
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    return scratch, outside


def test_copy_out_copies_a_saved_tree(places, tmp_path):
    scratch, _ = places
    (scratch / "saved" / "sub").mkdir(parents=True)
    (scratch / "saved" / "a.json").write_text("{}")
    (scratch / "saved" / "sub" / "b.bin").write_bytes(b"\0" * 100)
    copy = scratchfs.copy_out(scratch, "saved", tmp_path / "copy")
    assert sorted(str(p.relative_to(copy)) for p in copy.rglob("*")) == ["a.json", "sub", "sub/b.bin"]
    assert (copy / "sub" / "b.bin").read_bytes() == b"\0" * 100
    single = scratchfs.copy_out(scratch, "saved/a.json", tmp_path / "a.json")
    assert single.read_text() == "{}"


def test_nothing_saved_reads_as_an_empty_folder(places, tmp_path):
    scratch, _ = places
    copy = scratchfs.copy_out(scratch, "never/written", tmp_path / "copy")
    assert copy.is_dir() and list(copy.iterdir()) == []


@pytest.mark.parametrize("where", ["saved", "saved/inner", "saved/secret.txt"])
def test_links_anywhere_in_the_path_are_refused(places, tmp_path, where):
    scratch, outside = places
    if where != "saved":
        (scratch / "saved").mkdir()
    (scratch / where).symlink_to(outside / "secret.txt" if where.endswith(".txt") else outside)
    for i, relative in enumerate({"saved", where}):
        with pytest.raises(Refused, match="is a link") as err:
            scratchfs.copy_out(scratch, relative, tmp_path / f"copy{i}")
        assert err.value.category == "REJECTED"


def test_special_files_are_refused_without_blocking(places, tmp_path):
    scratch, _ = places
    (scratch / "saved").mkdir()
    os.mkfifo(scratch / "saved" / "log.txt")
    with pytest.raises(Refused, match="a FIFO"):
        scratchfs.copy_out(scratch, "saved/log.txt", tmp_path / "one")
    with pytest.raises(Refused, match="a FIFO"):
        scratchfs.copy_out(scratch, "saved", tmp_path / "all")


def test_paths_that_leave_the_scratch_are_refused(places, tmp_path):
    scratch, _ = places
    for bad in ("../outside", "/etc", "a/../../outside"):
        with pytest.raises(Refused) as err:
            scratchfs.copy_out(scratch, bad, tmp_path / "copy")
        assert err.value.category == "BAD_OUTPUT"


def test_reads_are_bounded(places, tmp_path):
    scratch, _ = places
    (scratch / "big").mkdir()
    with open(scratch / "big" / "sparse.bin", "wb") as fh:
        fh.truncate(1 << 30)  # a gigabyte that takes no space
    with pytest.raises(Refused) as err:
        scratchfs.copy_out(scratch, "big", tmp_path / "copy", Budget(bytes=4 << 20))
    assert err.value.category == "RESULT_TOO_BIG"
    for i in range(5):
        (scratch / "many" / str(i)).mkdir(parents=True)
        (scratch / "many" / str(i) / "f").write_text("x")
    with pytest.raises(Refused, match="too many files"):
        scratchfs.copy_out(scratch, "many", tmp_path / "copy2", Budget(files=3))


def test_a_swap_to_a_link_during_the_copy_is_refused_or_copied_as_it_was(places, tmp_path):
    """A student thread that swaps a directory for a link while the grader copies it: every
    component is opened from its parent's descriptor with O_NOFOLLOW, so the copy never holds
    the outside secret."""
    scratch, outside = places
    stop = threading.Event()

    def swap():
        while not stop.is_set():
            try:
                os.rename(scratch / "saved", scratch / "real")
                os.symlink(outside, scratch / "saved")
                os.unlink(scratch / "saved")
                os.rename(scratch / "real", scratch / "saved")
            except OSError:
                pass

    (scratch / "saved").mkdir()
    (scratch / "saved" / "note.txt").write_text("mine")
    thread = threading.Thread(target=swap)
    thread.start()
    try:
        for i in range(300):
            try:
                copy = scratchfs.copy_out(scratch, "saved", tmp_path / f"copy{i}")
            except (Refused, FileNotFoundError):
                continue
            assert not (copy / "secret.txt").exists()
    finally:
        stop.set()
        thread.join()


def test_ensure_dir_makes_directories_and_refuses_planted_links(places):
    scratch, outside = places
    made = scratchfs.ensure_dir(scratch, "a/b/c")
    assert made == scratch / "a" / "b" / "c" and made.is_dir() and not made.is_symlink()
    (scratch / "state").symlink_to(outside)
    with pytest.raises(Refused, match="state is a link, not a directory"):
        scratchfs.ensure_dir(scratch, "state/inner")
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]
    (scratch / "file").write_text("x")
    with pytest.raises(Refused, match="file is a file, not a directory"):
        scratchfs.ensure_dir(scratch, "file/inner")


@pytest.mark.skipif(os.geteuid() != 0, reason="changing owners needs root")
def test_ensure_dir_gives_new_directories_to_the_worker_and_nothing_else(places):
    scratch, outside = places
    scratchfs.ensure_dir(scratch, "x/y", owner=54321)
    assert (scratch / "x").stat().st_uid == 54321 and (scratch / "x" / "y").stat().st_uid == 54321
    (scratch / "planted").symlink_to(outside)
    with pytest.raises(Refused):
        scratchfs.ensure_dir(scratch, "planted/inner", owner=54321)
    assert outside.stat().st_uid == os.geteuid()


def test_write_file_and_copy_in_never_write_through_a_link(places, tmp_path):
    scratch, outside = places
    scratchfs.write_file(scratch, "in/data.txt", b"grader's")
    assert (scratch / "in" / "data.txt").read_bytes() == b"grader's"
    scratchfs.write_file(scratch, "in/data.txt", b"again")
    assert (scratch / "in" / "data.txt").read_bytes() == b"again"
    (scratch / "in" / "planted.txt").symlink_to(outside / "secret.txt")
    with pytest.raises(Refused, match="is a link"):
        scratchfs.write_file(scratch, "in/planted.txt", b"overwrite")
    assert (outside / "secret.txt").read_text() == "secret"
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "sub" / "f.txt").write_text("f")
    scratchfs.copy_in(tree, scratch, "copied")
    assert (scratch / "copied" / "sub" / "f.txt").read_text() == "f"
    (scratch / "linked").symlink_to(outside)
    with pytest.raises(Refused):
        scratchfs.copy_in(tree, scratch, "linked")
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]


def test_the_scratch_root_itself_may_not_be_a_link(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "scratch").symlink_to(real)
    with pytest.raises(OSError):
        scratchfs.copy_out(tmp_path / "scratch", "x", tmp_path / "copy")
    with pytest.raises(OSError):
        scratchfs.ensure_dir(tmp_path / "scratch", "x")
    assert list(real.iterdir()) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")
def test_a_full_capped_scratch_is_the_students_disk_not_the_graders(tmp_path):
    """The scratch as its own tmpfs (sandbox.disk): a student who filled it makes the grader's
    own writes fail as DISK, its fault, never a grader error."""
    from hfcourse.sandbox import disk

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    disk.mount_scratch(scratch, 1 << 20)
    try:
        with pytest.raises(OSError) as full:
            (scratch / "filler").write_bytes(b"x" * (2 << 20))
        assert full.value.errno == 28
        with pytest.raises(Refused) as err:
            scratchfs.write_file(scratch, "data/input.txt", b"y" * 4096)
        assert err.value.category == "DISK" and "full" in err.value.message
        disk.resize(scratch, 4 << 20)
        scratchfs.write_file(scratch, "data/input.txt", b"y" * 4096)
    finally:
        assert disk.unmount(scratch)
    assert not os.path.ismount(scratch)
