# Exercise 7.3: fill in every TODO, then run `hfcourse check 7.3`.
# 练习 7.3：完成每个 TODO，然后运行 `hfcourse check 7.3`。
"""7.3 Fine-tuning a masked language model — 微调掩码语言模型

Domain adaptation: a masked language model keeps learning on text of the domain it will
be used in, here imdb-like film reviews. The texts are tokenized (keeping each token's
word id), concatenated and cut into chunks of one size; a collator masks tokens at random
(``DataCollatorForLanguageModeling``) or whole words at a time (every token of a chosen
word). Perplexity, ``exp`` of the evaluation loss, measures the fit before and after a short
fine-tune, with ``Trainer`` and with a plain Accelerate loop on a fixed masked evaluation set.
Course: https://huggingface.co/learn/llm-course/chapter7/3
中文课程：https://huggingface.co/learn/llm-course/zh-CN/chapter7/3

领域自适应：让掩码语言模型在它将要使用的领域文本（这里是类似 imdb 的影评）上继续学习。
文本分词时保留每个 token 的单词编号，拼接后切成等长的块；collator 随机遮盖 token
（``DataCollatorForLanguageModeling``），或按整词遮盖（一个被选中单词的所有 token 一起遮盖）。
困惑度（评估损失的 ``exp``）衡量短暂微调前后的拟合程度：分别用 ``Trainer`` 和在固定遮盖
评估集上运行的朴素 Accelerate 循环。
"""

from __future__ import annotations

import collections
import math
from pathlib import Path
from typing import Any

import numpy as np
import torch
from datasets import DatasetDict, load_dataset
from transformers import (AutoModelForMaskedLM, AutoTokenizer, DataCollatorForLanguageModeling, Trainer,
                          TrainingArguments, default_data_collator)


def top_k_fill(model, tokenizer, text: str, k: int) -> list[str]:
    """``text`` with its mask token replaced by each of the ``k`` tokens the model scores highest
    there (best first, ``tokenizer.decode([token])``)."""
    # TODO: implement top_k_fill (see the docstring)
    raise NotImplementedError("7.3 top_k_fill: not implemented yet")


def tokenize_function(examples: dict[str, list], tokenizer) -> dict[str, list]:
    """The encoding of a batch of ``text`` (no truncation) plus a ``word_ids`` column: for each row,
    the word id of every token (None for special tokens)."""
    # TODO: implement tokenize_function (see the docstring)
    raise NotImplementedError("7.3 tokenize_function: not implemented yet")


def group_texts(examples: dict[str, list], chunk_size: int) -> dict[str, list]:
    """Concatenate every column of the batch, drop the tail that does not fill a last chunk, cut
    into chunks of ``chunk_size``, and add ``labels``, a copy of the ``input_ids`` chunks."""
    # TODO: implement group_texts (see the docstring)
    raise NotImplementedError("7.3 group_texts: not implemented yet")


def lm_dataset(data_dir: str, tokenizer, chunk_size: int) -> DatasetDict:
    """``load_dataset(data_dir)`` (imdb-like), mapped batched with ``tokenize_function`` (removing
    ``text`` and ``label``), then batched with ``group_texts``."""
    # TODO: implement lm_dataset (see the docstring)
    raise NotImplementedError("7.3 lm_dataset: not implemented yet")


def whole_word_masking_data_collator(features: list[dict[str, list]], mask_token_id: int, wwm_probability: float,
                                     seed: int) -> dict[str, torch.Tensor]:
    """Whole-word masking. With ``rng = np.random.default_rng(seed)``, for each feature in order:
    number its words (consecutive tokens with the same word id, None excluded) from 0, draw
    ``rng.binomial(1, wwm_probability, (number_of_words,))``, and for every drawn word replace
    all its tokens' ids by ``mask_token_id``; ``labels`` keep the original id at masked
    positions and are -100 elsewhere. Drop ``word_ids`` and batch with ``default_data_collator``."""
    # TODO: implement whole_word_masking_data_collator (see the docstring)
    raise NotImplementedError("7.3 whole_word_masking_data_collator: not implemented yet")


def random_masking(features: list[dict[str, list]], tokenizer, mlm_probability: float,
                   seed: int) -> dict[str, torch.Tensor]:
    """Token masking by ``DataCollatorForLanguageModeling(tokenizer, mlm_probability=…,
    seed=seed)`` on the features without their ``word_ids``."""
    # TODO: implement random_masking (see the docstring)
    raise NotImplementedError("7.3 random_masking: not implemented yet")


def perplexity(eval_loss: float) -> float:
    """The perplexity of a mean cross-entropy loss: ``exp(eval_loss)``; ``inf`` when that overflows."""
    # TODO: implement perplexity (see the docstring)
    raise NotImplementedError("7.3 perplexity: not implemented yet")


def insert_random_mask(batch: dict[str, list], collator) -> dict[str, np.ndarray]:
    """Mask a batch of rows once, for a fixed evaluation set: turn the columns into a list of
    features, pass it to ``collator``, and return each output column as a numpy array under the
    name ``"masked_" + column``."""
    # TODO: implement insert_random_mask (see the docstring)
    raise NotImplementedError("7.3 insert_random_mask: not implemented yet")


def downsample(data: DatasetDict, train_size: int, test_size: int, seed: int) -> DatasetDict:
    """``data["train"].train_test_split(train_size=…, test_size=…, seed=seed)``: a small train and
    test split drawn from the train chunks."""
    # TODO: implement downsample (see the docstring)
    raise NotImplementedError("7.3 downsample: not implemented yet")


def fine_tune(model_dir: str, data_dir: str, out_dir: Path, chunk_size: int, train_size: int, test_size: int,
              epochs: int, lr: float, seed: int) -> dict[str, float]:
    """Fine-tune with ``Trainer``: the tokenizer and ``AutoModelForMaskedLM`` of ``model_dir``,
    the chunks of ``lm_dataset`` without ``word_ids``, ``downsample``d, a
    ``DataCollatorForLanguageModeling(mlm_probability=0.15, seed=seed)`` and
    ``TrainingArguments(out_dir, eval_strategy="epoch", learning_rate=lr, num_train_epochs=epochs,
    seed=seed, per_device_train_batch_size=16, per_device_eval_batch_size=16, save_strategy="no",
    report_to="none", disable_tqdm=True)``. Returns ``{"before": perplexity of
    trainer.evaluate() before training, "after": the same after training}``."""
    # TODO: implement fine_tune (see the docstring)
    raise NotImplementedError("7.3 fine_tune: not implemented yet")


def train_with_accelerate(config: dict[str, Any]) -> dict[str, Any]:
    """The same fine-tuning as a plain Accelerate loop. ``config`` has ``model_dir``, ``data_dir``,
    ``chunk_size``, ``train_size``, ``test_size``, ``epochs``, ``lr``, ``batch_size`` and ``seed``.

    Build the ``downsample``d chunks (without ``word_ids``) as ``fine_tune`` does, and a fixed
    evaluation set: the test split mapped batched with ``insert_random_mask`` (a
    ``DataCollatorForLanguageModeling(mlm_probability=0.15, seed=seed)``), its unmasked columns
    removed and the ``masked_`` prefix dropped from the others. Train on the train split with a
    shuffled ``DataLoader`` (``torch.Generator().manual_seed(seed)``) batched by a second such
    collator, ``torch.optim.AdamW(lr)``, a linear ``get_scheduler`` without warm-up and
    ``Accelerator(cpu=True)``, after ``set_seed(seed)`` (dropout draws from it); evaluate
    (``default_data_collator``, ``model.eval()``, no gradients) before training and after each
    epoch, gathering the losses of every process.

    Returns ``{"perplexities": [before training, after epoch 1, ...]}``, each ``exp`` of the mean
    loss over the evaluation batches."""
    # TODO: implement train_with_accelerate (see the docstring)
    raise NotImplementedError("7.3 train_with_accelerate: not implemented yet")
