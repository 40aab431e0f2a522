"""7.3 Fine-tuning a masked language model — 微调掩码语言模型

Domain adaptation: a masked language model keeps learning on text of the domain it will
be used in, here imdb-like film reviews. The texts are tokenized (keeping each token's
word id), concatenated and cut into chunks of one size; a collator masks tokens at random
(``DataCollatorForLanguageModeling``) or whole words at a time (every token of a chosen
word). Perplexity, ``exp`` of the evaluation loss, measures the fit before and after a short
fine-tune, with ``Trainer`` and with a plain Accelerate loop on a fixed masked evaluation set.
Course: https://huggingface.co/learn/llm-course/chapter7/3
中文课程：https://huggingface.co/learn/llm-course/zh-CN/chapter7/3

领域自适应：让掩码语言模型在它将要使用的领域文本（这里是类似 imdb 的影评）上继续学习。
文本分词时保留每个 token 的单词编号，拼接后切成等长的块；collator 随机遮盖 token
（``DataCollatorForLanguageModeling``），或按整词遮盖（一个被选中单词的所有 token 一起遮盖）。
困惑度（评估损失的 ``exp``）衡量短暂微调前后的拟合程度：分别用 ``Trainer`` 和在固定遮盖
评估集上运行的朴素 Accelerate 循环。
"""

from __future__ import annotations

import collections
import math
from pathlib import Path
from typing import Any

import numpy as np
import torch
from datasets import DatasetDict, load_dataset
from transformers import (AutoModelForMaskedLM, AutoTokenizer, DataCollatorForLanguageModeling, Trainer,
                          TrainingArguments, default_data_collator)


def top_k_fill(model, tokenizer, text: str, k: int) -> list[str]:
    """``text`` with its mask token replaced by each of the ``k`` tokens the model scores highest
    there (best first, ``tokenizer.decode([token])``)."""
    # BEGIN SOLUTION
    inputs = tokenizer(text, return_tensors="pt")
    with torch.no_grad():
        logits = model(**inputs).logits
    mask_index = torch.where(inputs["input_ids"] == tokenizer.mask_token_id)[1]
    top = torch.topk(logits[0, mask_index, :], k, dim=1).indices[0].tolist()
    return [text.replace(tokenizer.mask_token, tokenizer.decode([token])) for token in top]
    # END SOLUTION


def tokenize_function(examples: dict[str, list], tokenizer) -> dict[str, list]:
    """The encoding of a batch of ``text`` (no truncation) plus a ``word_ids`` column: for each row,
    the word id of every token (None for special tokens)."""
    # BEGIN SOLUTION
    result = tokenizer(examples["text"])
    result["word_ids"] = [result.word_ids(i) for i in range(len(result["input_ids"]))]
    return dict(result)
    # END SOLUTION


def group_texts(examples: dict[str, list], chunk_size: int) -> dict[str, list]:
    """Concatenate every column of the batch, drop the tail that does not fill a last chunk, cut
    into chunks of ``chunk_size``, and add ``labels``, a copy of the ``input_ids`` chunks."""
    # BEGIN SOLUTION
    concatenated = {k: sum(examples[k], []) for k in examples}
    total_length = len(concatenated[next(iter(examples))])
    total_length = (total_length // chunk_size) * chunk_size
    result = {k: [t[i: i + chunk_size] for i in range(0, total_length, chunk_size)] for k, t in concatenated.items()}
    result["labels"] = [chunk.copy() for chunk in result["input_ids"]]
    return result
    # END SOLUTION


def lm_dataset(data_dir: str, tokenizer, chunk_size: int) -> DatasetDict:
    """``load_dataset(data_dir)`` (imdb-like), mapped batched with ``tokenize_function`` (removing
    ``text`` and ``label``), then batched with ``group_texts``."""
    # BEGIN SOLUTION
    raw = load_dataset(data_dir)
    tokenized = raw.map(lambda batch: tokenize_function(batch, tokenizer), batched=True,
                        remove_columns=["text", "label"])
    return tokenized.map(lambda batch: group_texts(batch, chunk_size), batched=True)
    # END SOLUTION


def whole_word_masking_data_collator(features: list[dict[str, list]], mask_token_id: int, wwm_probability: float,
                                     seed: int) -> dict[str, torch.Tensor]:
    """Whole-word masking. With ``rng = np.random.default_rng(seed)``, for each feature in order:
    number its words (consecutive tokens with the same word id, None excluded) from 0, draw
    ``rng.binomial(1, wwm_probability, (number_of_words,))``, and for every drawn word replace
    all its tokens' ids by ``mask_token_id``; ``labels`` keep the original id at masked
    positions and are -100 elsewhere. Drop ``word_ids`` and batch with ``default_data_collator``."""
    # BEGIN SOLUTION
    rng = np.random.default_rng(seed)
    batch = []
    for feature in features:
        feature = dict(feature)
        word_ids = feature.pop("word_ids")
        mapping = collections.defaultdict(list)
        current_word_index = -1
        current_word = None
        for idx, word_id in enumerate(word_ids):
            if word_id is not None:
                if word_id != current_word:
                    current_word = word_id
                    current_word_index += 1
                mapping[current_word_index].append(idx)
        mask = rng.binomial(1, wwm_probability, (len(mapping),))
        input_ids = list(feature["input_ids"])
        labels = feature["labels"]
        new_labels = [-100] * len(labels)
        for word_id in np.where(mask)[0]:
            for idx in mapping[word_id.item()]:
                new_labels[idx] = labels[idx]
                input_ids[idx] = mask_token_id
        feature["input_ids"] = input_ids
        feature["labels"] = new_labels
        batch.append(feature)
    return dict(default_data_collator(batch))
    # END SOLUTION


def random_masking(features: list[dict[str, list]], tokenizer, mlm_probability: float,
                   seed: int) -> dict[str, torch.Tensor]:
    """Token masking by ``DataCollatorForLanguageModeling(tokenizer, mlm_probability=…,
    seed=seed)`` on the features without their ``word_ids``."""
    # BEGIN SOLUTION
    collator = DataCollatorForLanguageModeling(tokenizer=tokenizer, mlm_probability=mlm_probability, seed=seed)
    return dict(collator([{k: v for k, v in f.items() if k != "word_ids"} for f in features]))
    # END SOLUTION


def perplexity(eval_loss: float) -> float:
    """The perplexity of a mean cross-entropy loss: ``exp(eval_loss)``; ``inf`` when that overflows."""
    # BEGIN SOLUTION
    try:
        return math.exp(eval_loss)
    except OverflowError:
        return float("inf")
    # END SOLUTION


def insert_random_mask(batch: dict[str, list], collator) -> dict[str, np.ndarray]:
    """Mask a batch of rows once, for a fixed evaluation set: turn the columns into a list of
    features, pass it to ``collator``, and return each output column as a numpy array under the
    name ``"masked_" + column``."""
    # BEGIN SOLUTION
    features = [dict(zip(batch, t)) for t in zip(*batch.values())]
    masked_inputs = collator(features)
    return {"masked_" + k: v.numpy() for k, v in masked_inputs.items()}
    # END SOLUTION


def downsample(data: DatasetDict, train_size: int, test_size: int, seed: int) -> DatasetDict:
    """``data["train"].train_test_split(train_size=…, test_size=…, seed=seed)``: a small train and
    test split drawn from the train chunks."""
    # BEGIN SOLUTION
    return data["train"].train_test_split(train_size=train_size, test_size=test_size, seed=seed)
    # END SOLUTION


def fine_tune(model_dir: str, data_dir: str, out_dir: Path, chunk_size: int, train_size: int, test_size: int,
              epochs: int, lr: float, seed: int) -> dict[str, float]:
    """Fine-tune with ``Trainer``: the tokenizer and ``AutoModelForMaskedLM`` of ``model_dir``,
    the chunks of ``lm_dataset`` without ``word_ids``, ``downsample``d, a
    ``DataCollatorForLanguageModeling(mlm_probability=0.15, seed=seed)`` and
    ``TrainingArguments(out_dir, eval_strategy="epoch", learning_rate=lr, num_train_epochs=epochs,
    seed=seed, per_device_train_batch_size=16, per_device_eval_batch_size=16, save_strategy="no",
    report_to="none", disable_tqdm=True)``. Returns ``{"before": perplexity of
    trainer.evaluate() before training, "after": the same after training}``."""
    # BEGIN SOLUTION
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForMaskedLM.from_pretrained(model_dir)
    data = downsample(lm_dataset(data_dir, tokenizer, chunk_size).remove_columns(["word_ids"]), train_size,
                      test_size, seed)
    args = TrainingArguments(out_dir, eval_strategy="epoch", learning_rate=lr, num_train_epochs=epochs, seed=seed,
                             per_device_train_batch_size=16, per_device_eval_batch_size=16, save_strategy="no",
                             report_to="none", disable_tqdm=True)
    collator = DataCollatorForLanguageModeling(tokenizer=tokenizer, mlm_probability=0.15, seed=seed)
    trainer = Trainer(model=model, args=args, train_dataset=data["train"], eval_dataset=data["test"],
                      data_collator=collator, processing_class=tokenizer)
    before = perplexity(trainer.evaluate()["eval_loss"])
    trainer.train()
    return {"before": before, "after": perplexity(trainer.evaluate()["eval_loss"])}
    # END SOLUTION


def train_with_accelerate(config: dict[str, Any]) -> dict[str, Any]:
    """The same fine-tuning as a plain Accelerate loop. ``config`` has ``model_dir``, ``data_dir``,
    ``chunk_size``, ``train_size``, ``test_size``, ``epochs``, ``lr``, ``batch_size`` and ``seed``.

    Build the ``downsample``d chunks (without ``word_ids``) as ``fine_tune`` does, and a fixed
    evaluation set: the test split mapped batched with ``insert_random_mask`` (a
    ``DataCollatorForLanguageModeling(mlm_probability=0.15, seed=seed)``), its unmasked columns
    removed and the ``masked_`` prefix dropped from the others. Train on the train split with a
    shuffled ``DataLoader`` (``torch.Generator().manual_seed(seed)``) batched by a second such
    collator, ``torch.optim.AdamW(lr)``, a linear ``get_scheduler`` without warm-up and
    ``Accelerator(cpu=True)``, after ``set_seed(seed)`` (dropout draws from it); evaluate
    (``default_data_collator``, ``model.eval()``, no gradients) before training and after each
    epoch, gathering the losses of every process.

    Returns ``{"perplexities": [before training, after epoch 1, ...]}``, each ``exp`` of the mean
    loss over the evaluation batches."""
    # BEGIN SOLUTION
    from accelerate import Accelerator
    from torch.utils.data import DataLoader
    from transformers import get_scheduler, set_seed

    tokenizer = AutoTokenizer.from_pretrained(config["model_dir"])
    model = AutoModelForMaskedLM.from_pretrained(config["model_dir"])
    data = downsample(lm_dataset(config["data_dir"], tokenizer, config["chunk_size"]).remove_columns(["word_ids"]),
                      config["train_size"], config["test_size"], config["seed"])
    eval_collator = DataCollatorForLanguageModeling(tokenizer=tokenizer, mlm_probability=0.15, seed=config["seed"])
    eval_dataset = data["test"].map(lambda batch: insert_random_mask(batch, eval_collator), batched=True,
                                    remove_columns=data["test"].column_names)
    eval_dataset = eval_dataset.rename_columns({c: c[len("masked_"):] for c in eval_dataset.column_names})
    train_collator = DataCollatorForLanguageModeling(tokenizer=tokenizer, mlm_probability=0.15, seed=config["seed"])
    train_dl = DataLoader(data["train"], shuffle=True, batch_size=config["batch_size"], collate_fn=train_collator,
                          generator=torch.Generator().manual_seed(config["seed"]))
    eval_dl = DataLoader(eval_dataset, batch_size=config["batch_size"], collate_fn=default_data_collator)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config["lr"])
    set_seed(config["seed"])
    accelerator = Accelerator(cpu=True)
    model, optimizer, train_dl, eval_dl = accelerator.prepare(model, optimizer, train_dl, eval_dl)
    steps = config["epochs"] * len(train_dl)
    scheduler = get_scheduler("linear", optimizer=optimizer, num_warmup_steps=0, num_training_steps=steps)

    def evaluate_perplexity() -> float:
        model.eval()
        losses = []
        for batch in eval_dl:
            with torch.no_grad():
                loss = model(**batch).loss
            losses.append(accelerator.gather(loss.repeat(batch["input_ids"].shape[0])))
        return perplexity(torch.mean(torch.cat(losses)).item())

    perplexities = [evaluate_perplexity()]
    for _ in range(config["epochs"]):
        model.train()
        for batch in train_dl:
            loss = model(**batch).loss
            accelerator.backward(loss)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
        perplexities.append(evaluate_perplexity())
    return {"perplexities": perplexities}
    # END SOLUTION
