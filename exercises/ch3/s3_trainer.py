# Exercise 3.3: fill in every TODO, then run `hfcourse check 3.3`.
# 练习 3.3：完成每个 TODO，然后运行 `hfcourse check 3.3`。
"""3.3 Fine-tuning a model with the Trainer API — 用Trainer类完成一个模型的微调和评估，Accelerate库做分布式

``TrainingArguments`` hold every hyperparameter (transformers 5 names: ``eval_strategy``,
and ``processing_class`` for the tokenizer); ``Trainer`` runs the training and evaluation
loops, pads each batch with ``DataCollatorWithPadding`` and reports the metrics that
``compute_metrics`` returns, here accuracy and F1 from a local ``evaluate`` module.
Course: https://huggingface.co/learn/llm-course/chapter3/3
中文课程：https://huggingface.co/learn/llm-course/zh-CN/chapter3/3

``TrainingArguments`` 保存全部超参数（transformers 5 中的名字是 ``eval_strategy``，tokenizer
通过 ``processing_class`` 传入）；``Trainer`` 负责训练和评估循环，用 ``DataCollatorWithPadding``
对每个 batch 动态补齐，并报告 ``compute_metrics`` 返回的指标，这里是用本地 ``evaluate``
模块计算的准确率和 F1。
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from datasets import load_dataset
from transformers import DataCollatorWithPadding, Trainer, TrainingArguments


def make_compute_metrics(metric_path: str) -> Callable[[Any], dict[str, float]]:
    """Load the GLUE metric module at ``metric_path`` once, with
    ``evaluate.load(metric_path, "mrpc")``, and return ``compute_metrics(eval_preds)`` for
    ``Trainer``: it takes ``(logits, labels)``, predicts the class with the largest logit of
    each row and returns the metric's ``{"accuracy": …, "f1": …}``."""
    # TODO: implement make_compute_metrics (see the docstring)
    raise NotImplementedError("3.3 make_compute_metrics: not implemented yet")


def score(logits: np.ndarray, labels: np.ndarray, metric_path: str) -> dict[str, float]:
    """What ``Trainer`` reports for these predictions: call the function made by
    ``make_compute_metrics(metric_path)`` on ``(logits, labels)``."""
    # TODO: implement score (see the docstring)
    raise NotImplementedError("3.3 score: not implemented yet")


def training_args(out_dir: Path, epochs: int, lr: float, seed: int) -> TrainingArguments:
    """``TrainingArguments`` writing to ``out_dir`` that evaluate at the end of every epoch,
    train for ``epochs`` epochs at learning rate ``lr`` with ``seed``, batch size 8 for
    training and evaluation, and keep the run small: no checkpoints (``save_strategy="no"``),
    no reporting (``report_to="none"``), no progress bars."""
    # TODO: implement training_args (see the docstring)
    raise NotImplementedError("3.3 training_args: not implemented yet")


def build_trainer(model, tokenizer, data_dir: str, metric_path: str, out_dir: Path,
                  train_rows: int, epochs: int, lr: float, seed: int) -> Trainer:
    """A ``Trainer`` (not trained yet) for the MRPC data set in ``data_dir`` (load it with
    ``load_dataset(data_dir, "mrpc")`` and tokenize the pairs with a batched map, truncated,
    not padded). Train on the first ``train_rows`` rows of the train split, evaluate on the
    whole validation split, pad batches with ``DataCollatorWithPadding``, pass the
    tokenizer as ``processing_class`` and ``compute_metrics`` from ``make_compute_metrics``;
    the arguments are ``training_args(out_dir, epochs, lr, seed)``."""
    # TODO: implement build_trainer (see the docstring)
    raise NotImplementedError("3.3 build_trainer: not implemented yet")


def fine_tune(model, tokenizer, data_dir: str, metric_path: str, out_dir: Path,
              train_rows: int, epochs: int, lr: float, seed: int) -> dict[str, Any]:
    """Train the trainer of ``build_trainer`` and predict the validation split with
    ``trainer.predict``. Return ``{"predictions": the predicted class of each row (list of
    int), "label_ids": the gold labels (list of int), "metrics": the metrics of predict}``."""
    # TODO: implement fine_tune (see the docstring)
    raise NotImplementedError("3.3 fine_tune: not implemented yet")
