# Exercise 3.4: fill in every TODO, then run `hfcourse check 3.4`.
# 练习 3.4：完成每个 TODO，然后运行 `hfcourse check 3.4`。
"""3.4 A full training — 使用原生pytorch完成一个模型的微调和评估

The loops that ``Trainer`` hides, written in plain PyTorch: prepare the tokenized data set
for a model, batch it with a ``DataLoader`` and ``DataCollatorWithPadding``, train with
``AdamW`` and a linear ``get_scheduler`` schedule, evaluate with ``metric.add_batch``.
Then the same loop with 🤗 Accelerate, which runs unchanged on one process or several:
each process trains on its own shard of every batch, and ``gather_for_metrics`` collects
the predictions of all processes for the metric.
Course: https://huggingface.co/learn/llm-course/chapter3/4
中文课程：https://huggingface.co/learn/llm-course/zh-CN/chapter3/4

用纯 PyTorch 写出 ``Trainer`` 隐藏的循环：整理分词后的数据集，用 ``DataLoader`` 和
``DataCollatorWithPadding`` 组成 batch，用 ``AdamW`` 和线性 ``get_scheduler`` 学习率训练，
用 ``metric.add_batch`` 评估。再用 🤗 Accelerate 改写同一个循环：它在一个或多个进程上都能
原样运行，每个进程训练每个 batch 中属于自己的那一份，``gather_for_metrics`` 汇总所有
进程的预测来计算指标。
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from datasets import DatasetDict, load_dataset
from torch.utils.data import DataLoader
from transformers import DataCollatorWithPadding, get_scheduler


def prepare_for_loop(data_dir: str, tokenizer, keep_idx: bool = False) -> DatasetDict:
    """Load ``load_dataset(data_dir, "mrpc")``, tokenize the pairs with a batched map
    (truncated, not padded), then make it ready for a model: remove the text columns and
    ``idx`` (keep ``idx`` when ``keep_idx``), rename ``label`` to ``labels`` and set the
    format to ``"torch"``."""
    # TODO: implement prepare_for_loop (see the docstring)
    raise NotImplementedError("3.4 prepare_for_loop: not implemented yet")


def make_dataloaders(data: DatasetDict, tokenizer, batch_size: int, train_rows: int,
                     seed: int) -> tuple[DataLoader, DataLoader]:
    """``(train, eval)`` data loaders over a prepared data set: the first ``train_rows`` rows
    of the train split, shuffled with a ``torch.Generator`` seeded with ``seed``, and the
    whole validation split in order; batches of ``batch_size`` padded by
    ``DataCollatorWithPadding`` to the longest row of each batch."""
    # TODO: implement make_dataloaders (see the docstring)
    raise NotImplementedError("3.4 make_dataloaders: not implemented yet")


def dataloaders(data_dir: str, tokenizer, batch_size: int, train_rows: int, seed: int) -> tuple[DataLoader, DataLoader]:
    """``make_dataloaders`` over ``prepare_for_loop(data_dir, tokenizer)``."""
    # TODO: implement dataloaders (see the docstring)
    raise NotImplementedError("3.4 dataloaders: not implemented yet")


def train_loop(model, tokenizer, data_dir: str, epochs: int, lr: float, batch_size: int,
               train_rows: int, seed: int) -> dict[str, Any]:
    """Train ``model`` for ``epochs`` epochs over the train loader of ``dataloaders(...)``
    with ``torch.optim.AdamW(lr=lr)`` and a linear schedule from ``get_scheduler`` (no
    warm-up, ``epochs * len(train_dataloader)`` steps). Return ``{"losses": the loss of every
    step, "learning_rates": the learning rate each step used, "state_dict": the trained
    weights}``."""
    # TODO: implement train_loop (see the docstring)
    raise NotImplementedError("3.4 train_loop: not implemented yet")


def eval_loop(model, tokenizer, data_dir: str, metric_path: str, batch_size: int) -> dict[str, Any]:
    """Evaluate ``model`` on the eval loader of ``dataloaders(...)`` (any ``train_rows`` and
    ``seed``) in eval mode (``model.eval()`` first: graded, since in training mode dropout changes
    the predictions) and without gradients, adding every batch's predictions (argmax of the logits)
    to ``evaluate.load(metric_path, "mrpc")`` with ``add_batch``. Return
    ``{"predictions": all predictions in order (list of int), "metrics": metric.compute()}``."""
    # TODO: implement eval_loop (see the docstring)
    raise NotImplementedError("3.4 eval_loop: not implemented yet")


def training_function(config: dict[str, Any]) -> dict[str, Any]:
    """The Accelerate version, the same code for one process or several. ``config`` has
    ``model_dir`` (a checkpoint with its tokenizer), ``data_dir``, ``metric_path``,
    ``batch_size`` (per process), ``train_rows``, ``epochs``, ``lr`` and ``seed``.

    Call ``set_seed(seed)``, create ``Accelerator(cpu=True)``, load the tokenizer and the
    model from ``model_dir``, build the loaders of ``make_dataloaders`` over the data
    prepared with ``keep_idx=True``, let ``accelerator.prepare`` wrap the loaders, model and
    ``AdamW``, then train as ``train_loop`` does (``accelerator.backward``; take ``idx`` out
    of each batch before the forward pass) and evaluate as ``eval_loop`` does, gathering the
    logits and labels of every process with ``accelerator.gather_for_metrics``.

    Return ``{"num_processes", "process_index", "distributed_type": the
    ``accelerator.distributed_type`` value (a str), "seen_idx": the ``idx`` of the training
    rows this process saw, in order, "logits": the gathered validation logits (list of
    lists), "metrics": the metric on the gathered predictions}``."""
    # TODO: implement training_function (see the docstring)
    raise NotImplementedError("3.4 training_function: not implemented yet")


def launch(config: dict[str, Any]) -> tuple[Callable[..., dict[str, Any]], tuple]:
    """What ``accelerate.notebook_launcher(function, args, num_processes=…)`` takes to run
    the training in several processes: the training function of this module (a top-level
    function, so that each new process can import it) and the tuple of its arguments."""
    # TODO: implement launch (see the docstring)
    raise NotImplementedError("3.4 launch: not implemented yet")
