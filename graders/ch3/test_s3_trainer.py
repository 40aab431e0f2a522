"""Grader for 3.3 Fine-tuning a model with the Trainer API."""

import numpy as np
import pytest
import torch
from sklearn.metrics import accuracy_score, f1_score

from hfcourse import expect

TOK, DATA, MODEL, METRIC = "wordpiece-uncased", "mrpc-like", "tiny-mrpc", "glue-metric"
MARGIN = 0.05
"""Validation accuracy may fall this far short of the reference's, trained the same way in the same run."""


def _paths(fx) -> tuple[str, str]:
    return str(fx.path(DATA) / "glue"), str(fx.path(METRIC) / "glue")


def _with_a_long_pair(student, fx, row: int) -> str:
    """A copy of the MRPC data set in the student's scratch whose training row ``row`` has a
    first sentence far longer than the model's 512 positions: over 1024 words, each at least one token
    (80 copies of a short sentence stayed under 512 tokens)."""
    def lengthen(rows: list[dict]) -> None:
        words = rows[row]["sentence1"].split()
        rows[row]["sentence1"] = " ".join(words * (1024 // len(words) + 1))

    edited = fx.copy_edited(DATA, "glue", student.private_dir("glue-long") / "glue", "mrpc/train-00000-of-00001.parquet",
                            lengthen)
    return student.path(student.put(edited, "glue-long"))


def _run(rng) -> dict:
    return {"train_rows": rng.choice([24, 32]), "epochs": rng.choice([2, 3]), "lr": rng.choice([1e-3, 2e-3]),
            "seed": rng.randrange(1000)}


@pytest.mark.grade(points=2, visibility="visible",
                   hint="Load the metric once with evaluate.load(metric_path, \"mrpc\"); compute_metrics takes np.argmax(logits, axis=-1) as predictions.",
                   hint_zh="用 evaluate.load(metric_path, \"mrpc\") 只加载一次指标；compute_metrics 以 np.argmax(logits, axis=-1) 作为预测。")
def test_compute_metrics_matches_sklearn(student, fx, rng):
    _, metric = _paths(fx)
    n = rng.randrange(20, 40)
    logits = np.array([[rng.gauss(0, 1), rng.gauss(0, 1)] for _ in range(n)], dtype=np.float32)
    labels = np.array([rng.randrange(2) for _ in range(n)], dtype=np.int64)
    got = student.score(logits, labels, metric)
    predictions = logits.argmax(axis=-1)
    want = {"accuracy": accuracy_score(labels, predictions), "f1": f1_score(labels, predictions)}
    expect.true(isinstance(got, dict), f"score returned a {type(got).__name__}, expected a dict of metrics")
    expect.equal(sorted(got), ["accuracy", "f1"], "metric names",
                 likely=("load the GLUE module with the \"mrpc\" configuration: it reports accuracy and F1",
                         "用 \"mrpc\" 配置加载GLUE模块：它会报告准确率和F1"))
    for name in want:
        expect.close(torch.tensor(float(got[name])), torch.tensor(want[name]), name, atol=1e-9,
                     likely=("the prediction of a row is the argmax over its classes: axis=-1",
                             "每一行的预测是对类别取argmax：axis=-1"))


@pytest.mark.grade(points=2, visibility="visible",
                   hint="TrainingArguments(out_dir, eval_strategy=\"epoch\", …): transformers 5 renamed evaluation_strategy to eval_strategy.",
                   hint_zh="TrainingArguments(out_dir, eval_strategy=\"epoch\", …)：transformers 5 把 evaluation_strategy 改名为 eval_strategy。")
def test_training_args(student, rng):
    run = _run(rng)
    got = student.call("training_args", student.scratch("args-run"), run["epochs"], run["lr"], run["seed"],
                       probe="ch3:training_args")
    want = {"output_dir": "args-run", "eval_strategy": "epoch", "save_strategy": "no", "num_train_epochs": run["epochs"],
            "learning_rate": run["lr"], "seed": run["seed"], "per_device_train_batch_size": 8,
            "per_device_eval_batch_size": 8, "report_to": [], "disable_tqdm": True}
    expect.equal({k: got[k] for k in want}, want, "training arguments",
                 likely=("evaluate every epoch with eval_strategy=\"epoch\"; save_strategy=\"no\", report_to=\"none\"",
                         "用 eval_strategy=\"epoch\" 每个epoch评估一次；save_strategy=\"no\"，report_to=\"none\""))


@pytest.mark.grade(points=2, hint="Trainer(model, args, train_dataset=…, eval_dataset=…, data_collator=…, processing_class=tokenizer, compute_metrics=…).",
                   hint_zh="Trainer(model, args, train_dataset=…, eval_dataset=…, data_collator=…, processing_class=tokenizer, compute_metrics=…)。")
def test_build_trainer(student, fx, rng):
    data, metric = _paths(fx)
    run = _run(rng)
    data = _with_a_long_pair(student, fx, rng.randrange(run["train_rows"]))
    got = student.call("build_trainer", fx.ref(MODEL, fresh=True), fx.ref(TOK), data, metric,
                       student.scratch("build-run"), *run.values(), probe="ch3:trainer")
    expect.equal(got["processing_class"], type(fx.load(TOK)).__name__, "class of trainer.processing_class",
                 likely=("pass the tokenizer as processing_class= (tokenizer= was removed in transformers 5)",
                         "用 processing_class= 传入tokenizer（transformers 5 删除了 tokenizer=）"))
    expect.equal(got["data_collator"], "DataCollatorWithPadding", "class of trainer.data_collator")
    expect.true(got["compute_metrics"], "the trainer has no compute_metrics", likely=(
        "pass compute_metrics=make_compute_metrics(metric_path)", "传入 compute_metrics=make_compute_metrics(metric_path)"))
    expect.equal(got["train_rows"], run["train_rows"], "rows of the training set",
                 likely=("train on tokenized[\"train\"].select(range(train_rows))", "在 tokenized[\"train\"].select(range(train_rows)) 上训练"))
    expect.equal(got["eval_rows"], fx.load(DATA)["validation"].num_rows, "rows of the evaluation set")
    for column in ("input_ids", "token_type_ids", "attention_mask", "label"):
        expect.true(column in got["train_columns"], f"the training set has no {column} column")
    limit = fx.load(TOK).model_max_length
    expect.true(got["longest_train_row"] is not None and got["longest_train_row"] <= limit,
                f"the longest training row has {got['longest_train_row']} tokens; the model takes at most {limit}",
                likely=("tokenize with truncation=True", "分词时加上 truncation=True"))
    expect.equal(got["args"]["eval_strategy"], "epoch", "trainer.args.eval_strategy")
    expect.equal(got["state"]["global_step"], 0, "steps taken by build_trainer (it must not train)")


@pytest.mark.grade(points=4, hint="trainer.train(), then trainer.predict(trainer.eval_dataset); predictions are the argmax of .predictions over the last axis.",
                   hint_zh="先 trainer.train()，再 trainer.predict(trainer.eval_dataset)；预测是 .predictions 在最后一维上的argmax。")
def test_fine_tune_beats_the_majority_class(student, reference, fx, rng):
    data, metric = _paths(fx)
    run = _run(rng)
    got = student.call("fine_tune", fx.ref(MODEL, fresh=True), fx.ref(TOK), data, metric,
                       student.scratch("fine-tune-run"), *run.values())
    gold = list(fx.load(DATA)["validation"]["label"])
    expect.true(isinstance(got, dict) and {"predictions", "label_ids", "metrics"} <= set(got),
                "fine_tune must return {\"predictions\", \"label_ids\", \"metrics\"}")
    expect.equal(list(got["label_ids"]), gold, "label_ids of the validation split")
    predictions = list(got["predictions"])
    expect.equal(len(predictions), len(gold), "number of predictions")
    accuracy = accuracy_score(gold, predictions)
    want = reference.call("fine_tune", fx.ref(MODEL, fresh=True), fx.ref(TOK), data, metric,
                          reference.scratch("fine-tune-run"), *run.values())
    expect.as_good(accuracy, accuracy_score(gold, want["predictions"]), "validation accuracy", margin=MARGIN,
                   likely=("call trainer.train() before predicting: the new head predicts one class until trained",
                           "预测前先调用 trainer.train()：新的分类头在训练前只会预测同一个类别"))
    metrics = got["metrics"]
    for name, value in (("test_accuracy", accuracy), ("test_f1", f1_score(gold, predictions))):
        expect.true(name in metrics, f"the metrics of predict have no {name}",
                    likely=("give the trainer compute_metrics", "给trainer传入 compute_metrics"))
        expect.close(torch.tensor(float(metrics[name])), torch.tensor(value), name, atol=1e-6)
    expect.close(torch.tensor(accuracy), torch.tensor(accuracy_score(gold, want["predictions"])), "validation accuracy vs. the reference", atol=0.05)
