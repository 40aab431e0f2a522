"""Grader for 7.3 Fine-tuning a masked language model."""

import math
import random

import pytest
import torch

from hfcourse import expect

MODEL, TOK, DATA = "tiny-mlm", "wordpiece-uncased", "imdb-like"
MAX_RATIO = 0.75
"""Perplexity after fine-tuning must be at most this share of the perplexity before (the reference: about 0.4)."""


def _data(fx) -> str:
    return str(fx.path(DATA) / "imdb")


def _texts(fx, rng: random.Random, n: int, split: str = "train") -> list[str]:
    rows = fx.load(DATA)[split]
    return [rows[i]["text"] for i in rng.sample(range(rows.num_rows), n)]


def _grouped(enc: dict, chunk_size: int) -> dict[str, list]:
    """The course's group_texts, written out: concatenate, cut, drop the tail, labels = input_ids."""
    out: dict[str, list] = {}
    for key, rows in enc.items():
        flat = [x for row in rows for x in row]
        out[key] = [flat[i:i + chunk_size] for i in range(0, len(flat) - chunk_size + 1, chunk_size)]
    out["labels"] = [list(chunk) for chunk in out["input_ids"]]
    return out


def _encode(fx, texts: list[str]) -> dict[str, list]:
    enc = fx.load(TOK)(texts)
    return {**{k: list(v) for k, v in enc.items()}, "word_ids": [enc.word_ids(i) for i in range(len(texts))]}


def _features(fx, rng: random.Random, chunk_size: int, texts: int = 6) -> list[dict]:
    grouped = _grouped(_encode(fx, _texts(fx, rng, texts)), chunk_size)
    return [dict(zip(grouped, values)) for values in zip(*grouped.values())]


@pytest.mark.grade(points=1, visibility="visible",
                   hint="Find the [MASK] position in the input_ids, take torch.topk of the logits there, and put tokenizer.decode([token]) in place of the mask token.",
                   hint_zh="在 input_ids 中找到 [MASK] 的位置，对该位置的 logits 取 torch.topk，再用 tokenizer.decode([token]) 替换掩码 token。")
def test_top_k_fill(student, fx, rng):
    tok, model = fx.load(TOK), fx.load(MODEL)
    for text in _texts(fx, rng, 2, "test"):
        words = text.split()
        i = rng.randrange(1, len(words) - 1)
        masked = " ".join([*words[:i], tok.mask_token, *words[i + 1:]])
        k = rng.choice([3, 5])
        got = student.top_k_fill(fx.ref(MODEL), fx.ref(TOK), masked, k)
        enc = tok(masked, return_tensors="pt")
        with torch.no_grad():
            logits = model(**enc).logits[0]
        where = int((enc["input_ids"][0] == tok.mask_token_id).nonzero()[0])
        best = logits[where].topk(k).indices.tolist()
        want = [masked.replace(tok.mask_token, tok.decode([t])) for t in best]
        expect.equal(list(got), want, "filled texts, best first",
                     likely=("read the logits at the mask's position and sort by score (torch.topk)",
                             "读取掩码位置的 logits 并按分数排序（torch.topk）"))


@pytest.mark.grade(points=1, visibility="visible",
                   hint="result = tokenizer(examples[\"text\"]); result[\"word_ids\"] = [result.word_ids(i) for i in range(len(result[\"input_ids\"]))].",
                   hint_zh="result = tokenizer(examples[\"text\"])；result[\"word_ids\"] = [result.word_ids(i) for i in range(len(result[\"input_ids\"]))]。")
def test_tokenize_function(student, fx, rng):
    texts = _texts(fx, rng, 4)
    got = student.tokenize_function({"text": texts, "label": [0] * len(texts)}, fx.ref(TOK))
    want = _encode(fx, texts)
    expect.true(isinstance(got, dict) and {"input_ids", "word_ids"} <= set(got),
                "tokenize_function must return the encoding with a word_ids column")
    expect.equal([list(r) for r in got["input_ids"]], want["input_ids"], "input_ids",
                 likely=("do not truncate: group_texts cuts the chunks later", "不要截断：之后由 group_texts 切块"))
    expect.equal([list(r) for r in got["word_ids"]], want["word_ids"], "word_ids",
                 likely=("take word_ids(i) of each row i", "对每一行 i 取 word_ids(i)"))


@pytest.mark.grade(points=2, visibility="visible",
                   hint="Concatenate each column (sum(examples[k], [])), cut total_length // chunk_size * chunk_size into chunks, labels = a copy of input_ids.",
                   hint_zh="把每一列拼接起来（sum(examples[k], [])），把 total_length // chunk_size * chunk_size 切成块，labels 为 input_ids 的副本。")
def test_group_texts(student, reference, fx, rng):
    for _ in range(3):
        rows = rng.randint(2, 6)
        lengths = [rng.randint(3, 40) for _ in range(rows)]
        batch = {"input_ids": [[rng.randrange(5, 1500) for _ in range(n)] for n in lengths],
                 "attention_mask": [[1] * n for n in lengths],
                 "word_ids": [[None] + list(range(n - 2)) + [None] for n in lengths]}
        chunk_size = rng.choice([8, 16, 32])
        got = student.group_texts(batch, chunk_size)
        want = _grouped(batch, chunk_size)
        expect.true(isinstance(got, dict), "group_texts must return a dict of columns")
        expect.equal(sorted(got), sorted(want), "columns",
                     likely=("group every column and add labels", "对每一列分块，并加上 labels"))
        for key in want:
            expect.equal([list(c) for c in got[key]], want[key], f"chunks of {key} (chunk_size {chunk_size})",
                         likely=("drop the last, shorter chunk: keep total_length // chunk_size * chunk_size tokens",
                                 "丢掉最后不满一块的部分：只保留 total_length // chunk_size * chunk_size 个 token"))
        expect.equal(got, reference.group_texts(batch, chunk_size), "chunks vs. the reference")


@pytest.mark.grade(points=1, hint="load_dataset(data_dir).map(tokenize_function, batched=True, remove_columns=[\"text\", \"label\"]).map(group_texts, batched=True).",
                   hint_zh="load_dataset(data_dir).map(tokenize_function, batched=True, remove_columns=[\"text\", \"label\"]).map(group_texts, batched=True)。")
def test_lm_dataset(student, fx, rng):
    chunk_size = rng.choice([32, 64])
    got = student.call("lm_dataset", _data(fx), fx.ref(TOK), chunk_size, probe="ch3:dataset")
    expect.true(isinstance(got, dict) and "splits" in got, "lm_dataset must return the DatasetDict")
    tok = fx.load(TOK)
    for name in ("train", "test", "unsupervised"):
        split = got["splits"].get(name)
        expect.true(split is not None, f"the {name} split is missing")
        expect.equal(sorted(split["columns"]), ["attention_mask", "input_ids", "labels", "token_type_ids", "word_ids"],
                     f"columns of the {name} split", likely=("remove text and label in the first map", "在第一次 map 中删除 text 和 label"))
        tokens = sum(len(ids) for ids in tok(list(fx.load(DATA)[name]["text"]))["input_ids"])
        expect.equal(split["num_rows"], tokens // chunk_size, f"number of chunks of the {name} split",
                     likely=("group with batched=True and drop each batch's remainder", "用 batched=True 分块，并丢掉每个batch的余数"))
        rows = split["rows"]
        expect.true(all(len(r) == chunk_size for r in rows["input_ids"]), f"a chunk of {name} is not {chunk_size} tokens long")
        expect.true(rows["labels"] == rows["input_ids"], f"labels of {name} differ from input_ids")


def _words_masked(ids, features, mask_id) -> float:
    """The share of the features' words whose tokens are masked in ``ids``."""
    drawn = words = 0
    for r, f in enumerate(features):
        groups: dict[int, set[bool]] = {}
        for t, w in enumerate(f["word_ids"]):
            if w is not None:
                groups.setdefault(w, set()).add(bool(ids[r][t] == mask_id))
        drawn += sum(True in s for s in groups.values())
        words += len(groups)
    return drawn / max(words, 1)


@pytest.mark.grade(points=2, hint="Number the words of each feature, draw rng.binomial(1, p, (n_words,)), and mask every token of a drawn word; labels are -100 except at masked tokens.",
                   hint_zh="为每个 feature 的单词编号，抽取 rng.binomial(1, p, (单词数,))，把被抽中单词的所有 token 都遮盖；除被遮盖的 token 外 labels 都是 -100。")
def test_whole_word_masking(student, reference, fx, rng):
    features = _features(fx, rng, 32, texts=12)
    mask_id, p, seed = fx.load(TOK).mask_token_id, rng.choice([0.2, 0.3, 0.4]), rng.randrange(10_000)
    got = student.whole_word_masking_data_collator(features, mask_id, p, seed)
    expect.true(isinstance(got, dict) and {"input_ids", "labels"} <= set(got), "the collator must return a batch dict")
    expect.true("word_ids" not in got, "the batch still has word_ids", likely=(
        "pop word_ids from each feature before default_data_collator", "在 default_data_collator 之前从每个 feature 中取出 word_ids"))
    ids = expect.tensor(got["input_ids"], "input_ids", shape=(len(features), 32))
    labels = expect.tensor(got["labels"], "labels", shape=(len(features), 32))
    drawn = words = 0
    for r, f in enumerate(features):
        original = torch.tensor(f["input_ids"])
        masked = ids[r] == mask_id
        expect.equal((ids[r][~masked] == original[~masked]).all().item(), True, f"unmasked tokens of row {r}")
        expect.equal(labels[r].tolist(), [o if m else -100 for o, m in zip(f["input_ids"], masked.tolist())],
                     f"labels of row {r}", likely=("labels keep the original id where a token was masked, -100 elsewhere",
                                                   "被遮盖的位置保留原 id，其余位置为 -100"))
        groups: dict[int, set[bool]] = {}
        for t, w in enumerate(f["word_ids"]):
            if w is not None:
                groups.setdefault(w, set()).add(bool(masked[t]))
        expect.true(all(len(states) == 1 for states in groups.values()),
                    f"row {r}: a word has some tokens masked and others not",
                    likely=("mask all the tokens of a chosen word together", "被选中单词的所有 token 要一起遮盖"))
        expect.true(all(masked[t] == (w is not None and True in groups[w]) for t, w in enumerate(f["word_ids"])),
                    f"row {r}: a special token was masked")
        drawn += sum(True in s for s in groups.values())
        words += len(groups)
    share = drawn / max(words, 1)
    want = reference.whole_word_masking_data_collator(features, mask_id, p, seed)
    expect.as_good(abs(share - p), abs(_words_masked(torch.as_tensor(want["input_ids"]), features, mask_id) - p),
                   f"{share:.2f} of the words masked with wwm_probability {p}: the distance to {p}", margin=0.1,
                   lower_is_better=True, likely=("draw one Bernoulli(wwm_probability) per word",
                                                 "每个单词抽一次 Bernoulli(wwm_probability)"))
    expect.equal(ids.tolist(), want["input_ids"].tolist(), "masked input_ids vs. the reference with the same seed",
                 likely=("one rng = np.random.default_rng(seed) for the whole batch, one binomial draw per feature",
                         "整个batch使用同一个 rng = np.random.default_rng(seed)，每个 feature 抽取一次 binomial"))


@pytest.mark.grade(points=1, hint="DataCollatorForLanguageModeling(tokenizer=tokenizer, mlm_probability=p, seed=seed) on the features without word_ids.",
                   hint_zh="对去掉 word_ids 的 features 调用 DataCollatorForLanguageModeling(tokenizer=tokenizer, mlm_probability=p, seed=seed)。")
def test_random_masking(student, reference, fx, rng):
    features = _features(fx, rng, 32, texts=12)
    p, seed = rng.choice([0.15, 0.3]), rng.randrange(10_000)
    got = student.random_masking(features, fx.ref(TOK), p, seed)
    labels = expect.tensor(got.get("labels") if isinstance(got, dict) else got, "labels", shape=(len(features), 32))
    original = torch.tensor([f["input_ids"] for f in features])
    chosen = labels != -100
    expect.true(bool((labels[chosen] == original[chosen]).all()), "labels differ from the original ids at masked positions")
    expect.true(bool((got["input_ids"][~chosen] == original[~chosen]).all()), "tokens that are not predicted were changed")
    share = chosen.float().mean().item()
    want = reference.random_masking(features, fx.ref(TOK), p, seed)
    theirs = (torch.as_tensor(want["labels"]) != -100).float().mean().item()
    expect.as_good(abs(share - p), abs(theirs - p), f"{share:.2f} of the tokens predicted with mlm_probability {p}: the "
                   f"distance to {p}", margin=0.05, lower_is_better=True,
                   likely=("pass mlm_probability to the collator", "把 mlm_probability 传给 collator"))
    expect.equal(got["input_ids"].tolist(), want["input_ids"].tolist(), "masked input_ids vs. the reference with the same seed",
                 likely=("give the collator seed=seed so that its masks repeat", "给 collator 传入 seed=seed，让遮盖可以复现"))


@pytest.mark.grade(points=1, visibility="visible", hint="perplexity = math.exp(eval_loss); math.exp overflows above about 709: return float(\"inf\") then.",
                   hint_zh="困惑度 = math.exp(eval_loss)；math.exp 在约 709 以上会溢出，此时返回 float(\"inf\")。")
def test_perplexity(student, rng):
    for loss in (0.0, rng.uniform(1, 8), rng.uniform(8, 20)):
        got = student.perplexity(loss)
        expect.close(torch.tensor(float(got), dtype=torch.float64), torch.tensor(math.exp(loss), dtype=torch.float64),
                     f"perplexity of loss {loss:.3f}", rtol=1e-9, atol=0,
                     likely=("perplexity is e to the power of the mean cross-entropy", "困惑度是 e 的（平均交叉熵）次方"))
    expect.equal(student.perplexity(1000.0), float("inf"), "perplexity of loss 1000")


@pytest.mark.grade(points=1, hint="Evaluate with trainer.evaluate() before and after trainer.train(); perplexity = exp(eval_loss).",
                   hint_zh="在 trainer.train() 前后分别用 trainer.evaluate() 评估；困惑度 = exp(eval_loss)。")
def test_fine_tune_with_trainer(student, fx, rng):
    epochs, lr, seed = 2, rng.choice([2e-3, 3e-3]), rng.randrange(1000)
    got = student.fine_tune(str(fx.path(MODEL)), _data(fx), student.scratch("mlm-run"), 64, 160, 40, epochs, lr, seed)
    expect.true(isinstance(got, dict) and {"before", "after"} <= set(got), "fine_tune must return {\"before\", \"after\"}")
    before, after = float(got["before"]), float(got["after"])
    expect.true(20 < before < 20_000, "the perplexity before training is out of range for this model",
                likely=("perplexity is exp(eval_loss) of trainer.evaluate()", "困惑度是 trainer.evaluate() 的 exp(eval_loss)"))
    expect.true(after <= MAX_RATIO * before, f"perplexity fell only from {before:.1f} to {after:.1f}",
                likely=("call trainer.train() between the two evaluations", "在两次评估之间调用 trainer.train()"))


@pytest.mark.grade(points=1, hint="Fix the evaluation masks once with insert_random_mask (map batched, drop the unmasked columns, rename masked_*), then train and evaluate with default_data_collator.",
                   hint_zh="先用 insert_random_mask 固定评估集的遮盖（batched map，删除未遮盖的列，重命名 masked_*），再训练并用 default_data_collator 评估。")
def test_train_with_accelerate(student, reference, fx, rng):
    config = {"model_dir": str(fx.path(MODEL)), "data_dir": _data(fx), "chunk_size": 64, "train_size": 160,
              "test_size": 40, "epochs": 2, "lr": rng.choice([2e-3, 3e-3]), "batch_size": 16, "seed": rng.randrange(1000)}
    got = student.train_with_accelerate(config)
    expect.true(isinstance(got, dict) and "perplexities" in got, "train_with_accelerate must return {\"perplexities\"}")
    values = [float(v) for v in got["perplexities"]]
    expect.equal(len(values), config["epochs"] + 1, "number of perplexities (before training, then one per epoch)")
    want = [float(v) for v in reference.train_with_accelerate(config)["perplexities"]]
    expect.close(torch.tensor(values[0]), torch.tensor(want[0]), "perplexity before training on the fixed evaluation set",
                 rtol=1e-3, likely=("mask the evaluation set once, with a collator given seed=seed", "用传入 seed=seed 的 collator 只遮盖一次评估集"))
    expect.true(values[-1] <= MAX_RATIO * values[0], f"perplexity fell only from {values[0]:.1f} to {values[-1]:.1f}",
                likely=("step the optimizer and the scheduler after accelerator.backward(loss)", "在 accelerator.backward(loss) 之后调用 optimizer 和 scheduler 的 step"))
    # set_seed(seed) makes the dropout of training the same as the reference's, run after run
    expect.close(torch.tensor(values), torch.tensor(want), "perplexities vs. the reference trained with the same seed",
                 rtol=1e-4, likely=("set_seed(seed) before training, and model.eval() before every evaluation (dropout is "
                                    "on in training mode)", "训练前调用 set_seed(seed)，每次评估前调用 model.eval()（训练模式下 dropout 开着）"))


@pytest.mark.grade(points=1, hint="Each process evaluates its own batches: accelerator.gather(loss.repeat(batch_size)) collects every process's losses before the mean.",
                   hint_zh="每个进程只评估自己的batch：先用 accelerator.gather(loss.repeat(batch_size)) 汇总所有进程的 loss，再求平均。")
def test_train_with_accelerate_in_two_processes(student, reference, fx, rng):
    # 40 evaluation chunks: two batches of 10 for each process, so nothing is repeated to even them out
    config = {"model_dir": str(fx.path(MODEL)), "data_dir": _data(fx), "chunk_size": 64, "train_size": 40,
              "test_size": 40, "epochs": 1, "lr": 2e-3, "batch_size": 10, "seed": rng.randrange(1000)}
    want = reference.train_with_accelerate({**config, "epochs": 0})["perplexities"][0]
    ranks = student.call("train_with_accelerate", config, processes=2)["ranks"]
    for rank, got in enumerate(ranks):
        expect.true(isinstance(got, dict) and "perplexities" in got, "train_with_accelerate must return {\"perplexities\"}")
        values = [float(v) for v in got["perplexities"]]
        expect.equal(len(values), 2, f"process {rank} of 2: number of perplexities (before training, after the epoch)")
        expect.close(torch.tensor(values[0]), torch.tensor(want), f"process {rank} of 2: perplexity before training, "
                     "over both processes' batches, vs. the reference in one process", rtol=1e-4, likely=(
                         "gather the losses of every process with accelerator.gather before taking the mean",
                         "求平均之前先用 accelerator.gather 汇总所有进程的 loss"))
    expect.close(torch.tensor(float(ranks[1]["perplexities"][-1])), torch.tensor(float(ranks[0]["perplexities"][-1])),
                 "the perplexity after training of process 1 vs. process 0", rtol=1e-5)
