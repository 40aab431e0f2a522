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
    # BEGIN SOLUTION
    pre_tokenizer = tokenizer.backend_tokenizer.pre_tokenizer
    freqs: dict[str, int] = defaultdict(int)
    for text in corpus:
        for word, _ in pre_tokenizer.pre_tokenize_str(text):
            freqs[word] += 1
    return dict(freqs)
    # END SOLUTION


def wordpiece_alphabet(word_freqs: dict[str, int]) -> list[str]:
    """The sorted, distinct initial tokens: each word's first character as is, and every
    later character with the ``##`` prefix (``"Hug"`` gives ``H``, ``##u``, ``##g``)."""
    # BEGIN SOLUTION
    alphabet = set()
    for word in word_freqs:
        alphabet.add(word[0])
        alphabet.update(f"##{c}" for c in word[1:])
    return sorted(alphabet)
    # END SOLUTION


def compute_pair_scores(splits: dict[str, list[str]], word_freqs: dict[str, int]) -> list[tuple[Pair, float]]:
    """The score ``freq(pair) / (freq(a) * freq(b))`` of every pair of adjacent tokens, as
    ``[((a, b), score), ...]`` in the order the pairs are first met.

    Frequencies are weighted by ``word_freqs``; a token's frequency counts every place it
    occurs, also in one-token words.
    """
    # BEGIN SOLUTION
    letter_freqs: dict[str, int] = defaultdict(int)
    pair_freqs: dict[Pair, int] = defaultdict(int)
    for word, freq in word_freqs.items():
        split = splits[word]
        for i, token in enumerate(split):
            letter_freqs[token] += freq
            if i + 1 < len(split):
                pair_freqs[(token, split[i + 1])] += freq
    return [(pair, freq / (letter_freqs[pair[0]] * letter_freqs[pair[1]])) for pair, freq in pair_freqs.items()]
    # END SOLUTION


def merge_pair(a: str, b: str, splits: dict[str, list[str]]) -> dict[str, list[str]]:
    """New splits where every ``a`` directly followed by ``b`` becomes one token: ``b``
    loses its ``##`` prefix (``("Hu", "##g")`` gives ``"Hug"``). Words are scanned left to
    right."""
    # BEGIN SOLUTION
    joined = a + b[2:] if b.startswith("##") else a + b
    merged = {}
    for word, split in splits.items():
        split = list(split)
        i = 0
        while i < len(split) - 1:
            if split[i] == a and split[i + 1] == b:
                split = split[:i] + [joined] + split[i + 2:]
            else:
                i += 1
        merged[word] = split
    return merged
    # END SOLUTION


def train_wordpiece(corpus: list[str], tokenizer, vocab_size: int) -> list[str]:
    """Learn a WordPiece vocabulary of ``vocab_size`` tokens on ``corpus``.

    It starts as ``SPECIAL_TOKENS`` followed by ``wordpiece_alphabet``; each step merges
    the pair with the highest score (the first one met on a tie) and appends the merged
    token. Training also stops when no pair is left.
    """
    # BEGIN SOLUTION
    word_freqs = word_frequencies(corpus, tokenizer)
    vocab = [*SPECIAL_TOKENS, *wordpiece_alphabet(word_freqs)]
    splits = {word: [c if i == 0 else f"##{c}" for i, c in enumerate(word)] for word in word_freqs}
    while len(vocab) < vocab_size:
        best, best_score = None, 0.0
        for pair, score in compute_pair_scores(splits, word_freqs):
            if score > best_score:
                best, best_score = pair, score
        if best is None:
            break
        splits = merge_pair(*best, splits)
        a, b = best
        vocab.append(a + b[2:] if b.startswith("##") else a + b)
    return vocab
    # END SOLUTION


def encode_word(word: str, vocab: list[str]) -> list[str]:
    """Tokenize one word: take the longest prefix that is in ``vocab``, then continue with
    ``"##" + rest``; if some part has no prefix in ``vocab`` the result is ``["[UNK]"]``."""
    # BEGIN SOLUTION
    known = set(vocab)
    tokens = []
    while word:
        i = len(word)
        while i > 0 and word[:i] not in known:
            i -= 1
        if i == 0:
            return ["[UNK]"]
        tokens.append(word[:i])
        word = word[i:]
        if word:
            word = f"##{word}"
    return tokens
    # END SOLUTION


def wp_tokenize(text: str, vocab: list[str], tokenizer) -> list[str]:
    """Pre-tokenize ``text`` with the tokenizer's pre-tokenizer and encode every word."""
    # BEGIN SOLUTION
    words = tokenizer.backend_tokenizer.pre_tokenizer.pre_tokenize_str(text)
    return [token for word, _ in words for token in encode_word(word, vocab)]
    # END SOLUTION
