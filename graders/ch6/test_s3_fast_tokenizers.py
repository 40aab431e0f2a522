"""Grader for 6.3 Fast tokenizers' special powers."""

import re

import pytest
import torch

from hfcourse import expect
from hfcourse.fixtures.build_ch6 import NER_LABELS, ner_text
from hfcourse.fixtures.text import sample_sentences

TOK, NER = "wordpiece-cased-entities", "ner-tiny-cased"
COURSE_TEXT = "My name is Sylvain and I work at Hugging Face in Brooklyn."
NO_GRAD = ("run the model inside `with torch.no_grad():` (or torch.inference_mode()): inference needs no gradients",
           "在 `with torch.no_grad():`（或 torch.inference_mode()）中运行模型：推理不需要梯度")
"""The likely mistake when a returned tensor carries autograd history (seen through the "grad" probe)."""


def _texts(rng, n):
    texts = [ner_text(rng) for _ in range(n)] + sample_sentences(rng, 2)
    rng.shuffle(texts)
    return texts


def _pipeline(fx, **kwargs):
    from transformers import pipeline

    return pipeline("token-classification", model=fx.load(NER), tokenizer=fx.load(TOK), **kwargs)


def _synthetic(rng, labels):
    """Token predictions whose entity groups are known by construction; two entities of one
    type follow each other somewhere, and the special tokens are labelled B-."""
    kinds = sorted({lab[2:] for lab in labels if lab != "O"})
    special = [labels.index(lab) for lab in labels if lab.startswith("B-")]
    text, offsets, preds, probs, groups = "", [(0, 0)], [rng.choice(special)], [], []
    segments = [rng.choice(["O", *kinds]) for _ in range(rng.randint(5, 9))]
    twin = rng.randrange(len(segments) - 1)
    segments[twin] = segments[twin + 1] = rng.choice(kinds)
    previous = "O"
    for kind in segments:
        first = "I" if kind != previous and kind != "O" and rng.random() < 0.3 else "B"
        pieces = []
        for k in range(rng.randint(1, 3)):
            label = "O" if kind == "O" else f"{first if k == 0 else 'I'}-{kind}"
            start = len(text) + (1 if text and (k == 0 or rng.random() < 0.5) else 0)
            word = rng.choice(["Ana", "Bo", "##ri", "Lagos", "x", "Acme", "the", "##s"])
            text = text + " " * (start - len(text)) + word
            offsets.append((start, start + len(word)))
            preds.append(labels.index(label))
            pieces.append(len(offsets) - 1)
        if kind != "O":
            groups.append((kind, pieces))
        previous = kind
    offsets.append((0, 0))
    preds.append(rng.choice(special))
    for pred in preds:
        row = [rng.random() for _ in labels]
        row[pred] += len(labels)
        probs.append([v / sum(row) for v in row])
    want = [{"entity_group": kind, "score": sum(probs[i][preds[i]] for i in idx) / len(idx), "word":
             text[offsets[idx[0]][0]:offsets[idx[-1]][1]], "start": offsets[idx[0]][0], "end": offsets[idx[-1]][1]}
            for kind, idx in groups]
    return preds, probs, offsets, text, want


def _same_entities(got, want, what, keys, likely=None):
    expect.true(isinstance(got, list) and all(isinstance(e, dict) for e in got), f"{what}: expected a list of dicts")
    expect.equal([{k: e.get(k) for k in keys} for e in got], [{k: e[k] for k in keys} for e in want], what, likely)
    scores = torch.tensor([float(e.get("score", float("nan"))) for e in got], dtype=torch.float64)
    expect.close(scores, torch.tensor([float(e["score"]) for e in want], dtype=torch.float64), f"{what}: scores",
                 atol=1e-5, likely=likely)


@pytest.mark.grade(points=1, visibility="visible",
                   hint="encoding = tokenizer(text); encoding.tokens() and encoding.word_ids().",
                   hint_zh="encoding = tokenizer(text)；再用 encoding.tokens() 和 encoding.word_ids()。")
def test_tokens_and_word_ids(student, fx, rng):
    tok = fx.load(TOK)
    for text in [COURSE_TEXT, *_texts(rng, 2)]:
        got = student.tokens_and_word_ids(fx.ref(TOK), text)
        expect.true(isinstance(got, (list, tuple)) and len(got) == 2, "expected (tokens, word_ids)")
        encoding = tok(text)
        expect.equal(list(got[0]), encoding.tokens(), f"tokens of {text!r}",
                     likely=("keep the special tokens: use the encoding's tokens()", "保留特殊 token：使用编码的 tokens()"))
        expect.equal(list(got[1]), encoding.word_ids(), f"word ids of {text!r}")


@pytest.mark.grade(points=1, hint="start, end = tokenizer(text).word_to_chars(word_index); return text[start:end].",
                   hint_zh="start, end = tokenizer(text).word_to_chars(word_index)；返回 text[start:end]。")
def test_word_span(student, fx, rng):
    # letters and digits only: the pre-tokenizer splits inner punctuation ("4:23" is three words)
    plain = " ".join(re.sub(r"[^A-Za-z0-9]+", " ", sample_sentences(rng, 1, min_words=8)[0]).split())
    words = plain.split()
    for index in rng.sample(range(len(words)), 3):
        expect.equal(student.word_span(fx.ref(TOK), plain, index), words[index], f"word {index} of {plain!r}",
                     likely=("word_to_chars takes a word index; token_to_chars takes a token index",
                             "word_to_chars 接受词的下标；token_to_chars 接受 token 的下标"))
    text = _texts(rng, 1)[0]
    encoding = fx.load(TOK)(text)
    count = max(w for w in encoding.word_ids() if w is not None) + 1
    index = rng.randrange(count)
    start, end = encoding.word_to_chars(index)
    expect.equal(student.word_span(fx.ref(TOK), text, index), text[start:end], f"word {index} of {text!r}")


@pytest.mark.grade(points=1, hint="model(**tokenizer(text, return_tensors=\"pt\")).logits[0], then softmax over the labels (dim=-1).",
                   hint_zh="model(**tokenizer(text, return_tensors=\"pt\")).logits[0]，再在标签维（dim=-1）上做 softmax。")
def test_token_probabilities(student, fx, rng):
    text = _texts(rng, 1)[0]
    inputs = fx.load(TOK)(text, return_tensors="pt")
    with torch.no_grad():
        want = torch.softmax(fx.load(NER)(**inputs).logits[0], dim=-1)
    got = student.call("token_probabilities", fx.ref(NER), fx.ref(TOK), text, probe="grad")
    expect.true(not got["grad"], "token_probabilities returned probabilities that carry autograd history", likely=NO_GRAD)
    got = expect.tensor(got["value"], "probabilities",
                        shape=tuple(want.shape), likely=("one row per token, special tokens included; one column per label",
                                                         "每个 token（包括特殊 token）一行；每个标签一列"))
    expect.close(got.sum(dim=-1), torch.ones(len(want)), "sum of each row", atol=1e-5,
                 likely=("softmax over dim=-1 (the labels)", "在 dim=-1（标签）上做 softmax"))
    expect.close(got, want, "probabilities", atol=1e-5)


@pytest.mark.grade(points=2, visibility="visible",
                   hint="For each non-special token whose argmax label is not O: entity, score, index, word (the token), start, end.",
                   hint_zh="对每个不是特殊 token 且 argmax 标签不是 O 的 token：entity、score、index、word（token 本身）、start、end。")
def test_token_predictions_match_pipeline(student, fx, rng):
    ner = _pipeline(fx)
    course = expect.list_of(student.token_predictions(fx.ref(NER), fx.ref(TOK), COURSE_TEXT), dict,
                            "token_predictions' result")
    expect.true(any(e.get("entity") == "B-PER" and e.get("word") == "Sylvain" for e in course),
                f"'Sylvain' must come out as B-PER in {COURSE_TEXT!r}")
    for text in [COURSE_TEXT, *_texts(rng, 3)]:
        got = student.token_predictions(fx.ref(NER), fx.ref(TOK), text)
        _same_entities(got, ner(text), f"predictions for {text!r} against pipeline('token-classification')",
                       ("entity", "index", "word", "start", "end"),
                       likely=("skip special tokens and tokens labelled O; index is the position in input_ids",
                               "跳过特殊 token 和标签为 O 的 token；index 是在 input_ids 中的位置"))


@pytest.mark.grade(points=2, hint="B- always starts a new entity; I- of the same type continues it; the score is the mean over the group.",
                   hint_zh="B- 总是开始一个新实体；同类型的 I- 延续它；得分是组内的平均值。")
def test_group_entities_synthetic(student, reference, rng):
    for labels in (list(NER_LABELS), rng.sample(list(NER_LABELS), len(NER_LABELS))):
        preds, probs, offsets, text, want = _synthetic(rng, labels)
        got = student.group_entities(preds, probs, offsets, labels, text)
        _same_entities(got, want, f"entities of {text!r} (labels {[labels[p] for p in preds]})",
                       ("entity_group", "word", "start", "end"),
                       likely=("a B- label starts a new group; the group ends at its last token's end offset; skip (0, 0) tokens",
                               "B- 标签开始新的组；组的结束位置是最后一个 token 的结束偏移；跳过 (0, 0) 的 token"))
        _same_entities(got, reference.group_entities(preds, probs, offsets, labels, text), "entities",
                       ("entity_group", "word", "start", "end"))


@pytest.mark.grade(
    points=1,
    hint="Run the model, take argmax and probabilities, and pass the offsets of tokenizer(text, return_offsets_mapping=True) to group_entities.",
    hint_zh="运行模型，取 argmax 和概率，再把 tokenizer(text, return_offsets_mapping=True) 的偏移量传给 group_entities。")
def test_ner_matches_pipeline(student, fx, rng):
    grouped = _pipeline(fx, aggregation_strategy="simple")
    course = expect.list_of(student.ner(fx.ref(NER), fx.ref(TOK), COURSE_TEXT), dict, "ner's result")
    expect.equal([(e.get("entity_group"), e.get("word")) for e in course],
                 [("PER", "Sylvain"), ("ORG", "Hugging Face"), ("LOC", "Brooklyn")], f"entities of {COURSE_TEXT!r}")
    for text in [COURSE_TEXT, *_texts(rng, 3)]:
        got = student.ner(fx.ref(NER), fx.ref(TOK), text)
        want = [{**e, "word": text[e["start"]:e["end"]]} for e in grouped(text)]
        _same_entities(got, want, f"entities of {text!r} against the pipeline's aggregation_strategy='simple'",
                       ("entity_group", "word", "start", "end"))
