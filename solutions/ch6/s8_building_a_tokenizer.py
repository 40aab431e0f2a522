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
    # BEGIN SOLUTION
    train = raw_datasets["train"]
    for start in range(0, len(train), batch_size):
        yield train[start:start + batch_size]["text"]
    # END SOLUTION


def build_wordpiece(raw_datasets, vocab_size: int) -> Tokenizer:
    """A BERT-like tokenizer trained on ``training_corpus(raw_datasets)``: normalizer
    ``Sequence([NFD(), Lowercase(), StripAccents()])``, pre-tokenizer ``Whitespace()``,
    a ``WordPiece`` model with ``unk_token="[UNK]"`` trained by a ``WordPieceTrainer`` with
    the special tokens ``["[UNK]", "[PAD]", "[CLS]", "[SEP]", "[MASK]"]`` (in this order),
    a ``TemplateProcessing`` post-processor giving ``[CLS] A [SEP]`` and
    ``[CLS] A [SEP] B [SEP]`` (type ids 0 for the first part, 1 for ``B [SEP]``) and a
    ``WordPiece(prefix="##")`` decoder."""
    # BEGIN SOLUTION
    tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.Sequence([
        normalizers.NFD(), normalizers.Lowercase(), normalizers.StripAccents()])
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    special_tokens = ["[UNK]", "[PAD]", "[CLS]", "[SEP]", "[MASK]"]
    trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=special_tokens, show_progress=False)
    tokenizer.train_from_iterator(training_corpus(raw_datasets), trainer=trainer)
    cls_id, sep_id = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS]:0 $A:0 [SEP]:0", pair="[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)])
    tokenizer.decoder = decoders.WordPiece(prefix="##")
    return tokenizer
    # END SOLUTION


def build_bpe(raw_datasets, vocab_size: int) -> Tokenizer:
    """A GPT-2-like tokenizer trained on ``training_corpus(raw_datasets)``: no normalizer,
    pre-tokenizer ``ByteLevel(add_prefix_space=False)``, a ``BPE`` model trained by a
    ``BpeTrainer`` with the special token ``"<|endoftext|>"``, post-processor
    ``ByteLevel(trim_offsets=False)`` and decoder ``ByteLevel()``."""
    # BEGIN SOLUTION
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<|endoftext|>"], show_progress=False)
    tokenizer.train_from_iterator(training_corpus(raw_datasets), trainer=trainer)
    tokenizer.post_processor = processors.ByteLevel(trim_offsets=False)
    tokenizer.decoder = decoders.ByteLevel()
    return tokenizer
    # END SOLUTION


def build_unigram(raw_datasets, vocab_size: int) -> Tokenizer:
    """An XLNet-like tokenizer trained on ``training_corpus(raw_datasets)``: normalizer
    ``Sequence([Replace("``", '"'), Replace("''", '"'), NFKD(), StripAccents(),
    Replace(Regex(" {2,}"), " ")])``, pre-tokenizer ``Metaspace()``, a ``Unigram`` model
    trained by a ``UnigramTrainer`` with ``unk_token="<unk>"`` and the special tokens
    ``["<cls>", "<sep>", "<unk>", "<pad>", "<mask>", "<s>", "</s>"]`` (in this order), a
    ``TemplateProcessing`` post-processor giving ``A <sep> <cls>`` and
    ``A <sep> B <sep> <cls>`` (type ids 0, then 1 for ``B <sep>``, and 2 for ``<cls>``) and
    a ``Metaspace()`` decoder."""
    # BEGIN SOLUTION
    tokenizer = Tokenizer(models.Unigram())
    tokenizer.normalizer = normalizers.Sequence([
        normalizers.Replace("``", '"'), normalizers.Replace("''", '"'), normalizers.NFKD(),
        normalizers.StripAccents(), normalizers.Replace(Regex(" {2,}"), " ")])
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace()
    special_tokens = ["<cls>", "<sep>", "<unk>", "<pad>", "<mask>", "<s>", "</s>"]
    trainer = trainers.UnigramTrainer(vocab_size=vocab_size, special_tokens=special_tokens, unk_token="<unk>",
                                      show_progress=False)
    tokenizer.train_from_iterator(training_corpus(raw_datasets), trainer=trainer)
    cls_id, sep_id = tokenizer.token_to_id("<cls>"), tokenizer.token_to_id("<sep>")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="$A:0 <sep>:0 <cls>:2", pair="$A:0 <sep>:0 $B:1 <sep>:1 <cls>:2",
        special_tokens=[("<sep>", sep_id), ("<cls>", cls_id)])
    tokenizer.decoder = decoders.Metaspace()
    return tokenizer
    # END SOLUTION


def wrap(tokenizer_file: Path, family: str, directory: Path):
    """Load the ``tokenizer.json`` at ``tokenizer_file`` with ``Tokenizer.from_file``, wrap
    it in a ``PreTrainedTokenizerFast`` with the special tokens of its family, save it with
    ``save_pretrained(directory)`` and return the wrapped tokenizer.

    ``"wordpiece"``: unk ``[UNK]``, pad ``[PAD]``, cls ``[CLS]``, sep ``[SEP]``, mask
    ``[MASK]``. ``"bpe"``: bos and eos ``<|endoftext|>``. ``"unigram"``: bos ``<s>``, eos
    ``</s>``, unk ``<unk>``, pad ``<pad>``, cls ``<cls>``, sep ``<sep>``, mask ``<mask>``,
    and ``padding_side="left"`` (XLNet pads on the left).
    """
    # BEGIN SOLUTION
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer.from_file(str(tokenizer_file))
    special = {
        "wordpiece": dict(unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]",
                          mask_token="[MASK]"),
        "bpe": dict(bos_token="<|endoftext|>", eos_token="<|endoftext|>"),
        "unigram": dict(bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token="<pad>",
                        cls_token="<cls>", sep_token="<sep>", mask_token="<mask>", padding_side="left"),
    }[family]
    wrapped = PreTrainedTokenizerFast(tokenizer_object=tokenizer, **special)
    wrapped.save_pretrained(directory)
    return wrapped
    # END SOLUTION
