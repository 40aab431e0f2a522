"""2.2 Behind the pipeline — pipeline的内部结构（前处理、model、后处理）

A pipeline is three steps: the tokenizer turns raw text into tensors, the model turns
tensors into logits, and post-processing turns logits into probabilities and labels.
Course: https://huggingface.co/learn/llm-course/chapter2/2
中文课程：https://huggingface.co/learn/llm-course/zh-CN/chapter2/2

pipeline 分三步：tokenizer 把原始文本变成张量，模型把张量变成 logits，
后处理再把 logits 变成概率和标签。
"""

from __future__ import annotations

import torch


def preprocess(tokenizer, texts: list[str]) -> dict[str, torch.Tensor]:
    """Tokenize a batch the way the pipeline does: pad to the longest text, truncate to
    the model's maximum length, and return PyTorch tensors.

    Returns a dict with ``input_ids``, ``token_type_ids`` and ``attention_mask``, each
    of shape [batch, length].
    """
    # BEGIN SOLUTION
    return dict(tokenizer(texts, padding=True, truncation=True, return_tensors="pt"))
    # END SOLUTION


def hidden_states(model, tokenizer, texts: list[str]) -> torch.Tensor:
    """Run the base model (no head) and return its last hidden state,
    shape [batch, length, hidden_size].

    Graded: the returned tensor carries no autograd history (``requires_grad`` False, no
    ``grad_fn``): run the model under ``torch.no_grad()`` or ``torch.inference_mode()``.
    The course page calls ``model(**inputs)`` bare; that is fine for printing, but its
    outputs then hold the autograd graph, and the hidden tests reject them.
    """
    # BEGIN SOLUTION
    inputs = tokenizer(texts, padding=True, truncation=True, return_tensors="pt")
    with torch.no_grad():
        return model(**inputs).last_hidden_state
    # END SOLUTION


def predict_proba(model, tokenizer, texts: list[str]) -> torch.Tensor:
    """Class probabilities of a sequence-classification model, shape [batch, num_labels];
    each row sums to 1.

    Graded: the returned tensor carries no autograd history (``requires_grad`` False, no
    ``grad_fn``): run the model under ``torch.no_grad()`` or ``torch.inference_mode()``.
    The course page calls ``model(**inputs)`` bare; that is fine for printing, but its
    outputs then hold the autograd graph, and the hidden tests reject them.
    """
    # BEGIN SOLUTION
    inputs = tokenizer(texts, padding=True, truncation=True, return_tensors="pt")
    with torch.no_grad():
        logits = model(**inputs).logits
    return torch.softmax(logits, dim=-1)
    # END SOLUTION


def predict_labels(model, tokenizer, texts: list[str]) -> list[str]:
    """The label name (from ``model.config.id2label``) of the most likely class of each text."""
    # BEGIN SOLUTION
    probs = predict_proba(model, tokenizer, texts)
    return [model.config.id2label[int(i)] for i in probs.argmax(dim=-1)]
    # END SOLUTION
