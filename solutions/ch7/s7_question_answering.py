"""7.7 Question answering — 抽取式问答

Fine-tuning an extractive question-answering model on a SQuAD-like data set. A context
longer than the model's window is cut into overlapping windows (``stride``,
``return_overflowing_tokens``); each training window is labelled with the token positions
of the answer, or ``(0, 0)`` when the answer is not fully inside it. Validation windows keep
their offsets (``None`` outside the context) and the id of their example, so that the
model's start and end logits can be turned back into text: the ``n_best`` best starts and
ends of every window, spans inside the context and no longer than ``max_answer_length``
tokens, the highest ``start + end`` logit wins. Exact match and F1 come from the squad
metric. The same fine-tuning as an Accelerate loop gathers the logits of every process and
cuts them to the number of validation windows. transformers 5 has no question-answering
pipeline any more: this is how it works.
Course: https://huggingface.co/learn/llm-course/chapter7/7
中文课程：https://huggingface.co/learn/llm-course/zh-CN/chapter7/7

在类 SQuAD 数据集上微调抽取式问答模型。超过模型窗口的上下文用 ``stride`` 和
``return_overflowing_tokens`` 切成互相重叠的窗口；每个训练窗口标注答案起止 token 的位置，
答案不完全在窗口内时标为 ``(0, 0)``。验证窗口保留偏移量（上下文以外为 ``None``）和所属样本的
id，以便把模型的起止 logits 还原成文本：每个窗口取 ``n_best`` 个最好的起点和终点，只保留
位于上下文内、长度不超过 ``max_answer_length`` 个 token 的区间，``start + end`` logit 最高的
胜出。精确匹配和 F1 由 squad 指标计算。用 Accelerate 循环写同样的微调时，汇总各进程的 logits，
并截取到验证窗口的数量。transformers 5 已移除问答 pipeline，这里就是它的原理。
"""

from __future__ import annotations

import collections
from pathlib import Path
from typing import Any

import numpy as np
import torch
from datasets import load_dataset
from torch.utils.data import DataLoader
from transformers import Trainer, TrainingArguments, default_data_collator, get_scheduler


def preprocess_training_examples(examples: dict[str, list], tokenizer, max_length: int,
                                 stride: int) -> dict[str, list]:
    """The batched ``map`` function for training: tokenize the stripped questions with their
    contexts (``truncation="only_second"``, ``max_length``, ``stride``, overflowing windows,
    offsets, ``padding="max_length"``) and label every window with ``start_positions`` and
    ``end_positions``: the first and last token of the first answer when it lies entirely
    inside the window's context, ``0`` and ``0`` otherwise. Return ``input_ids``,
    ``token_type_ids``, ``attention_mask``, ``start_positions`` and ``end_positions`` (no
    offsets, no overflow mapping)."""
    # BEGIN SOLUTION
    questions = [q.strip() for q in examples["question"]]
    inputs = tokenizer(
        questions,
        examples["context"],
        max_length=max_length,
        truncation="only_second",
        stride=stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        padding="max_length",
    )
    offset_mapping = inputs.pop("offset_mapping")
    sample_map = inputs.pop("overflow_to_sample_mapping")
    answers = examples["answers"]
    start_positions, end_positions = [], []
    for i, offset in enumerate(offset_mapping):
        answer = answers[sample_map[i]]
        start_char = answer["answer_start"][0]
        end_char = start_char + len(answer["text"][0])
        sequence_ids = inputs.sequence_ids(i)
        idx = 0
        while sequence_ids[idx] != 1:
            idx += 1
        context_start = idx
        while idx < len(sequence_ids) and sequence_ids[idx] == 1:
            idx += 1
        context_end = idx - 1
        if offset[context_start][0] > start_char or offset[context_end][1] < end_char:
            start_positions.append(0)
            end_positions.append(0)
        else:
            idx = context_start
            while idx <= context_end and offset[idx][0] <= start_char:
                idx += 1
            start_positions.append(idx - 1)
            idx = context_end
            while idx >= context_start and offset[idx][1] >= end_char:
                idx -= 1
            end_positions.append(idx + 1)
    inputs["start_positions"] = start_positions
    inputs["end_positions"] = end_positions
    return dict(inputs)
    # END SOLUTION


def preprocess_validation_examples(examples: dict[str, list], tokenizer, max_length: int,
                                   stride: int) -> dict[str, list]:
    """The batched ``map`` function for evaluation: tokenize as for training, then give every
    window ``example_id`` (the ``id`` of the example it comes from) and keep its
    ``offset_mapping`` with ``None`` in place of the offsets of every token that is not part
    of the context. Return ``input_ids``, ``token_type_ids``, ``attention_mask``,
    ``offset_mapping`` and ``example_id``."""
    # BEGIN SOLUTION
    questions = [q.strip() for q in examples["question"]]
    inputs = tokenizer(
        questions,
        examples["context"],
        max_length=max_length,
        truncation="only_second",
        stride=stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        padding="max_length",
    )
    sample_map = inputs.pop("overflow_to_sample_mapping")
    example_ids = []
    for i in range(len(inputs["input_ids"])):
        example_ids.append(examples["id"][sample_map[i]])
        sequence_ids = inputs.sequence_ids(i)
        offset = inputs["offset_mapping"][i]
        inputs["offset_mapping"][i] = [o if sequence_ids[k] == 1 else None for k, o in enumerate(offset)]
    inputs["example_id"] = example_ids
    return dict(inputs)
    # END SOLUTION


def predict_answers(start_logits: np.ndarray, end_logits: np.ndarray, features: list[dict[str, Any]],
                    examples: list[dict[str, Any]], n_best: int = 20,
                    max_answer_length: int = 30) -> list[dict[str, str]]:
    """Turn the logits of every validation window (rows of ``start_logits`` and
    ``end_logits``, in the order of ``features``, which carry ``example_id`` and
    ``offset_mapping``) into one answer per example, in the order of ``examples``.

    For every window of an example, try the ``n_best`` highest start logits with the
    ``n_best`` highest end logits; skip a span whose start or end offset is ``None`` (not in
    the context), whose end comes before its start, or that is longer than
    ``max_answer_length`` tokens. The span with the highest ``start + end`` logit over all
    windows of the example is the answer: ``context[offsets[start][0]:offsets[end][1]]``.
    An example without any valid span gets ``""``. Return
    ``[{"id": example id, "prediction_text": answer}, …]``."""
    # BEGIN SOLUTION
    example_to_features = collections.defaultdict(list)
    for idx, feature in enumerate(features):
        example_to_features[feature["example_id"]].append(idx)
    predicted_answers = []
    for example in examples:
        example_id = example["id"]
        context = example["context"]
        answers = []
        for feature_index in example_to_features[example_id]:
            start_logit = start_logits[feature_index]
            end_logit = end_logits[feature_index]
            offsets = features[feature_index]["offset_mapping"]
            start_indexes = np.argsort(start_logit)[-1: -n_best - 1: -1].tolist()
            end_indexes = np.argsort(end_logit)[-1: -n_best - 1: -1].tolist()
            for start_index in start_indexes:
                for end_index in end_indexes:
                    if offsets[start_index] is None or offsets[end_index] is None:
                        continue
                    if end_index < start_index or end_index - start_index + 1 > max_answer_length:
                        continue
                    answers.append({
                        "text": context[offsets[start_index][0]: offsets[end_index][1]],
                        "logit_score": start_logit[start_index] + end_logit[end_index],
                    })
        if answers:
            best_answer = max(answers, key=lambda x: x["logit_score"])
            predicted_answers.append({"id": example_id, "prediction_text": best_answer["text"]})
        else:
            predicted_answers.append({"id": example_id, "prediction_text": ""})
    return predicted_answers
    # END SOLUTION


def compute_metrics(start_logits: np.ndarray, end_logits: np.ndarray, features: list[dict[str, Any]],
                    examples: list[dict[str, Any]], metric_path: str, n_best: int = 20,
                    max_answer_length: int = 30) -> dict[str, float]:
    """Exact match and F1 of ``predict_answers(...)`` against the ``answers`` of
    ``examples``, from the squad metric module at ``metric_path``
    (``evaluate.load(metric_path)``; references are ``{"id", "answers"}``)."""
    # BEGIN SOLUTION
    import evaluate

    metric = evaluate.load(metric_path)
    predicted_answers = predict_answers(start_logits, end_logits, features, examples, n_best, max_answer_length)
    theoretical_answers = [{"id": ex["id"], "answers": ex["answers"]} for ex in examples]
    return metric.compute(predictions=predicted_answers, references=theoretical_answers)
    # END SOLUTION


def fine_tune(model, tokenizer, data_dir: str, metric_path: str, out_dir: Path, train_rows: int,
              eval_rows: int, max_length: int, stride: int, epochs: int, lr: float, seed: int) -> dict[str, Any]:
    """Fine-tune ``model`` with ``Trainer`` and score it.

    Load the data set with ``load_dataset(data_dir)`` (train and validation splits). Train on
    the windows of the first ``train_rows`` rows of its train split
    (``preprocess_training_examples`` in a batched map that removes the original columns),
    with ``TrainingArguments(out_dir, learning_rate=lr, num_train_epochs=epochs, seed=seed,
    per_device_train_batch_size=16, per_device_eval_batch_size=32, save_strategy="no",
    report_to="none", disable_tqdm=True)``, ``default_data_collator`` and the tokenizer as
    ``processing_class``. Then predict the windows of the first ``eval_rows`` validation rows
    (``preprocess_validation_examples``) with ``trainer.predict`` and score them with
    ``compute_metrics``. Return ``{"metrics": {"exact_match", "f1"}, "predictions": the
    ``predict_answers`` list, "train_loss": the ``training_loss`` of ``trainer.train()``}``."""
    # BEGIN SOLUTION
    raw_datasets = load_dataset(data_dir)
    train_raw = raw_datasets["train"].select(range(train_rows))
    eval_raw = raw_datasets["validation"].select(range(eval_rows))
    train_dataset = train_raw.map(lambda b: preprocess_training_examples(b, tokenizer, max_length, stride),
                                  batched=True, remove_columns=train_raw.column_names)
    validation_dataset = eval_raw.map(lambda b: preprocess_validation_examples(b, tokenizer, max_length, stride),
                                      batched=True, remove_columns=eval_raw.column_names)
    args = TrainingArguments(
        out_dir,
        learning_rate=lr,
        num_train_epochs=epochs,
        seed=seed,
        per_device_train_batch_size=16,
        per_device_eval_batch_size=32,
        save_strategy="no",
        report_to="none",
        disable_tqdm=True,
    )
    trainer = Trainer(model=model, args=args, train_dataset=train_dataset, data_collator=default_data_collator,
                      processing_class=tokenizer)
    train_output = trainer.train()
    predictions, _, _ = trainer.predict(validation_dataset)
    start_logits, end_logits = predictions
    features, examples = list(validation_dataset), list(eval_raw)
    return {
        "metrics": compute_metrics(start_logits, end_logits, features, examples, metric_path),
        "predictions": predict_answers(start_logits, end_logits, features, examples),
        "train_loss": train_output.training_loss,
    }
    # END SOLUTION


def accelerate_fine_tune(model, tokenizer, data_dir: str, metric_path: str, train_rows: int, eval_rows: int,
                         max_length: int, stride: int, epochs: int, lr: float, seed: int) -> dict[str, Any]:
    """The same fine-tuning as an Accelerate loop.

    Build the train and validation windows as ``fine_tune`` does; set the torch format (the
    validation windows without ``example_id`` and ``offset_mapping``) and make loaders of 16
    with ``default_data_collator``, the train loader shuffled with a ``torch.Generator``
    seeded with ``seed``. Call ``set_seed(seed)``, create ``Accelerator(cpu=True)`` (the
    course's ``fp16=True`` is now ``mixed_precision="fp16"``), prepare the model,
    ``torch.optim.AdamW(lr=lr)`` and the loaders, and train ``epochs`` epochs with a linear
    schedule from ``get_scheduler`` (no warm-up). Then, in eval mode and without gradients,
    gather the start and end logits of every batch (``accelerator.gather``), concatenate them
    and keep the first ``len(validation windows)`` rows (the last batch may be padded across
    processes), and score them with ``compute_metrics``. Return ``{"metrics",
    "predictions": the predict_answers list, "losses": the loss of every training step}``."""
    # BEGIN SOLUTION
    from accelerate import Accelerator
    from transformers import set_seed

    raw_datasets = load_dataset(data_dir)
    train_raw = raw_datasets["train"].select(range(train_rows))
    eval_raw = raw_datasets["validation"].select(range(eval_rows))
    train_dataset = train_raw.map(lambda b: preprocess_training_examples(b, tokenizer, max_length, stride),
                                  batched=True, remove_columns=train_raw.column_names)
    validation_dataset = eval_raw.map(lambda b: preprocess_validation_examples(b, tokenizer, max_length, stride),
                                      batched=True, remove_columns=eval_raw.column_names)
    train_dataset.set_format("torch")
    validation_set = validation_dataset.remove_columns(["example_id", "offset_mapping"])
    validation_set.set_format("torch")
    train_dataloader = DataLoader(train_dataset, shuffle=True, collate_fn=default_data_collator, batch_size=16,
                                  generator=torch.Generator().manual_seed(seed))
    eval_dataloader = DataLoader(validation_set, collate_fn=default_data_collator, batch_size=16)
    set_seed(seed)
    accelerator = Accelerator(cpu=True)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    model, optimizer, train_dataloader, eval_dataloader = accelerator.prepare(
        model, optimizer, train_dataloader, eval_dataloader)
    lr_scheduler = get_scheduler("linear", optimizer=optimizer, num_warmup_steps=0,
                                 num_training_steps=epochs * len(train_dataloader))
    losses = []
    for _ in range(epochs):
        model.train()
        for batch in train_dataloader:
            loss = model(**batch).loss
            accelerator.backward(loss)
            optimizer.step()
            lr_scheduler.step()
            optimizer.zero_grad()
            losses.append(loss.item())
    model.eval()
    start_logits, end_logits = [], []
    for batch in eval_dataloader:
        with torch.no_grad():
            outputs = model(**batch)
        start_logits.append(accelerator.gather(outputs.start_logits).cpu().numpy())
        end_logits.append(accelerator.gather(outputs.end_logits).cpu().numpy())
    start_logits = np.concatenate(start_logits)[: len(validation_dataset)]
    end_logits = np.concatenate(end_logits)[: len(validation_dataset)]
    features, examples = list(validation_dataset), list(eval_raw)
    return {
        "metrics": compute_metrics(start_logits, end_logits, features, examples, metric_path),
        "predictions": predict_answers(start_logits, end_logits, features, examples),
        "losses": losses,
    }
    # END SOLUTION
