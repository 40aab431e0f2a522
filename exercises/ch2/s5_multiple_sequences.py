# Exercise 2.5: fill in every TODO, then run `hfcourse check 2.5`.
# 练习 2.5：完成每个 TODO，然后运行 `hfcourse check 2.5`。
"""2.5 Handling multiple sequences — 介绍批处理、补齐、注意力掩码、截断

Models take batches; sequences of different lengths are padded, and the attention mask
keeps padding out of attention. Long sequences are truncated.
Course: https://huggingface.co/learn/llm-course/chapter2/5
中文课程：https://huggingface.co/learn/llm-course/zh-CN/chapter2/5

模型按 batch 输入；长度不同的序列需要补齐，注意力掩码让补齐的位置不参与注意力；过长的序列要截断。
"""

from __future__ import annotations

import torch


def add_batch_dim(input_ids: list[int]) -> torch.Tensor:
    """One sequence of ids as a batch of one: a long tensor of shape [1, len(input_ids)]."""
    # TODO: implement add_batch_dim (see the docstring)
    raise NotImplementedError("2.5 add_batch_dim: not implemented yet")


def pad_batch(sequences: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad every sequence to the longest with ``pad_id``; return ``(input_ids,
    attention_mask)`` as long tensors of shape [batch, longest], the mask 1 on real tokens
    and 0 on padding."""
    # TODO: implement pad_batch (see the docstring)
    raise NotImplementedError("2.5 pad_batch: not implemented yet")


def mask_matters(model, short: list[int], long: list[int], pad_id: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Show why the attention mask matters. Return the logits of ``short`` (shape
    [num_labels]) computed three ways: alone; in a batch with ``long``, padded and with the
    attention mask; in the same padded batch without the mask.

    Graded: the returned tensors carry no autograd history (``requires_grad`` False, no
    ``grad_fn``): run the model under ``torch.no_grad()`` or ``torch.inference_mode()``.
    The course page calls ``model(input_ids)`` bare; that is fine for printing, but its
    outputs then hold the autograd graph, and the hidden tests reject them.
    """
    # TODO: implement mask_matters (see the docstring)
    raise NotImplementedError("2.5 mask_matters: not implemented yet")


def truncate(sequences: list[list[int]], max_length: int) -> list[list[int]]:
    """Cut every sequence to at most ``max_length`` ids, keeping the start."""
    # TODO: implement truncate (see the docstring)
    raise NotImplementedError("2.5 truncate: not implemented yet")


def batched_logits(model, sequences: list[list[int]], pad_id: int) -> torch.Tensor:
    """Logits of several sequences of different lengths from one forward pass, shape
    [batch, num_labels]; each row equals the logits of that sequence alone.

    Graded: the returned tensor carries no autograd history (``requires_grad`` False, no
    ``grad_fn``): run the model under ``torch.no_grad()`` or ``torch.inference_mode()``.
    The course page calls ``model(input_ids)`` bare; that is fine for printing, but its
    outputs then hold the autograd graph, and the hidden tests reject them.
    """
    # TODO: implement batched_logits (see the docstring)
    raise NotImplementedError("2.5 batched_logits: not implemented yet")
