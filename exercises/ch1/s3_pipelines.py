# Exercise 1.3: fill in every TODO, then run `hfcourse check 1.3`.
# 练习 1.3：完成每个 TODO，然后运行 `hfcourse check 1.3`。
"""1.3 Transformers, what can they do? — pipeline支持的task

``pipeline(task, model=...)`` wraps a tokenizer, a model and post-processing. Here each of
the course's nine tasks runs on a tiny model directory: feature extraction, sentiment
analysis, zero-shot classification, text generation, fill-mask and named entities through
``pipeline()``; question answering, summarization and translation, which transformers 5 no
longer offers as pipelines, by hand from the model heads
(``AutoModelForQuestionAnswering`` + span post-processing, ``AutoModelForSeq2SeqLM`` +
``generate``).
Course: https://huggingface.co/learn/llm-course/chapter1/3
中文课程：https://huggingface.co/learn/llm-course/zh-CN/chapter1/3

``pipeline(task, model=...)`` 把 tokenizer、模型和后处理封装在一起。本节在小模型目录上完成课程的
九个任务：特征抽取、情感分析、零样本分类、文本生成、完形填空和命名实体识别用 ``pipeline()``；
问答、摘要和翻译在 transformers 5 中已不再提供 pipeline，需要自己用模型头实现
（``AutoModelForQuestionAnswering`` 加答案片段后处理，``AutoModelForSeq2SeqLM`` 加 ``generate``）。
"""

from __future__ import annotations

import torch
from transformers import AutoModelForQuestionAnswering, AutoModelForSeq2SeqLM, AutoTokenizer, pipeline

TRANSLATE_PREFIX = "translate English to French: "
SUMMARIZE_PREFIX = "summarize: "


def extract_features(model_dir: str, text: str) -> list[list[float]]:
    """The feature-extraction pipeline's vectors for ``text``: one list of ``hidden_size``
    floats per token, special tokens included (shape [tokens, hidden_size])."""
    # TODO: implement extract_features (see the docstring)
    raise NotImplementedError("1.3 extract_features: not implemented yet")


def classify(model_dir: str, texts: list[str]) -> list[dict]:
    """The sentiment-analysis pipeline's answer for each text: ``{"label": str, "score": float}``."""
    # TODO: implement classify (see the docstring)
    raise NotImplementedError("1.3 classify: not implemented yet")


def zero_shot(model_dir: str, text: str, labels: list[str]) -> dict:
    """Zero-shot classification of ``text`` among ``labels`` (one label per text, the
    default): ``{"sequence", "labels", "scores"}`` with the labels sorted by score."""
    # TODO: implement zero_shot (see the docstring)
    raise NotImplementedError("1.3 zero_shot: not implemented yet")


def generate_text(model_dir: str, prompt: str, max_new_tokens: int) -> str:
    """The text-generation pipeline's greedy continuation (no sampling) of ``prompt`` with at
    most ``max_new_tokens`` new tokens; the returned text starts with the prompt."""
    # TODO: implement generate_text (see the docstring)
    raise NotImplementedError("1.3 generate_text: not implemented yet")


def fill_mask(model_dir: str, text: str, k: int) -> list[str]:
    """The ``k`` most likely tokens (``token_str``) for the mask token in ``text``, best first."""
    # TODO: implement fill_mask (see the docstring)
    raise NotImplementedError("1.3 fill_mask: not implemented yet")


def named_entities(model_dir: str, text: str) -> list[dict]:
    """Named entities of ``text`` with the pieces of each entity grouped together
    (``aggregation_strategy="simple"``): dicts with entity_group, score, word, start, end."""
    # TODO: implement named_entities (see the docstring)
    raise NotImplementedError("1.3 named_entities: not implemented yet")


def answer_question(model_dir: str, question: str, context: str, max_answer_tokens: int = 15) -> dict:
    """Extractive question answering by hand: encode (question, context), run the model, and
    pick the span of context tokens with the largest start logit + end logit, start <= end and
    at most ``max_answer_tokens`` tokens. Returns ``{"answer", "start", "end", "score"}``: the
    answer is ``context[start:end]`` (character offsets) and the score is
    p_start * p_end, each a softmax over the context tokens only."""
    # TODO: implement answer_question (see the docstring)
    raise NotImplementedError("1.3 answer_question: not implemented yet")


def summarize(model_dir: str, texts: list[str], max_new_tokens: int = 32) -> list[str]:
    """Summaries of ``texts`` by a T5-like model, greedy (``num_beams=1``, no sampling): the
    model was trained with T5's task prefix, so each input is ``"summarize: " + text``. Tokenize
    the batch once with padding and decode without special tokens."""
    # TODO: implement summarize (see the docstring)
    raise NotImplementedError("1.3 summarize: not implemented yet")


def translate(model_dir: str, texts: list[str], max_new_tokens: int = 32) -> list[str]:
    """English → French translations of ``texts``, as :func:`summarize` but with the prefix
    ``"translate English to French: "``."""
    # TODO: implement translate (see the docstring)
    raise NotImplementedError("1.3 translate: not implemented yet")
