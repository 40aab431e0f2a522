# Exercise 5.3: fill in every TODO, then run `hfcourse check 5.3`.
# 练习 5.3：完成每个 TODO，然后运行 `hfcourse check 5.3`。
"""5.3 Time to slice and dice — 数据集预处理、数据集划分、保存与加载

Clean a real-world table with 🤗 Datasets: load a TSV, rename columns, ``filter`` out
missing values, ``map`` new columns (``batched=True`` for speed), ``sort``, ``shuffle``
and ``select``, ``unique``; split long texts into several rows with the tokenizer's
overflowing tokens; go through pandas and back; make train/validation/test splits
with a seed; save with ``save_to_disk`` and ``to_json`` and load again.
Course: https://huggingface.co/learn/llm-course/chapter5/3
中文课程：https://huggingface.co/learn/llm-course/zh-CN/chapter5/3

用 🤗 Datasets 清洗真实的表格数据：加载 TSV，重命名列，用 ``filter`` 去掉缺失值，用 ``map``
添加新列（``batched=True`` 更快），``sort``、``shuffle`` 与 ``select``、``unique``；用 tokenizer 的
溢出 token 把长文本切成多行；与 pandas 互相转换；用固定种子划分训练/验证/测试集；
用 ``save_to_disk`` 和 ``to_json`` 保存后再加载。
"""

from __future__ import annotations

import html
from pathlib import Path

from datasets import Dataset, DatasetDict, load_dataset, load_from_disk


def load_drugs(data_files: dict[str, str]) -> DatasetDict:
    """Load the drugsCom TSV files (``{"train": path, "test": path}``); tab-separated."""
    # TODO: implement load_drugs (see the docstring)
    raise NotImplementedError("5.3 load_drugs: not implemented yet")


def peek(dataset: Dataset, n: int, seed: int) -> list[dict]:
    """A random sample of ``n`` rows, as a list of dicts: shuffle with ``seed``, then
    select the first ``n``."""
    # TODO: implement peek (see the docstring)
    raise NotImplementedError("5.3 peek: not implemented yet")


def count_unique(drugs: DatasetDict, column: str) -> dict[str, int]:
    """The number of distinct values of ``column`` in each split."""
    # TODO: implement count_unique (see the docstring)
    raise NotImplementedError("5.3 count_unique: not implemented yet")


def clean_drugs(drugs: DatasetDict) -> DatasetDict:
    """The course's cleaning, in this order, on every split:

    1. rename the column ``"Unnamed: 0"`` to ``"patient_id"``;
    2. drop the rows whose ``condition`` is missing (None), then lowercase ``condition``;
    3. add ``review_length``, the number of white-space separated words of ``review``,
       and keep the rows with ``review_length > 30``;
    4. replace the HTML character references of ``review`` (``&#039;`` → ``'``) with
       ``html.unescape``, in a batched ``map``.
    """
    # TODO: implement clean_drugs (see the docstring)
    raise NotImplementedError("5.3 clean_drugs: not implemented yet")


def longest_reviews(dataset: Dataset, n: int) -> list[str]:
    """The ``review`` of the ``n`` rows with the largest ``review_length``, longest first;
    rows of equal length keep their order (``Dataset.sort`` is stable)."""
    # TODO: implement longest_reviews (see the docstring)
    raise NotImplementedError("5.3 longest_reviews: not implemented yet")


def chunk_reviews(dataset: Dataset, tokenizer, max_length: int) -> Dataset:
    """Tokenize ``review`` with ``truncation=True, max_length=max_length`` and
    ``return_overflowing_tokens=True``, so a long review becomes several rows of at most
    ``max_length`` tokens. Keep every original column, each value repeated for every
    chunk of its row (``overflow_to_sample_mapping`` says which row a chunk came from),
    and do not keep ``overflow_to_sample_mapping`` itself."""
    # TODO: implement chunk_reviews (see the docstring)
    raise NotImplementedError("5.3 chunk_reviews: not implemented yet")


def condition_frequencies(dataset: Dataset) -> Dataset:
    """A Dataset with the columns ``condition`` and ``frequency`` (the number of rows of
    each condition), most frequent first, built through pandas: ``value_counts`` on a
    DataFrame of the data set, then ``Dataset.from_pandas``. Leave ``dataset``'s format
    as it was."""
    # TODO: implement condition_frequencies (see the docstring)
    raise NotImplementedError("5.3 condition_frequencies: not implemented yet")


def make_splits(drugs: DatasetDict, seed: int) -> DatasetDict:
    """Split ``drugs["train"]`` 80/20 with ``train_test_split(train_size=0.8, seed=seed)``;
    return a DatasetDict with ``train`` (the 80 %), ``validation`` (the 20 %) and
    ``test`` (``drugs["test"]`` unchanged)."""
    # TODO: implement make_splits (see the docstring)
    raise NotImplementedError("5.3 make_splits: not implemented yet")


def save_and_reload(drugs: DatasetDict, directory: Path) -> DatasetDict:
    """Save ``drugs`` to ``directory`` in Arrow format and return it loaded from there."""
    # TODO: implement save_and_reload (see the docstring)
    raise NotImplementedError("5.3 save_and_reload: not implemented yet")


def export_jsonl(drugs: DatasetDict, directory: Path) -> list[Path]:
    """Write each split to ``directory/drug-reviews-<split>.jsonl`` in JSON Lines format
    (one JSON object per row), creating ``directory`` if needed; return the paths written."""
    # TODO: implement export_jsonl (see the docstring)
    raise NotImplementedError("5.3 export_jsonl: not implemented yet")
