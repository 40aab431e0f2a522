# Exercise 6.7: fill in every TODO, then run `hfcourse check 6.7`.
# 练习 6.7：完成每个 TODO，然后运行 `hfcourse check 6.7`。
"""6.7 Unigram tokenization — Unigram分词算法

Unigram, the algorithm behind SentencePiece models such as T5 and XLNet, written from
scratch. Training goes the other way from BPE: start from a large vocabulary of frequent
substrings and remove the tokens whose loss matters least. A word is tokenized by the
Viterbi algorithm, which finds the segmentation with the lowest total ``-log(p)``.
Course: https://huggingface.co/learn/llm-course/chapter6/7
中文课程：https://huggingface.co/learn/llm-course/zh-CN/chapter6/7

从零实现 T5、XLNet 等 SentencePiece 模型所用的 Unigram 算法。训练方向与 BPE 相反：
从包含大量高频子串的大词表出发，逐步删去对损失影响最小的 token。分词用 Viterbi 算法，
找出 ``-log(p)`` 之和最小的切分。
"""

from __future__ import annotations

from collections import defaultdict
from math import log


def word_frequencies(corpus: list[str], tokenizer) -> dict[str, int]:
    """How often each word of ``corpus`` occurs, keyed in order of first appearance; words
    come from ``tokenizer.backend_tokenizer.pre_tokenizer.pre_tokenize_str``."""
    # TODO: implement word_frequencies (see the docstring)
    raise NotImplementedError("6.7 word_frequencies: not implemented yet")


def initial_vocabulary(word_freqs: dict[str, int], size: int) -> dict[str, int]:
    """Token frequencies of the starting vocabulary: every character, then the most frequent
    substrings of two or more characters until there are ``size`` tokens.

    Characters come first, in order of first appearance. Substrings are sorted by
    frequency, highest first (ties keep the order of first appearance).
    """
    # TODO: implement initial_vocabulary (see the docstring)
    raise NotImplementedError("6.7 initial_vocabulary: not implemented yet")


def unigram_model(token_freqs: dict[str, int]) -> dict[str, float]:
    """The score ``-log(freq / total)`` of each token, where ``total`` is the sum of all
    frequencies."""
    # TODO: implement unigram_model (see the docstring)
    raise NotImplementedError("6.7 unigram_model: not implemented yet")


def encode_word(word: str, model: dict[str, float]) -> tuple[list[str], float | None]:
    """The segmentation of ``word`` into tokens of ``model`` with the lowest total score, and
    that score (Viterbi). As in the course, the table starts at score 1, so the score is
    ``1 + `` the sum of the tokens' scores. Among equal scores the segmentation found first
    wins (ends are updated only by a strictly lower score, for starts taken left to right).
    If the word cannot be segmented, return ``(["<unk>"], None)``."""
    # TODO: implement encode_word (see the docstring)
    raise NotImplementedError("6.7 encode_word: not implemented yet")


def compute_loss(word_freqs: dict[str, int], model: dict[str, float]) -> float:
    """The corpus loss: the sum over words of ``freq * (score of the word's best segmentation)``."""
    # TODO: implement compute_loss (see the docstring)
    raise NotImplementedError("6.7 compute_loss: not implemented yet")


def compute_scores(word_freqs: dict[str, int], model: dict[str, float]) -> dict[str, float]:
    """For every token of two or more characters, how much the loss grows when that token is
    removed from ``model`` (single characters are never removed, so they get no score)."""
    # TODO: implement compute_scores (see the docstring)
    raise NotImplementedError("6.7 compute_scores: not implemented yet")


def train_unigram(corpus: list[str], tokenizer, initial_size: int = 300, target_size: int = 100,
                  percent_to_remove: float = 0.1) -> dict[str, float]:
    """Train a Unigram model on ``corpus``.

    Start from ``initial_vocabulary(word_freqs, initial_size)``. While the model has more
    than ``target_size`` tokens: compute the scores, remove the
    ``int(len(model) * percent_to_remove)`` tokens with the lowest scores (at least one;
    stop when only characters are left) from the token frequencies, and rebuild the model
    with ``unigram_model``. Returns the final model.
    """
    # TODO: implement train_unigram (see the docstring)
    raise NotImplementedError("6.7 train_unigram: not implemented yet")


def unigram_tokenize(text: str, model: dict[str, float], tokenizer) -> list[str]:
    """Pre-tokenize ``text`` with the tokenizer's pre-tokenizer and encode every word."""
    # TODO: implement unigram_tokenize (see the docstring)
    raise NotImplementedError("6.7 unigram_tokenize: not implemented yet")
