"""5.2 What if my dataset isn't on the Hub? — datasets加载本地文件和远端数据

``load_dataset`` reads local and remote files with a loading script per format: ``"json"``
(with ``field=`` when the records sit under one key, and ``.gz`` files decompressed on
the fly), ``"csv"`` (any ``delimiter``), several splits at once with a ``data_files`` dict,
and URLs in place of paths.
Course: https://huggingface.co/learn/llm-course/chapter5/2
中文课程：https://huggingface.co/learn/llm-course/zh-CN/chapter5/2

``load_dataset`` 可以读取本地和远端的文件：``"json"`` 格式（记录都在某个键下面时用 ``field=``，
``.gz`` 文件会自动解压）、``"csv"`` 格式（可指定任意 ``delimiter``），用 ``data_files`` 字典一次加载
多个划分，并且可以用 URL 代替本地路径。
"""

from __future__ import annotations

import datasets
from datasets import DatasetDict, load_dataset


def load_squad_it(data_files: dict[str, str]) -> DatasetDict:
    """Load SQuAD_it-style JSON files, one per split (``{"train": path, "test": path}``),
    where the articles are the list under the top-level key ``"data"``; files ending in
    ``.json.gz`` are read the same way. Each split has the columns ``title`` and
    ``paragraphs``, one row per article."""
    # BEGIN SOLUTION
    return load_dataset("json", data_files=data_files, field="data")
    # END SOLUTION


def load_table(data_files: dict[str, str], delimiter: str) -> DatasetDict:
    """Load delimited text files (CSV, or TSV with ``delimiter="\\t"``), one per split;
    the first line holds the column names."""
    # BEGIN SOLUTION
    return load_dataset("csv", data_files=data_files, delimiter=delimiter)
    # END SOLUTION


def load_remote(base_url: str, files: dict[str, str]) -> DatasetDict:
    """Load SQuAD_it-style JSON files from a web server: ``files`` maps each split to a file
    name under ``base_url`` (which ends with ``/``). Pass the URLs to ``load_dataset`` as
    ``data_files``, as the course does.

    The course runs offline here (``HF_DATASETS_OFFLINE=1``), which makes ``load_dataset``
    refuse every URL, even one on 127.0.0.1. Turn the two flags
    ``datasets.config.HF_HUB_OFFLINE`` and ``datasets.config.HF_DATASETS_OFFLINE`` off
    for this call only, and restore them afterwards."""
    # BEGIN SOLUTION
    urls = {split: base_url + name for split, name in files.items()}
    saved = datasets.config.HF_HUB_OFFLINE, datasets.config.HF_DATASETS_OFFLINE
    datasets.config.HF_HUB_OFFLINE = datasets.config.HF_DATASETS_OFFLINE = False
    try:
        return load_dataset("json", data_files=urls, field="data")
    finally:
        datasets.config.HF_HUB_OFFLINE, datasets.config.HF_DATASETS_OFFLINE = saved
    # END SOLUTION

