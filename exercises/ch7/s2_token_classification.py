# Exercise 7.2: fill in every TODO, then run `hfcourse check 7.2`.
# 练习 7.2：完成每个 TODO，然后运行 `hfcourse check 7.2`。
"""7.2 Token classification — 微调Token分类（命名实体识别、词性标注、分块）模型

Named-entity recognition on a conll2003-like data set: the words come pre-split, so the
tokenizer is called with ``is_split_into_words=True`` and its ``word_ids()`` say which word
each token belongs to. Each token gets the label of its word (-100 for special tokens, and
the inside label I-XXX for the later tokens of a word that begins an entity);
``DataCollatorForTokenClassification`` pads the labels with -100; seqeval scores the
entities. Then fine-tuning, once with ``Trainer`` and once with a plain Accelerate loop.
Course: https://huggingface.co/learn/llm-course/chapter7/2
中文课程：https://huggingface.co/learn/llm-course/zh-CN/chapter7/2

在类似 conll2003 的数据集上做命名实体识别：单词已经切分好，所以分词时传入
``is_split_into_words=True``，``word_ids()`` 给出每个 token 属于哪个单词。每个 token 取其所在
单词的标签（特殊 token 为 -100；实体开头单词的后续 token 用内部标签 I-XXX）；
``DataCollatorForTokenClassification`` 用 -100 补齐标签；seqeval 按实体计分。然后分别用
``Trainer`` 和朴素的 Accelerate 循环微调模型。
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from datasets import DatasetDict, load_dataset
from transformers import (AutoModelForTokenClassification, AutoTokenizer, DataCollatorForTokenClassification,
                          Trainer, TrainingArguments, set_seed)


def align_labels_with_tokens(labels: list[int], word_ids: list[int | None]) -> list[int]:
    """The label of each token: -100 where ``word_ids`` is None (special tokens); the label of
    its word for the first token of a word; for the later tokens of a word, the word's label,
    turned from B-XXX into I-XXX (B labels are the odd ids, I-XXX is B-XXX + 1)."""
    # TODO: implement align_labels_with_tokens (see the docstring)
    raise NotImplementedError("7.2 align_labels_with_tokens: not implemented yet")


def tokenize_and_align_labels(examples: dict[str, list], tokenizer) -> dict[str, list]:
    """For a batch of rows (``tokens``, ``ner_tags``, as ``Dataset.map(batched=True)`` passes
    them): the tokenizer's encoding of the pre-split words (truncated, not padded) with a
    ``labels`` column from ``align_labels_with_tokens``."""
    # TODO: implement tokenize_and_align_labels (see the docstring)
    raise NotImplementedError("7.2 tokenize_and_align_labels: not implemented yet")


def tokenize_dataset(data_dir: str, tokenizer) -> DatasetDict:
    """The conll2003-like data set in ``data_dir`` (``load_dataset(data_dir)``), every split mapped
    (batched) with ``tokenize_and_align_labels``, keeping only the model's columns (the raw
    columns removed)."""
    # TODO: implement tokenize_dataset (see the docstring)
    raise NotImplementedError("7.2 tokenize_dataset: not implemented yet")


def collate(features: list[dict[str, list[int]]], tokenizer) -> dict[str, torch.Tensor]:
    """A batch of tokenized rows padded by ``DataCollatorForTokenClassification``: the inputs
    with the pad token, the labels with -100; a dict of tensors."""
    # TODO: implement collate (see the docstring)
    raise NotImplementedError("7.2 collate: not implemented yet")


def postprocess(predictions: np.ndarray, labels: np.ndarray,
                label_names: list[str]) -> tuple[list[list[str]], list[list[str]]]:
    """Label ids (``predictions`` already argmaxed, ``labels`` with -100) to label names, one list
    per row, keeping only the positions whose label is not -100. Returns
    ``(true_predictions, true_labels)``, in that order."""
    # TODO: implement postprocess (see the docstring)
    raise NotImplementedError("7.2 postprocess: not implemented yet")


def make_compute_metrics(label_names: list[str], metric_path: str) -> Callable[[Any], dict[str, float]]:
    """Load the seqeval module at ``metric_path`` once (``evaluate.load(metric_path)``) and return
    ``compute_metrics(eval_preds)`` for ``Trainer``: from ``(logits, labels)`` take the argmax of
    the logits, ``postprocess`` both, and return the overall ``{"precision", "recall", "f1",
    "accuracy"}`` of the metric."""
    # TODO: implement make_compute_metrics (see the docstring)
    raise NotImplementedError("7.2 make_compute_metrics: not implemented yet")


def score(logits: np.ndarray, labels: np.ndarray, label_names: list[str], metric_path: str) -> dict[str, float]:
    """What ``Trainer`` reports for these logits: ``make_compute_metrics(...)((logits, labels))``."""
    # TODO: implement score (see the docstring)
    raise NotImplementedError("7.2 score: not implemented yet")


def load_model(checkpoint: str, label_names: list[str], seed: int):
    """``set_seed(seed)``, then ``AutoModelForTokenClassification`` from ``checkpoint`` (a body
    without a token-classification head) with ``id2label`` and ``label2id`` built from
    ``label_names``: the new head is initialised from the seed."""
    # TODO: implement load_model (see the docstring)
    raise NotImplementedError("7.2 load_model: not implemented yet")


def fine_tune(checkpoint: str, data_dir: str, metric_path: str, out_dir: Path, epochs: int, lr: float,
              seed: int) -> dict[str, Any]:
    """Fine-tune with ``Trainer``: the tokenizer and ``load_model(checkpoint, names, seed)``
    (``names`` from ``load_dataset(data_dir)["train"].features["ner_tags"].feature.names``), the
    splits of ``tokenize_dataset(data_dir, tokenizer)``, ``DataCollatorForTokenClassification``, ``make_compute_metrics`` and
    ``TrainingArguments(out_dir, eval_strategy="epoch", learning_rate=lr, num_train_epochs=epochs,
    seed=seed, per_device_train_batch_size=16, save_strategy="no", report_to="none",
    disable_tqdm=True)``. Evaluate on the validation split before and after training.

    Returns ``{"before": metrics of trainer.evaluate() before training, "after": the same after
    training, "predictions": the trained model's predicted label names for the validation split
    (one list per row, one name per word)}``."""
    # TODO: implement fine_tune (see the docstring)
    raise NotImplementedError("7.2 fine_tune: not implemented yet")


def train_with_accelerate(config: dict[str, Any]) -> dict[str, Any]:
    """The same fine-tuning as a plain loop with 🤗 Accelerate. ``config`` has ``checkpoint``,
    ``data_dir``, ``metric_path``, ``epochs``, ``lr``, ``batch_size`` and ``seed``.

    Load the tokenizer and ``load_model(checkpoint, names, seed)``; ``DataLoader``s over the
    tokenized train split (shuffled with ``torch.Generator().manual_seed(seed)``) and validation
    split (in order), batched by ``DataCollatorForTokenClassification``; ``torch.optim.AdamW(lr)``
    and a linear ``get_scheduler`` without warm-up; ``Accelerator(cpu=True).prepare`` them. Train
    with ``accelerator.backward``. After each epoch, evaluate in eval mode (``model.eval()``:
    graded, since dropout is on in training mode; ``model.train()`` again before the next epoch):
    argmax the logits, pad predictions
    and labels across processes (``accelerator.pad_across_processes(..., dim=1,
    pad_index=-100)``), ``accelerator.gather`` them, ``postprocess`` and ``metric.add_batch``.

    Returns ``{"f1": the overall F1 after each epoch (list), "predictions": the label names
    predicted for the validation split after the last epoch (one list per row)}``."""
    # TODO: implement train_with_accelerate (see the docstring)
    raise NotImplementedError("7.2 train_with_accelerate: not implemented yet")
