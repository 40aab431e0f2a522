"""Grader for 5.4 Big data? 🤗 Datasets to the rescue!"""

import gzip
import itertools
import json

import pytest

from hfcourse import expect, fixtures
from hfcourse.fixtures import build_ch5
from hfcourse.services import files as files_service

PUB, TOK = "pubmed-like", "wordpiece-uncased"
PUBMED, FREELAW = "PUBMED_title_abstracts_2019_baseline.jsonl.gz", "FreeLaw_Opinions.jsonl.gz"
FIRST_PMID = 11_000_000
MAX_GROWTH_MB = 64
RAM_LIKELY = ("the data set was read into RAM: open it memory-mapped (load_from_disk without keep_in_memory)",
              "数据集被读进了内存：应以内存映射方式打开（load_from_disk，不要 keep_in_memory）")
STREAM_LIKELY = ("load_dataset(\"json\", data_files=…, split=\"train\", streaming=True), then .take(n)",
                 "load_dataset(\"json\", data_files=…, split=\"train\", streaming=True)，再 .take(n)")


def _rows() -> int:
    return int(fixtures.info(PUB)["metrics"]["rows"])


def _pmid_sum(rows: int) -> int:
    return rows * FIRST_PMID + 3 * rows * (rows - 1) // 2


def _head(path, n: int) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in itertools.islice(fh, n)]


@pytest.mark.grade(points=2, visibility="visible",
                   hint="load_from_disk(directory) memory-maps the Arrow file: do not pass keep_in_memory=True or copy the rows.",
                   hint_zh="load_from_disk(directory) 会内存映射 Arrow 文件：不要传 keep_in_memory=True，也不要复制数据。")
def test_open_arrow_is_memory_mapped(student, fx):
    got = student.call("open_arrow", str(fx.path(PUB) / "data"), probe="ch5:mmap_scan")
    whole = ("open the saved data set as it is: load_from_disk(directory)", "原样打开保存的数据集：load_from_disk(directory)")
    expect.equal(got.get("type"), "Dataset", "open_arrow returned", whole)
    rows = _rows()
    expect.equal(got["num_rows"], rows, "rows of the data set", whole)
    expect.equal(got["pmid_sum"], _pmid_sum(rows), "sum of meta.pmid over all rows", whole)
    size_mb = got["dataset_size"] / 2**20
    expect.true(got["cache_files"] >= 1 and got["arrow_in_memory_mb"] < max(16.0, 0.05 * size_mb),
                f"{got['arrow_in_memory_mb']:.0f} MiB of the {size_mb:.0f} MiB data set are held in RAM "
                f"({got['cache_files']} Arrow files mapped)", RAM_LIKELY)
    expect.true(got["anon_growth_mb"] < MAX_GROWTH_MB,
                f"iterating the data set grew the process by {got['anon_growth_mb']:.0f} MiB (at most {MAX_GROWTH_MB})",
                RAM_LIKELY)


@pytest.mark.grade(points=1, hint="dataset.dataset_size is in bytes: divide by 1024 * 1024; dataset.cache_files lists the Arrow files.",
                   hint_zh="dataset.dataset_size 的单位是字节：除以 1024 * 1024；dataset.cache_files 列出 Arrow 文件。")
def test_size_report(student, rng, tmp_path):
    import datasets

    path = tmp_path / "pubmed.jsonl.gz"
    path.write_bytes(build_ch5.jsonl_bytes(build_ch5.pubmed_lines(rng, n=rng.randint(200, 2000))))
    ds = datasets.load_dataset("json", data_files=str(path), split="train", cache_dir=str(tmp_path / "cache"))
    shards = rng.randint(1, 4)
    got = student.size_report(student.put_dataset(ds, "sized", num_shards=shards))
    expect.true(isinstance(got, dict) and {"num_rows", "dataset_size_mb", "num_cache_files"} <= set(got),
                "size_report must return a dict with num_rows, dataset_size_mb and num_cache_files",
                likely=("return {\"num_rows\": …, \"dataset_size_mb\": …, \"num_cache_files\": …}", "返回 {\"num_rows\": …, \"dataset_size_mb\": …, \"num_cache_files\": …}"))
    expect.equal(got["num_rows"], len(ds), "num_rows", likely=("len(dataset) or dataset.num_rows", "len(dataset) 或 dataset.num_rows"))
    mb, want = got["dataset_size_mb"], ds.dataset_size / 2**20
    expect.true(isinstance(mb, (int, float)) and abs(mb - want) <= 1e-6 * want,
                f"dataset_size_mb: expected {want:.6f}, got {mb!r}",
                likely=("1 MiB is 1024 * 1024 bytes, and dataset_size is the Arrow size in bytes",
                        "1 MiB 是 1024 * 1024 字节，dataset_size 是以字节计的 Arrow 大小"))
    expect.equal(got["num_cache_files"], shards, f"num_cache_files of a data set saved in {shards} shards",
                 likely=("count dataset.cache_files", "统计 dataset.cache_files 的个数"))


@pytest.mark.grade(points=2, hint="for start in range(0, len(dataset), batch_size): yield dataset[start:start + batch_size]",
                   hint_zh="按批切片并用 yield 逐批返回：for start in range(0, len(dataset), batch_size): yield dataset[start:start + batch_size]")
def test_iter_batches(student, fx, rng):
    size = rng.randint(500, 4000)
    got = student.call("iter_batches", fx.ref(PUB), size, probe="ch5:consume")
    expect.equal(got.get("type"), "generator", "iter_batches returned",
                 likely=("make iter_batches a generator function: yield each batch", "把 iter_batches 写成生成器函数：逐批 yield"))
    rows = _rows()
    want = [size] * (rows // size) + ([rows % size] if rows % size else [])
    expect.equal(got["batch_sizes"], want, f"sizes of the batches of {size}",
                 likely=("range(0, len(dataset), batch_size) reaches the last, shorter batch", "range(0, len(dataset), batch_size) 会包含最后那个较短的批次"))
    expect.equal(got["pmid_sum"], _pmid_sum(rows), "sum of meta.pmid over all batches",
                 likely=("consecutive slices dataset[start:start + batch_size], every row once", "连续切片 dataset[start:start + batch_size]，每行恰好一次"))
    expect.true(got["anon_growth_mb"] < MAX_GROWTH_MB,
                f"iterating the batches grew the process by {got['anon_growth_mb']:.0f} MiB (at most {MAX_GROWTH_MB})",
                likely=("slice one batch at a time; do not read the whole data set (dataset[:], to_pandas, list)",
                        "每次只切一个批次；不要读取整个数据集（dataset[:]、to_pandas、list）"))


@pytest.mark.grade(points=1, visibility="visible", hint="load_dataset(\"json\", data_files=path, split=\"train\", streaming=True).take(n)",
                   hint_zh="以流式方式加载，只取前 n 条：load_dataset(\"json\", data_files=path, split=\"train\", streaming=True).take(n)")
def test_stream_first_local(student, fx, rng):
    path, n = fx.path(PUB) / "raw" / PUBMED, rng.randint(5, 40)
    expect.equal(student.stream_first(str(path), n), _head(path, n), f"the first {n} records", STREAM_LIKELY)


@pytest.mark.grade(points=2, hint="A URL goes in data_files like a path; streaming=True reads only the start of the file (and works offline).",
                   hint_zh="URL 和路径一样放进 data_files；streaming=True 只读取文件开头（离线也能用）。")
def test_stream_first_remote(student, fx, rng):
    raw = fx.path(PUB) / "raw"
    server = student.service("files", state="service-pubmed", root=str(raw), file=PUBMED)
    n = rng.randint(20, 200)
    got = student.call("stream_first", server, n)
    expect.equal(got, _head(raw / PUBMED, n), f"the first {n} records from the server", STREAM_LIKELY)
    log = student.saved(server, files_service.read_log, "the file server's log")
    sent, size = sum(e["bytes"] for e in log), (raw / PUBMED).stat().st_size
    expect.true(sent < 0.75 * size, f"the server sent {sent / 2**20:.0f} MiB of a {size / 2**20:.0f} MiB file for {n} records",
                STREAM_LIKELY)


def _library_split(path, n_valid: int, seed: int, buffer_size: int) -> dict[str, list[int]]:
    import datasets

    stream = datasets.load_dataset("json", data_files=str(path), split="train", streaming=True)
    shuffled = stream.shuffle(buffer_size=buffer_size, seed=seed)
    return {"validation": [r["meta"]["pmid"] for r in shuffled.take(n_valid)],
            "train": [r["meta"]["pmid"] for r in shuffled.skip(n_valid)]}


@pytest.mark.grade(points=2, hint="Shuffle once (buffer_size, seed), then take(n_valid) for validation and skip(n_valid) for train, both from the shuffled stream.",
                   hint_zh="先 shuffle 一次（buffer_size, seed），再从打乱后的流上 take(n_valid) 作验证集、skip(n_valid) 作训练集。")
def test_stream_split(student, rng):
    lines = build_ch5.pubmed_lines(rng, n=rng.randint(300, 600), start=rng.randrange(10**6, 10**7))
    folder = student.private_dir("split")
    (folder / "pubmed.jsonl.gz").write_bytes(build_ch5.jsonl_bytes(lines))
    student.put(folder, "split")
    every = [json.loads(line)["meta"]["pmid"] for line in lines]
    n_valid, seed, buffer_size = rng.randint(20, 80), rng.randrange(10_000), rng.randint(50, 200)
    got = student.stream_split("split/pubmed.jsonl.gz", n_valid, seed, buffer_size)
    shape = ("return {\"validation\": pmids of take(n_valid), \"train\": pmids of skip(n_valid)}",
             "返回 {\"validation\": take(n_valid) 的 pmid, \"train\": skip(n_valid) 的 pmid}")
    expect.true(isinstance(got, dict) and {"validation", "train"} <= set(got), "stream_split must return {\"validation\": [...], \"train\": [...]}", shape)
    valid, train = got["validation"], got["train"]
    expect.equal(len(valid), n_valid, "size of the validation set", shape)
    expect.true(not set(valid) & set(train), f"{len(set(valid) & set(train))} pmids are in both validation and train",
                likely=("take and skip must come from the same shuffled stream (same seed)", "take 和 skip 必须来自同一个打乱后的流（同一个种子）"))
    expect.equal(sorted(valid + train), sorted(every), "validation + train: every record exactly once", shape)
    want = _library_split(folder / "pubmed.jsonl.gz", n_valid, seed, buffer_size)
    expect.equal(valid, want["validation"], f"validation pmids (seed={seed}, buffer_size={buffer_size})",
                 likely=("shuffle(buffer_size=buffer_size, seed=seed) before take", "在 take 之前 shuffle(buffer_size=buffer_size, seed=seed)"))
    expect.equal(train, want["train"], "train pmids",
                 likely=("skip(n_valid) on the same shuffled stream", "在同一个打乱后的流上 skip(n_valid)"))


@pytest.mark.grade(points=2, hint="select_columns([\"text\"]) on each stream, then interleave_datasets([a, b]).take(n).",
                   hint_zh="对每个流 select_columns([\"text\"])，再 interleave_datasets([a, b]).take(n)。")
def test_interleave_texts(student, fx, rng):
    raw = fx.path(PUB) / "raw"
    n = 2 * rng.randint(5, 20)
    got = student.interleave_texts(str(raw / PUBMED), str(raw / FREELAW), n)
    first, second = [r["text"] for r in _head(raw / PUBMED, n // 2)], [r["text"] for r in _head(raw / FREELAW, n // 2)]
    want = [t for pair in zip(first, second) for t in pair]
    expect.equal(got, want, f"the first {n} interleaved texts",
                 likely=("interleave_datasets alternates the sources: PubMed, FreeLaw, PubMed, …", "interleave_datasets 轮流取样：PubMed、FreeLaw、PubMed……"))


@pytest.mark.grade(points=1, hint="stream.map(lambda batch: tokenizer(batch[\"text\"]), batched=True), then take(n): nothing is read beyond n.",
                   hint_zh="stream.map(lambda batch: tokenizer(batch[\"text\"]), batched=True)，再 take(n)：不会多读。")
def test_stream_token_counts_remote(student, fx, rng):
    raw = fx.path(PUB) / "raw"
    server = student.service("files", state="service-tokens", root=str(raw), file=PUBMED)
    n = rng.randint(10, 60)
    texts = [r["text"] for r in _head(raw / PUBMED, n)]
    want = [len(ids) for ids in fx.load(TOK)(texts)["input_ids"]]
    expect.equal(student.call("stream_token_counts", server, fx.ref(TOK), n), want, f"token counts of the first {n} examples",
                 likely=("streaming=True (a URL cannot be loaded otherwise offline), no truncation", "streaming=True（离线时 URL 只能流式读取），不截断"))


@pytest.mark.grade(points=3, hint="Stream and take(n): reading the whole 200 MB file first is far slower.",
                   hint_zh="流式读取并 take(n)：先把整个 200 MB 文件读完要慢得多。")
def test_streaming_throughput(student, reference, fx, bench):
    path, n = str(fx.path(PUB) / "raw" / PUBMED), 200
    texts = [r["text"] for r in _head(fx.path(PUB) / "raw" / PUBMED, n)]
    expect.equal(student.stream_token_counts(path, fx.ref(TOK), n),
                 [len(ids) for ids in fx.load(TOK)(texts)["input_ids"]], f"token counts of the first {n} examples",
                 likely=("tokenize text without truncation, one count per example", "不截断地 tokenize text，每个样本一个计数"))
    bench.compare("stream_token_counts", path, fx.ref(TOK), n, unit="examples/s", items=n, threshold=0.5, rounds=5,
                  likely=("iterate the stream lazily and stop after n (take): do not read the whole file",
                          "惰性地迭代流并在 n 条后停止（take）：不要读完整个文件"))
