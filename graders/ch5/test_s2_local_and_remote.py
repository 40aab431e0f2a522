"""Grader for 5.2 What if my dataset isn't on the Hub?"""

import gzip
import json
import random
import time

import pytest

from hfcourse import expect
from hfcourse.fixtures import build_ch5
from hfcourse.services import files as files_service

SQUAD = "squad-it-like"
DICT_LIKELY = ("give data_files a dict {split: path}: each key becomes a split of the DatasetDict",
               "data_files 要传字典 {划分名: 路径}：每个键成为 DatasetDict 的一个划分")
FIELD_LIKELY = ("the articles are under the key \"data\": pass field=\"data\"",
                "文章都在键 \"data\" 下面：需要传 field=\"data\"")


def _splits(got, want: dict[str, list], what: str, likely=DICT_LIKELY) -> None:
    """``got`` (from probe ch5:dataset) is a DatasetDict whose splits hold exactly ``want``'s rows."""
    expect.true(isinstance(got, dict) and got.get("type") == "DatasetDict",
                f"{what}: expected a DatasetDict, got a {got.get('type') if isinstance(got, dict) else type(got).__name__}",
                likely)
    expect.equal(sorted(got["splits"]), sorted(want), f"{what}: split names", likely)
    for split, rows in want.items():
        part = got["splits"][split]
        expect.equal(part["columns"], list(rows[0]), f"{what}: columns of {split!r}", FIELD_LIKELY)
        expect.equal(part["num_rows"], len(rows), f"{what}: rows in {split!r}", FIELD_LIKELY)
        expect.equal(part["rows"], rows, f"{what}: rows of {split!r}",
                     likely=("each split must come from its own file, read unchanged", "每个划分都应来自它自己的文件，原样读取"))


def _squad_files(student, rng: random.Random, name: str, splits: dict[str, int], gz: bool) -> tuple[dict, dict]:
    """Write generated SQuAD_it files into the student's scratch; return (split → relative path, split → articles)."""
    paths, articles = {}, {}
    for split, n in splits.items():
        squad = build_ch5.squad_it(rng, n, multi_answers=split != "train")
        raw = json.dumps(squad, ensure_ascii=False).encode()
        file = f"SQuAD_it-{split}.json" + (".gz" if gz else "")
        student.put(gzip.compress(raw) if gz else raw, f"{name}/{file}")
        paths[split], articles[split] = f"{name}/{file}", squad["data"]
    return paths, articles


@pytest.mark.grade(points=2, visibility="visible",
                   hint="load_dataset(\"json\", data_files={\"train\": …, \"test\": …}, field=\"data\").",
                   hint_zh="load_dataset(\"json\", data_files={\"train\": …, \"test\": …}, field=\"data\")。")
def test_load_squad_it_json(student, fx):
    folder = fx.path(SQUAD)
    paths = {s: str(folder / f"SQuAD_it-{s}.json") for s in ("train", "test")}
    want = {s: json.loads((folder / f"SQuAD_it-{s}.json").read_text(encoding="utf-8"))["data"] for s in paths}
    got = student.call("load_squad_it", paths, probe="ch5:dataset")
    _splits(got, want, "load_squad_it")


@pytest.mark.grade(points=2, hint="The json loader decompresses .json.gz by itself: same call, same field=\"data\".",
                   hint_zh="json 加载器会自动解压 .json.gz：同样的调用，同样的 field=\"data\"。")
def test_load_squad_it_gzip(student, rng):
    paths, want = _squad_files(student, rng, "squad-gz", {"train": rng.randint(5, 12), "test": rng.randint(2, 5)}, gz=True)
    got = student.call("load_squad_it", paths, probe="ch5:dataset")
    _splits(got, want, "load_squad_it on .json.gz files")


@pytest.mark.grade(points=1, hint="load_dataset(\"csv\", data_files=…, delimiter=delimiter): a TSV file needs delimiter=\"\\t\".",
                   hint_zh="load_dataset(\"csv\", data_files=…, delimiter=delimiter)：TSV 文件需要 delimiter=\"\\t\"。")
@pytest.mark.parametrize("delimiter", ["\t", ","])
def test_load_table(student, rng, delimiter):
    folder = student.private_dir("tables")
    ext = "tsv" if delimiter == "\t" else "csv"
    paths, want = {}, {}
    for split in ("train", "validation", "test"):
        rows = build_ch5.flat_qa(build_ch5.squad_it(rng, rng.randint(2, 5)))
        build_ch5.write_table(rows, folder / f"qa-{split}.{ext}", delimiter)
        paths[split], want[split] = f"tables/qa-{split}.{ext}", rows
    student.put(folder, "tables")
    got = student.call("load_table", paths, delimiter, probe="ch5:dataset")
    _splits(got, want, f"load_table with delimiter {delimiter!r}",
            likely=("pass delimiter=delimiter to load_dataset(\"csv\", …); the contexts contain commas",
                    "把 delimiter=delimiter 传给 load_dataset(\"csv\", …)；上下文里有逗号"))


def _remote(student, rng: random.Random, name: str):
    paths, want = _squad_files(student, rng, name, {"train": rng.randint(4, 9), "test": rng.randint(2, 4)}, gz=True)
    server = student.service("files", state=f"service-{name}", root=name)
    names = {split: path.split("/", 1)[1] for split, path in paths.items()}
    return server, names, want


@pytest.mark.grade(points=2, hint="Build the URLs base_url + file name, turn the two offline flags off, then load_dataset(\"json\", data_files=urls, field=\"data\").",
                   hint_zh="拼出 URL：base_url + 文件名，关掉两个离线开关，再 load_dataset(\"json\", data_files=urls, field=\"data\")。")
def test_load_remote(student, rng):
    server, names, want = _remote(student, rng, "remote")
    got = student.call("load_remote", server, names, probe="ch5:remote")
    for _ in range(20):
        log = student.saved(server, files_service.read_log, "the file server's log")
        fetched = {e["path"].lstrip("/") for e in log if e["method"] == "GET" and e["status"] in (200, 206)}
        if set(names.values()) <= fetched:
            break
        time.sleep(0.1)
    expect.true(set(names.values()) <= fetched,
                f"load_remote: the server sent {sorted(fetched)}, expected every file of {sorted(names.values())}",
                likely=("load the files from base_url + name, not from a local path",
                        "要从 base_url + 文件名 加载，而不是本地路径"))
    _splits(got, want, "load_remote")


@pytest.mark.grade(points=1, hint="Save both flags before the call and restore them in a finally block.",
                   hint_zh="调用前保存两个开关的值，并在 finally 块里恢复。")
def test_load_remote_restores_offline_flags(student, rng):
    server, names, _ = _remote(student, rng, "remote-flags")
    got = student.call("load_remote", server, names, probe="ch5:remote")
    expect.equal(got.get("offline_flags_after"), [True, True],
                 "datasets.config.HF_HUB_OFFLINE and HF_DATASETS_OFFLINE after load_remote",
                 likely=("the flags stay off after the call: restore the saved values in a finally block",
                         "调用结束后开关仍是关闭的：在 finally 块里恢复保存的值"))
