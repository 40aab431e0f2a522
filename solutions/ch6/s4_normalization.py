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
    # BEGIN SOLUTION
    normalizer = tokenizer.backend_tokenizer.normalizer
    return text if normalizer is None else normalizer.normalize_str(text)
    # END SOLUTION


def pre_tokenize(tokenizer, text: str) -> list[tuple[str, Span]]:
    """The words of ``text`` and their ``(start, end)`` character offsets, as the
    tokenizer's pre-tokenizer splits them (no normalization)."""
    # BEGIN SOLUTION
    pre_tokenizer = tokenizer.backend_tokenizer.pre_tokenizer
    return [(word, (start, end)) for word, (start, end) in pre_tokenizer.pre_tokenize_str(text)]
    # END SOLUTION


def pre_tokenize_like(family: str, text: str) -> list[tuple[str, Span]]:
    """Pre-tokenize ``text`` with a pre-tokenizer built from ``tokenizers.pre_tokenizers``:
    ``"bert"`` is ``BertPreTokenizer()``, ``"gpt2"`` is ``ByteLevel(add_prefix_space=False)``
    and ``"t5"`` is ``Sequence([WhitespaceSplit(), Metaspace()])``."""
    # BEGIN SOLUTION
    from tokenizers import pre_tokenizers

    built = {
        "bert": lambda: pre_tokenizers.BertPreTokenizer(),
        "gpt2": lambda: pre_tokenizers.ByteLevel(add_prefix_space=False),
        "t5": lambda: pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Metaspace()]),
    }
    return [(word, (start, end)) for word, (start, end) in built[family]().pre_tokenize_str(text)]
    # END SOLUTION


def words_and_tokens(tokenizer, text: str) -> list[tuple[str, list[str]]]:
    """The whole pipeline shown word by word: normalize ``text``, pre-tokenize the result,
    and pair each word with the sub-word tokens the tokenizer's model gives it
    (``tokenizer.backend_tokenizer.model.tokenize(word)``)."""
    # BEGIN SOLUTION
    model = tokenizer.backend_tokenizer.model
    words = pre_tokenize(tokenizer, normalize(tokenizer, text))
    return [(word, [token.value for token in model.tokenize(word)]) for word, _ in words]
    # END SOLUTION
