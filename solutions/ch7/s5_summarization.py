"""7.5 Summarization — 微调生成式文本摘要（序列到序列）模型

A bilingual review summarizer: keep the book reviews of an English and a Spanish
amazon_reviews_multi-like corpus, merge and shuffle the two languages, drop the reviews
whose title is too short to summarize, and tokenize bodies as inputs and titles as labels.
ROUGE measures the overlap of generated and reference summaries; the baseline to beat takes
the first three sentences of a review (split by NLTK's Punkt tokenizer, which needs no
download). A sequence-to-sequence model fine-tuned with ``Seq2SeqTrainer`` generates the
summaries (``predict_with_generate``) that ``compute_metrics`` scores; the same training
written as an Accelerate loop generates with the unwrapped model and gathers the padded
predictions of every process. transformers 5 has
no summarization pipeline any more: ``model.generate`` and ``batch_decode`` do its work.
Course: https://huggingface.co/learn/llm-course/chapter7/5
中文课程：https://huggingface.co/learn/llm-course/zh-CN/chapter7/5

双语评论摘要：从英语和西班牙语的类 amazon_reviews_multi 语料中保留图书评论，合并并打乱两种
语言，去掉标题太短、不适合作为摘要的评论，把正文分词为输入、标题分词为标签。ROUGE 衡量生成
摘要与参考摘要的重合度；要超越的基线取评论的前三句（用 NLTK 的 Punkt 分句器切分，无需下载）。
用 ``Seq2SeqTrainer`` 微调的序列到序列模型生成摘要（``predict_with_generate``），再由
``compute_metrics`` 打分；用 Accelerate 循环写同样的训练时，用解包后的模型生成，并汇总各进程
补齐后的预测。transformers 5 已移除 summarization pipeline，由 ``model.generate``
和 ``batch_decode`` 完成它的工作。
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from datasets import DatasetDict, concatenate_datasets, load_dataset
from nltk.tokenize.punkt import PunktSentenceTokenizer
from torch.utils.data import DataLoader
from transformers import DataCollatorForSeq2Seq, Seq2SeqTrainer, Seq2SeqTrainingArguments, get_scheduler

ROUGE_NAMES = ["rouge1", "rouge2", "rougeL", "rougeLsum"]


def filter_books(example: dict[str, Any]) -> bool:
    """Whether a review is about a book: its ``product_category`` is ``"book"`` or
    ``"digital_ebook_purchase"``."""
    # BEGIN SOLUTION
    return example["product_category"] == "book" or example["product_category"] == "digital_ebook_purchase"
    # END SOLUTION


def books_dataset(english_dir: str, spanish_dir: str, seed: int) -> DatasetDict:
    """Load both languages (``load_dataset(dir)``), keep the book reviews of each
    (``filter(filter_books)``), concatenate the two languages split by split
    (``concatenate_datasets``, English first), shuffle every split with ``seed``, and keep the
    reviews whose title has more than two words (split on whitespace)."""
    # BEGIN SOLUTION
    english_books = load_dataset(english_dir).filter(filter_books)
    spanish_books = load_dataset(spanish_dir).filter(filter_books)
    books = DatasetDict()
    for split in english_books.keys():
        books[split] = concatenate_datasets([english_books[split], spanish_books[split]])
        books[split] = books[split].shuffle(seed=seed)
    return books.filter(lambda x: len(x["review_title"].split()) > 2)
    # END SOLUTION


def preprocess_function(examples: dict[str, list], tokenizer, max_input_length: int,
                        max_target_length: int) -> dict[str, list]:
    """The batched ``map`` function: tokenize the ``review_body`` texts (truncated to
    ``max_input_length``) as the model inputs and the ``review_title`` texts (truncated to
    ``max_target_length``) as ``labels``: the input ids of the titles."""
    # BEGIN SOLUTION
    model_inputs = tokenizer(examples["review_body"], max_length=max_input_length, truncation=True)
    labels = tokenizer(text_target=examples["review_title"], max_length=max_target_length, truncation=True)
    model_inputs["labels"] = labels["input_ids"]
    return dict(model_inputs)
    # END SOLUTION


def rouge(predictions: list[str], references: list[str], metric_path: str) -> dict[str, float]:
    """ROUGE of ``predictions`` against ``references`` from the metric module at
    ``metric_path`` (``evaluate.load(metric_path)``): the F-measures of rouge1, rouge2,
    rougeL and rougeLsum, as floats. (The metric already returns floats: the course's
    ``score["rouge1"].mid.fmeasure`` no longer works.)"""
    # BEGIN SOLUTION
    import evaluate

    metric = evaluate.load(metric_path)
    scores = metric.compute(predictions=predictions, references=references)
    return {name: float(scores[name]) for name in ROUGE_NAMES}
    # END SOLUTION


def sentences(text: str) -> list[str]:
    """The sentences of ``text``, by NLTK's Punkt tokenizer
    (``PunktSentenceTokenizer().tokenize``: ``sent_tokenize`` would need a download)."""
    # BEGIN SOLUTION
    return PunktSentenceTokenizer().tokenize(text)
    # END SOLUTION


def three_sentence_summary(text: str) -> str:
    """The baseline summary: the first three sentences of ``text``, joined by newlines."""
    # BEGIN SOLUTION
    return "\n".join(sentences(text)[:3])
    # END SOLUTION


def evaluate_baseline(bodies: list[str], titles: list[str], metric_path: str) -> dict[str, float]:
    """ROUGE of the ``three_sentence_summary`` of every body against its title, each score
    times 100 and rounded to 2 decimals."""
    # BEGIN SOLUTION
    summaries = [three_sentence_summary(text) for text in bodies]
    scores = rouge(summaries, titles, metric_path)
    return {name: round(scores[name] * 100, 2) for name in ROUGE_NAMES}
    # END SOLUTION


def postprocess_text(preds: list[str], labels: list[str]) -> tuple[list[str], list[str]]:
    """Strip every prediction and label and put each of their sentences on its own line
    (rougeLsum splits summaries at newlines)."""
    # BEGIN SOLUTION
    preds = [pred.strip() for pred in preds]
    labels = [label.strip() for label in labels]
    preds = ["\n".join(sentences(pred)) for pred in preds]
    labels = ["\n".join(sentences(label)) for label in labels]
    return preds, labels
    # END SOLUTION


def compute_metrics(eval_pred: tuple[np.ndarray, np.ndarray], tokenizer, metric_path: str) -> dict[str, float]:
    """``compute_metrics`` of a ``Seq2SeqTrainer`` with ``predict_with_generate``:
    ``eval_pred`` is ``(generated ids, label ids)``, the labels padded with -100. Decode both
    (skipping special tokens; -100 becomes the pad token id first), ``postprocess_text``, then
    ROUGE times 100, rounded to 4 decimals."""
    # BEGIN SOLUTION
    predictions, labels = eval_pred
    predictions = np.where(predictions != -100, predictions, tokenizer.pad_token_id)
    decoded_preds = tokenizer.batch_decode(predictions, skip_special_tokens=True)
    labels = np.where(labels != -100, labels, tokenizer.pad_token_id)
    decoded_labels = tokenizer.batch_decode(labels, skip_special_tokens=True)
    decoded_preds, decoded_labels = postprocess_text(decoded_preds, decoded_labels)
    scores = rouge(decoded_preds, decoded_labels, metric_path)
    return {name: round(value * 100, 4) for name, value in scores.items()}
    # END SOLUTION


def fine_tune(model, tokenizer, english_dir: str, spanish_dir: str, metric_path: str, out_dir: Path,
              train_rows: int, eval_rows: int, epochs: int, lr: float, seed: int) -> dict[str, Any]:
    """Fine-tune ``model`` on ``books_dataset(english_dir, spanish_dir, seed)`` and score it.

    Tokenize with ``preprocess_function`` (inputs up to 64 tokens, titles up to 16) in a
    batched map that removes the original columns; train on the first ``train_rows`` rows of
    the train split and evaluate on the first ``eval_rows`` of the validation split with a
    ``Seq2SeqTrainer``: ``Seq2SeqTrainingArguments(out_dir, learning_rate=lr,
    num_train_epochs=epochs, seed=seed, per_device_train_batch_size=16,
    per_device_eval_batch_size=32, weight_decay=0.01, predict_with_generate=True,
    generation_max_length=16, save_strategy="no", report_to="none", disable_tqdm=True)``,
    ``DataCollatorForSeq2Seq(tokenizer, model=model)``, the tokenizer as ``processing_class``
    and ``compute_metrics``. Return ``{"rouge": the ROUGE scores of trainer.evaluate()
    (rouge1, rouge2, rougeL, rougeLsum, without the "eval_" prefix), "baseline":
    evaluate_baseline on the same validation rows, "train_loss": the training loss}``."""
    # BEGIN SOLUTION
    books = books_dataset(english_dir, spanish_dir, seed)
    tokenized = books.map(lambda b: preprocess_function(b, tokenizer, 64, 16), batched=True,
                          remove_columns=books["train"].column_names)
    args = Seq2SeqTrainingArguments(
        out_dir,
        learning_rate=lr,
        num_train_epochs=epochs,
        seed=seed,
        per_device_train_batch_size=16,
        per_device_eval_batch_size=32,
        weight_decay=0.01,
        predict_with_generate=True,
        generation_max_length=16,
        save_strategy="no",
        report_to="none",
        disable_tqdm=True,
    )
    trainer = Seq2SeqTrainer(
        model,
        args,
        train_dataset=tokenized["train"].select(range(train_rows)),
        eval_dataset=tokenized["validation"].select(range(eval_rows)),
        data_collator=DataCollatorForSeq2Seq(tokenizer, model=model),
        processing_class=tokenizer,
        compute_metrics=lambda eval_pred: compute_metrics(eval_pred, tokenizer, metric_path),
    )
    train_output = trainer.train()
    scores = trainer.evaluate()
    validation = books["validation"].select(range(eval_rows))
    return {
        "rouge": {name: scores[f"eval_{name}"] for name in ROUGE_NAMES},
        "baseline": evaluate_baseline(list(validation["review_body"]), list(validation["review_title"]), metric_path),
        "train_loss": train_output.training_loss,
    }
    # END SOLUTION


def accelerate_fine_tune(model, tokenizer, english_dir: str, spanish_dir: str, metric_path: str,
                         train_rows: int, eval_rows: int, epochs: int, lr: float, seed: int) -> dict[str, Any]:
    """The same fine-tuning as an Accelerate loop.

    Tokenize ``books_dataset(english_dir, spanish_dir, seed)`` as ``fine_tune`` does and set
    the torch format; loaders with batches of 16 padded by ``DataCollatorForSeq2Seq(tokenizer,
    model=model)``: the first ``train_rows`` train rows, shuffled with a ``torch.Generator``
    seeded with ``seed``, and the first ``eval_rows`` validation rows in order. Call
    ``set_seed(seed)``, create ``Accelerator(cpu=True)``, prepare model,
    ``torch.optim.AdamW(lr=lr)`` and loaders, and train ``epochs`` epochs with a linear
    schedule from ``get_scheduler`` (no warm-up). Then, in eval mode and without gradients,
    generate for every eval batch with ``accelerator.unwrap_model(model).generate(input_ids,
    attention_mask=…, max_new_tokens=16)``, pad the generated ids and the labels across
    processes (``accelerator.pad_across_processes(…, dim=1, pad_index=tokenizer.pad_token_id)``),
    gather both, decode them as ``compute_metrics`` does (-100 becomes the pad id),
    ``postprocess_text`` and ``add_batch`` them to the ROUGE metric. Return ``{"rouge": the
    four scores times 100, "losses": the loss of every training step, "summaries": the
    decoded generated summaries}``."""
    # BEGIN SOLUTION
    import evaluate
    from accelerate import Accelerator
    from transformers import set_seed

    books = books_dataset(english_dir, spanish_dir, seed)
    tokenized = books.map(lambda b: preprocess_function(b, tokenizer, 64, 16), batched=True,
                          remove_columns=books["train"].column_names)
    tokenized.set_format("torch")
    data_collator = DataCollatorForSeq2Seq(tokenizer, model=model)
    train_dataloader = DataLoader(tokenized["train"].select(range(train_rows)), shuffle=True, batch_size=16,
                                  collate_fn=data_collator, generator=torch.Generator().manual_seed(seed))
    eval_dataloader = DataLoader(tokenized["validation"].select(range(eval_rows)), batch_size=16,
                                 collate_fn=data_collator)
    set_seed(seed)
    accelerator = Accelerator(cpu=True)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    model, optimizer, train_dataloader, eval_dataloader = accelerator.prepare(
        model, optimizer, train_dataloader, eval_dataloader)
    num_training_steps = epochs * len(train_dataloader)
    lr_scheduler = get_scheduler("linear", optimizer=optimizer, num_warmup_steps=0,
                                 num_training_steps=num_training_steps)
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
    metric = evaluate.load(metric_path)
    summaries = []
    model.eval()
    for batch in eval_dataloader:
        with torch.no_grad():
            generated_tokens = accelerator.unwrap_model(model).generate(
                batch["input_ids"], attention_mask=batch["attention_mask"], max_new_tokens=16)
        generated_tokens = accelerator.pad_across_processes(generated_tokens, dim=1, pad_index=tokenizer.pad_token_id)
        labels = accelerator.pad_across_processes(batch["labels"], dim=1, pad_index=tokenizer.pad_token_id)
        generated_tokens = accelerator.gather(generated_tokens).cpu().numpy()
        labels = accelerator.gather(labels).cpu().numpy()
        labels = np.where(labels != -100, labels, tokenizer.pad_token_id)
        decoded_preds = tokenizer.batch_decode(generated_tokens, skip_special_tokens=True)
        decoded_labels = tokenizer.batch_decode(labels, skip_special_tokens=True)
        decoded_preds, decoded_labels = postprocess_text(decoded_preds, decoded_labels)
        metric.add_batch(predictions=decoded_preds, references=decoded_labels)
        summaries += decoded_preds
    scores = metric.compute()
    return {"rouge": {name: scores[name] * 100 for name in ROUGE_NAMES}, "losses": losses, "summaries": summaries}
    # END SOLUTION
