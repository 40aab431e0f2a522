"""3.5 Understanding learning curves — 理解学习曲线

Log the training loss every few steps and evaluate every few steps, read the two curves
back from ``trainer.state.log_history``, tell a healthy run from an overfitting or an
underfitting one, and stop training when the validation loss stops improving with
``EarlyStoppingCallback`` and ``load_best_model_at_end``.
Course: https://huggingface.co/learn/llm-course/chapter3/5
中文课程：https://huggingface.co/learn/llm-course/zh-CN/chapter3/5

每隔几步记录一次训练损失、做一次评估，从 ``trainer.state.log_history`` 读出两条曲线，
区分正常、过拟合和欠拟合的训练；用 ``EarlyStoppingCallback`` 和 ``load_best_model_at_end``
在验证损失不再下降时停止训练并回到最好的模型。
"""

from __future__ import annotations

from typing import Any

from datasets import load_dataset
from transformers import DataCollatorWithPadding, EarlyStoppingCallback, Trainer, TrainingArguments


def curves(log_history: list[dict[str, Any]]) -> dict[str, list]:
    """The learning curves in a ``Trainer``'s ``log_history``. Training entries carry
    ``"loss"``, evaluation entries ``"eval_loss"``, both with ``"step"``; the summary entry
    at the end of training (``"train_loss"``, no ``"loss"``) is neither. Return
    ``{"train_steps", "train_loss", "eval_steps", "eval_loss"}``, each in log order."""
    # BEGIN SOLUTION
    train = [e for e in log_history if "loss" in e]
    evals = [e for e in log_history if "eval_loss" in e]
    return {
        "train_steps": [e["step"] for e in train],
        "train_loss": [e["loss"] for e in train],
        "eval_steps": [e["step"] for e in evals],
        "eval_loss": [e["eval_loss"] for e in evals],
    }
    # END SOLUTION


def diagnose(train_loss: list[float], eval_loss: list[float]) -> str:
    """Name what a pair of loss curves shows, checking in this order:

    1. ``"overfitting"``: the last validation loss is more than 10 % above the lowest
       validation loss, while the last training loss is below the first one;
    2. ``"underfitting"``: the last training loss is still above 70 % of the first one;
    3. ``"healthy"``: otherwise."""
    # BEGIN SOLUTION
    if eval_loss[-1] > 1.1 * min(eval_loss) and train_loss[-1] < train_loss[0]:
        return "overfitting"
    if train_loss[-1] > 0.7 * train_loss[0]:
        return "underfitting"
    return "healthy"
    # END SOLUTION


def _tokenized(data_dir: str, tokenizer) -> Any:
    raw = load_dataset(data_dir, "mrpc")
    return raw.map(lambda batch: tokenizer(batch["sentence1"], batch["sentence2"], truncation=True), batched=True)


def logging_args(out_dir: str, epochs: int, lr: float, logging_steps: int, eval_steps: int,
                 seed: int) -> TrainingArguments:
    """``TrainingArguments`` for learning curves: log the training loss every
    ``logging_steps`` steps and evaluate every ``eval_steps`` steps (both strategies
    ``"steps"``), batch size 8, ``epochs`` epochs at ``lr`` with ``seed``, no checkpoints,
    ``report_to="none"``, no progress bars."""
    # BEGIN SOLUTION
    return TrainingArguments(
        out_dir,
        eval_strategy="steps",
        eval_steps=eval_steps,
        logging_strategy="steps",
        logging_steps=logging_steps,
        num_train_epochs=epochs,
        learning_rate=lr,
        seed=seed,
        per_device_train_batch_size=8,
        per_device_eval_batch_size=8,
        save_strategy="no",
        report_to="none",
        disable_tqdm=True,
    )
    # END SOLUTION


def train_with_curves(model, tokenizer, data_dir: str, out_dir: str, train_rows: int, epochs: int,
                      lr: float, logging_steps: int, eval_steps: int, seed: int) -> Trainer:
    """Train a ``Trainer`` with ``logging_args(...)`` on the first ``train_rows`` rows of
    the MRPC train split in ``data_dir`` (tokenized pairs, truncated), evaluating on the
    validation split, ``DataCollatorWithPadding``, the tokenizer as ``processing_class``.
    Return the trained trainer."""
    # BEGIN SOLUTION
    data = _tokenized(data_dir, tokenizer)
    trainer = Trainer(
        model,
        logging_args(out_dir, epochs, lr, logging_steps, eval_steps, seed),
        train_dataset=data["train"].select(range(train_rows)),
        eval_dataset=data["validation"],
        data_collator=DataCollatorWithPadding(tokenizer=tokenizer),
        processing_class=tokenizer,
    )
    trainer.train()
    return trainer
    # END SOLUTION


def train_with_early_stopping(model, tokenizer, data_dir: str, out_dir: str, train_rows: int,
                              max_epochs: int, lr: float, patience: int, seed: int) -> Trainer:
    """Train like ``train_with_curves`` for at most ``max_epochs`` epochs, but evaluate and
    save a checkpoint at the end of every epoch, keep the best model by validation loss
    (``metric_for_best_model="eval_loss"``, lower is better, ``load_best_model_at_end``)
    and stop once it has not improved for ``patience`` evaluations
    (``EarlyStoppingCallback``). Batch size 8, ``report_to="none"``, no progress bars.
    Return the trained trainer."""
    # BEGIN SOLUTION
    data = _tokenized(data_dir, tokenizer)
    args = TrainingArguments(
        out_dir,
        eval_strategy="epoch",
        save_strategy="epoch",
        logging_strategy="epoch",
        load_best_model_at_end=True,
        metric_for_best_model="eval_loss",
        greater_is_better=False,
        num_train_epochs=max_epochs,
        learning_rate=lr,
        seed=seed,
        per_device_train_batch_size=8,
        per_device_eval_batch_size=8,
        report_to="none",
        disable_tqdm=True,
    )
    trainer = Trainer(
        model,
        args,
        train_dataset=data["train"].select(range(train_rows)),
        eval_dataset=data["validation"],
        data_collator=DataCollatorWithPadding(tokenizer=tokenizer),
        processing_class=tokenizer,
        callbacks=[EarlyStoppingCallback(early_stopping_patience=patience)],
    )
    trainer.train()
    return trainer
    # END SOLUTION
