# Exercise 6.2: fill in every TODO, then run `hfcourse check 6.2`.
# 练习 6.2：完成每个 TODO，然后运行 `hfcourse check 6.2`。
"""6.2 Training a new tokenizer from an old one — 微调tokenizer

A tokenizer trained on English splits code into many small pieces. With
``train_new_from_iterator`` an existing fast tokenizer learns a new vocabulary on a new
corpus while keeping its whole pipeline (normalizer, pre-tokenizer, special tokens).
The corpus is given as an iterator over batches of texts, so it never has to be held in
memory at once; a generator can be consumed only once, so the corpus is wrapped in an
object that starts a fresh pass every time it is iterated.
Course: https://huggingface.co/learn/llm-course/chapter6/2
中文课程：https://huggingface.co/learn/llm-course/zh-CN/chapter6/2

在英文上训练的 tokenizer 会把代码切得很碎。用 ``train_new_from_iterator``，已有的快速
tokenizer 能在新语料上学出新词表，同时保留整个流水线（标准化、预分词、特殊 token）。
语料以“按批产出文本”的迭代器给出，不必一次性装入内存；生成器只能遍历一次，所以要把
语料包装成每次迭代都重新开始的对象。
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path


class TextBatches:
    """The texts of one column of one split, in batches, produced afresh on every iteration."""

    def __init__(self, raw_datasets, split: str, column: str, batch_size: int) -> None:
        self.dataset = raw_datasets[split]
        self.column, self.batch_size = column, batch_size

    def __iter__(self) -> Iterator[list[str]]:
        """Yield ``dataset[start:start + batch_size][column]`` for start = 0, batch_size, …"""
        # TODO: implement __iter__ (see the docstring)
        raise NotImplementedError("6.2 __iter__: not implemented yet")


def batch_iterator(raw_datasets, split: str = "train", column: str = "whole_func_string",
                   batch_size: int = 1000) -> Iterable[list[str]]:
    """The texts of ``raw_datasets[split][column]`` in lists of ``batch_size`` (the last one
    may be shorter), read lazily by slicing the data set. Every iteration over the result
    gives all the batches again (a generator would be empty the second time), and the
    list of all batches is never built up front: return a ``TextBatches``."""
    # TODO: implement batch_iterator (see the docstring)
    raise NotImplementedError("6.2 batch_iterator: not implemented yet")


def train_code_tokenizer(old_tokenizer, raw_datasets, vocab_size: int, directory: Path,
                         batch_size: int = 1000):
    """Train a new tokenizer like ``old_tokenizer`` on the ``whole_func_string`` texts of
    the ``"train"`` split, with a vocabulary of ``vocab_size``; save it with
    ``save_pretrained(directory)`` and return it."""
    # TODO: implement train_code_tokenizer (see the docstring)
    raise NotImplementedError("6.2 train_code_tokenizer: not implemented yet")


def compare_token_counts(old_tokenizer, new_directory: Path, texts: list[str]) -> tuple[list[int], list[int]]:
    """How many tokens each text becomes (``tokenize``, no special tokens) with the old
    tokenizer and with the new one loaded from ``new_directory`` by ``AutoTokenizer``."""
    # TODO: implement compare_token_counts (see the docstring)
    raise NotImplementedError("6.2 compare_token_counts: not implemented yet")
