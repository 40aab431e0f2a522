"""Grader for 1.5 How 🤗 Transformers solve tasks."""

import pytest
import torch
import transformers
from transformers.pipelines import SUPPORTED_TASKS, TASK_ALIASES

from hfcourse import expect
from hfcourse.fixtures.text import sample_sentences

REMOVED = {"question-answering": "AutoModelForQuestionAnswering", "summarization": "AutoModelForSeq2SeqLM",
           "translation": "AutoModelForSeq2SeqLM"}
"""Tasks transformers 5 no longer has pipelines for, with the Auto class their models use."""
PIPELINE_TASKS = ("feature-extraction", "text-classification", "sentiment-analysis", "zero-shot-classification",
                  "token-classification", "ner", "fill-mask", "text-generation")
FIXTURES = {"feature-extraction": "tiny-bert", "zero-shot-classification": "tiny-nli", "token-classification": "tiny-ner",
            "question-answering": "tiny-qa", "fill-mask": "bias-mlm", "text-generation": "tiny-gpt2",
            "summarization": "tiny-t5", "text-classification": "tiny-sst2"}
TOKENIZERS = {"tiny-gpt2": "bpe-gpt2"}


def _auto_name(task: str) -> str:
    """The library's own answer: the pipeline registry, or the known class of a removed task."""
    if task in REMOVED:
        return REMOVED[task]
    return SUPPORTED_TASKS[TASK_ALIASES.get(task, task)]["pt"][0].__name__


@pytest.mark.grade(points=2, visibility="visible",
                   hint="Each task has one Auto class: AutoModelForSequenceClassification, …ForTokenClassification, …ForQuestionAnswering, …ForMaskedLM, …ForCausalLM, …ForSeq2SeqLM, or AutoModel for features.",
                   hint_zh="每个任务对应一个Auto类：AutoModelForSequenceClassification、…ForTokenClassification、…ForQuestionAnswering、…ForMaskedLM、…ForCausalLM、…ForSeq2SeqLM，特征抽取用 AutoModel。")
def test_auto_class_for_task(student):
    for task in (*PIPELINE_TASKS, *REMOVED):
        got = student.call("auto_class_for_task", task, probe="ch1:class_name")
        expect.equal(got, _auto_name(task), f"Auto class for {task!r}",
                     likely=("return the class itself (e.g. transformers.AutoModelForMaskedLM), not a string or an instance",
                             "返回类本身（例如 transformers.AutoModelForMaskedLM），不是字符串或实例"))


@pytest.mark.grade(points=2, hint="auto_class_for_task(task).from_pretrained(model_dir), then .eval().",
                   hint_zh="auto_class_for_task(task).from_pretrained(model_dir)，然后调用 .eval()。")
def test_load_for_task(student, fx):
    for task, name in FIXTURES.items():
        got = student.call("load_for_task", task, str(fx.path(name)), probe="ch1:model_info")
        want = getattr(transformers, _auto_name(task)).from_pretrained(str(fx.path(name)))
        expect.equal(got["class"], type(want).__name__, f"model class loaded for {task!r} from {name}",
                     likely=("the Auto class picks the head: a wrong Auto class gives a model without the task's head",
                             "Auto类决定了模型头：用错Auto类得到的模型没有该任务的头"))
        expect.equal(got["training"], False, f"training mode of the {task!r} model",
                     likely=("call .eval() so dropout is off", "调用 .eval() 关闭dropout"))


def _facts(task: str, fx, text: str):
    """The prediction computed here, with the library's pipelines or generate."""
    from transformers import pipeline

    directory = str(fx.path(FIXTURES[task]))
    if task == "text-classification":
        return pipeline("text-classification", model=directory)(text)[0]["label"]
    if task == "fill-mask":
        return pipeline("fill-mask", model=directory)(text, top_k=1)[0]["token_str"]
    tok = fx.load(TOKENIZERS.get(FIXTURES[task], "wordpiece-uncased"))
    model = fx.load(FIXTURES[task])
    inputs = tok(text, return_tensors="pt")
    if task == "text-generation":
        out = model.generate(**inputs, do_sample=False, max_new_tokens=1)
        return tok.decode(int(out[0, -1]))
    with torch.no_grad():
        return [model.config.id2label[int(i)] for i in model(**inputs).logits[0].argmax(-1)]


def _texts(task: str, rng) -> list[str]:
    """Three inputs whose answers differ from position to position."""
    from hfcourse.fixtures.build_ch1_data import GENDERED, qa_examples

    if task == "fill-mask":
        words = sample_sentences(rng, 1, 5, 12)[0].split()
        words[rng.randrange(1, len(words))] = "[MASK]"
        pair = rng.choice(GENDERED)
        return [f"{pair[0]} works as a [MASK] .", f"{pair[1]} is a [MASK] .", " ".join(words)]
    if task == "text-generation":
        facts = [item["context"] for item in qa_examples(rng, 2)]
        return [*(f[: f.index(" in ")] + " in" for f in facts if " in " in f), *sample_sentences(rng, 1, 4, 10)]
    if task == "token-classification":
        return [f"{sample_sentences(rng, 1, 4, 12)[0]} Emma Rossi visited Lisbon ." for _ in range(2)]
    return [*sample_sentences(rng, 2, 4, 12), "I love this movie"]


@pytest.mark.grade(points=1, hint="Classification: argmax of logits[0]; tokens: argmax over the labels of each row; fill-mask: the row at the mask token; generation: the last row.",
                   hint_zh="分类：logits[0] 的 argmax；token分类：每一行在标签维上取argmax；完形填空：mask所在的行；生成：最后一行。")
@pytest.mark.parametrize("task", ["text-classification", "token-classification", "fill-mask", "text-generation"])
def test_predict(student, reference, fx, rng, task):
    for text in _texts(task, rng):
        got = student.predict(task, str(fx.path(FIXTURES[task])), text)
        expect.equal(got, _facts(task, fx, text), f"{task} prediction for {text!r}",
                     likely=("read the logits at the right place: the mask token's row for fill-mask, the last row for generation, argmax over the last dimension",
                             "在正确的位置读取logits：完形填空看mask所在行，生成看最后一行，在最后一维上取argmax"))
        expect.equal(got, reference.predict(task, str(fx.path(FIXTURES[task])), text),
                     f"{task} prediction against the reference",
                     likely=("load the model with the task's Auto class and take the argmax of its logits",
                             "用任务对应的Auto类加载模型，并对logits取argmax"))
