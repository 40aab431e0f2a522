# Exercise 6.8: fill in every TODO, then run `hfcourse check 6.8`.
# 练习 6.8：完成每个 TODO，然后运行 `hfcourse check 6.8`。
"""6.8 Building a tokenizer, block by block — 逐块构建tokenizer

A 🤗 Tokenizers ``Tokenizer`` is a pipeline of blocks: normalizer, pre-tokenizer, model
(trained by a trainer), post-processor (special tokens, token type ids) and decoder.
Assembling them by hand rebuilds the tokenizers of BERT (WordPiece), GPT-2 (byte-level
BPE) and XLNet (Unigram); the result is saved to one JSON file, reloaded, and wrapped in
a ``PreTrainedTokenizerFast`` for use with 🤗 Transformers.
Course: https://huggingface.co/learn/llm-course/chapter6/8
中文课程：https://huggingface.co/learn/llm-course/zh-CN/chapter6/8

🤗 Tokenizers 的 ``Tokenizer`` 由一组模块串联而成：标准化器、预分词器、模型（由训练器
训练）、后处理器（特殊 token、token 类型 id）和解码器。手工组装这些模块，可以重建
BERT（WordPiece）、GPT-2（字节级 BPE）和 XLNet（Unigram）的 tokenizer；结果保存为一个
JSON 文件，可重新加载，并包装成 ``PreTrainedTokenizerFast`` 供 🤗 Transformers 使用。
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers


def training_corpus(raw_datasets, batch_size: int = 1000) -> Iterator[list[str]]:
    """The ``text`` column of ``raw_datasets["train"]`` in batches of ``batch_size``."""
    # TODO: implement training_corpus (see the docstring)
    raise NotImplementedError("6.8 training_corpus: not implemented yet")


def build_wordpiece(raw_datasets, vocab_size: int) -> Tokenizer:
    """A BERT-like tokenizer trained on ``training_corpus(raw_datasets)``: normalizer
    ``Sequence([NFD(), Lowercase(), StripAccents()])``, pre-tokenizer ``Whitespace()``,
    a ``WordPiece`` model with ``unk_token="[UNK]"`` trained by a ``WordPieceTrainer`` with
    the special tokens ``["[UNK]", "[PAD]", "[CLS]", "[SEP]", "[MASK]"]`` (in this order),
    a ``TemplateProcessing`` post-processor giving ``[CLS] A [SEP]`` and
    ``[CLS] A [SEP] B [SEP]`` (type ids 0 for the first part, 1 for ``B [SEP]``) and a
    ``WordPiece(prefix="##")`` decoder."""
    # TODO: implement build_wordpiece (see the docstring)
    raise NotImplementedError("6.8 build_wordpiece: not implemented yet")


def build_bpe(raw_datasets, vocab_size: int) -> Tokenizer:
    """A GPT-2-like tokenizer trained on ``training_corpus(raw_datasets)``: no normalizer,
    pre-tokenizer ``ByteLevel(add_prefix_space=False)``, a ``BPE`` model trained by a
    ``BpeTrainer`` with the special token ``"<|endoftext|>"``, post-processor
    ``ByteLevel(trim_offsets=False)`` and decoder ``ByteLevel()``."""
    # TODO: implement build_bpe (see the docstring)
    raise NotImplementedError("6.8 build_bpe: not implemented yet")


def build_unigram(raw_datasets, vocab_size: int) -> Tokenizer:
    """An XLNet-like tokenizer trained on ``training_corpus(raw_datasets)``: normalizer
    ``Sequence([Replace("``", '"'), Replace("''", '"'), NFKD(), StripAccents(),
    Replace(Regex(" {2,}"), " ")])``, pre-tokenizer ``Metaspace()``, a ``Unigram`` model
    trained by a ``UnigramTrainer`` with ``unk_token="<unk>"`` and the special tokens
    ``["<cls>", "<sep>", "<unk>", "<pad>", "<mask>", "<s>", "</s>"]`` (in this order), a
    ``TemplateProcessing`` post-processor giving ``A <sep> <cls>`` and
    ``A <sep> B <sep> <cls>`` (type ids 0, then 1 for ``B <sep>``, and 2 for ``<cls>``) and
    a ``Metaspace()`` decoder."""
    # TODO: implement build_unigram (see the docstring)
    raise NotImplementedError("6.8 build_unigram: not implemented yet")


def wrap(tokenizer_file: Path, family: str, directory: Path):
    """Load the ``tokenizer.json`` at ``tokenizer_file`` with ``Tokenizer.from_file``, wrap
    it in a ``PreTrainedTokenizerFast`` with the special tokens of its family, save it with
    ``save_pretrained(directory)`` and return the wrapped tokenizer.

    ``"wordpiece"``: unk ``[UNK]``, pad ``[PAD]``, cls ``[CLS]``, sep ``[SEP]``, mask
    ``[MASK]``. ``"bpe"``: bos and eos ``<|endoftext|>``. ``"unigram"``: bos ``<s>``, eos
    ``</s>``, unk ``<unk>``, pad ``<pad>``, cls ``<cls>``, sep ``<sep>``, mask ``<mask>``,
    and ``padding_side="left"`` (XLNet pads on the left).
    """
    # TODO: implement wrap (see the docstring)
    raise NotImplementedError("6.8 wrap: not implemented yet")
