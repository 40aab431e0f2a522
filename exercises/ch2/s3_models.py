# Exercise 2.3: fill in every TODO, then run `hfcourse check 2.3`.
# 练习 2.3：完成每个 TODO，然后运行 `hfcourse check 2.3`。
"""2.3 Models — 模型的创建、加载、保存、推理

Create a model from a configuration, save it with ``save_pretrained`` and load it back
with ``from_pretrained``, and run it on token ids.
Course: https://huggingface.co/learn/llm-course/chapter2/3
中文课程：https://huggingface.co/learn/llm-course/zh-CN/chapter2/3

从配置创建模型，用 ``save_pretrained`` 保存、用 ``from_pretrained`` 加载，并在 token id 上推理。
"""

from __future__ import annotations

from pathlib import Path

import torch
from transformers import BertConfig, BertModel


def model_from_config(vocab_size: int, hidden_size: int, num_layers: int, num_heads: int) -> dict:
    """Create a randomly initialised ``BertModel`` from a ``BertConfig`` with these sizes
    (intermediate size 4 × hidden size) and describe it: return
    ``{"num_parameters": model.num_parameters(), "hidden_size": …, "num_hidden_layers": …,
    "num_attention_heads": …}`` read back from the model's config."""
    # TODO: implement model_from_config (see the docstring)
    raise NotImplementedError("2.3 model_from_config: not implemented yet")


def save_and_reload(model, directory: Path):
    """Save ``model`` to ``directory`` with ``save_pretrained`` and return a new model of the
    same class loaded from that directory."""
    # TODO: implement save_and_reload (see the docstring)
    raise NotImplementedError("2.3 save_and_reload: not implemented yet")


def logits_from_ids(model, input_ids: list[list[int]]) -> torch.Tensor:
    """Run a classification model on token ids that are already encoded (all rows of one
    length) and return its logits, shape [batch, num_labels].

    Graded: the returned tensor carries no autograd history (``requires_grad`` False, no
    ``grad_fn``): run the model under ``torch.no_grad()`` or ``torch.inference_mode()``.
    The course page calls ``model(model_inputs)`` bare; that is fine for printing, but its
    outputs then hold the autograd graph, and the hidden tests reject them.
    """
    # TODO: implement logits_from_ids (see the docstring)
    raise NotImplementedError("2.3 logits_from_ids: not implemented yet")


def encode_pair(tokenizer, first: str, second: str) -> dict[str, list[int]]:
    """Encode two texts as one pair (``[CLS] first [SEP] second [SEP]``) and return the
    ``input_ids``, ``token_type_ids`` and ``attention_mask`` as lists of ints."""
    # TODO: implement encode_pair (see the docstring)
    raise NotImplementedError("2.3 encode_pair: not implemented yet")


def truncate_batch(tokenizer, texts: list[str], max_length: int) -> list[list[int]]:
    """Token ids of each text, truncated to at most ``max_length`` tokens including the
    special tokens (no padding)."""
    # TODO: implement truncate_batch (see the docstring)
    raise NotImplementedError("2.3 truncate_batch: not implemented yet")
