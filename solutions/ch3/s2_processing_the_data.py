"""3.2 Processing the data — 数据集加载与批处理

Load a GLUE/MRPC-like data set with ``load_dataset``, tokenize its sentence pairs with a
batched ``Dataset.map``, pad each batch only to its own longest row with
``DataCollatorWithPadding`` (dynamic padding), and take one optimizer step on a batch.
Course: https://huggingface.co/learn/llm-course/chapter3/2
中文课程：https://huggingface.co/learn/llm-course/zh-CN/chapter3/2

用 ``load_dataset`` 加载一个 GLUE/MRPC 格式的数据集，用 ``batched=True`` 的 ``Dataset.map``
对句子对分词，用 ``DataCollatorWithPadding`` 把每个 batch 只补齐到该 batch 中最长的一行
（动态补齐），再在一个 batch 上做一次优化器更新。
"""

from __future__ import annotations

from typing import Any

import torch
from datasets import Dataset, DatasetDict, load_dataset
from transformers import DataCollatorWithPadding


def load_mrpc(data_dir: str) -> DatasetDict:
    """The ``"mrpc"`` configuration of the GLUE-like data set in the directory ``data_dir``,
    loaded with ``load_dataset``: a ``DatasetDict`` with the splits train, validation and
    test, columns ``sentence1``, ``sentence2``, ``label`` and ``idx``."""
    # BEGIN SOLUTION
    return load_dataset(data_dir, "mrpc")
    # END SOLUTION


def tokenize_function(example: dict[str, list], tokenizer) -> Any:
    """Tokenize a batch of rows (a dict of columns, as ``map(batched=True)`` passes it) as
    sentence pairs: ``sentence1`` first, ``sentence2`` second, truncated to the model's
    maximum length and not padded. Returns the tokenizer's output (``input_ids``,
    ``token_type_ids``, ``attention_mask``)."""
    # BEGIN SOLUTION
    return tokenizer(example["sentence1"], example["sentence2"], truncation=True)
    # END SOLUTION


def tokenize_dataset(raw: Dataset | DatasetDict, tokenizer) -> Dataset | DatasetDict:
    """``raw`` with the columns of ``tokenize_function`` added to every row, computed with
    one batched ``map`` (the original columns stay)."""
    # BEGIN SOLUTION
    return raw.map(lambda batch: tokenize_function(batch, tokenizer), batched=True)
    # END SOLUTION


def tokenize_mrpc(data_dir: str, tokenizer) -> DatasetDict:
    """``load_mrpc(data_dir)`` tokenized with ``tokenize_dataset``."""
    # BEGIN SOLUTION
    return tokenize_dataset(load_mrpc(data_dir), tokenizer)
    # END SOLUTION


def tokenize_columns(columns: dict[str, list], tokenizer) -> Dataset:
    """A ``Dataset`` built in memory from ``columns`` with ``Dataset.from_dict``, then
    tokenized with ``tokenize_dataset``."""
    # BEGIN SOLUTION
    return tokenize_dataset(Dataset.from_dict(columns), tokenizer)
    # END SOLUTION


def collate(features: list[dict[str, Any]], tokenizer) -> dict[str, torch.Tensor]:
    """One batch from tokenized rows (each with ``input_ids``, ``token_type_ids``,
    ``attention_mask`` and ``label``) made by ``DataCollatorWithPadding``: every row padded
    to the longest row of this batch, and the labels as an int64 tensor under ``labels``."""
    # BEGIN SOLUTION
    return dict(DataCollatorWithPadding(tokenizer=tokenizer)(features))
    # END SOLUTION


def one_step_update(model, tokenizer, pairs: list[tuple[str, str]], labels: list[int], lr: float):
    """One training step as the course takes it: tokenize the ``pairs`` as one padded,
    truncated batch of PyTorch tensors, add ``labels`` to it, compute the loss,
    backpropagate, and take one ``torch.optim.AdamW(model.parameters(), lr=lr)`` step.
    Return the updated model."""
    # BEGIN SOLUTION
    batch = tokenizer([a for a, _ in pairs], [b for _, b in pairs], padding=True, truncation=True,
                      return_tensors="pt")
    batch["labels"] = torch.tensor(labels)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    loss = model(**batch).loss
    loss.backward()
    optimizer.step()
    return model
    # END SOLUTION
