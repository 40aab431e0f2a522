"""7.6 Training a causal language model from scratch — 从头训练GPT类语言模型

A GPT-2-like code model trained from nothing: stream a large code corpus and keep only the
files that use the data-science libraries, cut the tokenized files into full
``context_length`` windows (``return_overflowing_tokens`` and ``return_length``), build the
model from a configuration instead of a checkpoint, and train it with 🤗 Accelerate: a loss
that weighs up the samples that use the libraries' key tokens (``plt``, ``pd``, ``fit``…),
weight decay on every weight except biases and LayerNorm weights, gradient accumulation,
gradient clipping and a learning-rate schedule with warm-up; perplexity is
``exp(mean loss)`` on held-out windows. The ``Trainer`` version does the same with the plain
causal-LM loss and ``DataCollatorForLanguageModeling(mlm=False)``.
Course: https://huggingface.co/learn/llm-course/chapter7/6
中文课程：https://huggingface.co/learn/llm-course/zh-CN/chapter7/6

从零训练一个 GPT-2 类的代码模型：以流式方式读取大型代码语料，只保留用到数据科学库的文件；
把分词后的文件切成完整的 ``context_length`` 窗口（``return_overflowing_tokens`` 和
``return_length``）；用配置而不是检查点构建模型，再用 🤗 Accelerate 训练：损失函数加大使用
这些库关键 token（``plt``、``pd``、``fit``……）的样本的权重，除偏置和 LayerNorm 权重外都做
权重衰减，并使用梯度累积、梯度裁剪和带预热的学习率调度；困惑度是留出窗口上
``exp(平均损失)``。``Trainer`` 版本用普通的因果语言模型损失和
``DataCollatorForLanguageModeling(mlm=False)`` 完成同样的训练。
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import torch
from datasets import Dataset, load_dataset
from torch.nn import CrossEntropyLoss
from torch.utils.data import DataLoader
from transformers import (AutoConfig, DataCollatorForLanguageModeling, GPT2LMHeadModel, Trainer, TrainingArguments,
                          get_scheduler)


def any_keyword_in_string(string: str, keywords: list[str]) -> bool:
    """Whether any of ``keywords`` occurs in ``string``."""
    # BEGIN SOLUTION
    for keyword in keywords:
        if keyword in string:
            return True
    return False
    # END SOLUTION


def stream_dataset(data_dir: str):
    """The train split of the code corpus in ``data_dir``, streamed:
    ``load_dataset(data_dir, split="train", streaming=True)``."""
    # BEGIN SOLUTION
    return load_dataset(data_dir, split="train", streaming=True)
    # END SOLUTION


def filter_streaming_dataset(dataset, filters: list[str]) -> Dataset:
    """Go through ``dataset`` once and keep, in order, every sample whose ``content`` holds
    one of ``filters``, with all its columns; print the share kept and return the kept
    samples as a ``Dataset`` (``Dataset.from_dict``)."""
    # BEGIN SOLUTION
    filtered_dict = defaultdict(list)
    total = 0
    for sample in iter(dataset):
        total += 1
        if any_keyword_in_string(sample["content"], filters):
            for k, v in sample.items():
                filtered_dict[k].append(v)
    print(f"{len(filtered_dict['content']) / max(total, 1):.2%} of data after filtering.")
    return Dataset.from_dict(filtered_dict)
    # END SOLUTION


def filter_code(data_dir: str, filters: list[str]) -> Dataset:
    """``filter_streaming_dataset`` over ``stream_dataset(data_dir)``."""
    # BEGIN SOLUTION
    return filter_streaming_dataset(stream_dataset(data_dir), filters)
    # END SOLUTION


def tokenize(element: dict[str, list], tokenizer, context_length: int) -> dict[str, list]:
    """The batched ``map`` function: tokenize every ``content`` into windows of at most
    ``context_length`` tokens (``truncation=True``, ``return_overflowing_tokens=True``,
    ``return_length=True``) and keep only the full windows, so the last, shorter piece of
    every file is dropped. Return ``{"input_ids": the kept windows}``."""
    # BEGIN SOLUTION
    outputs = tokenizer(
        element["content"],
        truncation=True,
        max_length=context_length,
        return_overflowing_tokens=True,
        return_length=True,
    )
    input_batch = []
    for length, input_ids in zip(outputs["length"], outputs["input_ids"]):
        if length == context_length:
            input_batch.append(input_ids)
    return {"input_ids": input_batch}
    # END SOLUTION


def make_model(tokenizer, context_length: int, n_embd: int, n_layer: int, n_head: int) -> GPT2LMHeadModel:
    """A new, untrained ``GPT2LMHeadModel`` from a GPT-2 configuration
    (``AutoConfig.for_model("gpt2", …)``) with the tokenizer's vocabulary size
    (``len(tokenizer)``), room for ``context_length`` positions (``n_positions``; ``n_ctx``
    alone does not set it), the given sizes and the tokenizer's BOS and EOS token ids."""
    # BEGIN SOLUTION
    config = AutoConfig.for_model(
        "gpt2",
        vocab_size=len(tokenizer),
        n_positions=context_length,
        n_embd=n_embd,
        n_layer=n_layer,
        n_head=n_head,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    return GPT2LMHeadModel(config)
    # END SOLUTION


def collate(tokenizer, features: list[dict[str, list[int]]]) -> dict[str, torch.Tensor]:
    """Batch ``features`` for causal language modelling: GPT-2 has no padding token, so use
    the end-of-text token (``tokenizer.pad_token = tokenizer.eos_token``), then
    ``DataCollatorForLanguageModeling(tokenizer, mlm=False)``. Return the batch as a dict
    (``input_ids``, ``attention_mask``, ``labels``)."""
    # BEGIN SOLUTION
    tokenizer.pad_token = tokenizer.eos_token
    data_collator = DataCollatorForLanguageModeling(tokenizer, mlm=False)
    return dict(data_collator(features))
    # END SOLUTION


def keytoken_ids(tokenizer, words: list[str]) -> list[int]:
    """The ids of those ``words`` that the tokenizer keeps as a single token
    (``tokenizer([word]).input_ids[0]`` has length 1), in order; print the others."""
    # BEGIN SOLUTION
    ids = []
    for keyword in words:
        token_ids = tokenizer([keyword]).input_ids[0]
        if len(token_ids) == 1:
            ids.append(token_ids[0])
        else:
            print(f"Keyword has not single token: {keyword}")
    return ids
    # END SOLUTION


def keytoken_weighted_loss(inputs: torch.Tensor, logits: torch.Tensor, keytoken_ids: list[int],
                           alpha: float = 1.0) -> torch.Tensor:
    """The course's weighted causal-LM loss. Shift: the logits at position ``t`` predict the
    input at ``t + 1``. Take the per-token cross-entropy (``reduction="none"``), average it
    over the positions of each sample, weigh each sample by ``alpha * (1 + the number of
    key tokens in its inputs)`` and return the mean over the batch (a 0-dim tensor)."""
    # BEGIN SOLUTION
    shift_labels = inputs[..., 1:].contiguous()
    shift_logits = logits[..., :-1, :].contiguous()
    loss_fct = CrossEntropyLoss(reduction="none")
    loss = loss_fct(shift_logits.view(-1, shift_logits.size(-1)), shift_labels.view(-1))
    loss_per_sample = loss.view(shift_logits.size(0), shift_logits.size(1)).mean(axis=1)
    weights = torch.stack([(inputs == kt).float() for kt in keytoken_ids]).sum(axis=[0, 2])
    weights = alpha * (1.0 + weights)
    return (loss_per_sample * weights).mean()
    # END SOLUTION


def get_grouped_params(model, no_decay: list[str] = ("bias", "LayerNorm.weight"),
                       weight_decay: float = 0.1) -> list[dict[str, Any]]:
    """Two optimizer parameter groups: ``{"params": […], "weight_decay": weight_decay}`` for
    every parameter whose name contains none of ``no_decay``, then ``{"params": […],
    "weight_decay": 0.0}`` for the others, each in ``named_parameters()`` order."""
    # BEGIN SOLUTION
    params_with_wd, params_without_wd = [], []
    for n, p in model.named_parameters():
        if any(nd in n for nd in no_decay):
            params_without_wd.append(p)
        else:
            params_with_wd.append(p)
    return [
        {"params": params_with_wd, "weight_decay": weight_decay},
        {"params": params_without_wd, "weight_decay": 0.0},
    ]
    # END SOLUTION


def evaluate_perplexity(model, eval_dataloader, accelerator) -> tuple[float, float]:
    """``(loss, perplexity)`` of ``model`` on ``eval_dataloader``: in eval mode and without
    gradients, the loss of every batch (``model(batch["input_ids"],
    labels=batch["input_ids"]).loss``, gathered across processes with
    ``accelerator.gather``), averaged over the batches; perplexity is ``exp`` of that mean
    (``inf`` on overflow). (The course calls this function ``evaluate``, which hides the
    ``evaluate`` library.)"""
    # BEGIN SOLUTION
    model.eval()
    losses = []
    for batch in eval_dataloader:
        with torch.no_grad():
            outputs = model(batch["input_ids"], labels=batch["input_ids"])
        losses.append(accelerator.gather(outputs.loss.reshape(1)))
    loss = torch.mean(torch.cat(losses))
    try:
        perplexity = torch.exp(loss).item()
    except OverflowError:
        perplexity = float("inf")
    return loss.item(), perplexity
    # END SOLUTION


def perplexity(model, chunks: list[list[int]], batch_size: int) -> tuple[float, float]:
    """``evaluate_perplexity`` of ``model`` on the windows ``chunks`` (a ``Dataset`` with an
    ``input_ids`` column in torch format, batches of ``batch_size`` in order) with
    ``Accelerator(cpu=True)``."""
    # BEGIN SOLUTION
    from accelerate import Accelerator

    accelerator = Accelerator(cpu=True)
    data = Dataset.from_dict({"input_ids": chunks}).with_format("torch")
    model, eval_dataloader = accelerator.prepare(model, DataLoader(data, batch_size=batch_size))
    return evaluate_perplexity(model, eval_dataloader, accelerator)
    # END SOLUTION


def train(config: dict[str, Any]) -> dict[str, Any]:
    """Train a new model with 🤗 Accelerate. ``config`` has ``tokenizer_dir``, ``data_dir``
    (``load_dataset(data_dir)`` gives its train and validation splits), ``train_rows`` and ``eval_rows``
    (the first rows of each split to use), ``context_length``, ``n_embd``, ``n_layer``,
    ``n_head``, ``batch_size``, ``gradient_accumulation_steps``, ``epochs``, ``lr``,
    ``weight_decay``, ``warmup_steps``, ``keywords``, ``alpha`` and ``seed``.

    Call ``set_seed(seed)`` first and create ``Accelerator(cpu=True)``. Tokenize both splits
    with ``tokenize`` (batched map, original columns removed, torch format); the train
    loader shuffles with a ``torch.Generator`` seeded with ``seed``, the eval loader does not.
    Build the model with ``make_model``, ``torch.optim.AdamW(get_grouped_params(model,
    weight_decay=weight_decay), lr=lr)``, prepare model, optimizer and loaders, then a
    ``"cosine"`` schedule from ``get_scheduler`` with ``warmup_steps`` warm-up steps over
    ``epochs * (len(train_dataloader) // gradient_accumulation_steps)`` optimizer steps.
    Measure ``evaluate_perplexity`` before training. Every batch: ``keytoken_weighted_loss``
    of the logits with the ids of ``keytoken_ids(tokenizer, keywords)`` and ``alpha``,
    divided by ``gradient_accumulation_steps``, ``accelerator.backward``; after every
    ``gradient_accumulation_steps`` batches clip the gradients to norm 1.0
    (``accelerator.clip_grad_norm_``), step the optimizer and the schedule and zero the
    gradients. Measure ``evaluate_perplexity`` again at the end.

    Return ``{"losses": the weighted loss of every batch before the division,
    "grad_norms": what clip_grad_norm_ returned at every optimizer step, "learning_rates":
    the learning rate of every optimizer step, "perplexity_before", "perplexity_after",
    "tokens": the number of tokens in the training batches}``."""
    # BEGIN SOLUTION
    from accelerate import Accelerator
    from transformers import AutoTokenizer, set_seed

    set_seed(config["seed"])
    accelerator = Accelerator(cpu=True)
    tokenizer = AutoTokenizer.from_pretrained(config["tokenizer_dir"])
    raw = load_dataset(config["data_dir"])
    context_length = config["context_length"]
    splits = {"train": raw["train"].select(range(config["train_rows"])),
              "validation": raw["validation"].select(range(config["eval_rows"]))}
    tokenized = {name: split.map(lambda b: tokenize(b, tokenizer, context_length), batched=True,
                                 remove_columns=split.column_names).with_format("torch")
                 for name, split in splits.items()}
    train_dataloader = DataLoader(tokenized["train"], batch_size=config["batch_size"], shuffle=True,
                                  generator=torch.Generator().manual_seed(config["seed"]))
    eval_dataloader = DataLoader(tokenized["validation"], batch_size=config["batch_size"])
    model = make_model(tokenizer, context_length, config["n_embd"], config["n_layer"], config["n_head"])
    optimizer = torch.optim.AdamW(get_grouped_params(model, weight_decay=config["weight_decay"]), lr=config["lr"])
    model, optimizer, train_dataloader, eval_dataloader = accelerator.prepare(
        model, optimizer, train_dataloader, eval_dataloader)
    accumulation = config["gradient_accumulation_steps"]
    num_training_steps = config["epochs"] * (len(train_dataloader) // accumulation)
    lr_scheduler = get_scheduler("cosine", optimizer=optimizer, num_warmup_steps=config["warmup_steps"],
                                 num_training_steps=num_training_steps)
    keytokens = keytoken_ids(tokenizer, config["keywords"])
    _, perplexity_before = evaluate_perplexity(model, eval_dataloader, accelerator)
    losses, grad_norms, learning_rates, tokens = [], [], [], 0
    model.train()
    for _ in range(config["epochs"]):
        for step, batch in enumerate(train_dataloader, start=1):
            tokens += batch["input_ids"].numel()
            logits = model(batch["input_ids"]).logits
            loss = keytoken_weighted_loss(batch["input_ids"], logits, keytokens, config["alpha"])
            losses.append(loss.item())
            loss = loss / accumulation
            accelerator.backward(loss)
            if step % accumulation == 0:
                grad_norms.append(float(accelerator.clip_grad_norm_(model.parameters(), 1.0)))
                learning_rates.append(lr_scheduler.get_last_lr()[0])
                optimizer.step()
                lr_scheduler.step()
                optimizer.zero_grad()
    _, perplexity_after = evaluate_perplexity(model, eval_dataloader, accelerator)
    return {"losses": losses, "grad_norms": grad_norms, "learning_rates": learning_rates,
            "perplexity_before": perplexity_before, "perplexity_after": perplexity_after, "tokens": tokens}
    # END SOLUTION


def trainer_train(config: dict[str, Any], out_dir) -> Trainer:
    """The ``Trainer`` version of ``train``, with the same ``config`` (``keywords`` and
    ``alpha`` unused: the loss is the model's own). Call ``set_seed(seed)``, tokenize both
    splits with ``tokenize`` (batched map, original columns removed), build the model with
    ``make_model`` and a ``Trainer`` with ``processing_class=tokenizer``, the collator of
    ``collate`` (``DataCollatorForLanguageModeling(tokenizer, mlm=False)`` with the
    end-of-text token as padding), the tokenized train and validation splits, and
    ``TrainingArguments(out_dir, per_device_train_batch_size=batch_size,
    per_device_eval_batch_size=batch_size, gradient_accumulation_steps=…, num_train_epochs=epochs,
    weight_decay=…, warmup_steps=…, lr_scheduler_type="cosine", learning_rate=lr, seed=seed,
    eval_strategy="no", save_strategy="no", report_to="none", disable_tqdm=True)`` (the course's
    ``fp16=True`` needs a GPU). Train it and return the trainer."""
    # BEGIN SOLUTION
    from transformers import AutoTokenizer, set_seed

    set_seed(config["seed"])
    tokenizer = AutoTokenizer.from_pretrained(config["tokenizer_dir"])
    raw = load_dataset(config["data_dir"])
    context_length = config["context_length"]
    splits = {"train": raw["train"].select(range(config["train_rows"])),
              "validation": raw["validation"].select(range(config["eval_rows"]))}
    tokenized = {name: split.map(lambda b: tokenize(b, tokenizer, context_length), batched=True,
                                 remove_columns=split.column_names)
                 for name, split in splits.items()}
    model = make_model(tokenizer, context_length, config["n_embd"], config["n_layer"], config["n_head"])
    tokenizer.pad_token = tokenizer.eos_token
    args = TrainingArguments(
        out_dir,
        per_device_train_batch_size=config["batch_size"],
        per_device_eval_batch_size=config["batch_size"],
        gradient_accumulation_steps=config["gradient_accumulation_steps"],
        num_train_epochs=config["epochs"],
        weight_decay=config["weight_decay"],
        warmup_steps=config["warmup_steps"],
        lr_scheduler_type="cosine",
        learning_rate=config["lr"],
        seed=config["seed"],
        eval_strategy="no",
        save_strategy="no",
        report_to="none",
        disable_tqdm=True,
    )
    trainer = Trainer(model=model, args=args, processing_class=tokenizer,
                      data_collator=DataCollatorForLanguageModeling(tokenizer, mlm=False),
                      train_dataset=tokenized["train"], eval_dataset=tokenized["validation"])
    trainer.train()
    return trainer
    # END SOLUTION
