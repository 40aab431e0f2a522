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
    # BEGIN SOLUTION
    pre_tokenizer = tokenizer.backend_tokenizer.pre_tokenizer
    freqs: dict[str, int] = defaultdict(int)
    for text in corpus:
        for word, _ in pre_tokenizer.pre_tokenize_str(text):
            freqs[word] += 1
    return dict(freqs)
    # END SOLUTION


def initial_vocabulary(word_freqs: dict[str, int], size: int) -> dict[str, int]:
    """Token frequencies of the starting vocabulary: every character, then the most frequent
    substrings of two or more characters until there are ``size`` tokens.

    Characters come first, in order of first appearance. Substrings are sorted by
    frequency, highest first (ties keep the order of first appearance).
    """
    # BEGIN SOLUTION
    char_freqs: dict[str, int] = defaultdict(int)
    subword_freqs: dict[str, int] = defaultdict(int)
    for word, freq in word_freqs.items():
        for i in range(len(word)):
            char_freqs[word[i]] += freq
            for j in range(i + 2, len(word) + 1):
                subword_freqs[word[i:j]] += freq
    ranked = sorted(subword_freqs.items(), key=lambda item: item[1], reverse=True)
    return dict(list(char_freqs.items()) + ranked[: size - len(char_freqs)])
    # END SOLUTION


def unigram_model(token_freqs: dict[str, int]) -> dict[str, float]:
    """The score ``-log(freq / total)`` of each token, where ``total`` is the sum of all
    frequencies."""
    # BEGIN SOLUTION
    total = sum(token_freqs.values())
    return {token: -log(freq / total) for token, freq in token_freqs.items()}
    # END SOLUTION


def encode_word(word: str, model: dict[str, float]) -> tuple[list[str], float | None]:
    """The segmentation of ``word`` into tokens of ``model`` with the lowest total score, and
    that score (Viterbi). As in the course, the table starts at score 1, so the score is
    ``1 + `` the sum of the tokens' scores. Among equal scores the segmentation found first
    wins (ends are updated only by a strictly lower score, for starts taken left to right).
    If the word cannot be segmented, return ``(["<unk>"], None)``."""
    # BEGIN SOLUTION
    best: list[tuple[int, float] | None] = [(0, 1.0)] + [None] * len(word)
    for start in range(len(word)):
        if best[start] is None:
            continue
        score_at_start = best[start][1]
        for end in range(start + 1, len(word) + 1):
            token = word[start:end]
            if token in model:
                score = score_at_start + model[token]
                if best[end] is None or best[end][1] > score:
                    best[end] = (start, score)
    if best[-1] is None:
        return ["<unk>"], None
    tokens, end = [], len(word)
    while end > 0:
        start = best[end][0]
        tokens.insert(0, word[start:end])
        end = start
    return tokens, best[-1][1]
    # END SOLUTION


def compute_loss(word_freqs: dict[str, int], model: dict[str, float]) -> float:
    """The corpus loss: the sum over words of ``freq * (score of the word's best segmentation)``."""
    # BEGIN SOLUTION
    return sum(freq * encode_word(word, model)[1] for word, freq in word_freqs.items())
    # END SOLUTION


def compute_scores(word_freqs: dict[str, int], model: dict[str, float]) -> dict[str, float]:
    """For every token of two or more characters, how much the loss grows when that token is
    removed from ``model`` (single characters are never removed, so they get no score)."""
    # BEGIN SOLUTION
    loss = compute_loss(word_freqs, model)
    scores = {}
    for token in model:
        if len(token) == 1:
            continue
        without = {t: s for t, s in model.items() if t != token}
        scores[token] = compute_loss(word_freqs, without) - loss
    return scores
    # END SOLUTION


def train_unigram(corpus: list[str], tokenizer, initial_size: int = 300, target_size: int = 100,
                  percent_to_remove: float = 0.1) -> dict[str, float]:
    """Train a Unigram model on ``corpus``.

    Start from ``initial_vocabulary(word_freqs, initial_size)``. While the model has more
    than ``target_size`` tokens: compute the scores, remove the
    ``int(len(model) * percent_to_remove)`` tokens with the lowest scores (at least one;
    stop when only characters are left) from the token frequencies, and rebuild the model
    with ``unigram_model``. Returns the final model.
    """
    # BEGIN SOLUTION
    word_freqs = word_frequencies(corpus, tokenizer)
    token_freqs = initial_vocabulary(word_freqs, initial_size)
    model = unigram_model(token_freqs)
    while len(model) > target_size:
        scores = compute_scores(word_freqs, model)
        if not scores:
            break
        ranked = sorted(scores.items(), key=lambda item: item[1])
        for token, _ in ranked[: max(1, int(len(model) * percent_to_remove))]:
            del token_freqs[token]
        model = unigram_model(token_freqs)
    return model
    # END SOLUTION


def unigram_tokenize(text: str, model: dict[str, float], tokenizer) -> list[str]:
    """Pre-tokenize ``text`` with the tokenizer's pre-tokenizer and encode every word."""
    # BEGIN SOLUTION
    words = tokenizer.backend_tokenizer.pre_tokenizer.pre_tokenize_str(text)
    return [token for word, _ in words for token in encode_word(word, model)[0]]
    # END SOLUTION
