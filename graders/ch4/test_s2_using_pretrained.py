"""Grader for 4.2 Using pretrained models."""

import pytest
import torch

from hfcourse import expect
from hfcourse.fixtures.build_ch4 import hub_seed
from hfcourse.fixtures.text import sample_sentences
from hfcourse.sandbox.codec import Service
from hfcourse.services import hub

TOKEN = "hf_course_write_token"
REPO, MLM = "course/tiny-mlm", "tiny-mlm"
HEAD_LIKELY = ("AutoModel loads the bare encoder without the masked-LM head: use AutoModelForMaskedLM",
               "AutoModel 只加载不带掩码语言模型头的编码器：请用 AutoModelForMaskedLM")


def _hub(target, fx) -> Service:
    """The Hub stand-in, started inside ``target``'s worker, which creates its state directory itself
    (so that the sandbox user owns it); one URL per worker, the same options in every chapter 4 grader."""
    return Service("hub", "service-hub", (("seed", hub_seed(fx.path)), ("token", TOKEN)))


def _check_pair(got, fx, what: str, model_class: str) -> None:
    expect.true(isinstance(got, dict) and got.get("type") == "pair",
                f"{what} must return (tokenizer, model), got a {got.get('type') if isinstance(got, dict) else type(got).__name__}",
                likely=("return both objects as a tuple: return tokenizer, model", "以元组返回两个对象：return tokenizer, model"))
    expect.equal(got["model"], model_class, f"{what}: model class", likely=HEAD_LIKELY)
    expect.equal(got["tokenizer"], "BertTokenizer", f"{what}: tokenizer class",
                 likely=("load the tokenizer of the same checkpoint", "加载同一个 checkpoint 的tokenizer"))
    expect.equal(got["mask_token"], "[MASK]", f"{what}: mask token of the tokenizer")
    weights = got["state_dict"]
    for key, value in fx.load(MLM).state_dict().items():
        expect.true(key in weights, f"{what}: weight {key} is missing from the loaded model", likely=HEAD_LIKELY)
        expect.close(weights[key], value, f"{what}: weight {key}", atol=0)


def _downloaded(student, svc, name: str) -> bool:
    return any(e["method"] == "GET" and e["status"] == 200 and e["path"].startswith(f"/{REPO}/resolve/")
               and e["path"].endswith("/" + name) for e in student.saved(svc, hub.read_log, "the Hub's log"))


def _masked(rng) -> str:
    words = sample_sentences(rng, 1, min_words=6, max_words=14)[0].split()
    words[rng.randrange(1, len(words) - 1)] = "{mask}"
    return " ".join(words)


def _own_predictions(fx, text: str, top_k: int) -> list[dict]:
    from transformers import AutoTokenizer, pipeline

    tok = AutoTokenizer.from_pretrained(str(fx.path(MLM)))
    unmasker = pipeline("fill-mask", model=fx.load(MLM), tokenizer=tok)
    return unmasker(text.replace("{mask}", tok.mask_token), top_k=top_k)


@pytest.mark.grade(points=3, visibility="visible",
                   hint="Inside `with online(endpoint):` call AutoTokenizer.from_pretrained(repo_id, token=token) and AutoModelForMaskedLM.from_pretrained(repo_id, token=token).",
                   hint_zh="在 `with online(endpoint):` 里调用 AutoTokenizer.from_pretrained(repo_id, token=token) 和 AutoModelForMaskedLM.from_pretrained(repo_id, token=token)。")
def test_load_masked_lm_by_id(student, fx):
    svc = _hub(student, fx)
    got = student.call("load_masked_lm", svc, TOKEN, REPO, probe="ch4:loaded")
    _check_pair(got, fx, "load_masked_lm", "BertForMaskedLM")
    expect.true(_downloaded(student, svc, "model.safetensors") and _downloaded(student, svc, "tokenizer.json"),
                "the weights and the tokenizer were not downloaded from the Hub stand-in by repo id",
                likely=("load by the repo id, e.g. \"course/tiny-mlm\", inside `with online(endpoint):`",
                        "在 `with online(endpoint):` 里按仓库 id（例如 \"course/tiny-mlm\"）加载"))


@pytest.mark.grade(points=2, hint="The checkpoint is a BERT: BertTokenizer.from_pretrained(...) and BertForMaskedLM.from_pretrained(...), with token=token.",
                   hint_zh="这个 checkpoint 是 BERT：BertTokenizer.from_pretrained(...) 和 BertForMaskedLM.from_pretrained(...)，并传 token=token。")
def test_load_with_model_classes(student, fx):
    got = student.call("load_with_model_classes", _hub(student, fx), TOKEN, REPO, probe="ch4:loaded")
    _check_pair(got, fx, "load_with_model_classes", "BertForMaskedLM")


def _check_predictions(got, want: list[dict], ref: list[dict], top_k: int) -> None:
    expect.true(isinstance(got, list) and all(isinstance(p, dict) for p in got),
                "fill_mask must return a list of dicts", likely=("return the pipeline's list as it is", "直接返回pipeline给出的列表"))
    expect.equal(len(got), top_k, "number of predictions",
                 likely=("pass top_k=top_k to the pipeline call; its default is 5", "调用pipeline时传 top_k=top_k；默认值是5"))
    expect.equal([p.get("token_str") for p in got], [p["token_str"] for p in want], "predicted tokens, best first",
                 likely=("replace {mask} with the tokenizer's mask_token ([MASK] for BERT)",
                         "把 {mask} 替换成tokenizer的 mask_token（BERT 的是 [MASK]）"))
    expect.close(torch.tensor([float(p["score"]) for p in got]), torch.tensor([float(p["score"]) for p in want]),
                 "scores", atol=1e-5)
    expect.equal([p.get("sequence") for p in got], [p["sequence"] for p in want], "filled-in sequences")
    expect.equal([p.get("token_str") for p in got], [p["token_str"] for p in ref], "predicted tokens (reference)")


@pytest.mark.grade(points=3, visibility="visible",
                   hint="pipeline(\"fill-mask\", model=repo_id, token=token), then call it on text.replace(\"{mask}\", unmasker.tokenizer.mask_token).",
                   hint_zh="pipeline(\"fill-mask\", model=repo_id, token=token)，再对 text.replace(\"{mask}\", unmasker.tokenizer.mask_token) 调用它。")
def test_fill_mask(student, reference, fx):
    text = "this movie is {mask} and the actors are great ."
    got = student.fill_mask(_hub(student, fx), TOKEN, REPO, text, 5)
    ref = reference.fill_mask(_hub(reference, fx), TOKEN, REPO, text, 5)
    _check_predictions(got, _own_predictions(fx, text, 5), ref, 5)


@pytest.mark.grade(points=2, hint="Give the pipeline call top_k=top_k: it returns that many predictions, best first.",
                   hint_zh="调用pipeline时传 top_k=top_k：它会按分数从高到低返回这么多个预测。")
def test_fill_mask_top_k(student, reference, fx, rng):
    text, top_k = _masked(rng), rng.choice([2, 3, 4, 6, 7, 8])
    got = student.fill_mask(_hub(student, fx), TOKEN, REPO, text, top_k)
    ref = reference.fill_mask(_hub(reference, fx), TOKEN, REPO, text, top_k)
    want = _own_predictions(fx, text, top_k)
    _check_predictions(got, want, ref, top_k)
    scores = [float(p["score"]) for p in got]
    expect.true(scores == sorted(scores, reverse=True) and sum(scores) <= 1 + 1e-6,
                "scores must be probabilities, best first", likely=("return the pipeline's order", "保持pipeline给出的顺序"))
