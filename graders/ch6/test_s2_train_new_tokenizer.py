"""Grader for 6.2 Training a new tokenizer from an old one."""

import json

import pytest

from hfcourse import expect

OLD, CODE = "bytelevel-bpe-en", "code-search-net-py"


def _batches(rows, size):
    return [rows[i:i + size] for i in range(0, len(rows), size)]


def _backend(probed):
    from tokenizers import Tokenizer

    expect.true(isinstance(probed, dict) and "json" in probed, "expected a fast tokenizer back")
    return Tokenizer.from_str(probed["json"])


def _train(target, fx, vocab_size, name):
    directory = target.scratch(name)
    probed = target.call("train_code_tokenizer", fx.ref(OLD), fx.ref(CODE), vocab_size, directory,
                         probe="ch6:fast_tokenizer")
    return probed, target.collect(directory)


@pytest.mark.grade(points=2, visibility="visible",
                   hint="Return an object whose __iter__ yields dataset[i:i + batch_size][column] afresh on every pass.",
                   hint_zh="返回一个对象，它的 __iter__ 每次遍历都重新产出 dataset[i:i + batch_size][column]。")
def test_batch_iterator_twice(student, fx, rng):
    data = fx.load(CODE)
    for split, column in (("validation", "whole_func_string"), ("test", "func_name")):
        size = rng.choice([7, 16, 30, 33])
        got = student.call("batch_iterator", fx.ref(CODE), split, column, size, probe="ch6:two_passes")
        want = _batches(list(data[split][column]), size)
        expect.true(not got["is_list"], f"batch_iterator returned a {got['type']}: the batches must be produced lazily",
                    likely=("do not build the list of all batches; yield them from __iter__",
                            "不要先建好所有批次的列表；在 __iter__ 中逐批产出"))
        expect.equal(got["first"], want, f"batches of {split}[{column!r}] with batch_size={size}",
                     likely=("slice dataset[i:i + batch_size] for i in range(0, len(dataset), batch_size): keep the last, shorter batch",
                             "对 i in range(0, len(dataset), batch_size) 切片 dataset[i:i + batch_size]：保留最后那个较短的批次"))
        expect.equal(got["second"], want, "batches of a second pass over the same object",
                     likely=("a generator is empty the second time: return an object whose __iter__ starts over",
                             "生成器第二次遍历时为空：返回一个 __iter__ 会重新开始的对象"))


@pytest.mark.grade(
    points=2,
    hint="old_tokenizer.train_new_from_iterator(batch_iterator(raw_datasets), vocab_size), then save_pretrained(directory).",
    hint_zh="old_tokenizer.train_new_from_iterator(batch_iterator(raw_datasets), vocab_size)，再 save_pretrained(directory)。")
def test_train_code_tokenizer(student, reference, fx, rng):
    from transformers import AutoTokenizer

    vocab_size = rng.randrange(400, 480)
    probed, folder = _train(student, fx, vocab_size, "code-tokenizer")
    new, old = _backend(probed), fx.load(OLD)
    expect.true(probed["len"] <= vocab_size, f"the new tokenizer has {probed['len']} tokens, more than vocab_size={vocab_size}",
                likely=("pass vocab_size to train_new_from_iterator", "把 vocab_size 传给 train_new_from_iterator"))
    spec = json.loads(probed["json"])
    expect.equal(spec["pre_tokenizer"], json.loads(old.backend_tokenizer.to_str())["pre_tokenizer"],
                 "pre-tokenizer of the new tokenizer", likely=("train from the old tokenizer: it keeps its pipeline",
                                                               "从旧 tokenizer 出发训练：它会保留原有的流水线"))
    expect.equal(probed["special"].get("eos_token"), old.eos_token, "end-of-text token")
    code = list(fx.load(CODE)["test"]["whole_func_string"])
    after = sum(len(new.encode(t).tokens) for t in code)
    ref = json.loads(_train(reference, fx, vocab_size, "code-tokenizer")[0]["json"])
    theirs = _backend({"json": json.dumps(ref)})
    expect.as_good(after, sum(len(theirs.encode(t).tokens) for t in code), "tokens of the held-out code",
                   lower_is_better=True, likely=("train on the whole_func_string column of the train split",
                                                 "在 train 划分的 whole_func_string 列上训练"))
    expect.equal(spec["model"]["merges"], ref["model"]["merges"], "merges learned on the code corpus",
                 likely=("iterate over every row of the train split, in order", "按顺序遍历 train 划分的每一行"))
    expect.true((folder / "tokenizer.json").is_file(), "save_pretrained(directory) wrote no tokenizer.json")
    with expect.reply("the saved tokenizer"):
        reloaded = AutoTokenizer.from_pretrained(folder)
    sample = code[rng.randrange(len(code))]
    expect.equal(reloaded.tokenize(sample), new.encode(sample).tokens, "tokens of held-out code from the saved tokenizer")


@pytest.mark.grade(points=1, hint="AutoTokenizer.from_pretrained(new_directory), then len(tokenizer.tokenize(text)) with each tokenizer.",
                   hint_zh="AutoTokenizer.from_pretrained(new_directory)，再分别用两个 tokenizer 计算 len(tokenizer.tokenize(text))。")
def test_compare_token_counts(student, reference, fx, rng):
    from transformers import AutoTokenizer

    _, ref_folder = _train(reference, fx, 400, "ref-tokenizer")
    target = student.put(ref_folder, "given-tokenizer")
    code = list(fx.load(CODE)["test"]["whole_func_string"])
    texts = rng.sample(code, 5) + ["def add_numbers(a, b):\n    return a + b\n"]
    got = student.compare_token_counts(fx.ref(OLD), target, texts)
    new = AutoTokenizer.from_pretrained(ref_folder)
    want = ([len(fx.load(OLD).tokenize(t)) for t in texts], [len(new.tokenize(t)) for t in texts])
    expect.true(isinstance(got, (list, tuple)) and len(got) == 2, "compare_token_counts must return (old counts, new counts)")
    expect.equal(list(got[0]), want[0], "token counts with the old tokenizer")
    expect.equal(list(got[1]), want[1], "token counts with the new tokenizer",
                 likely=("load the new tokenizer from new_directory with AutoTokenizer.from_pretrained",
                         "用 AutoTokenizer.from_pretrained 从 new_directory 加载新 tokenizer"))


@pytest.mark.grade(points=1, hint="Slice the data set a batch at a time (dataset[i:i + 1000][column]); indexing row by row is slow.",
                   hint_zh="每次切出一个批次（dataset[i:i + 1000][column]）；逐行索引很慢。")
def test_training_throughput(student, reference, fx, bench):
    probed, _ = _train(student, fx, 400, "bench-tokenizer")
    expect.true(probed["len"] <= 400, "train_code_tokenizer must work before it is timed")
    rows = len(fx.load(CODE)["train"])
    bench.compare("train_code_tokenizer", fx.ref(OLD), fx.ref(CODE), 400, student.scratch("bench-tokenizer"),
                  unit="rows/s", items=rows, threshold=0.5, rounds=5,
                  likely=("read the corpus in slices of batch_size rows", "按 batch_size 行切片读取语料"))
