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
    # BEGIN SOLUTION
    pre_tokenizer = tokenizer.backend_tokenizer.pre_tokenizer
    freqs: dict[str, int] = defaultdict(int)
    for text in corpus:
        for word, _ in pre_tokenizer.pre_tokenize_str(text):
            freqs[word] += 1
    return dict(freqs)
    # END SOLUTION


def compute_pair_freqs(splits: dict[str, list[str]], word_freqs: dict[str, int]) -> list[tuple[Pair, int]]:
    """Frequency of every pair of adjacent tokens, as ``[((a, b), freq), ...]``.

    ``splits[word]`` is the word's current list of tokens; an occurrence of a pair counts
    ``word_freqs[word]`` times. Pairs are listed in the order they are first met when
    going through ``word_freqs`` in order and each word left to right.
    """
    # BEGIN SOLUTION
    freqs: dict[Pair, int] = defaultdict(int)
    for word, freq in word_freqs.items():
        split = splits[word]
        for i in range(len(split) - 1):
            freqs[(split[i], split[i + 1])] += freq
    return list(freqs.items())
    # END SOLUTION


def merge_pair(a: str, b: str, splits: dict[str, list[str]]) -> dict[str, list[str]]:
    """New splits where every ``a`` directly followed by ``b`` becomes the token ``a + b``.

    Each word is scanned left to right, so in ``["x", "x", "x"]`` merging ``("x", "x")``
    gives ``["xx", "x"]``.
    """
    # BEGIN SOLUTION
    merged = {}
    for word, split in splits.items():
        split = list(split)
        i = 0
        while i < len(split) - 1:
            if split[i] == a and split[i + 1] == b:
                split = split[:i] + [a + b] + split[i + 2:]
            else:
                i += 1
        merged[word] = split
    return merged
    # END SOLUTION


def train_bpe(corpus: list[str], tokenizer, vocab_size: int) -> tuple[list[str], list[Pair]]:
    """Learn BPE merges on ``corpus`` until the vocabulary has ``vocab_size`` tokens.

    The vocabulary starts as ``["<|endoftext|>"]`` followed by the sorted characters of
    the words. Each step merges the most frequent pair (the first one met in
    ``compute_pair_freqs`` order on a tie) and appends ``a + b``; training also stops when
    no pair is left. Returns ``(vocab, merges)`` with the merges in the order learned.
    """
    # BEGIN SOLUTION
    word_freqs = word_frequencies(corpus, tokenizer)
    alphabet = sorted({c for word in word_freqs for c in word})
    vocab = ["<|endoftext|>", *alphabet]
    splits = {word: list(word) for word in word_freqs}
    merges: list[Pair] = []
    while len(vocab) < vocab_size:
        best, best_freq = None, 0
        for pair, freq in compute_pair_freqs(splits, word_freqs):
            if freq > best_freq:
                best, best_freq = pair, freq
        if best is None:
            break
        splits = merge_pair(*best, splits)
        merges.append(best)
        vocab.append(best[0] + best[1])
    return vocab, merges
    # END SOLUTION


def bpe_tokenize(text: str, merges: list[Pair], tokenizer) -> list[str]:
    """Tokenize ``text``: pre-tokenize it, split each word into characters, then apply
    every merge in the order learned."""
    # BEGIN SOLUTION
    pre_tokenizer = tokenizer.backend_tokenizer.pre_tokenizer
    words = [word for word, _ in pre_tokenizer.pre_tokenize_str(text)]
    splits = {str(i): list(word) for i, word in enumerate(words)}
    for a, b in merges:
        splits = merge_pair(a, b, splits)
    return [token for split in splits.values() for token in split]
    # END SOLUTION
