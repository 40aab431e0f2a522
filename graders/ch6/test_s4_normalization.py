"""Grader for 6.4 Normalization and pre-tokenization."""

import pytest

from hfcourse import expect
from hfcourse.fixtures.text import sample_sentences

BERT, BERT_CASED, GPT2, T5 = "wordpiece-uncased", "wordpiece-cased-entities", "bytelevel-bpe-en", "unigram-t5-like"
COURSE_TEXT = "Hello, how are  you?"
# The course's printed pre-tokenizations of COURSE_TEXT (chapter 6.4).
COURSE = {
    "bert": [("Hello", (0, 5)), (",", (5, 6)), ("how", (7, 10)), ("are", (11, 14)), ("you", (16, 19)), ("?", (19, 20))],
    "gpt2": [("Hello", (0, 5)), (",", (5, 6)), ("Ġhow", (6, 10)), ("Ġare", (10, 14)), ("Ġ", (14, 15)), ("Ġyou", (15, 19)),
             ("?", (19, 20))],
    "t5": [("▁Hello,", (0, 6)), ("▁how", (7, 10)), ("▁are", (11, 14)), ("▁you?", (16, 20))],
}
FIXTURE = {"bert": BERT, "gpt2": GPT2, "t5": T5}


def _messy(rng):
    """A sentence with accents, capitals and runs of spaces."""
    words = sample_sentences(rng, 1, min_words=5, max_words=10)[0].split()
    words[rng.randrange(len(words))] = rng.choice(["Héllò", "naïve", "Ünïcode", "café", "HÔTEL"])
    return "".join(w + rng.choice([" ", " ", "  ", "   "]) for w in words).strip()


def _pairs(got):
    """Words and offsets as tuples (lists are accepted too)."""
    expect.true(isinstance(got, (list, tuple)) and all(isinstance(p, (list, tuple)) and len(p) == 2 for p in got),
                f"expected a list of (word, (start, end)) pairs, got {got!r:.120}")
    return [(w, tuple(o)) for w, o in got]


def _library(family):
    from tokenizers import pre_tokenizers

    return {"bert": pre_tokenizers.BertPreTokenizer(), "gpt2": pre_tokenizers.ByteLevel(add_prefix_space=False),
            "t5": pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Metaspace()])}[family]


@pytest.mark.grade(
    points=1, visibility="visible",
    hint="pre_tokenizers.BertPreTokenizer(), ByteLevel(add_prefix_space=False), Sequence([WhitespaceSplit(), Metaspace()]); then .pre_tokenize_str(text).",
    hint_zh="pre_tokenizers.BertPreTokenizer()、ByteLevel(add_prefix_space=False)、Sequence([WhitespaceSplit(), Metaspace()])；再调用 .pre_tokenize_str(text)。")
@pytest.mark.parametrize("family", list(COURSE))
def test_pre_tokenize_like(student, rng, family):
    expect.equal(_pairs(student.pre_tokenize_like(family, COURSE_TEXT)), COURSE[family],
                 f"{family} pre-tokenization of {COURSE_TEXT!r}",
                 likely=("GPT-2 keeps spaces as Ġ and adds no prefix space; T5 splits on white space, then adds ▁",
                         "GPT-2 用 Ġ 保留空格且不加前缀空格；T5 先按空白切分，再加 ▁"))
    text = _messy(rng)
    want = [(w, tuple(o)) for w, o in _library(family).pre_tokenize_str(text)]
    expect.equal(_pairs(student.pre_tokenize_like(family, text)), want, f"{family} pre-tokenization of {text!r}")


@pytest.mark.grade(points=1, hint="tokenizer.backend_tokenizer.normalizer.normalize_str(text); a tokenizer may have no normalizer (None).",
                   hint_zh="tokenizer.backend_tokenizer.normalizer.normalize_str(text)；有的 tokenizer 没有标准化器（None）。")
def test_normalize(student, fx, rng):
    expect.equal(student.normalize(fx.ref(BERT), "Héllò hôw are ü?"), "hello how are u?",
                 "BERT (uncased) normalization of 'Héllò hôw are ü?'",
                 likely=("use the tokenizer's own normalizer: it also strips the accents", "使用 tokenizer 自己的标准化器：它还会去掉重音"))
    text = _messy(rng)
    for name in (BERT, BERT_CASED, GPT2, T5):
        normalizer = fx.load(name).backend_tokenizer.normalizer
        want = text if normalizer is None else normalizer.normalize_str(text)
        expect.equal(student.normalize(fx.ref(name), text), want, f"normalization of {text!r} by {name}",
                     likely=("GPT-2 and T5-like tokenizers have no normalizer: return the text unchanged",
                             "GPT-2 和类 T5 的 tokenizer 没有标准化器：原样返回文本"))


@pytest.mark.grade(points=1, hint="tokenizer.backend_tokenizer.pre_tokenizer.pre_tokenize_str(text), on the raw text.",
                   hint_zh="对原始文本调用 tokenizer.backend_tokenizer.pre_tokenizer.pre_tokenize_str(text)。")
def test_pre_tokenize(student, fx, rng):
    text = _messy(rng)
    for family, name in FIXTURE.items():
        expect.equal(_pairs(student.pre_tokenize(fx.ref(name), COURSE_TEXT)), COURSE[family],
                     f"pre-tokenization of {COURSE_TEXT!r} by {name}")
        want = [(w, tuple(o)) for w, o in fx.load(name).backend_tokenizer.pre_tokenizer.pre_tokenize_str(text)]
        expect.equal(_pairs(student.pre_tokenize(fx.ref(name), text)), want, f"pre-tokenization of {text!r} by {name}",
                     likely=("pre-tokenize the text as given; the offsets index into it", "对给定的原文预分词；偏移量指向原文"))


@pytest.mark.grade(points=1, hint="Normalize, pre-tokenize the normalized text, then backend_tokenizer.model.tokenize(word) for each word.",
                   hint_zh="先标准化，再对标准化后的文本预分词，然后对每个词调用 backend_tokenizer.model.tokenize(word)。")
def test_words_and_tokens(student, reference, fx, rng):
    text = _messy(rng)
    for name in (BERT, GPT2, T5):
        got = student.words_and_tokens(fx.ref(name), text)
        expect.true(isinstance(got, (list, tuple)) and all(isinstance(p, (list, tuple)) and len(p) == 2 for p in got),
                    "words_and_tokens must return a list of (word, tokens) pairs")
        got = [(w, list(t)) for w, t in got]
        expect.equal([t for _, ts in got for t in ts], fx.load(name).tokenize(text), f"all tokens of {text!r} by {name}",
                     likely=("normalize before pre-tokenizing, as the tokenizer itself does", "像 tokenizer 自己那样，先标准化再预分词"))
        expect.equal(got, [(w, list(t)) for w, t in reference.words_and_tokens(fx.ref(name), text)],
                     f"words and their tokens for {text!r} by {name}")
