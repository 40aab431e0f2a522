"""Grader for 7.2 Token classification."""

import random

import numpy as np
import pytest
import torch
from seqeval.metrics import accuracy_score, f1_score, precision_score, recall_score

from hfcourse import expect
from hfcourse.fixtures.build_ch6 import NER_LABELS, ner_sentence

TOK, DATA, BODY, METRIC = "wordpiece-cased-entities", "conll2003-like", "bert-cased-body", "seqeval-metric"
COLUMNS = ["attention_mask", "input_ids", "labels", "token_type_ids"]
F1_MARGIN = 0.15
"""Entity F1 on the validation split after fine-tuning may fall this far short of the reference's,
trained with the same seed in the same run (it reaches about 1.0 in two epochs)."""
F1_BEFORE_MARGIN = 0.3
"""Entity F1 before fine-tuning may exceed the reference's fresh head's (about 0.01) by this much."""
COURSE_WORD_IDS = [None, 0, 1, 2, 3, 4, 5, 6, 7, 7, 8, None]
COURSE_LABELS = [3, 0, 7, 0, 0, 0, 7, 0, 0]
COURSE_ALIGNED = [-100, 3, 0, 7, 0, 0, 0, 7, 0, 0, 0, -100]


def _data(fx) -> str:
    return str(fx.path(DATA) / "conll2003")


def _metric(fx) -> str:
    return str(fx.path(METRIC) / "seqeval")


def _aligned(labels: list[int], word_ids: list[int | None]) -> list[int]:
    """The course's rule: -100 on special tokens, the word's label on its first token, I-XXX after."""
    out = []
    for i, w in enumerate(word_ids):
        if w is None:
            out.append(-100)
        elif i > 0 and word_ids[i - 1] == w:
            out.append(labels[w] + labels[w] % 2)
        else:
            out.append(labels[w])
    return out


def _sentences(rng: random.Random, n: int) -> dict[str, list]:
    rows = [ner_sentence(rng) for _ in range(n)]
    return {"tokens": [w for w, _ in rows], "ner_tags": [[NER_LABELS.index(t) for t in tags] for _, tags in rows]}


def _long_sentence(rng: random.Random, tok) -> tuple[list[str], list[int]]:
    """One row of sentences run together, more tokens than the tokenizer's model_max_length."""
    words, tags = [], []
    while len(tok(words, is_split_into_words=True)["input_ids"]) <= tok.model_max_length + 20:
        more = _sentences(rng, 8)
        words += [w for row in more["tokens"] for w in row]
        tags += [t for row in more["ner_tags"] for t in row]
    return words, tags


def _gold(fx) -> list[list[str]]:
    return [[NER_LABELS[t] for t in row] for row in fx.load(DATA)["validation"]["ner_tags"]]


@pytest.mark.grade(points=2, visibility="visible",
                   hint="New word: its label (-100 if word_id is None). Same word again: its label, plus 1 if it is odd (B-XXX → I-XXX).",
                   hint_zh="新单词：取它的标签（word_id 为 None 时取 -100）。同一单词的后续 token：取它的标签，若为奇数则加 1（B-XXX → I-XXX）。")
def test_align_labels_with_tokens(student, reference, rng):
    got = student.align_labels_with_tokens(COURSE_LABELS, COURSE_WORD_IDS)
    expect.equal(got, COURSE_ALIGNED, "the course's example (\"lamb\" is two tokens)",
                 likely=("special tokens get -100; the second token of \"lamb\" keeps its word's label 0",
                         "特殊 token 为 -100；\"lamb\" 的第二个 token 沿用该词的标签 0"))
    split = student.align_labels_with_tokens([1, 2, 0], [None, 0, 0, 0, 1, 2, 2, None])
    expect.equal(split, [-100, 1, 2, 2, 2, 0, 0, -100], "a B-PER word cut into three tokens",
                 likely=("the later tokens of a B-XXX word get I-XXX (label + 1)", "B-XXX 单词的后续 token 取 I-XXX（标签 + 1）"))
    for _ in range(5):
        n = rng.randint(2, 9)
        labels = [rng.randrange(len(NER_LABELS)) for _ in range(n)]
        word_ids = [None] + [w for w in range(n) for _ in range(rng.choice([1, 1, 2, 3]))] + [None]
        got = student.align_labels_with_tokens(labels, word_ids)
        expect.equal(got, _aligned(labels, word_ids), "aligned labels of random words")
        expect.equal(got, reference.align_labels_with_tokens(labels, word_ids), "aligned labels vs. the reference")


@pytest.mark.grade(points=2, visibility="visible",
                   hint="tokenizer(examples[\"tokens\"], truncation=True, is_split_into_words=True), then labels from tokenized.word_ids(i) for each row i.",
                   hint_zh="tokenizer(examples[\"tokens\"], truncation=True, is_split_into_words=True)，再对每一行 i 用 tokenized.word_ids(i) 得到标签。")
def test_tokenize_and_align_labels(student, reference, fx, rng):
    batch, tok = _sentences(rng, 6), fx.load(TOK)
    long_words, long_tags = _long_sentence(rng, tok)
    at = rng.randrange(len(batch["tokens"]) + 1)
    batch["tokens"].insert(at, long_words)
    batch["ner_tags"].insert(at, long_tags)
    got = student.tokenize_and_align_labels(batch, fx.ref(TOK))
    expect.true(isinstance(got, dict) and {"input_ids", "labels"} <= set(got),
                "tokenize_and_align_labels must return a dict with input_ids and labels")
    expect.equal(len(got["input_ids"]), len(batch["tokens"]), "number of encoded rows")
    expect.true(len(got["input_ids"][at]) <= tok.model_max_length,
                f"row {at}, a long sentence, has more input_ids than the model's {tok.model_max_length} positions",
                likely=("pass truncation=True so that no row is longer than the model accepts",
                        "传入 truncation=True，使每一行都不超过模型能接受的长度"))
    enc = tok(batch["tokens"], truncation=True, is_split_into_words=True)
    expect.equal([list(r) for r in got["input_ids"]], enc["input_ids"], "input_ids",
                 likely=("the words are already split: pass is_split_into_words=True", "单词已经切分好：传入 is_split_into_words=True"))
    want = [_aligned(tags, enc.word_ids(i)) for i, tags in enumerate(batch["ner_tags"])]
    expect.equal([list(r) for r in got["labels"]], want, "labels",
                 likely=("align each row with its own word_ids(i)", "每一行用它自己的 word_ids(i) 对齐"))
    ref = reference.tokenize_and_align_labels(batch, fx.ref(TOK))
    expect.equal(sorted(got), sorted(ref), "keys of the encoding")


@pytest.mark.grade(points=1, hint="load_dataset(data_dir), then raw.map(lambda b: tokenize_and_align_labels(b, tokenizer), batched=True, remove_columns=raw[\"train\"].column_names).",
                   hint_zh="先 load_dataset(data_dir)，再 raw.map(lambda b: tokenize_and_align_labels(b, tokenizer), batched=True, remove_columns=raw[\"train\"].column_names)。")
def test_tokenize_dataset(student, fx, rng):
    got = student.call("tokenize_dataset", _data(fx), fx.ref(TOK), probe="ch3:dataset")
    expect.true(isinstance(got, dict) and "splits" in got, "tokenize_dataset must return the DatasetDict")
    raw, tok = fx.load(DATA), fx.load(TOK)
    for name in ("train", "validation", "test"):
        split = got["splits"].get(name)
        expect.true(split is not None, f"the {name} split is missing")
        expect.equal(sorted(split["columns"]), COLUMNS, f"columns of the {name} split",
                     likely=("remove the raw columns (id, tokens, pos_tags, chunk_tags, ner_tags) in map",
                             "在 map 中删除原始列（id、tokens、pos_tags、chunk_tags、ner_tags）"))
        rows = rng.sample(range(raw[name].num_rows), 4)
        enc = tok([raw[name][i]["tokens"] for i in rows], truncation=True, is_split_into_words=True)
        want = [_aligned(raw[name][r]["ner_tags"], enc.word_ids(i)) for i, r in enumerate(rows)]
        expect.equal([split["rows"]["labels"][r] for r in rows], want, f"labels of rows {rows} ({name})")


@pytest.mark.grade(points=1, hint="DataCollatorForTokenClassification(tokenizer=tokenizer)(features): it pads labels with -100, not with the pad token.",
                   hint_zh="DataCollatorForTokenClassification(tokenizer=tokenizer)(features)：它用 -100 而不是 pad token 补齐标签。")
def test_collate(student, reference, fx, rng):
    batch = _sentences(rng, 5)
    enc = fx.load(TOK)(batch["tokens"], truncation=True, is_split_into_words=True)
    features = [{"input_ids": enc["input_ids"][i], "attention_mask": enc["attention_mask"][i],
                 "token_type_ids": enc["token_type_ids"][i], "labels": _aligned(tags, enc.word_ids(i))}
                for i, tags in enumerate(batch["ner_tags"])]
    got = student.collate(features, fx.ref(TOK))
    width = max(len(f["input_ids"]) for f in features)
    labels = expect.tensor(got.get("labels") if isinstance(got, dict) else got, "labels", shape=(5, width))
    pad = fx.load(TOK).pad_token_id
    for i, f in enumerate(features):
        n = len(f["labels"])
        expect.equal(labels[i].tolist(), f["labels"] + [-100] * (width - n), f"padded labels of row {i}",
                     likely=("pad labels with -100 so that the loss ignores them: DataCollatorForTokenClassification",
                             "用 -100 补齐标签，让损失忽略它们：DataCollatorForTokenClassification"))
        expect.equal(got["input_ids"][i].tolist(), f["input_ids"] + [pad] * (width - n), f"padded input_ids of row {i}")
    want = reference.collate(features, fx.ref(TOK))
    expect.equal(sorted(got), sorted(want), "keys of the batch")


@pytest.mark.grade(points=2, visibility="visible",
                   hint="argmax the logits, postprocess to label names without the -100 positions, metric.compute(...) and return its overall_precision, overall_recall, overall_f1 and overall_accuracy.",
                   hint_zh="对 logits 取 argmax，后处理成去掉 -100 位置的标签名，调用 metric.compute(...)，返回 overall_precision、overall_recall、overall_f1 和 overall_accuracy。")
def test_compute_metrics(student, fx, rng):
    row = [-100, *COURSE_LABELS, -100]
    labels = np.array([row])
    predicted = [0 if i == 3 else max(l, 0) for i, l in enumerate(row)]
    logits = np.eye(len(NER_LABELS), dtype=np.float32)[predicted][None]
    got = student.score(logits, labels, list(NER_LABELS), _metric(fx))
    expect.true(isinstance(got, dict), f"score returned a {type(got).__name__}, expected a dict")
    expect.equal(sorted(got), ["accuracy", "f1", "precision", "recall"], "metric names",
                 likely=("return precision, recall, f1 and accuracy from the overall_* entries",
                         "从 overall_* 条目中返回 precision、recall、f1 和 accuracy"))
    course = {"precision": 1.0, "recall": 2 / 3, "f1": 0.8, "accuracy": 8 / 9}
    for name, value in course.items():
        expect.close(torch.tensor(float(got[name])), torch.tensor(value), f"{name} on the course's example", atol=1e-6,
                     likely=("leave out the -100 positions before computing the metric", "计算指标前去掉 -100 的位置"))
    rows, width = rng.randint(6, 12), 14
    logits = np.array([[[rng.gauss(0, 1) for _ in NER_LABELS] for _ in range(width)] for _ in range(rows)], dtype=np.float32)
    labels = np.array([[rng.randrange(len(NER_LABELS)) if 0 < j < rng.randint(5, width) else -100 for j in range(width)]
                       for _ in range(rows)])
    got = student.score(logits, labels, list(NER_LABELS), _metric(fx))
    pred = logits.argmax(-1)
    y_pred = [[NER_LABELS[p] for p, l in zip(pr, lr) if l != -100] for pr, lr in zip(pred, labels)]
    y_true = [[NER_LABELS[l] for l in lr if l != -100] for lr in labels]
    for name, fn in (("precision", precision_score), ("recall", recall_score), ("f1", f1_score), ("accuracy", accuracy_score)):
        expect.close(torch.tensor(float(got[name])), torch.tensor(float(fn(y_true, y_pred))), f"{name} of random logits",
                     atol=1e-6, likely=("predictions are the argmax over the labels (axis=-1); references are the labels",
                                        "预测是对标签维度（axis=-1）取 argmax；参考答案是真实标签"))


@pytest.mark.grade(points=1, hint="Return (true_predictions, true_labels): the course's version returns them the other way round while its caller unpacks predictions first.",
                   hint_zh="返回 (true_predictions, true_labels)：课程中的版本顺序反了，而调用方先解包预测。")
def test_postprocess_order(student, rng):
    labels = np.array([[-100, 1, 2, 0, 5, -100, -100], [-100, 0, 3, 4, 0, 7, -100]])
    predictions = np.array([[0, 1, 1, 0, 6, 3, 3], [8, 0, 3, 3, 0, 0, 8]])
    if rng.random() < 0.5:
        labels, predictions = labels[::-1].copy(), predictions[::-1].copy()
    got = student.postprocess(predictions, labels, list(NER_LABELS))
    expect.true(isinstance(got, (list, tuple)) and len(got) == 2, "postprocess must return two lists")
    want_pred = [[NER_LABELS[p] for p, l in zip(pr, lr) if l != -100] for pr, lr in zip(predictions, labels)]
    want_true = [[NER_LABELS[l] for l in lr if l != -100] for lr in labels]
    expect.true(list(got) != [want_true, want_pred], "postprocess returned (labels, predictions)",
                likely=("return true_predictions first, then true_labels", "先返回 true_predictions，再返回 true_labels"))
    expect.equal([list(r) for r in got[0]], want_pred, "true_predictions")
    expect.equal([list(r) for r in got[1]], want_true, "true_labels")


@pytest.mark.grade(points=1, hint="set_seed(seed) first, then AutoModelForTokenClassification.from_pretrained(checkpoint, id2label=…, label2id=…).",
                   hint_zh="先 set_seed(seed)，再 AutoModelForTokenClassification.from_pretrained(checkpoint, id2label=…, label2id=…)。")
def test_load_model_seeds_the_new_head(student, reference, fx, rng):
    seed, names = rng.randrange(1000), list(NER_LABELS)
    got = student.call("load_model", str(fx.path(BODY)), names, seed, probe="state_dict")
    want = reference.call("load_model", str(fx.path(BODY)), names, seed, probe="state_dict")
    head = sorted(k for k in want if k.startswith("classifier."))
    expect.equal(sorted(k for k in got if k.startswith("classifier.")), head, "parameters of the token-classification head")
    for key in head:
        expect.close(got[key], want[key], f"{key} of the new head vs. the reference with the same seed", atol=0, likely=(
            "call set_seed(seed) before from_pretrained: the new head is drawn from the random generator",
            "在 from_pretrained 之前调用 set_seed(seed)：新的分类头是随机初始化的"))
    body = next(k for k in want if not k.startswith("classifier."))
    expect.close(got[body], want[body], f"{body} (from the checkpoint)", atol=0)


def _check_predictions(predictions, gold, reported_f1: float, what: str, reference_f1: float) -> float:
    expect.equal(len(predictions), len(gold), f"{what}: number of predicted rows")
    expect.equal([len(p) for p in predictions], [len(g) for g in gold], f"{what}: predicted labels per row",
                 likely=("one label per word: keep the positions whose label is not -100", "每个单词一个标签：保留标签不为 -100 的位置"))
    f1 = float(f1_score(gold, [list(p) for p in predictions]))
    expect.close(torch.tensor(float(reported_f1)), torch.tensor(f1), f"{what}: reported F1 vs. its predictions", atol=1e-6,
                 likely=("compute the metric on the postprocessed predictions of the trained model",
                         "用训练后模型的后处理预测计算指标"))
    expect.as_good(f1, reference_f1, f"{what}: validation entity F1", margin=F1_MARGIN,
                   likely=("train the model (trainer.train()) with the aligned labels", "用对齐后的标签训练模型（trainer.train()）"))
    return f1


@pytest.mark.grade(points=2, hint="Trainer(model=…, args=…, train_dataset=…, eval_dataset=…, data_collator=DataCollatorForTokenClassification(tokenizer), compute_metrics=…, processing_class=tokenizer); evaluate, train, evaluate.",
                   hint_zh="Trainer(model=…, args=…, train_dataset=…, eval_dataset=…, data_collator=DataCollatorForTokenClassification(tokenizer), compute_metrics=…, processing_class=tokenizer)；先评估，再训练，再评估。")
def test_fine_tune_with_trainer(student, reference, fx, rng):
    epochs, lr, seed = rng.choice([2, 3]), rng.choice([3e-3, 5e-3]), rng.randrange(1000)
    got = student.fine_tune(str(fx.path(BODY)), _data(fx), _metric(fx), student.scratch("ner-run"), epochs, lr, seed)
    expect.true(isinstance(got, dict) and {"before", "after", "predictions"} <= set(got),
                "fine_tune must return {\"before\", \"after\", \"predictions\"}")
    for key in ("eval_precision", "eval_recall", "eval_f1", "eval_accuracy"):
        expect.true(key in got["before"] and key in got["after"], f"trainer.evaluate() reports no {key}",
                    likely=("pass compute_metrics=make_compute_metrics(names, metric_path)", "传入 compute_metrics=make_compute_metrics(names, metric_path)"))
    want = reference.fine_tune(str(fx.path(BODY)), _data(fx), _metric(fx), reference.scratch("ner-run"), epochs, lr, seed)
    expect.as_good(float(got["before"]["eval_f1"]), float(want["before"]["eval_f1"]), "the F1 before training (a new, "
                   "untrained head)", margin=F1_BEFORE_MARGIN, lower_is_better=True,
                   likely=("load the body with AutoModelForTokenClassification.from_pretrained(checkpoint, id2label=…, label2id=…) and evaluate before trainer.train()",
                        "用 AutoModelForTokenClassification.from_pretrained(checkpoint, id2label=…, label2id=…) 加载模型，并在 trainer.train() 之前评估"))
    _check_predictions(got["predictions"], _gold(fx), got["after"]["eval_f1"], "Trainer", float(want["after"]["eval_f1"]))


@pytest.mark.grade(points=1, hint="accelerator.prepare(model, optimizer, train_dl, eval_dl); in evaluation pad predictions and labels with pad_across_processes(…, dim=1, pad_index=-100), gather, postprocess, metric.add_batch.",
                   hint_zh="accelerator.prepare(model, optimizer, train_dl, eval_dl)；评估时用 pad_across_processes(…, dim=1, pad_index=-100) 补齐预测和标签，gather 后处理，再 metric.add_batch。")
def test_train_with_accelerate(student, reference, fx, rng):
    config = {"checkpoint": str(fx.path(BODY)), "data_dir": _data(fx), "metric_path": _metric(fx), "epochs": 2,
              "lr": rng.choice([3e-3, 5e-3]), "batch_size": rng.choice([8, 16]), "seed": rng.randrange(1000)}
    got = student.train_with_accelerate(config)
    expect.true(isinstance(got, dict) and {"f1", "predictions"} <= set(got),
                "train_with_accelerate must return {\"f1\", \"predictions\"}")
    expect.equal(len(got["f1"]), config["epochs"], "number of F1 values (one per epoch)")
    # seeded head, seeded shuffling: the reference's F1 values are the same run after run
    want = reference.train_with_accelerate(config)
    _check_predictions(got["predictions"], _gold(fx), got["f1"][-1], "Accelerate loop", float(want["f1"][-1]))
    expect.close(torch.tensor([float(v) for v in got["f1"]]), torch.tensor([float(v) for v in want["f1"]]),
                 "F1 after each epoch vs. the reference with the same seed", atol=1e-6, likely=(
                     "model.eval() before evaluating (dropout is on in training mode), and shuffle with "
                     "torch.Generator().manual_seed(seed)", "评估前调用 model.eval()（训练模式下 dropout 开着），并用 "
                     "torch.Generator().manual_seed(seed) 打乱"))


@pytest.mark.grade(points=1, hint="Each process pads its own batch: accelerator.pad_across_processes(predictions, dim=1, pad_index=-100) and the same for the labels, before accelerator.gather.",
                   hint_zh="每个进程的batch长度不同：gather 之前先用 accelerator.pad_across_processes(predictions, dim=1, pad_index=-100) 补齐预测，标签也一样。")
def test_train_with_accelerate_in_two_processes(student, fx, rng):
    gold = _gold(fx)
    # 60 validation rows: one batch of 30 for each process, so nothing is repeated to even them out
    config = {"checkpoint": str(fx.path(BODY)), "data_dir": _data(fx), "metric_path": _metric(fx), "epochs": 1,
              "lr": 5e-3, "batch_size": len(gold) // 2, "seed": rng.randrange(1000)}
    ranks = student.call("train_with_accelerate", config, processes=2)["ranks"]
    for rank, got in enumerate(ranks):
        expect.true(isinstance(got, dict) and {"f1", "predictions"} <= set(got),
                    "train_with_accelerate must return {\"f1\", \"predictions\"}")
        predictions = [list(p) for p in got["predictions"]]
        expect.equal([len(p) for p in predictions], [len(g) for g in gold], f"process {rank} of 2: labels per "
                     "validation row, gathered from both processes", likely=(
                         "gather the predictions and labels of every process with accelerator.gather",
                         "用 accelerator.gather 汇总所有进程的预测和标签"))
        expect.close(torch.tensor(float(got["f1"][-1])), torch.tensor(float(f1_score(gold, predictions))),
                     f"process {rank} of 2: reported F1 vs. its predictions", atol=1e-6)
    expect.equal(list(ranks[1]["predictions"]), list(ranks[0]["predictions"]), "the predictions of process 1 vs. process 0")
