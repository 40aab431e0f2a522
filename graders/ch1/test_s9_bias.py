"""Grader for 1.9 Bias and limitations."""

import functools

import pytest
import torch

from hfcourse import expect
from hfcourse.fixtures.build_ch1_data import GENDERED, JOBS

MLM = "bias-mlm"
TEMPLATES = ("{} works as a [MASK] .", "{} is a [MASK] .", "{} wants to become a [MASK] .", "{} trained as a [MASK] .")


def _dir(fx) -> str:
    return str(fx.path(MLM))


@functools.cache
def _unmasker(directory: str):
    from transformers import pipeline

    return pipeline("fill-mask", model=directory)


def _top(fx, text: str, k: int) -> list[str]:
    return [g["token_str"] for g in _unmasker(_dir(fx))(text, top_k=k)]


@pytest.mark.grade(points=1, visibility="visible", hint="pipeline(\"fill-mask\", model=model_dir)(text, top_k=k), keeping token_str.",
                   hint_zh="pipeline(\"fill-mask\", model=model_dir)(text, top_k=k)，取 token_str。")
def test_top_tokens(student, fx, rng):
    text = rng.choice(TEMPLATES).format(rng.choice(GENDERED)[rng.randrange(2)])
    k = rng.randint(3, 6)
    expect.equal(student.top_tokens(_dir(fx), text, k), _top(fx, text, k), f"top {k} tokens of {text!r}",
                 likely=("pass top_k=k and keep the order of the pipeline", "传入 top_k=k 并保持pipeline的顺序"))


@pytest.mark.grade(points=2, hint="Fill the template with each group word, take both top-k lists, and keep the tokens of each list that the other lacks, in order.",
                   hint_zh="分别用两个群体词填充模板，取两个 top-k 列表，再按顺序保留各自列表中另一个列表没有的token。")
def test_compare_pair(student, reference, fx, rng):
    male, female = rng.choice(GENDERED)
    template = rng.choice(TEMPLATES)
    k = rng.randint(3, 5)
    swap = rng.random() < 0.5
    first, second = (female, male) if swap else (male, female)
    got = student.compare_pair(_dir(fx), template, first, second, k)
    a, b = _top(fx, template.format(first), k), _top(fx, template.format(second), k)
    want = {"first": a, "second": b, "only_first": [t for t in a if t not in b], "only_second": [t for t in b if t not in a]}
    expect.equal(got, want, f"comparison of {first!r} and {second!r} in {template!r}",
                 likely=("only_first is the tokens of the first list missing from the second, not the shared ones",
                         "only_first 是第一个列表中第二个列表没有的token，而不是两者共有的"))
    expect.equal(got, reference.compare_pair(_dir(fx), template, first, second, k), "against the reference",
                 likely=("fill the template with template.format(word) for each group", "对每个群体用 template.format(word) 填充模板"))


@pytest.mark.grade(points=2, hint="pipeline(text, targets=words, top_k=len(words)) scores exactly those words; subtract the second group's from the first's.",
                   hint_zh="pipeline(text, targets=words, top_k=len(words)) 只给这些词打分；用第一组的概率减去第二组的。")
def test_probability_gap(student, reference, fx, rng):
    male, female = rng.choice(GENDERED)
    template = rng.choice(TEMPLATES)
    words = [*JOBS["male"], *JOBS["female"]]
    rng.shuffle(words)
    got = student.probability_gap(_dir(fx), template, male, female, words)
    expect.true(isinstance(got, dict) and sorted(got) == sorted(words), f"expected one gap per word, got {got!r:.160}",
                likely=("with targets the pipeline still returns only top_k (5) results: pass top_k=len(words)",
                        "即使传了 targets，pipeline 也只返回 top_k（5）个结果：请传入 top_k=len(words)"))
    scores = {g: {r["token_str"]: float(r["score"]) for r in _unmasker(_dir(fx))(template.format(g), targets=words,
                                                                                  top_k=len(words))}
              for g in (male, female)}
    want = {w: scores[male][w] - scores[female][w] for w in words}
    expect.close(torch.tensor([got[w] for w in words]), torch.tensor([want[w] for w in words]),
                 f"probability gaps of {male!r} against {female!r}", atol=1e-5,
                 likely=("first minus second, probabilities (the pipeline's scores), not logits",
                         "用第一组减第二组，使用概率（pipeline的score），不是logits"))
    ref = reference.probability_gap(_dir(fx), template, male, female, words)
    expect.close(torch.tensor([got[w] for w in words]), torch.tensor([ref[w] for w in words]), "against the reference",
                 atol=1e-6, likely=("the scores of the fill-mask pipeline with targets=words", "使用 targets=words 时 fill-mask pipeline 给出的分数"))
    toward_male = sum(got[w] for w in JOBS["male"]) - sum(got[w] for w in JOBS["female"])
    expect.as_good(toward_male, sum(ref[w] for w in JOBS["male"]) - sum(ref[w] for w in JOBS["female"]),
                   f"how much more {JOBS['male']} go with {male!r} than {JOBS['female']}", margin=1e-4,
                   likely=("subtract the second group's probability from the first's", "用第一组的概率减去第二组的"))
