# Exercise 6.5: fill in every TODO, then run `hfcourse check 6.5`.
# 练习 6.5：完成每个 TODO，然后运行 `hfcourse check 6.5`。
"""6.5 Byte-Pair Encoding tokenization — BPE分词算法

BPE, the algorithm behind GPT-2's tokenizer, written from scratch: count the words of a
corpus, start from its alphabet, and learn merges by repeatedly joining the most frequent
pair of adjacent tokens; a new text is tokenized by replaying the merges in order.
Course: https://huggingface.co/learn/llm-course/chapter6/5
中文课程：https://huggingface.co/learn/llm-course/zh-CN/chapter6/5

从零实现 GPT-2 所用的 BPE 算法：统计语料中的词频，从字母表出发，反复合并出现次数最多的
相邻 token 对，得到有序的合并规则；对新文本分词时按顺序重放这些合并规则。
"""

from __future__ import annotations

from collections import defaultdict

Pair = tuple[str, str]


def word_frequencies(corpus: list[str], tokenizer) -> dict[str, int]:
    """How often each word of ``corpus`` occurs, keyed in order of first appearance.

    Words come from ``tokenizer.backend_tokenizer.pre_tokenizer.pre_tokenize_str``; with
    a GPT-2 tokenizer a word that follows a space starts with ``Ġ``.
    """
    # TODO: implement word_frequencies (see the docstring)
    raise NotImplementedError("6.5 word_frequencies: not implemented yet")


def compute_pair_freqs(splits: dict[str, list[str]], word_freqs: dict[str, int]) -> list[tuple[Pair, int]]:
    """Frequency of every pair of adjacent tokens, as ``[((a, b), freq), ...]``.

    ``splits[word]`` is the word's current list of tokens; an occurrence of a pair counts
    ``word_freqs[word]`` times. Pairs are listed in the order they are first met when
    going through ``word_freqs`` in order and each word left to right.
    """
    # TODO: implement compute_pair_freqs (see the docstring)
    raise NotImplementedError("6.5 compute_pair_freqs: not implemented yet")


def merge_pair(a: str, b: str, splits: dict[str, list[str]]) -> dict[str, list[str]]:
    """New splits where every ``a`` directly followed by ``b`` becomes the token ``a + b``.

    Each word is scanned left to right, so in ``["x", "x", "x"]`` merging ``("x", "x")``
    gives ``["xx", "x"]``.
    """
    # TODO: implement merge_pair (see the docstring)
    raise NotImplementedError("6.5 merge_pair: not implemented yet")


def train_bpe(corpus: list[str], tokenizer, vocab_size: int) -> tuple[list[str], list[Pair]]:
    """Learn BPE merges on ``corpus`` until the vocabulary has ``vocab_size`` tokens.

    The vocabulary starts as ``["<|endoftext|>"]`` followed by the sorted characters of
    the words. Each step merges the most frequent pair (the first one met in
    ``compute_pair_freqs`` order on a tie) and appends ``a + b``; training also stops when
    no pair is left. Returns ``(vocab, merges)`` with the merges in the order learned.
    """
    # TODO: implement train_bpe (see the docstring)
    raise NotImplementedError("6.5 train_bpe: not implemented yet")


def bpe_tokenize(text: str, merges: list[Pair], tokenizer) -> list[str]:
    """Tokenize ``text``: pre-tokenize it, split each word into characters, then apply
    every merge in the order learned."""
    # TODO: implement bpe_tokenize (see the docstring)
    raise NotImplementedError("6.5 bpe_tokenize: not implemented yet")
