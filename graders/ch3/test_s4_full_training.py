"""Grader for 3.4 A full training."""

import hashlib

import pytest
import torch
from sklearn.metrics import accuracy_score, f1_score

from hfcourse import expect
from hfcourse.sandbox.client import StudentError

TOK, DATA, MODEL, TUNED, METRIC = "wordpiece-uncased", "mrpc-like", "tiny-mrpc", "tiny-mrpc-tuned", "glue-metric"
COLUMNS = ["attention_mask", "input_ids", "labels", "token_type_ids"]
LOGIT_ATOL = 1e-4
"""Two processes with batch size B against one with 2B: the same training up to float rounding."""


def _glue(fx) -> str:
    return str(fx.path(DATA) / "glue")


def _unpadded(batch: dict, row: int) -> list[int]:
    n = int(batch["attention_mask"][row].sum())
    return batch["input_ids"][row][:n].tolist()


@pytest.mark.grade(points=2, visibility="visible",
                   hint="remove_columns([\"sentence1\", \"sentence2\", \"idx\"]), rename_column(\"label\", \"labels\"), set_format(\"torch\").",
                   hint_zh="remove_columns([\"sentence1\", \"sentence2\", \"idx\"])，rename_column(\"label\", \"labels\")，set_format(\"torch\")。")
def test_prepare_for_loop(student, fx, rng):
    got = student.call("prepare_for_loop", _glue(fx), fx.ref(TOK), probe="ch3:dataset")
    expect.true(isinstance(got, dict) and "splits" in got, "prepare_for_loop must return the DatasetDict")
    want, tok = fx.load(DATA), fx.load(TOK)
    for name in ("train", "validation", "test"):
        split = got["splits"].get(name)
        expect.true(split is not None, f"the {name} split is missing")
        expect.equal(sorted(split["columns"]), COLUMNS, f"columns of the {name} split",
                     likely=("the model takes only tensors: drop the text columns and idx, rename label to labels",
                             "模型只接受张量：删除文本列和idx，把 label 改名为 labels"))
        expect.equal(split["format"], "torch", f"format of the {name} split", likely=(
            "call set_format(\"torch\") so that rows come out as tensors", "调用 set_format(\"torch\")，让行以张量形式返回"))
        rows = rng.sample(range(want[name].num_rows), 4)
        enc = tok([want[name][i]["sentence1"] for i in rows], [want[name][i]["sentence2"] for i in rows], truncation=True)
        expect.equal([split["rows"]["input_ids"][i] for i in rows], enc["input_ids"], f"input_ids of rows {rows} ({name})")
        expect.equal([split["rows"]["labels"][i] for i in rows], [want[name][i]["label"] for i in rows], f"labels ({name})")


@pytest.mark.grade(points=2, visibility="visible",
                   hint="DataLoader(train, shuffle=True, batch_size=…, collate_fn=DataCollatorWithPadding(tokenizer), generator=torch.Generator().manual_seed(seed)); the eval loader does not shuffle.",
                   hint_zh="DataLoader(train, shuffle=True, batch_size=…, collate_fn=DataCollatorWithPadding(tokenizer), generator=torch.Generator().manual_seed(seed))；评估用的loader不打乱。")
def test_dataloaders_pad_each_batch(student, reference, fx, rng):
    size, rows, seed = rng.choice([4, 8]), rng.choice([16, 24]), rng.randrange(1000)
    got = student.call("dataloaders", _glue(fx), fx.ref(TOK), size, rows, seed, probe="ch3:loaders")
    want, tok = fx.load(DATA), fx.load(TOK)
    for name, split, count in (("train", "train", rows), ("eval", "validation", want["validation"].num_rows)):
        batches = got[name]
        expect.equal(len(batches), -(-count // size), f"number of {name} batches")
        head = want[split][:count]
        enc = tok(head["sentence1"], head["sentence2"], truncation=True)["input_ids"]
        seen = []
        for b, batch in enumerate(batches):
            expect.equal(sorted(batch), COLUMNS, f"keys of {name} batch {b}")
            lengths = [int(n) for n in batch["attention_mask"].sum(dim=1)]
            expect.equal(batch["input_ids"].shape[1], max(lengths), f"width of {name} batch {b}",
                         likely=("pad each batch to its longest row with DataCollatorWithPadding",
                                 "用 DataCollatorWithPadding 把每个batch补齐到其最长的一行"))
            seen += [_unpadded(batch, r) for r in range(len(lengths))]
        expect.equal(sorted(seen), sorted(enc), f"rows of the {name} loader", likely=(
            f"the {name} loader must go over exactly the first {count} rows of {split}", f"{name} loader 必须恰好遍历 {split} 的前 {count} 行"))
        if name == "eval":
            expect.equal(seen, enc, "order of the eval loader", likely=("do not shuffle the eval loader", "评估loader不要打乱"))
        else:
            expect.true(seen != enc, "the train loader is not shuffled", likely=("pass shuffle=True", "请传入 shuffle=True"))
    ref = reference.call("dataloaders", _glue(fx), fx.ref(TOK), size, rows, seed, probe="ch3:loaders")
    expect.equal([b["input_ids"].tolist() for b in got["train"]], [b["input_ids"].tolist() for b in ref["train"]],
                 "train batches vs. the reference with the same seed",
                 likely=("shuffle with generator=torch.Generator().manual_seed(seed)", "用 generator=torch.Generator().manual_seed(seed) 打乱"))


def _loop_args(rng) -> dict:
    return {"epochs": 2, "lr": rng.choice([1e-3, 3e-3]), "batch_size": 8, "train_rows": rng.choice([16, 24]),
            "seed": rng.randrange(1000)}


@pytest.mark.grade(points=3, hint="Per batch: loss = model(**batch).loss, loss.backward(), optimizer.step(), lr_scheduler.step(), optimizer.zero_grad().",
                   hint_zh="每个batch：loss = model(**batch).loss，loss.backward()，optimizer.step()，lr_scheduler.step()，optimizer.zero_grad()。")
def test_train_loop(student, reference, fx, rng):
    a = _loop_args(rng)
    got = student.train_loop(fx.ref(MODEL, fresh=True), fx.ref(TOK), _glue(fx), *a.values())
    steps = a["epochs"] * -(-a["train_rows"] // a["batch_size"])
    expect.equal(len(got["losses"]), steps, "number of losses (one per step)")
    rates = [a["lr"] * (1 - k / steps) for k in range(steps)]
    expect.close(torch.tensor(got["learning_rates"]), torch.tensor(rates), "learning rate of each step", atol=1e-12,
                 likely=("get_scheduler(\"linear\", optimizer, num_warmup_steps=0, num_training_steps=epochs * len(train_dataloader)), stepped after every batch",
                         "get_scheduler(\"linear\", optimizer, num_warmup_steps=0, num_training_steps=epochs * len(train_dataloader))，每个batch后调用一次step"))
    want = reference.train_loop(fx.ref(MODEL, fresh=True), fx.ref(TOK), _glue(fx), *a.values())
    expect.close(torch.tensor(got["losses"]), torch.tensor(want["losses"]), "losses vs. the reference", atol=1e-4,
                 likely=("reset the gradients after every step with optimizer.zero_grad()", "每一步之后用 optimizer.zero_grad() 清空梯度"))
    for key, value in want["state_dict"].items():
        expect.close(got["state_dict"][key], value, f"trained weight {key}", atol=1e-5)


@pytest.mark.grade(points=2, hint="Dynamic padding keeps every batch short; padding to a fixed 512 tokens makes each step many times slower.",
                   hint_zh="动态补齐让每个batch都很短；固定补齐到512个token会让每一步慢很多倍。")
def test_train_loop_throughput(student, reference, fx, rng, bench):
    a = {**_loop_args(rng), "epochs": 1, "train_rows": 32}
    got = student.train_loop(fx.ref(MODEL, fresh=True), fx.ref(TOK), _glue(fx), *a.values())
    want = reference.train_loop(fx.ref(MODEL, fresh=True), fx.ref(TOK), _glue(fx), *a.values())
    expect.close(torch.tensor(got["losses"]), torch.tensor(want["losses"]), "losses vs. the reference", atol=1e-4)
    bench.compare("train_loop", fx.ref(MODEL, fresh=True), fx.ref(TOK), _glue(fx), *a.values(), unit="samples/s",
                  items=a["train_rows"], threshold=0.5,
                  likely=("pad each batch to its own longest row, not to the model maximum", "每个batch只补齐到它自己最长的一行，不要补齐到模型最大长度"))


@pytest.mark.grade(points=2, hint="model.eval(); under torch.no_grad() take logits.argmax(dim=-1) and metric.add_batch(predictions=…, references=batch[\"labels\"]); then metric.compute().",
                   hint_zh="model.eval()；在 torch.no_grad() 下取 logits.argmax(dim=-1)，调用 metric.add_batch(predictions=…, references=batch[\"labels\"])；最后 metric.compute()。")
def test_eval_loop(student, fx, rng):
    # the model arrives as train_loop leaves it: in training mode, here with dropout 0.5
    got = student.eval_loop(fx.ref(TUNED, fresh=True, dropout=0.5), fx.ref(TOK), _glue(fx), str(fx.path(METRIC) / "glue"),
                            rng.choice([8, 16]))
    validation, tok, model = fx.load(DATA)["validation"], fx.load(TOK), fx.load(TUNED)
    rows = validation[:]
    enc = tok(rows["sentence1"], rows["sentence2"], padding=True, truncation=True, return_tensors="pt")
    with torch.inference_mode():
        want = model(**enc).logits.argmax(dim=-1).tolist()
    expect.equal(list(got["predictions"]), want, "predictions on the validation split", likely=(
        "call model.eval() before the loop: in training mode dropout changes the predictions",
        "循环前先调用 model.eval()：训练模式下 dropout 会改变预测结果"))
    gold = rows["label"]
    for name, value in (("accuracy", accuracy_score(gold, want)), ("f1", f1_score(gold, want))):
        expect.close(torch.tensor(float(got["metrics"].get(name, float("nan")))), torch.tensor(value), f"metric {name}", atol=1e-9,
                     likely=("add_batch(predictions=the argmax, references=batch[\"labels\"]) for every batch",
                             "每个batch都调用 add_batch(predictions=argmax结果, references=batch[\"labels\"])"))


# -- Accelerate, one process and two ----------------------------------------------------


@pytest.fixture(scope="module")
def accelerate_runs(student, reference, fx, grading):
    """The student's training function run once in two processes (batch size B each) and once
    in this worker (batch size 2B), and the reference's one-process run."""
    digest = hashlib.sha256(f"{grading.seed}:accelerate".encode()).digest()
    config = {"model_dir": str(fx.path(MODEL)), "data_dir": _glue(fx), "metric_path": str(fx.path(METRIC) / "glue"),
              "batch_size": 4, "train_rows": 32, "epochs": 2, "lr": [1e-3, 2e-3][digest[0] % 2], "seed": digest[1]}
    runs = {}
    for name, call in (("two", lambda: student.call("launch", config, probe="ch3:two_processes")),
                       ("one", lambda: student.training_function({**config, "batch_size": 8})),
                       ("reference", lambda: reference.training_function({**config, "batch_size": 8}))):
        try:
            runs[name] = call()
        except (StudentError, OSError) as err:  # OSError: the sandbox has no loopback network
            runs[name] = err
    return config, runs


def _run(runs: dict, name: str):
    if isinstance(runs[name], BaseException):
        raise runs[name]
    return runs[name]


@pytest.mark.grade(points=2, visibility="visible",
                   hint="Create Accelerator(cpu=True) inside the training function; launched twice, it reports num_processes == 2 and MULTI_CPU.",
                   hint_zh="在训练函数内部创建 Accelerator(cpu=True)；启动两个进程时它会报告 num_processes == 2 和 MULTI_CPU。")
def test_accelerate_runs_in_two_processes(accelerate_runs):
    _, runs = accelerate_runs
    ranks = _run(runs, "two")["ranks"]
    expect.equal([r.get("process_index") for r in ranks], [0, 1], "process_index of each process")
    for r in ranks:
        expect.equal(r.get("num_processes"), 2, f"num_processes seen by process {r.get('process_index')}")
        expect.equal(r.get("distributed_type"), "MULTI_CPU", "accelerator.distributed_type")
    expect.equal(_run(runs, "one").get("num_processes"), 1, "num_processes of the run in one process")


@pytest.mark.grade(points=2, hint="accelerator.prepare(train_dataloader, …) gives each process its own share of every batch.",
                   hint_zh="accelerator.prepare(train_dataloader, …) 让每个进程拿到每个batch中属于自己的那一份。")
def test_accelerate_shards_the_training_data(accelerate_runs):
    config, runs = accelerate_runs
    ranks = _run(runs, "two")["ranks"]
    rows, epochs = config["train_rows"], config["epochs"]
    per_epoch = rows // 2
    for r in ranks:
        expect.equal(len(r["seen_idx"]), epochs * per_epoch, f"training rows seen by process {r['process_index']}",
                     likely=("pass the train DataLoader through accelerator.prepare", "把训练用的 DataLoader 也交给 accelerator.prepare"))
    for epoch in range(epochs):
        part = [set(r["seen_idx"][epoch * per_epoch:(epoch + 1) * per_epoch]) for r in ranks]
        expect.true(not part[0] & part[1], f"epoch {epoch + 1}: the two processes trained on the same rows {sorted(part[0] & part[1])}")
        expect.equal(sorted(part[0] | part[1]), list(range(rows)), f"rows trained on in epoch {epoch + 1}")


@pytest.mark.grade(points=3, hint="Gather the logits and labels of every process with accelerator.gather_for_metrics before the metric sees them.",
                   hint_zh="在交给指标之前，用 accelerator.gather_for_metrics 汇总所有进程的 logits 和标签。")
def test_accelerate_matches_one_process(accelerate_runs, fx):
    _, runs = accelerate_runs
    ranks, one, ref = _run(runs, "two")["ranks"], _run(runs, "one"), _run(runs, "reference")
    rows = fx.load(DATA)["validation"].num_rows
    one_logits = expect.tensor(torch.tensor(one["logits"]), "logits of the one-process run", shape=(rows, 2))
    expect.close(one_logits, torch.tensor(ref["logits"]), "one-process logits vs. the reference", atol=LOGIT_ATOL)
    for r in ranks:
        logits = expect.tensor(torch.tensor(r["logits"]), f"gathered logits of process {r['process_index']}",
                               shape=(rows, 2), likely=("gather with accelerator.gather_for_metrics", "用 accelerator.gather_for_metrics 汇总"))
        expect.close(logits, one_logits, f"logits of process {r['process_index']} vs. one process with twice the batch size",
                     atol=LOGIT_ATOL, likely=("data parallelism averages the gradients of the processes: prepare the model, "
                                              "optimizer and loaders, and call accelerator.backward(loss)",
                                              "数据并行会平均各进程的梯度：prepare 模型、优化器和loader，并调用 accelerator.backward(loss)"))
        gold = list(fx.load(DATA)["validation"]["label"])
        predictions = logits.argmax(dim=-1).tolist()
        expect.close(torch.tensor(float(r["metrics"]["accuracy"])), torch.tensor(accuracy_score(gold, predictions)), "gathered accuracy", atol=1e-9)
