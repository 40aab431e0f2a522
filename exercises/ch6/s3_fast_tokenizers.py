# Exercise 6.3: fill in every TODO, then run `hfcourse check 6.3`.
# 练习 6.3：完成每个 TODO，然后运行 `hfcourse check 6.3`。
"""6.3 Fast tokenizers' special powers — 快速tokenizer的特殊能力

A fast tokenizer keeps track of where every token comes from: ``word_ids()`` maps tokens
to words and ``offset_mapping`` / ``word_to_chars`` map them to character spans of the
original text. With these, the token-classification (NER) pipeline can be rebuilt by hand:
softmax over the logits, the most likely label per token, and tokens grouped into entities
with their character spans.
Course: https://huggingface.co/learn/llm-course/chapter6/3
中文课程：https://huggingface.co/learn/llm-course/zh-CN/chapter6/3

快速 tokenizer 记录每个 token 的来源：``word_ids()`` 把 token 对应到词，
``offset_mapping`` 和 ``word_to_chars`` 把它们对应到原文的字符区间。借助这些信息可以
手工重建 token 分类（命名实体识别）pipeline：对 logits 做 softmax，为每个 token 取最
可能的标签，再把 token 组合成带字符区间的实体。
"""

from __future__ import annotations

import torch

Span = tuple[int, int]


def tokens_and_word_ids(tokenizer, text: str) -> tuple[list[str], list[int | None]]:
    """The tokens of ``tokenizer(text)`` (special tokens included) and the index of the word
    each one comes from (``None`` for special tokens)."""
    # TODO: implement tokens_and_word_ids (see the docstring)
    raise NotImplementedError("6.3 tokens_and_word_ids: not implemented yet")


def word_span(tokenizer, text: str, word_index: int) -> str:
    """The characters of word ``word_index`` in ``text``, found with
    ``word_to_chars`` of the encoding."""
    # TODO: implement word_span (see the docstring)
    raise NotImplementedError("6.3 word_span: not implemented yet")


def token_probabilities(model, tokenizer, text: str) -> torch.Tensor:
    """Label probabilities of every token of ``tokenizer(text)`` (special tokens included),
    shape [tokens, labels]; each row sums to 1.

    Graded: the returned tensor carries no autograd history (``requires_grad`` False, no
    ``grad_fn``): run the model under ``torch.no_grad()`` or ``torch.inference_mode()``.
    The course page calls ``model(**inputs)`` bare; that is fine for printing, but its
    outputs then hold the autograd graph, and the hidden tests reject them.
    """
    # TODO: implement token_probabilities (see the docstring)
    raise NotImplementedError("6.3 token_probabilities: not implemented yet")


def token_predictions(model, tokenizer, text: str) -> list[dict]:
    """What ``pipeline("token-classification")`` returns without aggregation: for every
    token that is not a special token and whose most likely label is not ``"O"``, a dict
    with ``entity`` (the label), ``score`` (its probability), ``index`` (the token's
    position in ``input_ids``), ``word`` (the token), ``start`` and ``end`` (its character
    offsets)."""
    # TODO: implement token_predictions (see the docstring)
    raise NotImplementedError("6.3 token_predictions: not implemented yet")


def group_entities(predictions: list[int], probabilities: list[list[float]], offsets: list[Span],
                   labels: list[str], text: str) -> list[dict]:
    """Group token predictions into entities, like the pipeline's
    ``aggregation_strategy="simple"``.

    ``predictions[i]`` is token i's label id, ``probabilities[i]`` its label probabilities,
    ``offsets[i]`` its character span and ``labels[id]`` a label name (``"O"``, ``"B-PER"``,
    ``"I-PER"``, ...). Tokens with an empty span (``start == end``, the special tokens) are
    skipped. A token joins the group before it when it has the same entity type (the label
    without ``B-``/``I-``) and its label does not start with ``B-``; otherwise it starts a
    new group. Groups of ``"O"`` are dropped. Each group gives ``entity_group`` (the type),
    ``score`` (the mean over its tokens of ``probabilities[i][predictions[i]]``), ``word``
    (``text[start:end]``), ``start`` (of its first token) and ``end`` (of its last token).
    """
    # TODO: implement group_entities (see the docstring)
    raise NotImplementedError("6.3 group_entities: not implemented yet")


def ner(model, tokenizer, text: str) -> list[dict]:
    """The grouped entities of ``text``: the model's predictions on ``tokenizer(text)``
    passed through ``group_entities``; equal to
    ``pipeline("token-classification", aggregation_strategy="simple")``."""
    # TODO: implement ner (see the docstring)
    raise NotImplementedError("6.3 ner: not implemented yet")
