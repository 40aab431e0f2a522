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
    # BEGIN SOLUTION
    extractor = pipeline("feature-extraction", model=model_dir)
    return extractor(text)[0]
    # END SOLUTION


def classify(model_dir: str, texts: list[str]) -> list[dict]:
    """The sentiment-analysis pipeline's answer for each text: ``{"label": str, "score": float}``."""
    # BEGIN SOLUTION
    classifier = pipeline("sentiment-analysis", model=model_dir)
    return classifier(texts)
    # END SOLUTION


def zero_shot(model_dir: str, text: str, labels: list[str]) -> dict:
    """Zero-shot classification of ``text`` among ``labels`` (one label per text, the
    default): ``{"sequence", "labels", "scores"}`` with the labels sorted by score."""
    # BEGIN SOLUTION
    classifier = pipeline("zero-shot-classification", model=model_dir)
    return classifier(text, candidate_labels=labels)
    # END SOLUTION


def generate_text(model_dir: str, prompt: str, max_new_tokens: int) -> str:
    """The text-generation pipeline's greedy continuation (no sampling) of ``prompt`` with at
    most ``max_new_tokens`` new tokens; the returned text starts with the prompt."""
    # BEGIN SOLUTION
    generator = pipeline("text-generation", model=model_dir)
    return generator(prompt, do_sample=False, max_new_tokens=max_new_tokens)[0]["generated_text"]
    # END SOLUTION


def fill_mask(model_dir: str, text: str, k: int) -> list[str]:
    """The ``k`` most likely tokens (``token_str``) for the mask token in ``text``, best first."""
    # BEGIN SOLUTION
    unmasker = pipeline("fill-mask", model=model_dir)
    return [guess["token_str"] for guess in unmasker(text, top_k=k)]
    # END SOLUTION


def named_entities(model_dir: str, text: str) -> list[dict]:
    """Named entities of ``text`` with the pieces of each entity grouped together
    (``aggregation_strategy="simple"``): dicts with entity_group, score, word, start, end."""
    # BEGIN SOLUTION
    ner = pipeline("ner", model=model_dir, aggregation_strategy="simple")
    return ner(text)
    # END SOLUTION


def answer_question(model_dir: str, question: str, context: str, max_answer_tokens: int = 15) -> dict:
    """Extractive question answering by hand: encode (question, context), run the model, and
    pick the span of context tokens with the largest start logit + end logit, start <= end and
    at most ``max_answer_tokens`` tokens. Returns ``{"answer", "start", "end", "score"}``: the
    answer is ``context[start:end]`` (character offsets) and the score is
    p_start * p_end, each a softmax over the context tokens only."""
    # BEGIN SOLUTION
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForQuestionAnswering.from_pretrained(model_dir)
    inputs = tokenizer(question, context, truncation="only_second", return_offsets_mapping=True,
                       return_tensors="pt")
    offsets = inputs.pop("offset_mapping")[0]
    outside = torch.tensor([s != 1 for s in inputs.sequence_ids(0)])
    with torch.no_grad():
        out = model(**inputs)
    p_start = out.start_logits[0].masked_fill(outside, float("-inf")).softmax(-1)
    p_end = out.end_logits[0].masked_fill(outside, float("-inf")).softmax(-1)
    scores = (p_start[:, None] * p_end[None, :]).triu().tril(max_answer_tokens - 1)
    start, end = divmod(int(scores.argmax()), scores.shape[1])
    first, last = int(offsets[start][0]), int(offsets[end][1])
    return {"answer": context[first:last], "start": first, "end": last, "score": float(scores[start, end])}
    # END SOLUTION


def summarize(model_dir: str, texts: list[str], max_new_tokens: int = 32) -> list[str]:
    """Summaries of ``texts`` by a T5-like model, greedy (``num_beams=1``, no sampling): the
    model was trained with T5's task prefix, so each input is ``"summarize: " + text``. Tokenize
    the batch once with padding and decode without special tokens."""
    # BEGIN SOLUTION
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForSeq2SeqLM.from_pretrained(model_dir)
    inputs = tokenizer([SUMMARIZE_PREFIX + t for t in texts], padding=True, return_tensors="pt")
    out = model.generate(**inputs, do_sample=False, num_beams=1, max_new_tokens=max_new_tokens)
    return tokenizer.batch_decode(out, skip_special_tokens=True)
    # END SOLUTION


def translate(model_dir: str, texts: list[str], max_new_tokens: int = 32) -> list[str]:
    """English → French translations of ``texts``, as :func:`summarize` but with the prefix
    ``"translate English to French: "``."""
    # BEGIN SOLUTION
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForSeq2SeqLM.from_pretrained(model_dir)
    inputs = tokenizer([TRANSLATE_PREFIX + t for t in texts], padding=True, return_tensors="pt")
    out = model.generate(**inputs, do_sample=False, num_beams=1, max_new_tokens=max_new_tokens)
    return tokenizer.batch_decode(out, skip_special_tokens=True)
    # END SOLUTION
