# Exercise 7.4: fill in every TODO, then run `hfcourse check 7.4`.
# 练习 7.4：完成每个 TODO，然后运行 `hfcourse check 7.4`。
"""7.4 Translation — 微调文本翻译（序列到序列）模型

Fine-tuning a sequence-to-sequence model on a kde4-like English-French parallel set: the
course splits its only split itself (``train_test_split(train_size=0.9, seed=20)``), encodes
sources and targets in one call (``text_target=``), and ``DataCollatorForSeq2Seq`` pads the
labels with -100 and builds the decoder inputs (the labels shifted right). SacreBLEU scores
generated translations; ``Seq2SeqTrainer`` with ``predict_with_generate=True`` and a plain
Accelerate loop that calls ``generate`` both fine-tune and evaluate the model.
Course: https://huggingface.co/learn/llm-course/chapter7/4
中文课程：https://huggingface.co/learn/llm-course/zh-CN/chapter7/4

在类似 kde4 的英法平行语料上微调序列到序列模型：课程自己切分唯一的 train 划分
（``train_test_split(train_size=0.9, seed=20)``），用一次调用同时编码源文本和目标文本
（``text_target=``），``DataCollatorForSeq2Seq`` 用 -100 补齐标签并构造解码器输入（标签右移一位）。
SacreBLEU 为生成的译文打分；``Seq2SeqTrainer``（``predict_with_generate=True``）和调用
``generate`` 的朴素 Accelerate 循环都用来微调和评估模型。
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from datasets import DatasetDict, load_dataset
from transformers import (AutoModelForSeq2SeqLM, AutoTokenizer, DataCollatorForSeq2Seq, Seq2SeqTrainer,
                          Seq2SeqTrainingArguments)


def split_dataset(data_dir: str) -> DatasetDict:
    """``load_dataset(data_dir)`` (kde4-like, one train split) split as the course does:
    ``train_test_split(train_size=0.9, seed=20)``, its ``test`` split renamed ``validation``."""
    # TODO: implement split_dataset (see the docstring)
    raise NotImplementedError("7.4 split_dataset: not implemented yet")


def preprocess_function(examples: dict[str, list], tokenizer, max_length: int) -> dict[str, list]:
    """Encode a batch of ``translation`` rows: the English texts as inputs and the French ones as
    ``text_target`` (so that they become ``labels``), both truncated to ``max_length``."""
    # TODO: implement preprocess_function (see the docstring)
    raise NotImplementedError("7.4 preprocess_function: not implemented yet")


def tokenize_splits(data_dir: str, tokenizer, max_length: int) -> DatasetDict:
    """The splits of ``split_dataset(data_dir)`` mapped batched with ``preprocess_function``,
    the raw columns removed."""
    # TODO: implement tokenize_splits (see the docstring)
    raise NotImplementedError("7.4 tokenize_splits: not implemented yet")


def collate(features: list[dict[str, list[int]]], tokenizer, model) -> dict[str, torch.Tensor]:
    """A batch from ``DataCollatorForSeq2Seq(tokenizer, model=model)``: inputs padded with the pad
    token, labels with -100, and ``decoder_input_ids`` made from the labels by the model."""
    # TODO: implement collate (see the docstring)
    raise NotImplementedError("7.4 collate: not implemented yet")


def bleu(predictions: list[str], references: list[list[str]], metric_path: str) -> float:
    """The SacreBLEU score of ``predictions`` against ``references`` (a list of references per
    prediction) from the metric module at ``metric_path``."""
    # TODO: implement bleu (see the docstring)
    raise NotImplementedError("7.4 bleu: not implemented yet")


def make_compute_metrics(tokenizer, metric_path: str) -> Callable[[Any], dict[str, float]]:
    """Load the sacrebleu module once and return ``compute_metrics(eval_preds)`` for
    ``Seq2SeqTrainer``: ``(preds, labels)`` hold token ids (``preds`` may come as a tuple whose
    first item is the ids). Replace -100 (padding of labels, and of predictions gathered from
    batches of different lengths) by the pad token id, decode both without special tokens,
    strip, and return ``{"bleu": score}`` with one reference per prediction."""
    # TODO: implement make_compute_metrics (see the docstring)
    raise NotImplementedError("7.4 make_compute_metrics: not implemented yet")


def score(preds: Any, labels: np.ndarray, tokenizer, metric_path: str) -> dict[str, float]:
    """What ``Seq2SeqTrainer`` reports: ``make_compute_metrics(tokenizer, metric_path)((preds, labels))``."""
    # TODO: implement score (see the docstring)
    raise NotImplementedError("7.4 score: not implemented yet")


def fine_tune(model_dir: str, data_dir: str, metric_path: str, out_dir: Path, train_rows: int, epochs: int,
              lr: float, seed: int, max_length: int) -> dict[str, float]:
    """Fine-tune with ``Seq2SeqTrainer``: the tokenizer and ``AutoModelForSeq2SeqLM`` of
    ``model_dir``, the first ``train_rows`` rows of the train split of ``tokenize_splits`` and its
    whole validation split, ``DataCollatorForSeq2Seq(tokenizer, model=model)``,
    ``make_compute_metrics`` and ``Seq2SeqTrainingArguments(out_dir, eval_strategy="no",
    learning_rate=lr, num_train_epochs=epochs, seed=seed, per_device_train_batch_size=16,
    per_device_eval_batch_size=32, predict_with_generate=True, save_strategy="no",
    report_to="none", disable_tqdm=True)``. Returns ``{"before": BLEU of
    trainer.evaluate(max_length=max_length) before training, "after": the same after}``."""
    # TODO: implement fine_tune (see the docstring)
    raise NotImplementedError("7.4 fine_tune: not implemented yet")


def postprocess(predictions: np.ndarray, labels: np.ndarray, tokenizer) -> tuple[list[str], list[list[str]]]:
    """Decoded, stripped predictions and references (one list of one reference each), after
    replacing -100 in the labels by the pad token id."""
    # TODO: implement postprocess (see the docstring)
    raise NotImplementedError("7.4 postprocess: not implemented yet")


def train_with_accelerate(config: dict[str, Any]) -> dict[str, Any]:
    """The same fine-tuning as a plain Accelerate loop. ``config`` has ``model_dir``, ``data_dir``,
    ``metric_path``, ``train_rows``, ``epochs``, ``lr``, ``batch_size``, ``seed`` and
    ``max_length``.

    ``DataLoader``s over the first ``train_rows`` tokenized train rows (shuffled with
    ``torch.Generator().manual_seed(seed)``) and the validation split, batched by
    ``DataCollatorForSeq2Seq(tokenizer, model=model)``; ``torch.optim.AdamW(lr)``, a linear
    ``get_scheduler`` without warm-up, ``Accelerator(cpu=True)``. Evaluate before training and
    after each epoch: ``accelerator.unwrap_model(model).generate(input_ids, attention_mask,
    max_length=max_length)`` without gradients, ``pad_across_processes`` the generated tokens
    and labels (``dim=1``, ``pad_index=-100`` for labels, the pad token id for tokens), gather,
    ``postprocess`` and ``metric.add_batch``.

    Returns ``{"bleu": [before training, after epoch 1, ...], "predictions": the decoded
    validation translations after the last epoch}``."""
    # TODO: implement train_with_accelerate (see the docstring)
    raise NotImplementedError("7.4 train_with_accelerate: not implemented yet")
