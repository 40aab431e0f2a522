"""7.4 Translation — 微调文本翻译（序列到序列）模型

Fine-tuning a sequence-to-sequence model on a kde4-like English-French parallel set: the
course splits its only split itself (``train_test_split(train_size=0.9, seed=20)``), encodes
sources and targets in one call (``text_target=``), and ``DataCollatorForSeq2Seq`` pads the
labels with -100 and builds the decoder inputs (the labels shifted right). SacreBLEU scores
generated translations; ``Seq2SeqTrainer`` with ``predict_with_generate=True`` and a plain
Accelerate loop that calls ``generate`` both fine-tune and evaluate the model.
Course: https://huggingface.co/learn/llm-course/chapter7/4
中文课程：https://huggingface.co/learn/llm-course/zh-CN/chapter7/4

在类似 kde4 的英法平行语料上微调序列到序列模型：课程自己切分唯一的 train 划分
（``train_test_split(train_size=0.9, seed=20)``），用一次调用同时编码源文本和目标文本
（``text_target=``），``DataCollatorForSeq2Seq`` 用 -100 补齐标签并构造解码器输入（标签右移一位）。
SacreBLEU 为生成的译文打分；``Seq2SeqTrainer``（``predict_with_generate=True``）和调用
``generate`` 的朴素 Accelerate 循环都用来微调和评估模型。
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from datasets import DatasetDict, load_dataset
from transformers import (AutoModelForSeq2SeqLM, AutoTokenizer, DataCollatorForSeq2Seq, Seq2SeqTrainer,
                          Seq2SeqTrainingArguments)


def split_dataset(data_dir: str) -> DatasetDict:
    """``load_dataset(data_dir)`` (kde4-like, one train split) split as the course does:
    ``train_test_split(train_size=0.9, seed=20)``, its ``test`` split renamed ``validation``."""
    # BEGIN SOLUTION
    raw = load_dataset(data_dir)
    split = raw["train"].train_test_split(train_size=0.9, seed=20)
    split["validation"] = split.pop("test")
    return split
    # END SOLUTION


def preprocess_function(examples: dict[str, list], tokenizer, max_length: int) -> dict[str, list]:
    """Encode a batch of ``translation`` rows: the English texts as inputs and the French ones as
    ``text_target`` (so that they become ``labels``), both truncated to ``max_length``."""
    # BEGIN SOLUTION
    inputs = [ex["en"] for ex in examples["translation"]]
    targets = [ex["fr"] for ex in examples["translation"]]
    return dict(tokenizer(inputs, text_target=targets, max_length=max_length, truncation=True))
    # END SOLUTION


def tokenize_splits(data_dir: str, tokenizer, max_length: int) -> DatasetDict:
    """The splits of ``split_dataset(data_dir)`` mapped batched with ``preprocess_function``,
    the raw columns removed."""
    # BEGIN SOLUTION
    split = split_dataset(data_dir)
    return split.map(lambda batch: preprocess_function(batch, tokenizer, max_length), batched=True,
                     remove_columns=split["train"].column_names)
    # END SOLUTION


def collate(features: list[dict[str, list[int]]], tokenizer, model) -> dict[str, torch.Tensor]:
    """A batch from ``DataCollatorForSeq2Seq(tokenizer, model=model)``: inputs padded with the pad
    token, labels with -100, and ``decoder_input_ids`` made from the labels by the model."""
    # BEGIN SOLUTION
    return dict(DataCollatorForSeq2Seq(tokenizer, model=model)(features))
    # END SOLUTION


def bleu(predictions: list[str], references: list[list[str]], metric_path: str) -> float:
    """The SacreBLEU score of ``predictions`` against ``references`` (a list of references per
    prediction) from the metric module at ``metric_path``."""
    # BEGIN SOLUTION
    import evaluate

    return evaluate.load(metric_path).compute(predictions=predictions, references=references)["score"]
    # END SOLUTION


def make_compute_metrics(tokenizer, metric_path: str) -> Callable[[Any], dict[str, float]]:
    """Load the sacrebleu module once and return ``compute_metrics(eval_preds)`` for
    ``Seq2SeqTrainer``: ``(preds, labels)`` hold token ids (``preds`` may come as a tuple whose
    first item is the ids). Replace -100 (padding of labels, and of predictions gathered from
    batches of different lengths) by the pad token id, decode both without special tokens,
    strip, and return ``{"bleu": score}`` with one reference per prediction."""
    # BEGIN SOLUTION
    import evaluate

    metric = evaluate.load(metric_path)

    def compute_metrics(eval_preds: Any) -> dict[str, float]:
        preds, labels = eval_preds
        if isinstance(preds, tuple):
            preds = preds[0]
        preds = np.where(preds != -100, preds, tokenizer.pad_token_id)
        decoded_preds = tokenizer.batch_decode(preds, skip_special_tokens=True)
        labels = np.where(labels != -100, labels, tokenizer.pad_token_id)
        decoded_labels = tokenizer.batch_decode(labels, skip_special_tokens=True)
        decoded_preds = [pred.strip() for pred in decoded_preds]
        decoded_labels = [[label.strip()] for label in decoded_labels]
        result = metric.compute(predictions=decoded_preds, references=decoded_labels)
        return {"bleu": result["score"]}

    return compute_metrics
    # END SOLUTION


def score(preds: Any, labels: np.ndarray, tokenizer, metric_path: str) -> dict[str, float]:
    """What ``Seq2SeqTrainer`` reports: ``make_compute_metrics(tokenizer, metric_path)((preds, labels))``."""
    # BEGIN SOLUTION
    return make_compute_metrics(tokenizer, metric_path)((preds, labels))
    # END SOLUTION


def fine_tune(model_dir: str, data_dir: str, metric_path: str, out_dir: Path, train_rows: int, epochs: int,
              lr: float, seed: int, max_length: int) -> dict[str, float]:
    """Fine-tune with ``Seq2SeqTrainer``: the tokenizer and ``AutoModelForSeq2SeqLM`` of
    ``model_dir``, the first ``train_rows`` rows of the train split of ``tokenize_splits`` and its
    whole validation split, ``DataCollatorForSeq2Seq(tokenizer, model=model)``,
    ``make_compute_metrics`` and ``Seq2SeqTrainingArguments(out_dir, eval_strategy="no",
    learning_rate=lr, num_train_epochs=epochs, seed=seed, per_device_train_batch_size=16,
    per_device_eval_batch_size=32, predict_with_generate=True, save_strategy="no",
    report_to="none", disable_tqdm=True)``. Returns ``{"before": BLEU of
    trainer.evaluate(max_length=max_length) before training, "after": the same after}``."""
    # BEGIN SOLUTION
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForSeq2SeqLM.from_pretrained(model_dir)
    tokenized = tokenize_splits(data_dir, tokenizer, max_length)
    args = Seq2SeqTrainingArguments(out_dir, eval_strategy="no", learning_rate=lr, num_train_epochs=epochs, seed=seed,
                                    per_device_train_batch_size=16, per_device_eval_batch_size=32,
                                    predict_with_generate=True, save_strategy="no", report_to="none",
                                    disable_tqdm=True)
    trainer = Seq2SeqTrainer(model, args, train_dataset=tokenized["train"].select(range(train_rows)),
                             eval_dataset=tokenized["validation"],
                             data_collator=DataCollatorForSeq2Seq(tokenizer, model=model),
                             processing_class=tokenizer, compute_metrics=make_compute_metrics(tokenizer, metric_path))
    before = trainer.evaluate(max_length=max_length)["eval_bleu"]
    trainer.train()
    return {"before": before, "after": trainer.evaluate(max_length=max_length)["eval_bleu"]}
    # END SOLUTION


def postprocess(predictions: np.ndarray, labels: np.ndarray, tokenizer) -> tuple[list[str], list[list[str]]]:
    """Decoded, stripped predictions and references (one list of one reference each), after
    replacing -100 in the labels by the pad token id."""
    # BEGIN SOLUTION
    decoded_preds = tokenizer.batch_decode(predictions, skip_special_tokens=True)
    labels = np.where(labels != -100, labels, tokenizer.pad_token_id)
    decoded_labels = tokenizer.batch_decode(labels, skip_special_tokens=True)
    return [pred.strip() for pred in decoded_preds], [[label.strip()] for label in decoded_labels]
    # END SOLUTION


def train_with_accelerate(config: dict[str, Any]) -> dict[str, Any]:
    """The same fine-tuning as a plain Accelerate loop. ``config`` has ``model_dir``, ``data_dir``,
    ``metric_path``, ``train_rows``, ``epochs``, ``lr``, ``batch_size``, ``seed`` and
    ``max_length``.

    ``DataLoader``s over the first ``train_rows`` tokenized train rows (shuffled with
    ``torch.Generator().manual_seed(seed)``) and the validation split, batched by
    ``DataCollatorForSeq2Seq(tokenizer, model=model)``; ``torch.optim.AdamW(lr)``, a linear
    ``get_scheduler`` without warm-up, ``Accelerator(cpu=True)``. Evaluate before training and
    after each epoch: ``accelerator.unwrap_model(model).generate(input_ids, attention_mask,
    max_length=max_length)`` without gradients, ``pad_across_processes`` the generated tokens
    and labels (``dim=1``, ``pad_index=-100`` for labels, the pad token id for tokens), gather,
    ``postprocess`` and ``metric.add_batch``.

    Returns ``{"bleu": [before training, after epoch 1, ...], "predictions": the decoded
    validation translations after the last epoch}``."""
    # BEGIN SOLUTION
    import evaluate
    from accelerate import Accelerator
    from torch.utils.data import DataLoader
    from transformers import get_scheduler

    tokenizer = AutoTokenizer.from_pretrained(config["model_dir"])
    model = AutoModelForSeq2SeqLM.from_pretrained(config["model_dir"])
    tokenized = tokenize_splits(config["data_dir"], tokenizer, config["max_length"])
    tokenized.set_format("torch")
    collator = DataCollatorForSeq2Seq(tokenizer, model=model)
    train_dl = DataLoader(tokenized["train"].select(range(config["train_rows"])), shuffle=True,
                          collate_fn=collator, batch_size=config["batch_size"],
                          generator=torch.Generator().manual_seed(config["seed"]))
    eval_dl = DataLoader(tokenized["validation"], collate_fn=collator, batch_size=config["batch_size"])
    optimizer = torch.optim.AdamW(model.parameters(), lr=config["lr"])
    accelerator = Accelerator(cpu=True)
    model, optimizer, train_dl, eval_dl = accelerator.prepare(model, optimizer, train_dl, eval_dl)
    steps = config["epochs"] * len(train_dl)
    scheduler = get_scheduler("linear", optimizer=optimizer, num_warmup_steps=0, num_training_steps=steps)
    metric = evaluate.load(config["metric_path"])

    def evaluate_bleu() -> tuple[float, list[str]]:
        model.eval()
        translations: list[str] = []
        for batch in eval_dl:
            with torch.no_grad():
                generated = accelerator.unwrap_model(model).generate(
                    input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                    max_length=config["max_length"])
            generated = accelerator.pad_across_processes(generated, dim=1, pad_index=tokenizer.pad_token_id)
            labels = accelerator.pad_across_processes(batch["labels"], dim=1, pad_index=-100)
            decoded_preds, decoded_labels = postprocess(accelerator.gather(generated).cpu().numpy(),
                                                        accelerator.gather(labels).cpu().numpy(), tokenizer)
            metric.add_batch(predictions=decoded_preds, references=decoded_labels)
            translations += decoded_preds
        return metric.compute()["score"], translations

    scores = [evaluate_bleu()[0]]
    translations: list[str] = []
    for _ in range(config["epochs"]):
        model.train()
        for batch in train_dl:
            loss = model(**batch).loss
            accelerator.backward(loss)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
        value, translations = evaluate_bleu()
        scores.append(value)
    return {"bleu": scores, "predictions": translations}
    # END SOLUTION
