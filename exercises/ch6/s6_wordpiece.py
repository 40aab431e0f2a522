# Exercise 6.6: fill in every TODO, then run `hfcourse check 6.6`.
# 练习 6.6：完成每个 TODO，然后运行 `hfcourse check 6.6`。
"""6.6 WordPiece tokenization — WordPiece分词算法

WordPiece, the algorithm behind BERT's tokenizer, written from scratch: characters
inside a word carry the ``##`` prefix, and training merges the pair with the best score
``freq(pair) / (freq(first) * freq(second))`` rather than the most frequent one. Only the
vocabulary is kept; a word is tokenized by taking the longest prefix in the vocabulary,
again and again.
Course: https://huggingface.co/learn/llm-course/chapter6/6
中文课程：https://huggingface.co/learn/llm-course/zh-CN/chapter6/6

从零实现 BERT 所用的 WordPiece 算法：词内部的字符带 ``##`` 前缀；训练时合并得分
``freq(pair) / (freq(first) * freq(second))`` 最高的 token 对，而不是出现次数最多的。
只保存词表；分词时反复取词表中最长的前缀。
"""

from __future__ import annotations

from collections import defaultdict

Pair = tuple[str, str]
SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def word_frequencies(corpus: list[str], tokenizer) -> dict[str, int]:
    """How often each word of ``corpus`` occurs, keyed in order of first appearance; words
    come from ``tokenizer.backend_tokenizer.pre_tokenizer.pre_tokenize_str``."""
    # TODO: implement word_frequencies (see the docstring)
    raise NotImplementedError("6.6 word_frequencies: not implemented yet")


def wordpiece_alphabet(word_freqs: dict[str, int]) -> list[str]:
    """The sorted, distinct initial tokens: each word's first character as is, and every
    later character with the ``##`` prefix (``"Hug"`` gives ``H``, ``##u``, ``##g``)."""
    # TODO: implement wordpiece_alphabet (see the docstring)
    raise NotImplementedError("6.6 wordpiece_alphabet: not implemented yet")


def compute_pair_scores(splits: dict[str, list[str]], word_freqs: dict[str, int]) -> list[tuple[Pair, float]]:
    """The score ``freq(pair) / (freq(a) * freq(b))`` of every pair of adjacent tokens, as
    ``[((a, b), score), ...]`` in the order the pairs are first met.

    Frequencies are weighted by ``word_freqs``; a token's frequency counts every place it
    occurs, also in one-token words.
    """
    # TODO: implement compute_pair_scores (see the docstring)
    raise NotImplementedError("6.6 compute_pair_scores: not implemented yet")


def merge_pair(a: str, b: str, splits: dict[str, list[str]]) -> dict[str, list[str]]:
    """New splits where every ``a`` directly followed by ``b`` becomes one token: ``b``
    loses its ``##`` prefix (``("Hu", "##g")`` gives ``"Hug"``). Words are scanned left to
    right."""
    # TODO: implement merge_pair (see the docstring)
    raise NotImplementedError("6.6 merge_pair: not implemented yet")


def train_wordpiece(corpus: list[str], tokenizer, vocab_size: int) -> list[str]:
    """Learn a WordPiece vocabulary of ``vocab_size`` tokens on ``corpus``.

    It starts as ``SPECIAL_TOKENS`` followed by ``wordpiece_alphabet``; each step merges
    the pair with the highest score (the first one met on a tie) and appends the merged
    token. Training also stops when no pair is left.
    """
    # TODO: implement train_wordpiece (see the docstring)
    raise NotImplementedError("6.6 train_wordpiece: not implemented yet")


def encode_word(word: str, vocab: list[str]) -> list[str]:
    """Tokenize one word: take the longest prefix that is in ``vocab``, then continue with
    ``"##" + rest``; if some part has no prefix in ``vocab`` the result is ``["[UNK]"]``."""
    # TODO: implement encode_word (see the docstring)
    raise NotImplementedError("6.6 encode_word: not implemented yet")


def wp_tokenize(text: str, vocab: list[str], tokenizer) -> list[str]:
    """Pre-tokenize ``text`` with the tokenizer's pre-tokenizer and encode every word."""
    # TODO: implement wp_tokenize (see the docstring)
    raise NotImplementedError("6.6 wp_tokenize: not implemented yet")
