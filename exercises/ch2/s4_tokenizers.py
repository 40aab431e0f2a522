# Exercise 2.4: fill in every TODO, then run `hfcourse check 2.4`.
# 练习 2.4：完成每个 TODO，然后运行 `hfcourse check 2.4`。
"""2.4 Tokenizers — 介绍Tokenizer的使用。介绍预处理中的分词、token-id

Word, character and sub-word tokenization; from text to tokens to ids and back; saving
a tokenizer.
Course: https://huggingface.co/learn/llm-course/chapter2/4
中文课程：https://huggingface.co/learn/llm-course/zh-CN/chapter2/4

词、字符和子词分词；文本 → token → id 再还原；保存 tokenizer。
"""

from __future__ import annotations

from pathlib import Path


def word_and_char_tokens(text: str) -> tuple[list[str], list[str]]:
    """The two simplest tokenizations of ``text``: words split on white space, and the
    characters of the text without white space."""
    # TODO: implement word_and_char_tokens (see the docstring)
    raise NotImplementedError("2.4 word_and_char_tokens: not implemented yet")


def tokenize(tokenizer, text: str) -> list[str]:
    """The sub-word tokens of ``text`` (no special tokens)."""
    # TODO: implement tokenize (see the docstring)
    raise NotImplementedError("2.4 tokenize: not implemented yet")


def manual_ids(tokenizer, text: str) -> list[int]:
    """Token ids of ``text`` built in two explicit steps: tokenize, then convert the
    tokens to ids (no special tokens)."""
    # TODO: implement manual_ids (see the docstring)
    raise NotImplementedError("2.4 manual_ids: not implemented yet")


def roundtrip(tokenizer, text: str) -> str:
    """Encode ``text`` and decode it again, without the special tokens."""
    # TODO: implement roundtrip (see the docstring)
    raise NotImplementedError("2.4 roundtrip: not implemented yet")


def save_tokenizer(tokenizer, directory: Path) -> list[str]:
    """Save the tokenizer to ``directory`` and return the sorted names of the files written."""
    # TODO: implement save_tokenizer (see the docstring)
    raise NotImplementedError("2.4 save_tokenizer: not implemented yet")
