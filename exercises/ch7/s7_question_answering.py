# Exercise 7.7: fill in every TODO, then run `hfcourse check 7.7`.
# 练习 7.7：完成每个 TODO，然后运行 `hfcourse check 7.7`。
"""7.7 Question answering — 抽取式问答

Fine-tuning an extractive question-answering model on a SQuAD-like data set. A context
longer than the model's window is cut into overlapping windows (``stride``,
``return_overflowing_tokens``); each training window is labelled with the token positions
of the answer, or ``(0, 0)`` when the answer is not fully inside it. Validation windows keep
their offsets (``None`` outside the context) and the id of their example, so that the
model's start and end logits can be turned back into text: the ``n_best`` best starts and
ends of every window, spans inside the context and no longer than ``max_answer_length``
tokens, the highest ``start + end`` logit wins. Exact match and F1 come from the squad
metric. The same fine-tuning as an Accelerate loop gathers the logits of every process and
cuts them to the number of validation windows. transformers 5 has no question-answering
pipeline any more: this is how it works.
Course: https://huggingface.co/learn/llm-course/chapter7/7
中文课程：https://huggingface.co/learn/llm-course/zh-CN/chapter7/7

在类 SQuAD 数据集上微调抽取式问答模型。超过模型窗口的上下文用 ``stride`` 和
``return_overflowing_tokens`` 切成互相重叠的窗口；每个训练窗口标注答案起止 token 的位置，
答案不完全在窗口内时标为 ``(0, 0)``。验证窗口保留偏移量（上下文以外为 ``None``）和所属样本的
id，以便把模型的起止 logits 还原成文本：每个窗口取 ``n_best`` 个最好的起点和终点，只保留
位于上下文内、长度不超过 ``max_answer_length`` 个 token 的区间，``start + end`` logit 最高的
胜出。精确匹配和 F1 由 squad 指标计算。用 Accelerate 循环写同样的微调时，汇总各进程的 logits，
并截取到验证窗口的数量。transformers 5 已移除问答 pipeline，这里就是它的原理。
"""

from __future__ import annotations

import collections
from pathlib import Path
from typing import Any

import numpy as np
import torch
from datasets import load_dataset
from torch.utils.data import DataLoader
from transformers import Trainer, TrainingArguments, default_data_collator, get_scheduler


def preprocess_training_examples(examples: dict[str, list], tokenizer, max_length: int,
                                 stride: int) -> dict[str, list]:
    """The batched ``map`` function for training: tokenize the stripped questions with their
    contexts (``truncation="only_second"``, ``max_length``, ``stride``, overflowing windows,
    offsets, ``padding="max_length"``) and label every window with ``start_positions`` and
    ``end_positions``: the first and last token of the first answer when it lies entirely
    inside the window's context, ``0`` and ``0`` otherwise. Return ``input_ids``,
    ``token_type_ids``, ``attention_mask``, ``start_positions`` and ``end_positions`` (no
    offsets, no overflow mapping)."""
    # TODO: implement preprocess_training_examples (see the docstring)
    raise NotImplementedError("7.7 preprocess_training_examples: not implemented yet")


def preprocess_validation_examples(examples: dict[str, list], tokenizer, max_length: int,
                                   stride: int) -> dict[str, list]:
    """The batched ``map`` function for evaluation: tokenize as for training, then give every
    window ``example_id`` (the ``id`` of the example it comes from) and keep its
    ``offset_mapping`` with ``None`` in place of the offsets of every token that is not part
    of the context. Return ``input_ids``, ``token_type_ids``, ``attention_mask``,
    ``offset_mapping`` and ``example_id``."""
    # TODO: implement preprocess_validation_examples (see the docstring)
    raise NotImplementedError("7.7 preprocess_validation_examples: not implemented yet")


def predict_answers(start_logits: np.ndarray, end_logits: np.ndarray, features: list[dict[str, Any]],
                    examples: list[dict[str, Any]], n_best: int = 20,
                    max_answer_length: int = 30) -> list[dict[str, str]]:
    """Turn the logits of every validation window (rows of ``start_logits`` and
    ``end_logits``, in the order of ``features``, which carry ``example_id`` and
    ``offset_mapping``) into one answer per example, in the order of ``examples``.

    For every window of an example, try the ``n_best`` highest start logits with the
    ``n_best`` highest end logits; skip a span whose start or end offset is ``None`` (not in
    the context), whose end comes before its start, or that is longer than
    ``max_answer_length`` tokens. The span with the highest ``start + end`` logit over all
    windows of the example is the answer: ``context[offsets[start][0]:offsets[end][1]]``.
    An example without any valid span gets ``""``. Return
    ``[{"id": example id, "prediction_text": answer}, …]``."""
    # TODO: implement predict_answers (see the docstring)
    raise NotImplementedError("7.7 predict_answers: not implemented yet")


def compute_metrics(start_logits: np.ndarray, end_logits: np.ndarray, features: list[dict[str, Any]],
                    examples: list[dict[str, Any]], metric_path: str, n_best: int = 20,
                    max_answer_length: int = 30) -> dict[str, float]:
    """Exact match and F1 of ``predict_answers(...)`` against the ``answers`` of
    ``examples``, from the squad metric module at ``metric_path``
    (``evaluate.load(metric_path)``; references are ``{"id", "answers"}``)."""
    # TODO: implement compute_metrics (see the docstring)
    raise NotImplementedError("7.7 compute_metrics: not implemented yet")


def fine_tune(model, tokenizer, data_dir: str, metric_path: str, out_dir: Path, train_rows: int,
              eval_rows: int, max_length: int, stride: int, epochs: int, lr: float, seed: int) -> dict[str, Any]:
    """Fine-tune ``model`` with ``Trainer`` and score it.

    Load the data set with ``load_dataset(data_dir)`` (train and validation splits). Train on
    the windows of the first ``train_rows`` rows of its train split
    (``preprocess_training_examples`` in a batched map that removes the original columns),
    with ``TrainingArguments(out_dir, learning_rate=lr, num_train_epochs=epochs, seed=seed,
    per_device_train_batch_size=16, per_device_eval_batch_size=32, save_strategy="no",
    report_to="none", disable_tqdm=True)``, ``default_data_collator`` and the tokenizer as
    ``processing_class``. Then predict the windows of the first ``eval_rows`` validation rows
    (``preprocess_validation_examples``) with ``trainer.predict`` and score them with
    ``compute_metrics``. Return ``{"metrics": {"exact_match", "f1"}, "predictions": the
    ``predict_answers`` list, "train_loss": the ``training_loss`` of ``trainer.train()``}``."""
    # TODO: implement fine_tune (see the docstring)
    raise NotImplementedError("7.7 fine_tune: not implemented yet")


def accelerate_fine_tune(model, tokenizer, data_dir: str, metric_path: str, train_rows: int, eval_rows: int,
                         max_length: int, stride: int, epochs: int, lr: float, seed: int) -> dict[str, Any]:
    """The same fine-tuning as an Accelerate loop.

    Build the train and validation windows as ``fine_tune`` does; set the torch format (the
    validation windows without ``example_id`` and ``offset_mapping``) and make loaders of 16
    with ``default_data_collator``, the train loader shuffled with a ``torch.Generator``
    seeded with ``seed``. Call ``set_seed(seed)``, create ``Accelerator(cpu=True)`` (the
    course's ``fp16=True`` is now ``mixed_precision="fp16"``), prepare the model,
    ``torch.optim.AdamW(lr=lr)`` and the loaders, and train ``epochs`` epochs with a linear
    schedule from ``get_scheduler`` (no warm-up). Then, in eval mode and without gradients,
    gather the start and end logits of every batch (``accelerator.gather``), concatenate them
    and keep the first ``len(validation windows)`` rows (the last batch may be padded across
    processes), and score them with ``compute_metrics``. Return ``{"metrics",
    "predictions": the predict_answers list, "losses": the loss of every training step}``."""
    # TODO: implement accelerate_fine_tune (see the docstring)
    raise NotImplementedError("7.7 accelerate_fine_tune: not implemented yet")
