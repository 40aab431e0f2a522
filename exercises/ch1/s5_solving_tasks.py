# Exercise 1.5: fill in every TODO, then run `hfcourse check 1.5`.
# 练习 1.5：完成每个 TODO，然后运行 `hfcourse check 1.5`。
"""1.5 How 🤗 Transformers solve tasks — Transformer如何解决各类任务

Every task is the same body with a different head: sequence classification puts one score
per label on the whole text, token classification one per label on every token, a masked
or causal language model one per vocabulary entry on every position, question answering a
start and an end score per token, and a seq2seq model generates new text. The ``Auto``
class of a task loads the body with that head from a checkpoint, and reading the head's
logits (argmax at the right position) gives the task's answer.
Course: https://huggingface.co/learn/llm-course/chapter1/5
中文课程：https://huggingface.co/learn/llm-course/zh-CN/chapter1/5

每个任务都是同一个模型主体加上不同的头：序列分类对整段文本给每个标签一个分数，token分类对每个
token给每个标签一个分数，掩码或因果语言模型在每个位置给词表中每个token一个分数，问答给每个token
一个起点分数和一个终点分数，seq2seq模型则生成新的文本。任务对应的 ``Auto`` 类从检查点加载带这个头
的模型，在正确的位置上读取头的logits（取argmax）就得到任务的答案。
"""

from __future__ import annotations

import torch
import transformers
from transformers import AutoTokenizer


def auto_class_for_task(task: str) -> type:
    """The ``transformers`` Auto class that loads a model for ``task``, one of
    "feature-extraction", "text-classification" (alias "sentiment-analysis"),
    "zero-shot-classification", "token-classification" (alias "ner"), "question-answering",
    "fill-mask", "text-generation", "summarization", "translation". Raise ``KeyError`` for
    any other task."""
    # TODO: implement auto_class_for_task (see the docstring)
    raise NotImplementedError("1.5 auto_class_for_task: not implemented yet")


def load_for_task(task: str, model_dir: str):
    """The model in ``model_dir`` loaded with the Auto class of ``task``, in eval mode."""
    # TODO: implement load_for_task (see the docstring)
    raise NotImplementedError("1.5 load_for_task: not implemented yet")


def predict(task: str, model_dir: str, text: str) -> str | list[str]:
    """What the head of ``task`` says about ``text``, from the argmax of its logits:
    "text-classification": the label name of the text; "token-classification": the label
    name of every token of the encoding, special tokens included; "fill-mask": the token
    (``tokenizer.decode``) predicted at the mask token; "text-generation": the token
    (``tokenizer.decode``) predicted to come right after the text."""
    # TODO: implement predict (see the docstring)
    raise NotImplementedError("1.5 predict: not implemented yet")
