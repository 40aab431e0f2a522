"""5.4 Big data? 🤗 Datasets to the rescue! — datasets加载大数据

A data set larger than memory still works: 🤗 Datasets keeps it in Arrow files on disk and
memory-maps them, so reading it in batches costs almost no RAM. With ``streaming=True``
nothing is converted at all: ``load_dataset`` returns an ``IterableDataset`` that reads
the (compressed, even remote) file as you iterate, with lazy ``map``, ``shuffle`` over a
buffer, ``take``/``skip``, and ``interleave_datasets`` to mix sources.
Course: https://huggingface.co/learn/llm-course/chapter5/4
中文课程：https://huggingface.co/learn/llm-course/zh-CN/chapter5/4

数据集比内存还大也没关系：🤗 Datasets 把它存成磁盘上的 Arrow 文件并做内存映射，按批读取几乎不占内存。
用 ``streaming=True`` 则什么都不用转换：``load_dataset`` 返回 ``IterableDataset``，边迭代边读取
（压缩的、甚至远端的）文件，支持惰性的 ``map``、基于缓冲区的 ``shuffle``、``take``/``skip``，
以及用 ``interleave_datasets`` 混合多个来源。
"""

from __future__ import annotations

from collections.abc import Iterator

from datasets import Dataset, interleave_datasets, load_dataset, load_from_disk


def open_arrow(directory: str) -> Dataset:
    """Open the data set saved with ``save_to_disk`` in ``directory`` without reading it
    into memory: its Arrow file stays on disk, memory-mapped."""
    # BEGIN SOLUTION
    return load_from_disk(directory)
    # END SOLUTION


def size_report(dataset: Dataset) -> dict:
    """What the course prints about a big data set: ``{"num_rows": …, "dataset_size_mb":
    the size of its Arrow data (``dataset_size``) in MiB (1 MiB = 1024 * 1024 bytes),
    "num_cache_files": the number of Arrow files it is mapped from}``."""
    # BEGIN SOLUTION
    return {
        "num_rows": dataset.num_rows,
        "dataset_size_mb": dataset.dataset_size / (1024 * 1024),
        "num_cache_files": len(dataset.cache_files),
    }
    # END SOLUTION


def iter_batches(dataset: Dataset, batch_size: int) -> Iterator[dict]:
    """A generator (use ``yield``) of consecutive slices ``dataset[start:start + batch_size]``
    covering every row once, the last one possibly shorter; only one batch is in memory
    at a time."""
    # BEGIN SOLUTION
    for start in range(0, len(dataset), batch_size):
        yield dataset[start:start + batch_size]
    # END SOLUTION


def stream_first(data_files: str, n: int) -> list[dict]:
    """The first ``n`` records of a JSON Lines file (a path or an ``http://`` URL, maybe
    ``.gz``), read with ``streaming=True`` so that only the start of the file is read."""
    # BEGIN SOLUTION
    stream = load_dataset("json", data_files=data_files, split="train", streaming=True)
    return list(stream.take(n))
    # END SOLUTION


def stream_split(data_files: str, n_valid: int, seed: int, buffer_size: int) -> dict[str, list[int]]:
    """Stream a PubMed-like JSON Lines file, shuffle it with ``buffer_size`` and ``seed``,
    and split the shuffled stream: ``take(n_valid)`` is the validation set, ``skip(n_valid)``
    the training set. Return the ``meta["pmid"]`` of each, in stream order:
    ``{"validation": [...], "train": [...]}``."""
    # BEGIN SOLUTION
    stream = load_dataset("json", data_files=data_files, split="train", streaming=True)
    shuffled = stream.shuffle(buffer_size=buffer_size, seed=seed)
    return {
        "validation": [row["meta"]["pmid"] for row in shuffled.take(n_valid)],
        "train": [row["meta"]["pmid"] for row in shuffled.skip(n_valid)],
    }
    # END SOLUTION


def interleave_texts(first: str, second: str, n: int) -> list[str]:
    """Stream two JSON Lines files whose ``meta`` columns differ (PubMed and FreeLaw),
    interleave them one example from each in turn, and return the first ``n`` ``text``
    values. Keep only the ``text`` column of each before interleaving: the ``meta``
    structs cannot be merged."""
    # BEGIN SOLUTION
    streams = [load_dataset("json", data_files=f, split="train", streaming=True).select_columns(["text"])
               for f in (first, second)]
    return [row["text"] for row in interleave_datasets(streams).take(n)]
    # END SOLUTION


def stream_token_counts(data_files: str, tokenizer, n: int) -> list[int]:
    """Stream a JSON Lines file, tokenize ``text`` with a lazy batched ``map`` (no
    truncation), and return the number of tokens of each of the first ``n`` examples."""
    # BEGIN SOLUTION
    stream = load_dataset("json", data_files=data_files, split="train", streaming=True)
    tokenized = stream.map(lambda batch: tokenizer(batch["text"]), batched=True)
    return [len(row["input_ids"]) for row in tokenized.take(n)]
    # END SOLUTION
