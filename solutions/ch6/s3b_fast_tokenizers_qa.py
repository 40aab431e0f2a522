"""6.3b Fast tokenizers in the QA pipeline — 在问答任务中使用快速tokenizer

Extractive question answering by hand (transformers 5 no longer has the
``question-answering`` pipeline): the model gives a start and an end logit per token;
tokens outside the context are masked, the best span maximises
``p(start) * p(end)`` with ``start <= end``, and the offsets turn it back into text. A
context longer than the model's window is split into overlapping windows with
``stride`` and ``return_overflowing_tokens``, and the best span over all windows wins.
Course: https://huggingface.co/learn/llm-course/chapter6/3b
中文课程：https://huggingface.co/learn/llm-course/zh-CN/chapter6/3b

手工实现抽取式问答（transformers 5 已移除 ``question-answering`` pipeline）：模型为每个
token 给出起点和终点 logit；屏蔽上下文以外的 token，选出 ``start <= end`` 且
``p(start) * p(end)`` 最大的区间，再用偏移量还原成文本。超过模型窗口的长上下文用
``stride`` 和 ``return_overflowing_tokens`` 切成重叠的窗口，取所有窗口中最好的答案。
"""

from __future__ import annotations

import torch


def best_span(start_logits, end_logits, sequence_ids: list[int | None]) -> tuple[int, int, float]:
    """The most likely answer span of one window.

    Every token whose sequence id is not 1 (the question, the special tokens, padding) gets
    the logit -10000, except token 0 (``[CLS]``), which is kept. Softmax turns each row of
    logits into probabilities; the score of span (s, e) is ``p_start[s] * p_end[e]`` and
    only spans with ``s <= e`` count. Returns ``(s, e, score)`` of the best span (the first
    one in row-major order on a tie).
    """
    # BEGIN SOLUTION
    start_logits = torch.as_tensor(start_logits, dtype=torch.float32).clone()
    end_logits = torch.as_tensor(end_logits, dtype=torch.float32).clone()
    mask = torch.tensor([s != 1 for s in sequence_ids])
    mask[0] = False
    start_logits[mask] = -10000
    end_logits[mask] = -10000
    start_probs = torch.softmax(start_logits, dim=-1)
    end_probs = torch.softmax(end_logits, dim=-1)
    scores = torch.triu(start_probs[:, None] * end_probs[None, :])
    index = int(scores.argmax())
    start, end = index // scores.shape[1], index % scores.shape[1]
    return start, end, float(scores[start, end])
    # END SOLUTION


def answer_question(model, tokenizer, question: str, context: str) -> dict:
    """Answer ``question`` from a short ``context`` (one window): ``{"answer", "start",
    "end", "score"}`` where ``answer == context[start:end]`` is the ``best_span`` mapped
    to characters with the offsets."""
    # BEGIN SOLUTION
    inputs = tokenizer(question, context, return_offsets_mapping=True, return_tensors="pt")
    offsets = inputs.pop("offset_mapping")[0].tolist()
    with torch.no_grad():
        outputs = model(**inputs)
    start, end, score = best_span(outputs.start_logits[0], outputs.end_logits[0], inputs.sequence_ids(0))
    start_char, end_char = offsets[start][0], offsets[end][1]
    return {"answer": context[start_char:end_char], "start": start_char, "end": end_char, "score": score}
    # END SOLUTION


def context_windows(tokenizer, question: str, context: str, max_length: int, stride: int) -> list[str]:
    """Split a long context the way the model will see it: ``tokenizer(question, context,
    truncation="only_second", max_length=…, stride=…, return_overflowing_tokens=True,
    return_offsets_mapping=True)``. Returns, for each window, the part of ``context`` it
    covers (from the start of its first context token to the end of its last)."""
    # BEGIN SOLUTION
    inputs = tokenizer(question, context, truncation="only_second", max_length=max_length, stride=stride,
                       return_overflowing_tokens=True, return_offsets_mapping=True)
    windows = []
    for i, offsets in enumerate(inputs["offset_mapping"]):
        inside = [span for span, seq in zip(offsets, inputs.sequence_ids(i)) if seq == 1]
        windows.append(context[inside[0][0]:inside[-1][1]])
    return windows
    # END SOLUTION


def answer_long_context(model, tokenizer, question: str, context: str, max_length: int = 384,
                        stride: int = 128) -> dict:
    """Answer ``question`` from a context of any length: tokenize it into padded windows
    as in ``context_windows``, run the model on all windows at once, take the
    ``best_span`` of each window and return the one with the highest score, as
    ``{"answer", "start", "end", "score"}``."""
    # BEGIN SOLUTION
    inputs = tokenizer(question, context, truncation="only_second", max_length=max_length, stride=stride,
                       padding="longest", return_overflowing_tokens=True, return_offsets_mapping=True)
    inputs.pop("overflow_to_sample_mapping")
    offsets = inputs.pop("offset_mapping")
    sequence_ids = [inputs.sequence_ids(i) for i in range(len(offsets))]
    inputs = inputs.convert_to_tensors("pt")
    with torch.no_grad():
        outputs = model(**inputs)
    best = None
    for i in range(len(offsets)):
        start, end, score = best_span(outputs.start_logits[i], outputs.end_logits[i], sequence_ids[i])
        if best is None or score > best["score"]:
            start_char, end_char = offsets[i][start][0], offsets[i][end][1]
            best = {"answer": context[start_char:end_char], "start": start_char, "end": end_char, "score": score}
    return best
    # END SOLUTION
