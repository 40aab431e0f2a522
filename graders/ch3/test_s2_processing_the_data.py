"""Grader for 3.2 Processing the data."""

import copy

import pytest
import torch

from hfcourse import expect
from hfcourse.fixtures.text import sample_sentences

TOK, DATA, MODEL = "wordpiece-uncased", "mrpc-like", "tiny-mrpc-tuned"
SPLITS = ["test", "train", "validation"]
TOKEN_COLUMNS = ["attention_mask", "input_ids", "token_type_ids"]


def _glue(fx) -> str:
    return str(fx.path(DATA) / "glue")


def _splits(got, what: str) -> dict:
    expect.true(isinstance(got, dict) and "splits" in got,
                f"{what} must be a DatasetDict with the splits train, validation and test, got a single Dataset",
                likely=("do not pass split=…: load_dataset(data_dir, \"mrpc\") returns all splits",
                        "不要传 split=…：load_dataset(data_dir, \"mrpc\") 会返回全部split"))
    expect.equal(sorted(got["splits"]), SPLITS, f"splits of {what}")
    return got["splits"]


def _pairs(rng, n: int) -> tuple[list[str], list[str]]:
    first, second = sample_sentences(rng, n), sample_sentences(rng, n)
    first[rng.randrange(n)] = " ".join(sample_sentences(rng, 60))
    second[rng.randrange(n)] = " ".join(sample_sentences(rng, 60))
    return first, second


@pytest.mark.grade(points=2, visibility="visible",
                   hint="load_dataset(data_dir, \"mrpc\") loads every split of the local data set; the label is a ClassLabel.",
                   hint_zh="load_dataset(data_dir, \"mrpc\") 会加载本地数据集的全部split；label 是 ClassLabel。")
def test_load_mrpc(student, fx, rng):
    got = _splits(student.call("load_mrpc", _glue(fx), probe="ch3:dataset"), "load_mrpc")
    want = fx.load(DATA)
    for name in SPLITS:
        split, ref = got[name], want[name]
        expect.equal(split["num_rows"], ref.num_rows, f"rows of the {name} split")
        expect.equal(split["columns"], ["sentence1", "sentence2", "label", "idx"], f"columns of the {name} split")
        expect.equal(split["features"]["label"], {"type": "ClassLabel", "names": ["not_equivalent", "equivalent"]},
                     f"feature of the label column ({name})")
        expect.equal(split["features"]["idx"], {"type": "Value", "dtype": "int32"}, f"feature of idx ({name})")
        for i in rng.sample(range(ref.num_rows), 5):
            expect.equal({k: v[i] for k, v in split["rows"].items()}, ref[i], f"row {i} of the {name} split")


@pytest.mark.grade(points=2, visibility="visible",
                   hint="tokenizer(example[\"sentence1\"], example[\"sentence2\"], truncation=True): two arguments make pairs.",
                   hint_zh="tokenizer(example[\"sentence1\"], example[\"sentence2\"], truncation=True)：两个参数才会组成句子对。")
def test_tokenize_function_encodes_pairs(student, fx, rng):
    first, second = _pairs(rng, 5)
    got = student.tokenize_function({"sentence1": first, "sentence2": second}, fx.ref(TOK))
    tok = fx.load(TOK)
    want = tok(first, second, truncation=True)
    expect.true(isinstance(got, dict), f"tokenize_function returned a {type(got).__name__}, expected the tokenizer's output")
    expect.equal(sorted(got), TOKEN_COLUMNS, "keys of the encoding")
    for row, types in enumerate(got["token_type_ids"]):
        expect.true(1 in types, f"row {row}: token_type_ids has no 1, so sentence2 is not encoded as the second text",
                    likely=("pass the two columns as two arguments, tokenizer(s1, s2)", "把两列作为两个参数传入：tokenizer(s1, s2)"))
    expect.true(max(len(r) for r in got["input_ids"]) <= tok.model_max_length,
                f"a row is longer than the model's {tok.model_max_length} tokens",
                likely=("pass truncation=True", "请传入 truncation=True"))
    expect.true(len({len(r) for r in got["input_ids"]}) > 1, "every row has the same length: the rows are padded",
                likely=("do not pad here; DataCollatorWithPadding pads each batch later",
                        "这里不要补齐；之后由 DataCollatorWithPadding 按batch补齐"))
    for key in TOKEN_COLUMNS:
        expect.equal(got[key], want[key], key)


@pytest.mark.grade(points=2, hint="raw_datasets.map(tokenize_function, batched=True) keeps the original columns and adds the new ones.",
                   hint_zh="raw_datasets.map(tokenize_function, batched=True) 会保留原有列并加上新列。")
def test_tokenize_mrpc(student, fx, rng):
    got = _splits(student.call("tokenize_mrpc", _glue(fx), fx.ref(TOK), probe="ch3:dataset"), "tokenize_mrpc")
    want, tok = fx.load(DATA), fx.load(TOK)
    for name in SPLITS:
        split = got[name]
        expect.equal(sorted(split["columns"]), sorted(["sentence1", "sentence2", "label", "idx", *TOKEN_COLUMNS]),
                     f"columns of the tokenized {name} split")
        expect.equal(split["num_rows"], want[name].num_rows, f"rows of the tokenized {name} split")
        rows = rng.sample(range(want[name].num_rows), 6)
        enc = tok([want[name][i]["sentence1"] for i in rows], [want[name][i]["sentence2"] for i in rows], truncation=True)
        for key in TOKEN_COLUMNS:
            expect.equal([split["rows"][key][i] for i in rows], enc[key], f"{key} of rows {rows} ({name})")


@pytest.mark.grade(points=3, hint="map(…, batched=True) hands the function 1000 rows at a time: one tokenizer call per batch, not per row.",
                   hint_zh="map(…, batched=True) 每次把1000行交给函数：每个batch调用一次tokenizer，而不是每行一次。")
def test_tokenize_columns_batched_throughput(student, fx, rng, bench):
    train = fx.load(DATA)["train"]
    columns = train[:]
    rows = sorted(rng.sample(range(train.num_rows), 12))
    small = {k: [v[i] for i in rows] for k, v in columns.items()}
    got = student.call("tokenize_columns", small, fx.ref(TOK), probe="ch3:dataset")
    expect.true(isinstance(got, dict) and "dataset" in got, "tokenize_columns must return one Dataset")
    want = fx.load(TOK)(small["sentence1"], small["sentence2"], truncation=True)
    expect.equal(got["dataset"]["rows"].get("input_ids"), want["input_ids"], "input_ids of the tokenized columns")
    bench.compare("tokenize_columns", columns, fx.ref(TOK), unit="pairs/s", items=train.num_rows, threshold=0.7,
                  likely=("map with batched=True: the tokenizer encodes a whole batch in one call",
                          "map 时传 batched=True：tokenizer 一次调用处理整个batch"))


@pytest.mark.grade(points=2, visibility="visible",
                   hint="DataCollatorWithPadding(tokenizer=tokenizer)(features) pads to the longest row of the batch and renames label to labels.",
                   hint_zh="DataCollatorWithPadding(tokenizer=tokenizer)(features) 补齐到该batch最长的一行，并把 label 改名为 labels。")
def test_collate_pads_to_the_longest_row(student, fx, rng):
    validation, tok = fx.load(DATA)["validation"], fx.load(TOK)
    rows = rng.sample(range(validation.num_rows), rng.randrange(5, 9))
    enc = tok([validation[i]["sentence1"] for i in rows], [validation[i]["sentence2"] for i in rows], truncation=True)
    labels = [validation[i]["label"] for i in rows]
    features = [{**{k: enc[k][j] for k in TOKEN_COLUMNS}, "label": labels[j]} for j in range(len(rows))]
    got = student.collate(features, fx.ref(TOK))
    expect.true(isinstance(got, dict), f"collate returned a {type(got).__name__}, expected a dict of tensors")
    expect.equal(sorted(got), sorted([*TOKEN_COLUMNS, "labels"]), "keys of the batch",
                 likely=("the model wants the labels under \"labels\"", "模型需要的标签键名是 \"labels\""))
    longest = max(len(ids) for ids in enc["input_ids"])
    ids = expect.tensor(got["input_ids"], "input_ids", shape=(len(rows), longest),
                        likely=("pad to the longest row of this batch (dynamic padding), not to a fixed length",
                                "补齐到这个batch中最长的一行（动态补齐），而不是固定长度"))
    padded = tok.pad({k: enc[k] for k in TOKEN_COLUMNS})
    expect.equal(ids.tolist(), padded["input_ids"], "padded input_ids")
    for key in ("attention_mask", "token_type_ids"):
        expect.equal(expect.tensor(got[key], key).tolist(), padded[key], key)
    got_labels = expect.tensor(got["labels"], "labels", shape=(len(rows),), dtype=torch.int64)
    expect.equal(got_labels.tolist(), labels, "labels")


@pytest.mark.grade(points=3, hint="Tokenize the pairs with padding=True, truncation=True, return_tensors=\"pt\", add batch[\"labels\"], then loss.backward() and one AdamW(lr=lr) step.",
                   hint_zh="用 padding=True, truncation=True, return_tensors=\"pt\" 对句子对分词，加上 batch[\"labels\"]，然后 loss.backward() 并做一次 AdamW(lr=lr) 更新。")
def test_one_step_update(student, fx, rng):
    train = fx.load(DATA)["train"]
    rows = rng.sample(range(train.num_rows), 4)
    pairs = [(train[i]["sentence1"], train[i]["sentence2"]) for i in rows]
    long = rng.randrange(len(pairs))  # one pair longer than the model's 512 positions: it must be truncated
    pairs[long] = (" ".join(sample_sentences(rng, 60)), pairs[long][1])
    labels = [train[i]["label"] for i in rows]
    lr = rng.choice([5e-4, 2e-3, 5e-3])
    got = student.call("one_step_update", fx.ref(MODEL, fresh=True), fx.ref(TOK), pairs, labels, lr, probe="state_dict")
    model, tok = copy.deepcopy(fx.load(MODEL)), fx.load(TOK)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    batch = tok([a for a, _ in pairs], [b for _, b in pairs], padding=True, truncation=True, return_tensors="pt")
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    model(**batch, labels=torch.tensor(labels)).loss.backward()
    optimizer.step()
    expect.true(isinstance(got, dict) and set(got) == set(before), "one_step_update must return the model it updated")
    changed = [k for k in before if not torch.equal(got[k], before[k])]
    expect.true(len(changed) > 0, "no weight changed: the optimizer step is missing",
                likely=("call loss.backward() and then optimizer.step()", "先调用 loss.backward() 再调用 optimizer.step()"))
    for key, value in model.state_dict().items():
        expect.close(got[key], value, f"weight {key} after one step", atol=1e-6, rtol=1e-5,
                     likely=("use torch.optim.AdamW with lr=lr on the pairs as one batch with their labels",
                             "对整个句子对batch及其标签使用 torch.optim.AdamW(lr=lr)"))
