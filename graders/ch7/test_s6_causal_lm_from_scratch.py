"""Grader for 7.6 Training a causal language model from scratch."""

import json
import math

import pytest
import torch
import torch.nn.functional as F

from hfcourse import expect

DATA, TOK, LM = "codeparrot-like", "code-bpe", "tiny-gpt2"
FILTERS = ["pandas", "sklearn", "matplotlib", "seaborn"]
PERPLEXITY_DROP = 0.7
"""Largest share of the untrained perplexity left after training; seen: 0.36-0.49."""
KEYWORDS = ["plt", "pd", "sk", "fit", "predict", " plt", " pd", " sk", " fit", " predict", "testtest"]


def _stream_rows(fx) -> list[dict]:
    with open(fx.path(DATA) / "stream" / "train.jsonl", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _own_chunks(tok, contents: list[str], context_length: int) -> list[list[int]]:
    out = []
    for ids in tok(contents)["input_ids"]:
        out += [ids[i:i + context_length] for i in range(0, len(ids) - context_length + 1, context_length)]
    return out


def _own_loss(inputs: torch.Tensor, logits: torch.Tensor, keytokens: list[int], alpha: float) -> torch.Tensor:
    b, t, v = logits.shape
    per_token = F.cross_entropy(logits[:, :-1].reshape(-1, v).double(), inputs[:, 1:].reshape(-1), reduction="none")
    per_sample = per_token.view(b, t - 1).mean(dim=1)
    counts = torch.zeros(b, dtype=torch.float64)
    for kt in keytokens:
        counts += (inputs == kt).sum(dim=1)
    return (per_sample * alpha * (1 + counts)).mean()


def _config(fx, rng) -> dict:
    return {"tokenizer_dir": str(fx.path(TOK)), "data_dir": str(fx.path(DATA) / "ds"), "train_rows": 30,
            "eval_rows": 8, "context_length": 32, "n_embd": 32, "n_layer": 2, "n_head": 2, "batch_size": 8,
            "gradient_accumulation_steps": rng.choice([2, 3]), "epochs": 1, "lr": rng.choice([5e-3, 8e-3]),
            "weight_decay": 0.1, "warmup_steps": 3, "keywords": KEYWORDS, "alpha": rng.choice([1.0, 0.5]),
            "seed": rng.randrange(1000)}


@pytest.mark.grade(points=2, visibility="visible",
                   hint="load_dataset(data_dir, split=\"train\", streaming=True); go through it once and keep every sample whose content holds one of the filters, then Dataset.from_dict.",
                   hint_zh="load_dataset(data_dir, split=\"train\", streaming=True)；遍历一次，保留 content 中含有任一过滤词的样本，再用 Dataset.from_dict。")
def test_filter_streamed_code(student, fx, rng):
    directory = str(fx.path(DATA) / "stream")
    kind = student.call("stream_dataset", directory, probe="class_name")
    expect.equal(kind, "IterableDataset", "type of stream_dataset(...)", likely=(
        "pass streaming=True: the real corpus does not fit on disk", "传入 streaming=True：真实语料放不进磁盘"))
    filters = rng.sample(FILTERS, rng.randint(1, 3)) + rng.sample(["plt.show", "LogisticRegression", "np.mean"], 1)
    got = student.call("filter_code", directory, filters, probe="ch3:dataset")
    expect.true(isinstance(got, dict) and "dataset" in got, "filter_code must return a datasets.Dataset")
    want = [r for r in _stream_rows(fx) if any(f in r["content"] for f in filters)]
    rows = got["dataset"].get("rows", {})
    expect.equal(sorted(rows), sorted(want[0]), "columns of the filtered data set", likely=(
        "keep every column of a kept sample", "保留被选中样本的所有列"))
    expect.equal(list(rows["content"]), [r["content"] for r in want], "contents kept by the filters", likely=(
        "keep a sample when ANY of the keywords occurs in its content", "只要 content 中出现任一关键词就保留该样本"))
    expect.equal(list(rows["repo_name"]), [r["repo_name"] for r in want], "repo_name of the kept samples")


@pytest.mark.grade(points=2, visibility="visible",
                   hint="tokenizer(content, truncation=True, max_length=context_length, return_overflowing_tokens=True, return_length=True); keep input_ids whose length == context_length.",
                   hint_zh="tokenizer(content, truncation=True, max_length=context_length, return_overflowing_tokens=True, return_length=True)；只保留长度等于 context_length 的 input_ids。")
def test_tokenize_keeps_full_windows(student, fx, rng):
    data = fx.load(DATA)["train"]
    contents = [data[i]["content"] for i in rng.sample(range(data.num_rows), 5)]
    context_length = rng.choice([16, 32, 48])
    got = student.tokenize({"content": contents}, fx.ref(TOK), context_length)
    expect.true(isinstance(got, dict) and "input_ids" in got, "tokenize must return {\"input_ids\": windows}")
    windows = list(got["input_ids"])
    expect.true(all(len(w) == context_length for w in windows), f"every window must have exactly {context_length} tokens",
                likely=("drop the last, shorter window of every file: keep only length == context_length",
                        "丢掉每个文件最后那个较短的窗口：只保留 length == context_length 的"))
    expect.equal([list(w) for w in windows], _own_chunks(fx.load(TOK), contents, context_length), "the windows")


@pytest.mark.grade(points=1,
                   hint="AutoConfig.for_model(\"gpt2\", vocab_size=len(tokenizer), n_positions=context_length, n_embd=…, n_layer=…, n_head=…, bos_token_id=…, eos_token_id=…); GPT2LMHeadModel(config).",
                   hint_zh="AutoConfig.for_model(\"gpt2\", vocab_size=len(tokenizer), n_positions=context_length, n_embd=…, n_layer=…, n_head=…, bos_token_id=…, eos_token_id=…)；GPT2LMHeadModel(config)。")
def test_make_model(student, fx, rng):
    context_length, n_embd, n_head = rng.choice([32, 64]), rng.choice([16, 32]), rng.choice([2, 4])
    got = student.call("make_model", fx.ref(TOK), context_length, n_embd, 2, n_head, probe="ch7_b:new_model")
    tok = fx.load(TOK)
    expect.equal(got["class"], "GPT2LMHeadModel", "class of the model")
    want = {"model_type": "gpt2", "vocab_size": len(tok), "n_positions": context_length, "n_embd": n_embd, "n_layer": 2,
            "n_head": n_head, "bos_token_id": tok.bos_token_id, "eos_token_id": tok.eos_token_id}
    expect.equal(got["config"], want, "configuration of the model", likely=(
        "n_ctx does not set the number of positions: pass n_positions=context_length; vocab_size=len(tokenizer)",
        "n_ctx 不会设置位置数：请传入 n_positions=context_length；vocab_size=len(tokenizer)"))


@pytest.mark.grade(points=1,
                   hint="tokenizer.pad_token = tokenizer.eos_token; DataCollatorForLanguageModeling(tokenizer, mlm=False) copies input_ids to labels, with -100 at the padding.",
                   hint_zh="tokenizer.pad_token = tokenizer.eos_token；DataCollatorForLanguageModeling(tokenizer, mlm=False) 把 input_ids 复制为 labels，补齐处为 -100。")
def test_collate_for_causal_lm(student, fx, rng):
    tok = fx.load(TOK)
    lengths = [rng.randint(4, 12) for _ in range(4)]
    features = [{"input_ids": [rng.randrange(1, len(tok)) for _ in range(n)]} for n in lengths]
    got = student.collate(fx.ref(TOK), features)
    expect.true(isinstance(got, dict) and {"input_ids", "labels"} <= set(got), "collate must return input_ids and labels")
    width, eos = max(lengths), tok.eos_token_id
    ids = [f["input_ids"] + [eos] * (width - len(f["input_ids"])) for f in features]
    labels = [f["input_ids"] + [-100] * (width - len(f["input_ids"])) for f in features]
    expect.equal(expect.tensor(got["input_ids"], "input_ids").tolist(), ids, "input_ids padded with the end-of-text token")
    expect.equal(expect.tensor(got["labels"], "labels").tolist(), labels, "labels", likely=(
        "mlm=False: the labels are the inputs (the model shifts them), -100 where padded",
        "mlm=False：labels 就是输入（模型内部会移位），补齐处为 -100"))


@pytest.mark.grade(points=1,
                   hint="ids = tokenizer([keyword]).input_ids[0]; keep ids[0] only when len(ids) == 1.",
                   hint_zh="ids = tokenizer([keyword]).input_ids[0]；只有 len(ids) == 1 时才保留 ids[0]。")
def test_keytoken_ids(student, fx, rng):
    tok = fx.load(TOK)
    words = rng.sample(KEYWORDS, 7)
    got = student.keytoken_ids(fx.ref(TOK), words)
    want = [tok([w]).input_ids[0][0] for w in words if len(tok([w]).input_ids[0]) == 1]
    expect.equal(list(got), want, f"key token ids of {words}", likely=(
        "skip the words that the tokenizer splits into several tokens", "跳过被 tokenizer 切成多个 token 的词"))


@pytest.mark.grade(points=2,
                   hint="Shift (logits[..., :-1, :] predict inputs[..., 1:]), CrossEntropyLoss(reduction=\"none\"), mean per sample, weights alpha * (1 + key-token count), then the mean.",
                   hint_zh="移位（logits[..., :-1, :] 预测 inputs[..., 1:]），CrossEntropyLoss(reduction=\"none\")，按样本取平均，权重为 alpha * (1 + 关键 token 数)，最后取平均。")
def test_keytoken_weighted_loss(student, rng):
    gen = torch.Generator().manual_seed(rng.randrange(2**31))
    b, t, v = 4, 12, 40
    inputs = torch.randint(0, v, (b, t), generator=gen)
    logits = torch.randn(b, t, v, generator=gen)
    keytokens, alpha = rng.sample(range(v), 3), rng.choice([1.0, 0.5, 2.0])
    got = expect.tensor(student.keytoken_weighted_loss(inputs, logits, keytokens, alpha), "the loss", shape=())
    expect.close(got, _own_loss(inputs, logits, keytokens, alpha), "weighted loss", atol=1e-5, likely=(
        "shift before the cross-entropy and weigh each sample by alpha * (1 + its key-token count)",
        "先移位再算交叉熵，每个样本的权重为 alpha * (1 + 关键 token 数)"))
    plain = torch.randint(0, v - 5, (b, t), generator=gen)
    got = expect.tensor(student.keytoken_weighted_loss(plain, logits, [v - 1, v - 2], 1.0), "the loss", shape=())
    mean_ce = F.cross_entropy(logits[:, :-1].reshape(-1, v), plain[:, 1:].reshape(-1))
    expect.close(got, mean_ce, "loss without key tokens and alpha = 1 (the plain causal-LM loss)", atol=1e-5)


@pytest.mark.grade(points=1,
                   hint="A parameter goes to the group without weight decay when its name contains any of no_decay; the other group gets weight_decay.",
                   hint_zh="参数名包含 no_decay 中任一项时放进不做权重衰减的组；另一组使用 weight_decay。")
def test_grouped_params(student, fx, rng):
    no_decay = rng.choice([["bias", "LayerNorm.weight"], ["bias", "ln_"], ["bias", "wpe"]])
    decay = rng.choice([0.1, 0.01])
    got = student.call("get_grouped_params", fx.ref(LM), no_decay, decay, probe="ch7_b:param_groups")
    named = list(fx.load(LM).named_parameters())
    groups = [[p for n, p in named if not any(nd in n for nd in no_decay)], [p for n, p in named if any(nd in n for nd in no_decay)]]
    expect.equal(len(got), 2, "number of parameter groups")
    for g, (want_decay, params) in zip(got, zip((decay, 0.0), groups)):
        expect.equal(g["weight_decay"], want_decay, "weight_decay of the group")
        expect.equal(g["shapes"], [list(p.shape) for p in params], f"parameters of the group with weight decay {want_decay}",
                     likely=("biases and the names in no_decay get no weight decay; every other weight does",
                             "偏置和 no_decay 中的名字不做权重衰减，其余权重都做"))
        expect.close(torch.tensor(g["sums"]), torch.tensor([float(p.detach().double().sum()) for p in params]),
                     f"values of the parameters in the group with weight decay {want_decay}", atol=1e-6)


@pytest.mark.grade(points=1,
                   hint="model.eval(); under torch.no_grad() the loss of model(input_ids, labels=input_ids) for every batch; perplexity = exp(mean of the batch losses).",
                   hint_zh="model.eval()；在 torch.no_grad() 下对每个batch计算 model(input_ids, labels=input_ids) 的损失；困惑度 = exp(各batch损失的平均)。")
def test_perplexity(student, fx, rng):
    model, tok = fx.load(LM), fx.load("bpe-gpt2")
    chunks = [[rng.randrange(len(tok)) for _ in range(16)] for _ in range(rng.choice([5, 7]))]
    size = rng.choice([2, 3])
    got = student.perplexity(fx.ref(LM, fresh=True), chunks, size)
    expect.true(isinstance(got, (list, tuple)) and len(got) == 2, "perplexity must return (loss, perplexity)")
    with torch.no_grad():
        losses = [float(model(torch.tensor(chunks[i:i + size]), labels=torch.tensor(chunks[i:i + size])).loss)
                  for i in range(0, len(chunks), size)]
    loss = sum(losses) / len(losses)
    expect.close(torch.tensor([float(got[0]), float(got[1])]), torch.tensor([loss, math.exp(loss)]),
                 "(loss, perplexity)", atol=1e-4, likely=("average the batch losses, then exp", "先平均各batch的损失，再取 exp"))


def _cosine(step: int, warmup: int, total: int, lr: float) -> float:
    if step < warmup:
        return lr * step / max(1, warmup)
    progress = (step - warmup) / max(1, total - warmup)
    return lr * max(0.0, 0.5 * (1.0 + math.cos(math.pi * progress)))


@pytest.mark.grade(points=3,
                   hint="Divide the loss by gradient_accumulation_steps; every gradient_accumulation_steps batches: accelerator.clip_grad_norm_(model.parameters(), 1.0), optimizer.step(), lr_scheduler.step(), optimizer.zero_grad().",
                   hint_zh="把损失除以 gradient_accumulation_steps；每 gradient_accumulation_steps 个batch：accelerator.clip_grad_norm_(model.parameters(), 1.0)、optimizer.step()、lr_scheduler.step()、optimizer.zero_grad()。")
def test_train_with_accelerate(student, reference, fx, rng):
    config = _config(fx, rng)
    got = student.train(config)
    expect.true(isinstance(got, dict) and {"losses", "grad_norms", "learning_rates", "perplexity_before",
                                          "perplexity_after", "tokens"} <= set(got), "train must return the dict its docstring describes")
    chunks = _own_chunks(fx.load(TOK), list(fx.load(DATA)["train"].select(range(config["train_rows"]))["content"]),
                         config["context_length"])
    batches = -(-len(chunks) // config["batch_size"])
    steps = batches // config["gradient_accumulation_steps"]
    expect.equal(len(got["losses"]), batches, "number of batch losses")
    expect.equal(got["tokens"], len(chunks) * config["context_length"], "training tokens")
    expect.equal(len(got["grad_norms"]), steps, "number of optimizer steps", likely=(
        "step the optimizer once every gradient_accumulation_steps batches", "每 gradient_accumulation_steps 个batch才更新一次优化器"))
    rates = [_cosine(k, config["warmup_steps"], steps, config["lr"]) for k in range(steps)]
    expect.close(torch.tensor(got["learning_rates"]), torch.tensor(rates), "learning rate of every optimizer step", atol=1e-9,
                 likely=("get_scheduler(\"cosine\", optimizer, num_warmup_steps=…, num_training_steps=epochs * (len(train_dataloader) // gradient_accumulation_steps))",
                         "训练步数按优化器更新次数计算：get_scheduler(\"cosine\", optimizer, num_warmup_steps=…, num_training_steps=epochs * (len(train_dataloader) // gradient_accumulation_steps))"))
    expect.true(got["perplexity_after"] < PERPLEXITY_DROP * got["perplexity_before"],
                f"perplexity went from {got['perplexity_before']:.1f} to {got['perplexity_after']:.1f}: training must lower it",
                likely=("call optimizer.step() after the accumulated backward passes", "累积若干次反向传播之后调用 optimizer.step()"))
    want = reference.train(config)
    expect.close(torch.tensor(got["grad_norms"]), torch.tensor(want["grad_norms"]), "gradient norms vs. the reference", atol=1e-3,
                 rtol=1e-3, likely=("divide the loss by gradient_accumulation_steps before accelerator.backward", "在 accelerator.backward 之前把损失除以 gradient_accumulation_steps"))
    expect.close(torch.tensor(got["losses"]), torch.tensor(want["losses"]), "batch losses vs. the reference", atol=1e-3, rtol=1e-3)
    expect.close(torch.tensor([got["perplexity_before"], got["perplexity_after"]]),
                 torch.tensor([want["perplexity_before"], want["perplexity_after"]]), "perplexity before and after vs. the reference",
                 atol=1e-2, rtol=1e-3, likely=("evaluate in eval mode (no dropout) and go back to model.train() afterwards",
                                              "评估时用 eval 模式（没有 dropout），之后再调回 model.train()"))


@pytest.mark.grade(points=1,
                   hint="Keep the training loop lean: one forward pass per batch, no .item() or evaluation inside the accumulation steps beyond what the exercise asks.",
                   hint_zh="让训练循环保持精简：每个batch只做一次前向传播，除了练习要求的内容外，不要在累积步骤中调用 .item() 或做评估。")
def test_training_throughput(student, reference, fx, rng, bench):
    config = _config(fx, rng)
    got = student.train(config)
    expect.true(isinstance(got, dict) and isinstance(got.get("tokens"), int), "train must return its token count")
    bench.compare("train", config, unit="tokens/s", items=got["tokens"], threshold=0.5, rounds=3,
                  likely=("avoid extra forward passes or evaluations inside the training loop", "避免在训练循环中多做前向传播或评估"))


@pytest.mark.grade(points=2,
                   hint="Trainer(model=…, args=TrainingArguments(…, gradient_accumulation_steps=…, lr_scheduler_type=\"cosine\", warmup_steps=…, weight_decay=…), processing_class=tokenizer, data_collator=DataCollatorForLanguageModeling(tokenizer, mlm=False), train_dataset=…, eval_dataset=…).",
                   hint_zh="Trainer(model=…, args=TrainingArguments(…, gradient_accumulation_steps=…, lr_scheduler_type=\"cosine\", warmup_steps=…, weight_decay=…), processing_class=tokenizer, data_collator=DataCollatorForLanguageModeling(tokenizer, mlm=False), train_dataset=…, eval_dataset=…)。")
def test_train_with_trainer(student, reference, fx, rng):
    config = _config(fx, rng)
    got = student.call("trainer_train", config, student.scratch("clm-run"), probe="ch3:trained")
    args = got["args"]
    want_args = {"gradient_accumulation_steps": config["gradient_accumulation_steps"], "lr_scheduler_type": "cosine",
                 "warmup_steps": config["warmup_steps"], "weight_decay": config["weight_decay"],
                 "learning_rate": config["lr"], "per_device_train_batch_size": config["batch_size"], "seed": config["seed"]}
    expect.equal({k: args.get(k) for k in want_args}, want_args, "training arguments", likely=(
        "the course's schedule: cosine with warm-up, weight decay and gradient accumulation",
        "课程的设置：带预热的 cosine 调度、权重衰减和梯度累积"))
    expect.equal(got["data_collator"], "DataCollatorForLanguageModeling", "data collator", likely=(
        "DataCollatorForLanguageModeling(tokenizer, mlm=False) makes the labels of a causal LM", "DataCollatorForLanguageModeling(tokenizer, mlm=False) 为因果语言模型生成标签"))
    loss = float(got["final_eval"].get("eval_loss", float("nan")))
    want = reference.call("trainer_train", config, reference.scratch("clm-run"), probe="ch3:trained")
    expect.as_good(loss, float(want["final_eval"]["eval_loss"]), f"evaluation loss after training (an untrained model "
                   f"scores about {math.log(len(fx.load(TOK))):.2f})", margin=0.02, lower_is_better=True,
                   likely=("train the model before returning the trainer", "返回 trainer 之前先训练模型"))
    expect.close(torch.tensor(loss), torch.tensor(float(want["final_eval"]["eval_loss"])), "evaluation loss vs. the reference",
                 atol=0.02, likely=("call set_seed(seed) before building the model", "构建模型之前调用 set_seed(seed)"))
