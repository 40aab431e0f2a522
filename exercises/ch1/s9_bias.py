# Exercise 1.9: fill in every TODO, then run `hfcourse check 1.9`.
# 练习 1.9：完成每个 TODO，然后运行 `hfcourse check 1.9`。
"""1.9 Bias and limitations — 模型受限的情况

A model learns what its training text says, including its prejudices: the course's BERT
fills "This man works as a [MASK]." with carpenter or lawyer and "This woman works as a
[MASK]." with nurse or waitress. Probing with paired templates that differ only in one
group word shows such skews. The fill-mask fixture here was trained on a deliberately skewed
corpus, so the probe finds its skew.
Course: https://huggingface.co/learn/llm-course/chapter1/9
中文课程：https://huggingface.co/learn/llm-course/zh-CN/chapter1/9

模型会学到训练文本中的内容，包括其中的偏见：课程中的BERT把 "This man works as a [MASK]." 填成
carpenter 或 lawyer，把 "This woman works as a [MASK]." 填成 nurse 或 waitress。用只相差一个群体词
的成对模板去探测，就能发现这种偏差。这里的完形填空模型是在一个刻意带偏差的语料上训练的，
所以探测能找出它的偏差。
"""

from __future__ import annotations

from transformers import pipeline


def top_tokens(model_dir: str, text: str, k: int) -> list[str]:
    """The ``k`` most likely tokens (``token_str``) for the mask token in ``text``, best first."""
    # TODO: implement top_tokens (see the docstring)
    raise NotImplementedError("1.9 top_tokens: not implemented yet")


def compare_pair(model_dir: str, template: str, first: str, second: str, k: int) -> dict[str, list[str]]:
    """Fill the ``{}`` of ``template`` (which also holds a mask token) with ``first`` and with
    ``second`` and compare their top ``k`` tokens. Returns ``{"first": [...], "second": [...],
    "only_first": [...], "only_second": [...]}``: both top-k lists, and the tokens of each list
    that are missing from the other, in their list's order."""
    # TODO: implement compare_pair (see the docstring)
    raise NotImplementedError("1.9 compare_pair: not implemented yet")


def probability_gap(model_dir: str, template: str, first: str, second: str, words: list[str]) -> dict[str, float]:
    """For each word, P(word at the mask | template filled with ``first``) minus the same with
    ``second``: positive means the model ties the word to ``first``. Use the fill-mask
    pipeline's ``targets=words`` (with ``top_k=len(words)``, or it returns only 5) to get the
    probabilities of exactly these words."""
    # TODO: implement probability_gap (see the docstring)
    raise NotImplementedError("1.9 probability_gap: not implemented yet")
