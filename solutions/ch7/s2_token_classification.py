"""7.2 Token classification — 微调Token分类（命名实体识别、词性标注、分块）模型

Named-entity recognition on a conll2003-like data set: the words come pre-split, so the
tokenizer is called with ``is_split_into_words=True`` and its ``word_ids()`` say which word
each token belongs to. Each token gets the label of its word (-100 for special tokens, and
the inside label I-XXX for the later tokens of a word that begins an entity);
``DataCollatorForTokenClassification`` pads the labels with -100; seqeval scores the
entities. Then fine-tuning, once with ``Trainer`` and once with a plain Accelerate loop.
Course: https://huggingface.co/learn/llm-course/chapter7/2
中文课程：https://huggingface.co/learn/llm-course/zh-CN/chapter7/2

在类似 conll2003 的数据集上做命名实体识别：单词已经切分好，所以分词时传入
``is_split_into_words=True``，``word_ids()`` 给出每个 token 属于哪个单词。每个 token 取其所在
单词的标签（特殊 token 为 -100；实体开头单词的后续 token 用内部标签 I-XXX）；
``DataCollatorForTokenClassification`` 用 -100 补齐标签；seqeval 按实体计分。然后分别用
``Trainer`` 和朴素的 Accelerate 循环微调模型。
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from datasets import DatasetDict, load_dataset
from transformers import (AutoModelForTokenClassification, AutoTokenizer, DataCollatorForTokenClassification,
                          Trainer, TrainingArguments, set_seed)


def align_labels_with_tokens(labels: list[int], word_ids: list[int | None]) -> list[int]:
    """The label of each token: -100 where ``word_ids`` is None (special tokens); the label of
    its word for the first token of a word; for the later tokens of a word, the word's label,
    turned from B-XXX into I-XXX (B labels are the odd ids, I-XXX is B-XXX + 1)."""
    # BEGIN SOLUTION
    new_labels = []
    current_word = None
    for word_id in word_ids:
        if word_id != current_word:
            current_word = word_id
            new_labels.append(-100 if word_id is None else labels[word_id])
        elif word_id is None:
            new_labels.append(-100)
        else:
            label = labels[word_id]
            if label % 2 == 1:
                label += 1
            new_labels.append(label)
    return new_labels
    # END SOLUTION


def tokenize_and_align_labels(examples: dict[str, list], tokenizer) -> dict[str, list]:
    """For a batch of rows (``tokens``, ``ner_tags``, as ``Dataset.map(batched=True)`` passes
    them): the tokenizer's encoding of the pre-split words (truncated, not padded) with a
    ``labels`` column from ``align_labels_with_tokens``."""
    # BEGIN SOLUTION
    tokenized = tokenizer(examples["tokens"], truncation=True, is_split_into_words=True)
    tokenized["labels"] = [align_labels_with_tokens(labels, tokenized.word_ids(i))
                           for i, labels in enumerate(examples["ner_tags"])]
    return dict(tokenized)
    # END SOLUTION


def tokenize_dataset(data_dir: str, tokenizer) -> DatasetDict:
    """The conll2003-like data set in ``data_dir`` (``load_dataset(data_dir)``), every split mapped
    (batched) with ``tokenize_and_align_labels``, keeping only the model's columns (the raw
    columns removed)."""
    # BEGIN SOLUTION
    raw = load_dataset(data_dir)
    return raw.map(lambda batch: tokenize_and_align_labels(batch, tokenizer), batched=True,
                   remove_columns=raw["train"].column_names)
    # END SOLUTION


def collate(features: list[dict[str, list[int]]], tokenizer) -> dict[str, torch.Tensor]:
    """A batch of tokenized rows padded by ``DataCollatorForTokenClassification``: the inputs
    with the pad token, the labels with -100; a dict of tensors."""
    # BEGIN SOLUTION
    return dict(DataCollatorForTokenClassification(tokenizer=tokenizer)(features))
    # END SOLUTION


def postprocess(predictions: np.ndarray, labels: np.ndarray,
                label_names: list[str]) -> tuple[list[list[str]], list[list[str]]]:
    """Label ids (``predictions`` already argmaxed, ``labels`` with -100) to label names, one list
    per row, keeping only the positions whose label is not -100. Returns
    ``(true_predictions, true_labels)``, in that order."""
    # BEGIN SOLUTION
    true_labels = [[label_names[l] for l in label if l != -100] for label in labels]
    true_predictions = [[label_names[p] for p, l in zip(prediction, label) if l != -100]
                        for prediction, label in zip(predictions, labels)]
    return true_predictions, true_labels
    # END SOLUTION


def make_compute_metrics(label_names: list[str], metric_path: str) -> Callable[[Any], dict[str, float]]:
    """Load the seqeval module at ``metric_path`` once (``evaluate.load(metric_path)``) and return
    ``compute_metrics(eval_preds)`` for ``Trainer``: from ``(logits, labels)`` take the argmax of
    the logits, ``postprocess`` both, and return the overall ``{"precision", "recall", "f1",
    "accuracy"}`` of the metric."""
    # BEGIN SOLUTION
    import evaluate

    metric = evaluate.load(metric_path)

    def compute_metrics(eval_preds: Any) -> dict[str, float]:
        logits, labels = eval_preds
        predictions = np.argmax(logits, axis=-1)
        true_predictions, true_labels = postprocess(predictions, labels, label_names)
        all_metrics = metric.compute(predictions=true_predictions, references=true_labels)
        return {"precision": all_metrics["overall_precision"], "recall": all_metrics["overall_recall"],
                "f1": all_metrics["overall_f1"], "accuracy": all_metrics["overall_accuracy"]}

    return compute_metrics
    # END SOLUTION


def score(logits: np.ndarray, labels: np.ndarray, label_names: list[str], metric_path: str) -> dict[str, float]:
    """What ``Trainer`` reports for these logits: ``make_compute_metrics(...)((logits, labels))``."""
    # BEGIN SOLUTION
    return make_compute_metrics(label_names, metric_path)((logits, labels))
    # END SOLUTION


def load_model(checkpoint: str, label_names: list[str], seed: int):
    """``set_seed(seed)``, then ``AutoModelForTokenClassification`` from ``checkpoint`` (a body
    without a token-classification head) with ``id2label`` and ``label2id`` built from
    ``label_names``: the new head is initialised from the seed."""
    # BEGIN SOLUTION
    set_seed(seed)
    id2label = dict(enumerate(label_names))
    label2id = {name: i for i, name in id2label.items()}
    return AutoModelForTokenClassification.from_pretrained(checkpoint, id2label=id2label, label2id=label2id)
    # END SOLUTION


def fine_tune(checkpoint: str, data_dir: str, metric_path: str, out_dir: Path, epochs: int, lr: float,
              seed: int) -> dict[str, Any]:
    """Fine-tune with ``Trainer``: the tokenizer and ``load_model(checkpoint, names, seed)``
    (``names`` from ``load_dataset(data_dir)["train"].features["ner_tags"].feature.names``), the
    splits of ``tokenize_dataset(data_dir, tokenizer)``, ``DataCollatorForTokenClassification``, ``make_compute_metrics`` and
    ``TrainingArguments(out_dir, eval_strategy="epoch", learning_rate=lr, num_train_epochs=epochs,
    seed=seed, per_device_train_batch_size=16, save_strategy="no", report_to="none",
    disable_tqdm=True)``. Evaluate on the validation split before and after training.

    Returns ``{"before": metrics of trainer.evaluate() before training, "after": the same after
    training, "predictions": the trained model's predicted label names for the validation split
    (one list per row, one name per word)}``."""
    # BEGIN SOLUTION
    names = load_dataset(data_dir)["train"].features["ner_tags"].feature.names
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    model = load_model(checkpoint, names, seed)
    tokenized = tokenize_dataset(data_dir, tokenizer)
    args = TrainingArguments(out_dir, eval_strategy="epoch", learning_rate=lr, num_train_epochs=epochs, seed=seed,
                             per_device_train_batch_size=16, save_strategy="no", report_to="none",
                             disable_tqdm=True)
    trainer = Trainer(model=model, args=args, train_dataset=tokenized["train"],
                      eval_dataset=tokenized["validation"],
                      data_collator=DataCollatorForTokenClassification(tokenizer=tokenizer),
                      compute_metrics=make_compute_metrics(names, metric_path), processing_class=tokenizer)
    before = trainer.evaluate()
    trainer.train()
    after = trainer.evaluate()
    output = trainer.predict(tokenized["validation"])
    predictions, _ = postprocess(output.predictions.argmax(-1), output.label_ids, names)
    return {"before": before, "after": after, "predictions": predictions}
    # END SOLUTION


def train_with_accelerate(config: dict[str, Any]) -> dict[str, Any]:
    """The same fine-tuning as a plain loop with 🤗 Accelerate. ``config`` has ``checkpoint``,
    ``data_dir``, ``metric_path``, ``epochs``, ``lr``, ``batch_size`` and ``seed``.

    Load the tokenizer and ``load_model(checkpoint, names, seed)``; ``DataLoader``s over the
    tokenized train split (shuffled with ``torch.Generator().manual_seed(seed)``) and validation
    split (in order), batched by ``DataCollatorForTokenClassification``; ``torch.optim.AdamW(lr)``
    and a linear ``get_scheduler`` without warm-up; ``Accelerator(cpu=True).prepare`` them. Train
    with ``accelerator.backward``. After each epoch, evaluate in eval mode (``model.eval()``:
    graded, since dropout is on in training mode; ``model.train()`` again before the next epoch):
    argmax the logits, pad predictions
    and labels across processes (``accelerator.pad_across_processes(..., dim=1,
    pad_index=-100)``), ``accelerator.gather`` them, ``postprocess`` and ``metric.add_batch``.

    Returns ``{"f1": the overall F1 after each epoch (list), "predictions": the label names
    predicted for the validation split after the last epoch (one list per row)}``."""
    # BEGIN SOLUTION
    import evaluate
    from accelerate import Accelerator
    from torch.utils.data import DataLoader
    from transformers import get_scheduler

    names = load_dataset(config["data_dir"])["train"].features["ner_tags"].feature.names
    tokenizer = AutoTokenizer.from_pretrained(config["checkpoint"])
    model = load_model(config["checkpoint"], names, config["seed"])
    tokenized = tokenize_dataset(config["data_dir"], tokenizer)
    collator = DataCollatorForTokenClassification(tokenizer=tokenizer)
    train_dl = DataLoader(tokenized["train"], shuffle=True, collate_fn=collator, batch_size=config["batch_size"],
                          generator=torch.Generator().manual_seed(config["seed"]))
    eval_dl = DataLoader(tokenized["validation"], collate_fn=collator, batch_size=config["batch_size"])
    optimizer = torch.optim.AdamW(model.parameters(), lr=config["lr"])
    accelerator = Accelerator(cpu=True)
    model, optimizer, train_dl, eval_dl = accelerator.prepare(model, optimizer, train_dl, eval_dl)
    steps = config["epochs"] * len(train_dl)
    scheduler = get_scheduler("linear", optimizer=optimizer, num_warmup_steps=0, num_training_steps=steps)
    metric = evaluate.load(config["metric_path"])
    f1s: list[float] = []
    predicted: list[list[str]] = []
    for _ in range(config["epochs"]):
        model.train()
        for batch in train_dl:
            loss = model(**batch).loss
            accelerator.backward(loss)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
        model.eval()
        predicted = []
        for batch in eval_dl:
            with torch.no_grad():
                logits = model(**batch).logits
            predictions = accelerator.pad_across_processes(logits.argmax(dim=-1), dim=1, pad_index=-100)
            labels = accelerator.pad_across_processes(batch["labels"], dim=1, pad_index=-100)
            true_predictions, true_labels = postprocess(accelerator.gather(predictions).cpu().numpy(),
                                                        accelerator.gather(labels).cpu().numpy(), names)
            metric.add_batch(predictions=true_predictions, references=true_labels)
            predicted += true_predictions
        f1s.append(metric.compute()["overall_f1"])
    return {"f1": f1s, "predictions": predicted}
    # END SOLUTION
