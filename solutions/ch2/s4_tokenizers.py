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
    # BEGIN SOLUTION
    return text.split(), [c for c in text if not c.isspace()]
    # END SOLUTION


def tokenize(tokenizer, text: str) -> list[str]:
    """The sub-word tokens of ``text`` (no special tokens)."""
    # BEGIN SOLUTION
    return tokenizer.tokenize(text)
    # END SOLUTION


def manual_ids(tokenizer, text: str) -> list[int]:
    """Token ids of ``text`` built in two explicit steps: tokenize, then convert the
    tokens to ids (no special tokens)."""
    # BEGIN SOLUTION
    return tokenizer.convert_tokens_to_ids(tokenizer.tokenize(text))
    # END SOLUTION


def roundtrip(tokenizer, text: str) -> str:
    """Encode ``text`` and decode it again, without the special tokens."""
    # BEGIN SOLUTION
    return tokenizer.decode(tokenizer(text)["input_ids"], skip_special_tokens=True)
    # END SOLUTION


def save_tokenizer(tokenizer, directory: Path) -> list[str]:
    """Save the tokenizer to ``directory`` and return the sorted names of the files written."""
    # BEGIN SOLUTION
    tokenizer.save_pretrained(directory)
    return sorted(p.name for p in Path(directory).iterdir())
    # END SOLUTION
