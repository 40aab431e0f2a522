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
    # BEGIN SOLUTION
    return torch.tensor([input_ids])
    # END SOLUTION


def pad_batch(sequences: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad every sequence to the longest with ``pad_id``; return ``(input_ids,
    attention_mask)`` as long tensors of shape [batch, longest], the mask 1 on real tokens
    and 0 on padding."""
    # BEGIN SOLUTION
    longest = max(len(s) for s in sequences)
    ids = [s + [pad_id] * (longest - len(s)) for s in sequences]
    mask = [[1] * len(s) + [0] * (longest - len(s)) for s in sequences]
    return torch.tensor(ids), torch.tensor(mask)
    # END SOLUTION


def mask_matters(model, short: list[int], long: list[int], pad_id: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Show why the attention mask matters. Return the logits of ``short`` (shape
    [num_labels]) computed three ways: alone; in a batch with ``long``, padded and with the
    attention mask; in the same padded batch without the mask.

    Graded: the returned tensors carry no autograd history (``requires_grad`` False, no
    ``grad_fn``): run the model under ``torch.no_grad()`` or ``torch.inference_mode()``.
    The course page calls ``model(input_ids)`` bare; that is fine for printing, but its
    outputs then hold the autograd graph, and the hidden tests reject them.
    """
    # BEGIN SOLUTION
    ids, mask = pad_batch([short, long], pad_id)
    with torch.no_grad():
        alone = model(torch.tensor([short])).logits[0]
        masked = model(ids, attention_mask=mask).logits[0]
        unmasked = model(ids).logits[0]
    return alone, masked, unmasked
    # END SOLUTION


def truncate(sequences: list[list[int]], max_length: int) -> list[list[int]]:
    """Cut every sequence to at most ``max_length`` ids, keeping the start."""
    # BEGIN SOLUTION
    return [s[:max_length] for s in sequences]
    # END SOLUTION


def batched_logits(model, sequences: list[list[int]], pad_id: int) -> torch.Tensor:
    """Logits of several sequences of different lengths from one forward pass, shape
    [batch, num_labels]; each row equals the logits of that sequence alone.

    Graded: the returned tensor carries no autograd history (``requires_grad`` False, no
    ``grad_fn``): run the model under ``torch.no_grad()`` or ``torch.inference_mode()``.
    The course page calls ``model(input_ids)`` bare; that is fine for printing, but its
    outputs then hold the autograd graph, and the hidden tests reject them.
    """
    # BEGIN SOLUTION
    ids, mask = pad_batch(sequences, pad_id)
    with torch.no_grad():
        return model(ids, attention_mask=mask).logits
    # END SOLUTION
