"""Grader for 6.8 Building a tokenizer, block by block."""

import json

import pytest

from hfcourse import expect

WIKI = "wikitext-2-like"
FAMILIES = {
    "wordpiece": {"unk_token": "[UNK]", "pad_token": "[PAD]", "cls_token": "[CLS]", "sep_token": "[SEP]",
                  "mask_token": "[MASK]"},
    "bpe": {"bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>"},
    "unigram": {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>",
                "cls_token": "<cls>", "sep_token": "<sep>", "mask_token": "<mask>"},
}


def _build(target, fx, family, vocab_size):
    """The tokenizer built by ``build_<family>``, as a ``tokenizers.Tokenizer`` and its JSON."""
    from tokenizers import Tokenizer

    text = target.call(f"build_{family}", fx.ref(WIKI), vocab_size, probe="ch6:backend_json")
    expect.true(isinstance(text, str), f"build_{family} must return a tokenizers.Tokenizer")
    return Tokenizer.from_str(text), json.loads(text)


def _lines(fx, rng, n):
    """Held-out lines made only of characters seen in the training split."""
    data = fx.load(WIKI)
    seen = {c for line in data["train"]["text"] for c in line}
    lines = [t.strip() for t in data["validation"]["text"] if len(t.strip()) > 20 and set(t) <= seen]
    return [" ".join(line.split()[:12]) for line in rng.sample(lines, n)]


def _kinds(spec, key):
    block = spec.get(key) or {}
    return [b["type"] for b in block.get("normalizers", block.get("pretokenizers", []))] or [block.get("type")]


@pytest.mark.grade(points=1, visibility="visible",
                   hint="A generator: for i in range(0, len(train), batch_size): yield train[i:i + batch_size][\"text\"].",
                   hint_zh="一个生成器：for i in range(0, len(train), batch_size): yield train[i:i + batch_size][\"text\"]。")
def test_training_corpus(student, fx, rng):
    size = rng.choice([100, 250, 999])
    got = student.call("training_corpus", fx.ref(WIKI), size, probe="ch6:batches")
    texts = list(fx.load(WIKI)["train"]["text"])
    expect.equal(got, [texts[i:i + size] for i in range(0, len(texts), size)], f"batches of the train split (batch_size={size})",
                 likely=("use the train split's text column, and keep the last, shorter batch",
                         "使用 train 划分的 text 列，并保留最后那个较短的批次"))


@pytest.mark.grade(
    points=2,
    hint="Tokenizer(models.WordPiece(unk_token=\"[UNK]\")), NFD + Lowercase + StripAccents, Whitespace, WordPieceTrainer, TemplateProcessing, decoders.WordPiece.",
    hint_zh="Tokenizer(models.WordPiece(unk_token=\"[UNK]\"))，NFD + Lowercase + StripAccents，Whitespace，WordPieceTrainer，TemplateProcessing，decoders.WordPiece。")
def test_build_wordpiece(student, reference, fx, rng):
    tok, spec = _build(student, fx, "wordpiece", 600)
    expect.equal(_kinds(spec, "normalizer"), ["NFD", "Lowercase", "StripAccents"], "normalizers")
    expect.equal(_kinds(spec, "pre_tokenizer"), ["Whitespace"], "pre-tokenizer")
    expect.equal((spec["model"]["type"], spec["model"].get("unk_token")), ("WordPiece", "[UNK]"), "model")
    expect.equal((spec["decoder"] or {}).get("type"), "WordPiece", "decoder")
    expect.equal([tok.token_to_id(t) for t in ("[UNK]", "[PAD]", "[CLS]", "[SEP]", "[MASK]")], [0, 1, 2, 3, 4],
                 "ids of [UNK], [PAD], [CLS], [SEP], [MASK]", likely=("give the special tokens in the order of the docstring",
                                                                      "按文档字符串中的顺序给出特殊 token"))
    ref_tok, _ = _build(reference, fx, "wordpiece", 600)
    expect.equal(tok.get_vocab_size(), ref_tok.get_vocab_size(), "vocabulary size")
    first, second = _lines(fx, rng, 2)
    pair = tok.encode(first, second)
    n_first = len(tok.encode(first).tokens) - 2
    expect.equal(pair.tokens[0], "[CLS]", "first token of a pair")
    expect.equal(pair.type_ids, [0] * (n_first + 2) + [1] * (len(pair.tokens) - n_first - 2), "type ids of a pair",
                 likely=("pair template: [CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1", "句对模板：[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1"))
    expect.equal([t for t in pair.tokens if t == "[SEP]"], ["[SEP]"] * 2, "[SEP] tokens of a pair")
    for token, (start, end) in zip(pair.tokens[1:n_first + 1], pair.offsets[1:n_first + 1]):
        if token != "[UNK]":
            expect.equal(first[start:end].lower(), token.removeprefix("##"), f"text under the offsets of {token!r}")
    plain = " ".join(w for w in first.lower().split() if w.isalpha())
    expect.equal(tok.decode(tok.encode(plain).ids), plain, "decoded text", likely=("set decoders.WordPiece(prefix=\"##\")",
                                                                                 "设置 decoders.WordPiece(prefix=\"##\")"))


@pytest.mark.grade(
    points=2,
    hint="Tokenizer(models.BPE()), ByteLevel(add_prefix_space=False), BpeTrainer, processors.ByteLevel(trim_offsets=False), decoders.ByteLevel().",
    hint_zh="Tokenizer(models.BPE())，ByteLevel(add_prefix_space=False)，BpeTrainer，processors.ByteLevel(trim_offsets=False)，decoders.ByteLevel()。")
def test_build_bpe(student, reference, fx, rng):
    tok, spec = _build(student, fx, "bpe", 600)
    expect.equal(spec["normalizer"], None, "normalizer (GPT-2 has none)")
    expect.equal((spec["pre_tokenizer"] or {}).get("type"), "ByteLevel", "pre-tokenizer")
    expect.equal(spec["model"]["type"], "BPE", "model")
    expect.equal((spec["decoder"] or {}).get("type"), "ByteLevel", "decoder")
    expect.equal(tok.token_to_id("<|endoftext|>"), 0, "id of <|endoftext|>")
    _, ref_spec = _build(reference, fx, "bpe", 600)
    expect.equal(spec["model"]["merges"], ref_spec["model"]["merges"], "merges",
                 likely=("ByteLevel(add_prefix_space=False), the whole train split, BpeTrainer(vocab_size, special_tokens=[\"<|endoftext|>\"])",
                         "ByteLevel(add_prefix_space=False)、完整的 train 划分、BpeTrainer(vocab_size, special_tokens=[\"<|endoftext|>\"])"))
    for text in _lines(fx, rng, 3):
        encoding = tok.encode(text)
        expect.equal(tok.decode(encoding.ids), text, "decoded text", likely=("set decoders.ByteLevel()",
                                                                             "设置 decoders.ByteLevel()"))
        for token, (start, end) in zip(encoding.tokens, encoding.offsets):
            if token.startswith("Ġ") and token[1:].isalpha():
                expect.equal(text[start:end], " " + token[1:], f"text under the offsets of {token!r}",
                             likely=("processors.ByteLevel(trim_offsets=False) keeps the space in the offsets",
                                     "processors.ByteLevel(trim_offsets=False) 会在偏移量中保留空格"))


@pytest.mark.grade(
    points=2,
    hint="Tokenizer(models.Unigram()), the XLNet normalizers, Metaspace(), UnigramTrainer, template \"$A:0 <sep>:0 <cls>:2\", decoders.Metaspace().",
    hint_zh="Tokenizer(models.Unigram())，XLNet 的标准化器，Metaspace()，UnigramTrainer，模板 \"$A:0 <sep>:0 <cls>:2\"，decoders.Metaspace()。")
def test_build_unigram(student, fx, rng):
    tok, spec = _build(student, fx, "unigram", 600)
    expect.equal(_kinds(spec, "normalizer"), ["Replace", "Replace", "NFKD", "StripAccents", "Replace"], "normalizers")
    expect.equal(tok.normalizer.normalize_str("``Héllo''   there"), '"Hello" there', "normalized text")
    expect.equal((spec["pre_tokenizer"] or {}).get("type"), "Metaspace", "pre-tokenizer")
    expect.equal(spec["model"]["type"], "Unigram", "model")
    expect.true(tok.get_vocab_size() <= 600, f"vocabulary of {tok.get_vocab_size()} tokens, more than 600")
    expect.equal([tok.token_to_id(t) for t in ("<cls>", "<sep>", "<unk>", "<pad>", "<mask>", "<s>", "</s>")],
                 list(range(7)), "ids of the special tokens")
    first, second = _lines(fx, rng, 2)
    single = tok.encode(first)
    expect.equal(single.tokens[-2:], ["<sep>", "<cls>"], "last tokens of a single text",
                 likely=("XLNet puts <sep> <cls> at the end: \"$A:0 <sep>:0 <cls>:2\"",
                         "XLNet 把 <sep> <cls> 放在末尾：\"$A:0 <sep>:0 <cls>:2\""))
    pair = tok.encode(first, second)
    n_first = len(single.tokens) - 2
    expect.equal(pair.type_ids, [0] * (n_first + 1) + [1] * (len(pair.tokens) - n_first - 2) + [2], "type ids of a pair",
                 likely=("pair template: \"$A:0 <sep>:0 $B:1 <sep>:1 <cls>:2\"",
                         "句对模板：\"$A:0 <sep>:0 $B:1 <sep>:1 <cls>:2\""))
    expect.equal(tok.decode(single.ids), tok.normalizer.normalize_str(first), "decoded text",
                 likely=("set decoders.Metaspace()", "设置 decoders.Metaspace()"))


@pytest.mark.grade(
    points=1,
    hint="Tokenizer.from_file(path); PreTrainedTokenizerFast(tokenizer_object=…, <special tokens>); padding_side=\"left\" for XLNet; save_pretrained.",
    hint_zh="Tokenizer.from_file(path)；PreTrainedTokenizerFast(tokenizer_object=…, <特殊 token>)；XLNet 用 padding_side=\"left\"；save_pretrained。")
def test_wrap(student, reference, fx, rng):
    from tokenizers import Tokenizer
    from transformers import AutoTokenizer

    first, second = _lines(fx, rng, 2)
    texts = [first, f"{first} {second}"]
    for family, special in FAMILIES.items():
        built = reference.call(f"build_{family}", fx.ref(WIKI), 500, probe="ch6:backend_json")
        source = student.put(built.encode("utf-8"), f"{family}/tokenizer.json")
        target = student.scratch(f"{family}-wrapped")
        got = student.call("wrap", source, family, target, probe="ch6:fast_tokenizer")
        expect.equal(got["special"], special, f"special tokens of the wrapped {family} tokenizer")
        expect.equal(got["padding_side"], "left" if family == "unigram" else "right", f"padding side of the {family} tokenizer",
                     likely=("XLNet pads on the left: padding_side=\"left\"", "XLNet 在左侧补齐：padding_side=\"left\""))
        reloaded = student.saved(target, AutoTokenizer.from_pretrained, f"the saved {family} tokenizer")
        backend = Tokenizer.from_str(built)
        expect.equal(reloaded(texts[0])["input_ids"], backend.encode(texts[0]).ids, f"ids from the saved {family} tokenizer")
        if family == "unigram":
            batch = reloaded(texts, padding=True)["input_ids"]
            expect.equal(batch[0][0], reloaded.pad_token_id, "first id of the shorter, padded text")
