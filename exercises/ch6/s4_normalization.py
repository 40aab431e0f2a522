# Exercise 6.4: fill in every TODO, then run `hfcourse check 6.4`.
# 练习 6.4：完成每个 TODO，然后运行 `hfcourse check 6.4`。
"""6.4 Normalization and pre-tokenization — 标准化和预分词

Before the model splits words into sub-word tokens, a tokenizer normalizes the text
(lower-casing, removing accents, Unicode normalization) and pre-tokenizes it into words
with character offsets. BERT splits on spaces and punctuation, GPT-2 keeps spaces as
``Ġ``, and SentencePiece tokenizers such as T5 replace them with ``▁``.
Course: https://huggingface.co/learn/llm-course/chapter6/4
中文课程：https://huggingface.co/learn/llm-course/zh-CN/chapter6/4

在模型把词切成子词之前，tokenizer 先对文本做标准化（小写、去重音、Unicode 规范化），
再预分词，得到带字符偏移的词。BERT 按空格和标点切分，GPT-2 用 ``Ġ`` 保留空格，
T5 等 SentencePiece 类 tokenizer 则用 ``▁`` 替换空格。
"""

from __future__ import annotations

Span = tuple[int, int]


def normalize(tokenizer, text: str) -> str:
    """``text`` as the tokenizer's normalizer (``tokenizer.backend_tokenizer.normalizer``)
    leaves it; unchanged if the tokenizer has no normalizer."""
    # TODO: implement normalize (see the docstring)
    raise NotImplementedError("6.4 normalize: not implemented yet")


def pre_tokenize(tokenizer, text: str) -> list[tuple[str, Span]]:
    """The words of ``text`` and their ``(start, end)`` character offsets, as the
    tokenizer's pre-tokenizer splits them (no normalization)."""
    # TODO: implement pre_tokenize (see the docstring)
    raise NotImplementedError("6.4 pre_tokenize: not implemented yet")


def pre_tokenize_like(family: str, text: str) -> list[tuple[str, Span]]:
    """Pre-tokenize ``text`` with a pre-tokenizer built from ``tokenizers.pre_tokenizers``:
    ``"bert"`` is ``BertPreTokenizer()``, ``"gpt2"`` is ``ByteLevel(add_prefix_space=False)``
    and ``"t5"`` is ``Sequence([WhitespaceSplit(), Metaspace()])``."""
    # TODO: implement pre_tokenize_like (see the docstring)
    raise NotImplementedError("6.4 pre_tokenize_like: not implemented yet")


def words_and_tokens(tokenizer, text: str) -> list[tuple[str, list[str]]]:
    """The whole pipeline shown word by word: normalize ``text``, pre-tokenize the result,
    and pair each word with the sub-word tokens the tokenizer's model gives it
    (``tokenizer.backend_tokenizer.model.tokenize(word)``)."""
    # TODO: implement words_and_tokens (see the docstring)
    raise NotImplementedError("6.4 words_and_tokens: not implemented yet")
