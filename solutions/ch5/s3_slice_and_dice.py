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
    # BEGIN SOLUTION
    return load_dataset("csv", data_files=data_files, delimiter="\t")
    # END SOLUTION


def peek(dataset: Dataset, n: int, seed: int) -> list[dict]:
    """A random sample of ``n`` rows, as a list of dicts: shuffle with ``seed``, then
    select the first ``n``."""
    # BEGIN SOLUTION
    return dataset.shuffle(seed=seed).select(range(n)).to_list()
    # END SOLUTION


def count_unique(drugs: DatasetDict, column: str) -> dict[str, int]:
    """The number of distinct values of ``column`` in each split."""
    # BEGIN SOLUTION
    return {split: len(ds.unique(column)) for split, ds in drugs.items()}
    # END SOLUTION


def clean_drugs(drugs: DatasetDict) -> DatasetDict:
    """The course's cleaning, in this order, on every split:

    1. rename the column ``"Unnamed: 0"`` to ``"patient_id"``;
    2. drop the rows whose ``condition`` is missing (None), then lowercase ``condition``;
    3. add ``review_length``, the number of white-space separated words of ``review``,
       and keep the rows with ``review_length > 30``;
    4. replace the HTML character references of ``review`` (``&#039;`` → ``'``) with
       ``html.unescape``, in a batched ``map``.
    """
    # BEGIN SOLUTION
    drugs = drugs.rename_column("Unnamed: 0", "patient_id")
    drugs = drugs.filter(lambda x: x["condition"] is not None)
    drugs = drugs.map(lambda x: {"condition": x["condition"].lower()})
    drugs = drugs.map(lambda x: {"review_length": len(x["review"].split())})
    drugs = drugs.filter(lambda x: x["review_length"] > 30)
    return drugs.map(lambda x: {"review": [html.unescape(r) for r in x["review"]]}, batched=True)
    # END SOLUTION


def longest_reviews(dataset: Dataset, n: int) -> list[str]:
    """The ``review`` of the ``n`` rows with the largest ``review_length``, longest first;
    rows of equal length keep their order (``Dataset.sort`` is stable)."""
    # BEGIN SOLUTION
    return list(dataset.sort("review_length", reverse=True).select(range(n))["review"])
    # END SOLUTION


def chunk_reviews(dataset: Dataset, tokenizer, max_length: int) -> Dataset:
    """Tokenize ``review`` with ``truncation=True, max_length=max_length`` and
    ``return_overflowing_tokens=True``, so a long review becomes several rows of at most
    ``max_length`` tokens. Keep every original column, each value repeated for every
    chunk of its row (``overflow_to_sample_mapping`` says which row a chunk came from),
    and do not keep ``overflow_to_sample_mapping`` itself."""
    # BEGIN SOLUTION
    def tokenize_and_split(examples):
        result = tokenizer(examples["review"], truncation=True, max_length=max_length,
                           return_overflowing_tokens=True)
        sample_map = result.pop("overflow_to_sample_mapping")
        for key, values in examples.items():
            result[key] = [values[i] for i in sample_map]
        return result

    return dataset.map(tokenize_and_split, batched=True)
    # END SOLUTION


def condition_frequencies(dataset: Dataset) -> Dataset:
    """A Dataset with the columns ``condition`` and ``frequency`` (the number of rows of
    each condition), most frequent first, built through pandas: ``value_counts`` on a
    DataFrame of the data set, then ``Dataset.from_pandas``. Leave ``dataset``'s format
    as it was."""
    # BEGIN SOLUTION
    with dataset.formatted_as("pandas"):
        frame = dataset[:]
    counts = frame["condition"].value_counts()
    table = counts.to_frame().reset_index().rename(columns={"count": "frequency"})
    return Dataset.from_pandas(table)
    # END SOLUTION


def make_splits(drugs: DatasetDict, seed: int) -> DatasetDict:
    """Split ``drugs["train"]`` 80/20 with ``train_test_split(train_size=0.8, seed=seed)``;
    return a DatasetDict with ``train`` (the 80 %), ``validation`` (the 20 %) and
    ``test`` (``drugs["test"]`` unchanged)."""
    # BEGIN SOLUTION
    clean = drugs["train"].train_test_split(train_size=0.8, seed=seed)
    clean["validation"] = clean.pop("test")
    clean["test"] = drugs["test"]
    return clean
    # END SOLUTION


def save_and_reload(drugs: DatasetDict, directory: Path) -> DatasetDict:
    """Save ``drugs`` to ``directory`` in Arrow format and return it loaded from there."""
    # BEGIN SOLUTION
    drugs.save_to_disk(directory)
    return load_from_disk(directory)
    # END SOLUTION


def export_jsonl(drugs: DatasetDict, directory: Path) -> list[Path]:
    """Write each split to ``directory/drug-reviews-<split>.jsonl`` in JSON Lines format
    (one JSON object per row), creating ``directory`` if needed; return the paths written."""
    # BEGIN SOLUTION
    Path(directory).mkdir(parents=True, exist_ok=True)
    paths = []
    for split, ds in drugs.items():
        path = Path(directory) / f"drug-reviews-{split}.jsonl"
        ds.to_json(path)
        paths.append(path)
    return paths
    # END SOLUTION
