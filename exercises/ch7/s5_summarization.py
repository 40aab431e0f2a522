# Exercise 7.5: fill in every TODO, then run `hfcourse check 7.5`.
# 练习 7.5：完成每个 TODO，然后运行 `hfcourse check 7.5`。
"""7.5 Summarization — 微调生成式文本摘要（序列到序列）模型

A bilingual review summarizer: keep the book reviews of an English and a Spanish
amazon_reviews_multi-like corpus, merge and shuffle the two languages, drop the reviews
whose title is too short to summarize, and tokenize bodies as inputs and titles as labels.
ROUGE measures the overlap of generated and reference summaries; the baseline to beat takes
the first three sentences of a review (split by NLTK's Punkt tokenizer, which needs no
download). A sequence-to-sequence model fine-tuned with ``Seq2SeqTrainer`` generates the
summaries (``predict_with_generate``) that ``compute_metrics`` scores; the same training
written as an Accelerate loop generates with the unwrapped model and gathers the padded
predictions of every process. transformers 5 has
no summarization pipeline any more: ``model.generate`` and ``batch_decode`` do its work.
Course: https://huggingface.co/learn/llm-course/chapter7/5
中文课程：https://huggingface.co/learn/llm-course/zh-CN/chapter7/5

双语评论摘要：从英语和西班牙语的类 amazon_reviews_multi 语料中保留图书评论，合并并打乱两种
语言，去掉标题太短、不适合作为摘要的评论，把正文分词为输入、标题分词为标签。ROUGE 衡量生成
摘要与参考摘要的重合度；要超越的基线取评论的前三句（用 NLTK 的 Punkt 分句器切分，无需下载）。
用 ``Seq2SeqTrainer`` 微调的序列到序列模型生成摘要（``predict_with_generate``），再由
``compute_metrics`` 打分；用 Accelerate 循环写同样的训练时，用解包后的模型生成，并汇总各进程
补齐后的预测。transformers 5 已移除 summarization pipeline，由 ``model.generate``
和 ``batch_decode`` 完成它的工作。
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from datasets import DatasetDict, concatenate_datasets, load_dataset
from nltk.tokenize.punkt import PunktSentenceTokenizer
from torch.utils.data import DataLoader
from transformers import DataCollatorForSeq2Seq, Seq2SeqTrainer, Seq2SeqTrainingArguments, get_scheduler

ROUGE_NAMES = ["rouge1", "rouge2", "rougeL", "rougeLsum"]


def filter_books(example: dict[str, Any]) -> bool:
    """Whether a review is about a book: its ``product_category`` is ``"book"`` or
    ``"digital_ebook_purchase"``."""
    # TODO: implement filter_books (see the docstring)
    raise NotImplementedError("7.5 filter_books: not implemented yet")


def books_dataset(english_dir: str, spanish_dir: str, seed: int) -> DatasetDict:
    """Load both languages (``load_dataset(dir)``), keep the book reviews of each
    (``filter(filter_books)``), concatenate the two languages split by split
    (``concatenate_datasets``, English first), shuffle every split with ``seed``, and keep the
    reviews whose title has more than two words (split on whitespace)."""
    # TODO: implement books_dataset (see the docstring)
    raise NotImplementedError("7.5 books_dataset: not implemented yet")


def preprocess_function(examples: dict[str, list], tokenizer, max_input_length: int,
                        max_target_length: int) -> dict[str, list]:
    """The batched ``map`` function: tokenize the ``review_body`` texts (truncated to
    ``max_input_length``) as the model inputs and the ``review_title`` texts (truncated to
    ``max_target_length``) as ``labels``: the input ids of the titles."""
    # TODO: implement preprocess_function (see the docstring)
    raise NotImplementedError("7.5 preprocess_function: not implemented yet")


def rouge(predictions: list[str], references: list[str], metric_path: str) -> dict[str, float]:
    """ROUGE of ``predictions`` against ``references`` from the metric module at
    ``metric_path`` (``evaluate.load(metric_path)``): the F-measures of rouge1, rouge2,
    rougeL and rougeLsum, as floats. (The metric already returns floats: the course's
    ``score["rouge1"].mid.fmeasure`` no longer works.)"""
    # TODO: implement rouge (see the docstring)
    raise NotImplementedError("7.5 rouge: not implemented yet")


def sentences(text: str) -> list[str]:
    """The sentences of ``text``, by NLTK's Punkt tokenizer
    (``PunktSentenceTokenizer().tokenize``: ``sent_tokenize`` would need a download)."""
    # TODO: implement sentences (see the docstring)
    raise NotImplementedError("7.5 sentences: not implemented yet")


def three_sentence_summary(text: str) -> str:
    """The baseline summary: the first three sentences of ``text``, joined by newlines."""
    # TODO: implement three_sentence_summary (see the docstring)
    raise NotImplementedError("7.5 three_sentence_summary: not implemented yet")


def evaluate_baseline(bodies: list[str], titles: list[str], metric_path: str) -> dict[str, float]:
    """ROUGE of the ``three_sentence_summary`` of every body against its title, each score
    times 100 and rounded to 2 decimals."""
    # TODO: implement evaluate_baseline (see the docstring)
    raise NotImplementedError("7.5 evaluate_baseline: not implemented yet")


def postprocess_text(preds: list[str], labels: list[str]) -> tuple[list[str], list[str]]:
    """Strip every prediction and label and put each of their sentences on its own line
    (rougeLsum splits summaries at newlines)."""
    # TODO: implement postprocess_text (see the docstring)
    raise NotImplementedError("7.5 postprocess_text: not implemented yet")


def compute_metrics(eval_pred: tuple[np.ndarray, np.ndarray], tokenizer, metric_path: str) -> dict[str, float]:
    """``compute_metrics`` of a ``Seq2SeqTrainer`` with ``predict_with_generate``:
    ``eval_pred`` is ``(generated ids, label ids)``, the labels padded with -100. Decode both
    (skipping special tokens; -100 becomes the pad token id first), ``postprocess_text``, then
    ROUGE times 100, rounded to 4 decimals."""
    # TODO: implement compute_metrics (see the docstring)
    raise NotImplementedError("7.5 compute_metrics: not implemented yet")


def fine_tune(model, tokenizer, english_dir: str, spanish_dir: str, metric_path: str, out_dir: Path,
              train_rows: int, eval_rows: int, epochs: int, lr: float, seed: int) -> dict[str, Any]:
    """Fine-tune ``model`` on ``books_dataset(english_dir, spanish_dir, seed)`` and score it.

    Tokenize with ``preprocess_function`` (inputs up to 64 tokens, titles up to 16) in a
    batched map that removes the original columns; train on the first ``train_rows`` rows of
    the train split and evaluate on the first ``eval_rows`` of the validation split with a
    ``Seq2SeqTrainer``: ``Seq2SeqTrainingArguments(out_dir, learning_rate=lr,
    num_train_epochs=epochs, seed=seed, per_device_train_batch_size=16,
    per_device_eval_batch_size=32, weight_decay=0.01, predict_with_generate=True,
    generation_max_length=16, save_strategy="no", report_to="none", disable_tqdm=True)``,
    ``DataCollatorForSeq2Seq(tokenizer, model=model)``, the tokenizer as ``processing_class``
    and ``compute_metrics``. Return ``{"rouge": the ROUGE scores of trainer.evaluate()
    (rouge1, rouge2, rougeL, rougeLsum, without the "eval_" prefix), "baseline":
    evaluate_baseline on the same validation rows, "train_loss": the training loss}``."""
    # TODO: implement fine_tune (see the docstring)
    raise NotImplementedError("7.5 fine_tune: not implemented yet")


def accelerate_fine_tune(model, tokenizer, english_dir: str, spanish_dir: str, metric_path: str,
                         train_rows: int, eval_rows: int, epochs: int, lr: float, seed: int) -> dict[str, Any]:
    """The same fine-tuning as an Accelerate loop.

    Tokenize ``books_dataset(english_dir, spanish_dir, seed)`` as ``fine_tune`` does and set
    the torch format; loaders with batches of 16 padded by ``DataCollatorForSeq2Seq(tokenizer,
    model=model)``: the first ``train_rows`` train rows, shuffled with a ``torch.Generator``
    seeded with ``seed``, and the first ``eval_rows`` validation rows in order. Call
    ``set_seed(seed)``, create ``Accelerator(cpu=True)``, prepare model,
    ``torch.optim.AdamW(lr=lr)`` and loaders, and train ``epochs`` epochs with a linear
    schedule from ``get_scheduler`` (no warm-up). Then, in eval mode and without gradients,
    generate for every eval batch with ``accelerator.unwrap_model(model).generate(input_ids,
    attention_mask=…, max_new_tokens=16)``, pad the generated ids and the labels across
    processes (``accelerator.pad_across_processes(…, dim=1, pad_index=tokenizer.pad_token_id)``),
    gather both, decode them as ``compute_metrics`` does (-100 becomes the pad id),
    ``postprocess_text`` and ``add_batch`` them to the ROUGE metric. Return ``{"rouge": the
    four scores times 100, "losses": the loss of every training step, "summaries": the
    decoded generated summaries}``."""
    # TODO: implement accelerate_fine_tune (see the docstring)
    raise NotImplementedError("7.5 accelerate_fine_tune: not implemented yet")
