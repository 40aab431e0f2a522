"""Grader for 2.4 Tokenizers."""

import re

import pytest

from hfcourse import expect
from hfcourse.fixtures.text import sample_sentences

TOK = "wordpiece-uncased"


def _messy(rng, n=4):
    """Sentences with runs of spaces, tabs and newlines between words."""
    out = []
    for s in sample_sentences(rng, n):
        words = s.split()
        out.append("".join(w + rng.choice([" ", "  ", "\t", " \n "]) for w in words).strip())
    return out


@pytest.mark.grade(points=1, visibility="visible",
                   hint="str.split() with no argument splits on any run of white space.",
                   hint_zh="不带参数的 str.split() 会按任意连续空白切分。")
def test_word_and_char_tokens(student, rng):
    for text in _messy(rng, 3):
        got = student.word_and_char_tokens(text)
        expect.equal(got, (text.split(), [c for c in text if not c.isspace()]), f"tokens of {text!r}",
                     likely=("split(\" \") leaves empty strings and tabs behind: use split()",
                             "split(\" \") 会留下空字符串和制表符：请用 split()"))


@pytest.mark.grade(points=2, hint="tokenizer.tokenize(text) returns the sub-word tokens, with ## marking word continuations.",
                   hint_zh="tokenizer.tokenize(text) 返回子词token，## 表示词的后续部分。")
def test_tokenize(student, fx, rng):
    tok = fx.load(TOK)
    for text in sample_sentences(rng, 4):
        expect.equal(student.tokenize(fx.ref(TOK), text), tok.tokenize(text), f"tokens of {text!r}")


@pytest.mark.grade(points=2, visibility="visible",
                   hint="convert_tokens_to_ids(tokenize(text)) adds no [CLS]/[SEP]; tokenizer(text) does.",
                   hint_zh="convert_tokens_to_ids(tokenize(text)) 不会加 [CLS]/[SEP]；tokenizer(text) 会加。")
def test_manual_ids(student, fx, rng):
    tok = fx.load(TOK)
    for text in sample_sentences(rng, 4):
        want = tok(text, add_special_tokens=False)["input_ids"]
        expect.equal(student.manual_ids(fx.ref(TOK), text), want, f"ids of {text!r}",
                     likely=("the ids must not include [CLS] and [SEP]", "id中不能包含 [CLS] 和 [SEP]"))


@pytest.mark.grade(points=2, hint="decode(ids, skip_special_tokens=True) drops [CLS] and [SEP].",
                   hint_zh="decode(ids, skip_special_tokens=True) 会去掉 [CLS] 和 [SEP]。")
def test_roundtrip(student, reference, fx, rng):
    # letters, digits and spaces only: decode() puts spaces around punctuation ("2:10" -> "2 : 10")
    plain = " ".join(re.sub(r"[^A-Za-z0-9]+", " ", sample_sentences(rng, 1, min_words=6)[0]).split())
    expect.equal(student.roundtrip(fx.ref(TOK), plain), " ".join(plain.lower().split()), "decoded text",
                 likely=("skip the special tokens when decoding", "解码时跳过特殊token"))
    for text in sample_sentences(rng, 3):
        expect.equal(student.roundtrip(fx.ref(TOK), text), reference.roundtrip(fx.ref(TOK), text), f"decoded {text!r}")


@pytest.mark.grade(points=1, hint="tokenizer.save_pretrained(directory), then list the directory.",
                   hint_zh="tokenizer.save_pretrained(directory)，然后列出目录中的文件。")
def test_save_tokenizer(student, fx, rng):
    from transformers import AutoTokenizer

    target = student.scratch("saved-tokenizer")
    names = student.save_tokenizer(fx.ref(TOK), target)
    folder = student.collect(target)
    expect.equal(names, sorted(p.name for p in folder.iterdir()), "file names returned")
    for required in ("tokenizer.json", "tokenizer_config.json"):
        expect.true(required in names, f"{required} was not written")
    with expect.reply("the saved tokenizer"):
        reloaded = AutoTokenizer.from_pretrained(folder)
    text = sample_sentences(rng, 1)[0]
    expect.equal(reloaded(text)["input_ids"], fx.load(TOK)(text)["input_ids"], "ids from the reloaded tokenizer")
