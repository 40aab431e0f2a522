# Exercise 2.6: fill in every TODO, then run `hfcourse check 2.6`.
# 练习 2.6：完成每个 TODO，然后运行 `hfcourse check 2.6`。
"""2.6 Putting it all together — 用Tokenizer搞定预处理pipeline

One tokenizer call handles padding, truncation, special tokens and the tensor type;
then one forward pass classifies the whole batch.
Course: https://huggingface.co/learn/llm-course/chapter2/6
中文课程：https://huggingface.co/learn/llm-course/zh-CN/chapter2/6

一次 tokenizer 调用就能处理补齐、截断、特殊 token 和张量类型；再一次前向计算就能对整个 batch 分类。
"""

from __future__ import annotations

import torch


def encode_all_ways(tokenizer, sequences: list[str]) -> dict[str, list[list[int]]]:
    """The ``input_ids`` of ``sequences`` under four settings, as lists:
    ``"longest"`` (pad to the longest), ``"max_length"`` (pad to the model's maximum length),
    ``"max_length_8"`` (pad or truncate to exactly 8), and ``"truncated_8"`` (truncate to at
    most 8, no padding)."""
    # TODO: implement encode_all_ways (see the docstring)
    raise NotImplementedError("2.6 encode_all_ways: not implemented yet")


def to_tensors(tokenizer, sequences: list[str], framework: str):
    """The padded ``input_ids`` of ``sequences`` as a PyTorch tensor (``framework="pt"``)
    or a NumPy array (``framework="np"``)."""
    # TODO: implement to_tensors (see the docstring)
    raise NotImplementedError("2.6 to_tensors: not implemented yet")


def tokens_with_specials(tokenizer, text: str) -> list[str]:
    """The tokens the model really sees for ``text``, special tokens included."""
    # TODO: implement tokens_with_specials (see the docstring)
    raise NotImplementedError("2.6 tokens_with_specials: not implemented yet")


def classify(model, tokenizer, sequences: list[str]) -> torch.Tensor:
    """Class probabilities for a batch of texts, shape [batch, num_labels]: tokenize once
    with padding and truncation, run the model once without gradients, softmax.

    Graded: the returned tensor carries no autograd history (``requires_grad`` False, no
    ``grad_fn``): run the model under ``torch.no_grad()`` or ``torch.inference_mode()``.
    The course page calls ``model(**tokens)`` bare; that is fine for printing, but its
    outputs then hold the autograd graph, and the hidden tests reject them.
    """
    # TODO: implement classify (see the docstring)
    raise NotImplementedError("2.6 classify: not implemented yet")
