"""Grader for 6.3b Fast tokenizers in the QA pipeline."""

import pytest
import torch

from hfcourse import expect
from hfcourse.fixtures.build_ch6 import long_qa_example, qa_example

TOK, QA = "wordpiece-cased-entities", "qa-tiny-cased"
SEQ = [None, 0, 0, 0, None, 1, 1, 1, 1, 1, 1, None]


def _own_best(start_logits, end_logits, seq):
    """Best (start <= end) span by brute force, with the masking the exercise asks for."""
    keep = torch.tensor([s == 1 or i == 0 for i, s in enumerate(seq)])
    p_start = torch.softmax(start_logits.double().masked_fill(~keep, -10000.0), -1)
    p_end = torch.softmax(end_logits.double().masked_fill(~keep, -10000.0), -1)
    best = (0, 0, -1.0)
    for s in range(len(seq)):
        for e in range(s, len(seq)):
            if float(p_start[s] * p_end[e]) > best[2]:
                best = (s, e, float(p_start[s] * p_end[e]))
    return best


def _own_answer(fx, question, context, max_length=512, stride=0):
    tok, model = fx.load(TOK), fx.load(QA)
    enc = tok(question, context, truncation="only_second", max_length=max_length, stride=stride, padding="longest",
              return_overflowing_tokens=True, return_offsets_mapping=True)
    with torch.no_grad():
        out = model(**{k: torch.tensor(enc[k]) for k in ("input_ids", "token_type_ids", "attention_mask")})
    best = None
    for i, offsets in enumerate(enc["offset_mapping"]):
        s, e, score = _own_best(out.start_logits[i], out.end_logits[i], enc.sequence_ids(i))
        if best is None or score > best["score"]:
            best = {"answer": context[offsets[s][0]:offsets[e][1]], "start": offsets[s][0], "end": offsets[e][1],
                    "score": score}
    return best


def _check_answer(got, want, context, what, likely=None):
    expect.true(isinstance(got, dict) and {"answer", "start", "end", "score"} <= set(got),
                f"{what}: expected a dict with answer, start, end and score")
    expect.equal(got["answer"], context[got["start"]:got["end"]], f"{what}: answer against context[start:end]")
    expect.equal((got["answer"], got["start"], got["end"]), (want["answer"], want["start"], want["end"]), what, likely)
    expect.close(torch.tensor([float(got["score"])]), torch.tensor([want["score"]]), f"{what}: score", atol=1e-4,
                 likely=likely)


def _span(got):
    expect.true(isinstance(got, (list, tuple)) and len(got) == 3, "best_span must return (start, end, score)")
    return int(got[0]), int(got[1]), float(got[2])


@pytest.mark.grade(
    points=2, visibility="visible",
    hint="Mask (-10000) every token whose sequence id is not 1 except index 0; softmax; torch.triu of the outer product; argmax // and %.",
    hint_zh="把 sequence id 不是 1 的 token（下标 0 除外）设为 -10000；softmax；对外积取 torch.triu；argmax 后用 // 和 %。")
def test_best_span(student, rng):
    n = len(SEQ)
    cases = {
        "the question's logits are the highest": ([0.0] * n, [0.0] * n, {2: 9.0, 7: 3.0}, {3: 9.0, 8: 3.0}),
        "the end logits peak before the start logits": ([0.0] * n, [0.0] * n, {8: 6.0, 6: 2.0}, {6: 6.0, 9: 2.5}),
        "[CLS] has the highest logits": ([0.0] * n, [0.0] * n, {0: 9.0, 6: 1.0}, {0: 9.0, 7: 1.0}),
    }
    for what, (start, end, ups, upe) in cases.items():
        for i, v in ups.items():
            start[i] = v
        for i, v in upe.items():
            end[i] = v
        got = _span(student.best_span(torch.tensor(start), torch.tensor(end), SEQ))
        want = _own_best(torch.tensor(start), torch.tensor(end), SEQ)
        expect.equal(got[:2], want[:2], f"best span when {what}",
                     likely=("mask everything outside the context except [CLS], and only allow start <= end",
                             "屏蔽上下文以外的所有 token（[CLS] 除外），并且只允许 start <= end"))
        expect.close(torch.tensor([got[2]]), torch.tensor([want[2]]), f"score when {what}", atol=1e-5)
    for _ in range(3):
        start, end = [rng.gauss(0, 3) for _ in SEQ], [rng.gauss(0, 3) for _ in SEQ]
        got = _span(student.best_span(torch.tensor(start), torch.tensor(end), SEQ))
        want = _own_best(torch.tensor(start), torch.tensor(end), SEQ)
        expect.equal(got[:2], want[:2], f"best span of random logits {[round(v, 2) for v in start]} / {[round(v, 2) for v in end]}",
                     likely=("row index = argmax // number of columns, column = argmax % number of columns",
                             "行下标 = argmax // 列数，列下标 = argmax % 列数"))


@pytest.mark.grade(
    points=2,
    hint="tokenizer(question, context, return_offsets_mapping=True, return_tensors=\"pt\"); best_span with inputs.sequence_ids(0); offsets → characters.",
    hint_zh="tokenizer(question, context, return_offsets_mapping=True, return_tensors=\"pt\")；用 inputs.sequence_ids(0) 调用 best_span；再用偏移量换成字符位置。")
def test_answer_question(student, reference, fx, rng):
    right = ref_right = 0
    examples = [qa_example(rng) for _ in range(6)]
    for ex in examples:
        got = student.answer_question(fx.ref(QA), fx.ref(TOK), ex["question"], ex["context"])
        what = f"answer to {ex['question']!r} in {ex['context']!r}"
        _check_answer(got, _own_answer(fx, ex["question"], ex["context"]), ex["context"], what,
                      likely=("the start character comes from offsets[start][0], the end from offsets[end][1]",
                              "起始字符来自 offsets[start][0]，结束字符来自 offsets[end][1]"))
        want = reference.answer_question(fx.ref(QA), fx.ref(TOK), ex["question"], ex["context"])
        _check_answer(got, want, ex["context"], what)
        right += got["answer"] == ex["answer"]
        ref_right += want["answer"] == ex["answer"]
    expect.as_good(right, ref_right, "simple questions of 6 answered right",
                   likely=("pass the question first and the context second", "先传问题，再传上下文"))


@pytest.mark.grade(
    points=2,
    hint="truncation=\"only_second\", max_length, stride, return_overflowing_tokens=True; keep the offsets of tokens with sequence id 1.",
    hint_zh="truncation=\"only_second\"、max_length、stride、return_overflowing_tokens=True；保留 sequence id 为 1 的 token 的偏移量。")
def test_context_windows(student, reference, fx, rng):
    ex = long_qa_example(rng)
    max_length, stride = rng.choice([(48, 8), (64, 16), (80, 24)])
    got = student.context_windows(fx.ref(TOK), ex["question"], ex["context"], max_length, stride)
    enc = fx.load(TOK)(ex["question"], ex["context"], truncation="only_second", max_length=max_length, stride=stride,
                       return_overflowing_tokens=True, return_offsets_mapping=True)
    expect.equal(len(got), len(enc["input_ids"]), f"number of windows (max_length={max_length}, stride={stride})",
                 likely=("pass return_overflowing_tokens=True and truncate only the context",
                         "传入 return_overflowing_tokens=True，并且只截断上下文"))
    spans = [[o for o, s in zip(offsets, enc.sequence_ids(i)) if s == 1] for i, offsets in enumerate(enc["offset_mapping"])]
    expect.equal(list(got), [ex["context"][s[0][0]:s[-1][1]] for s in spans], "windows",
                 likely=("keep only the offsets of context tokens (sequence id 1): the question's offsets index the question",
                         "只保留上下文 token（sequence id 为 1）的偏移量：问题的偏移量指向的是问题"))
    for i, window in enumerate(got):
        expect.true(isinstance(window, str) and window in ex["context"], f"window {i} is not a part of the context: {window!r:.80}")
    expect.true(ex["context"].startswith(got[0]) and ex["context"].endswith(got[-1]),
                "the first window must start where the context starts, the last end where it ends")
    for a, b in zip(got, got[1:]):
        expect.true(ex["context"].index(b) < ex["context"].index(a) + len(a),
                    "consecutive windows must overlap (stride)", likely=("pass stride=stride", "传入 stride=stride"))
    expect.equal(list(got), reference.context_windows(fx.ref(TOK), ex["question"], ex["context"], max_length, stride),
                 "windows against the reference")


@pytest.mark.grade(
    points=2,
    hint="Tokenize into padded windows, run the model on all of them, take best_span per window and keep the best score.",
    hint_zh="切成补齐的窗口，对所有窗口运行模型，对每个窗口取 best_span，保留得分最高的。")
def test_answer_long_context(student, reference, fx, rng):
    right = ref_right = 0
    for _ in range(3):
        ex = long_qa_example(rng)
        max_length, stride = rng.choice([(64, 16), (80, 24)])
        got = student.answer_long_context(fx.ref(QA), fx.ref(TOK), ex["question"], ex["context"], max_length, stride)
        what = f"answer to {ex['question']!r} in a context of {len(ex['context'])} characters"
        _check_answer(got, _own_answer(fx, ex["question"], ex["context"], max_length, stride), ex["context"], what,
                      likely=("compare the best span of every window and keep the highest score; map it with that window's offsets",
                              "比较每个窗口的最佳区间并保留得分最高的；用该窗口自己的偏移量换算"))
        want = reference.answer_long_context(fx.ref(QA), fx.ref(TOK), ex["question"], ex["context"], max_length, stride)
        _check_answer(got, want, ex["context"], what)
        right += got["answer"] == ex["answer"]
        ref_right += want["answer"] == ex["answer"]
    expect.as_good(right, ref_right, "questions of 3 on long contexts answered right")
