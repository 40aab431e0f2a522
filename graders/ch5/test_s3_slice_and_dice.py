"""Grader for 5.3 Time to slice and dice."""

import html
import json
from collections import Counter

import pytest

from hfcourse import expect
from hfcourse.fixtures import build_ch5

DRUGS, TOK = "drugscom-like", "wordpiece-uncased"
RAW_COLUMNS = ["Unnamed: 0", "drugName", "condition", "review", "rating", "date", "usefulCount"]
CLEAN_COLUMNS = ["patient_id", "drugName", "condition", "review", "rating", "date", "usefulCount", "review_length"]


def _refs(name, dataset, *targets):
    """Save ``dataset`` into each target's scratch as a fixture directory; one Ref per target."""
    return [target.put_dataset(dataset, name) for target in targets]


def _raw(rng, tmp_path, n_train, n_test):
    """A drugsCom-like DatasetDict as load_dataset("csv", delimiter="\\t") gives it, and its rows."""
    ids = rng.sample(range(232_000), n_train + n_test)
    rows = {"train": build_ch5.drug_rows(rng, n_train, ids), "test": build_ch5.drug_rows(rng, n_test, ids[n_train:])}
    rows["train"][rng.randrange(n_train)]["condition"] = None
    files = build_ch5.write_drugs(rows["train"], rows["test"], tmp_path / "raw")
    return build_ch5.load_drugs_tsv(files, tmp_path / "cache"), rows


def _clean(rows):
    """The course's cleaning, written out in plain Python."""
    out = []
    for r in rows:
        length = len(r["review"].split())
        if r["condition"] is None or length <= 30:
            continue
        out.append({"patient_id": r[""], "drugName": r["drugName"], "condition": r["condition"].lower(),
                    "review": html.unescape(r["review"]), "rating": r["rating"], "date": r["date"],
                    "usefulCount": r["usefulCount"], "review_length": length})
    return out


def _clean_dataset(rng, n):
    import datasets

    ids = rng.sample(range(232_000), n)
    return datasets.Dataset.from_list(_clean(build_ch5.drug_rows(rng, n, ids)))


def _dataset(got, what):
    expect.true(isinstance(got, dict) and got.get("type") == "Dataset",
                f"{what}: expected a Dataset, got a {got.get('type') if isinstance(got, dict) else type(got).__name__}",
                likely=("return the Dataset itself (not a DataFrame, a dict or a DatasetDict)",
                        "返回 Dataset 本身（不是 DataFrame、dict 或 DatasetDict）"))
    return got


def _dataset_dict(got, splits, what, likely=None):
    expect.true(isinstance(got, dict) and got.get("type") == "DatasetDict",
                f"{what}: expected a DatasetDict, got a {got.get('type') if isinstance(got, dict) else type(got).__name__}",
                likely)
    expect.equal(sorted(got["splits"]), sorted(splits), f"{what}: split names", likely)
    return got["splits"]


@pytest.mark.grade(points=2, visibility="visible",
                   hint="load_dataset(\"csv\", data_files=data_files, delimiter=\"\\t\"): TSV means tab-separated.",
                   hint_zh="load_dataset(\"csv\", data_files=data_files, delimiter=\"\\t\")：TSV 是制表符分隔。")
def test_load_drugs(student, fx):
    raw = fx.path(DRUGS) / "raw"
    paths = {"train": str(raw / "drugsComTrain_raw.tsv"), "test": str(raw / "drugsComTest_raw.tsv")}
    got = _dataset_dict(student.call("load_drugs", paths, probe="ch5:dataset"), ["test", "train"], "load_drugs")
    want = fx.load(DRUGS)
    for split in ("train", "test"):
        expect.equal(got[split]["columns"], RAW_COLUMNS, f"columns of {split!r}",
                     likely=("the file is tab-separated: pass delimiter=\"\\t\"", "文件是制表符分隔的：传入 delimiter=\"\\t\""))
        expect.equal(got[split]["rows"], want[split].to_list(), f"rows of {split!r}",
                     likely=("load the files with the csv loader, unchanged", "用 csv 加载器原样加载文件"))


@pytest.mark.grade(points=1, visibility="visible",
                   hint="dataset.shuffle(seed=seed).select(range(n)): shuffle first, with the seed.",
                   hint_zh="dataset.shuffle(seed=seed).select(range(n))：先用种子打乱，再选取。")
def test_peek(student, fx, rng):
    seed, n = rng.randrange(10_000), rng.randint(3, 8)
    (ref,) = _refs("peek", fx.load(DRUGS)["train"], student)
    want = fx.load(DRUGS)["train"].shuffle(seed=seed).select(range(n)).to_list()
    expect.equal(student.peek(ref, n, seed), want, f"peek(n={n}, seed={seed})",
                 likely=("shuffle(seed=seed) before select(range(n))", "先 shuffle(seed=seed) 再 select(range(n))"))


@pytest.mark.grade(points=1, hint="len(ds.unique(column)) for each split of the DatasetDict.",
                   hint_zh="对 DatasetDict 的每个划分求 len(ds.unique(column))。")
def test_count_unique(student, rng, tmp_path):
    dd, rows = _raw(rng, tmp_path, rng.randint(80, 150), rng.randint(30, 60))
    (ref,) = _refs("unique", dd, student)
    for column in ("Unnamed: 0", rng.choice(["drugName", "condition"])):
        key = "" if column == "Unnamed: 0" else column
        want = {split: len({r[key] for r in part}) for split, part in rows.items()}
        expect.equal(student.count_unique(ref, column), want, f"distinct values of {column!r} per split",
                     likely=("count distinct values with ds.unique(column), not all rows", "用 ds.unique(column) 统计不同取值，而不是所有行"))


@pytest.mark.grade(points=3, hint="rename_column, filter(condition is not None), lowercase, review_length, filter(> 30), batched map with html.unescape.",
                   hint_zh="rename_column，filter(condition 不是 None)，转小写，review_length，filter(> 30)，batched map 加 html.unescape。")
def test_clean_drugs(student, rng, tmp_path):
    dd, rows = _raw(rng, tmp_path, rng.randint(150, 250), rng.randint(50, 80))
    (ref,) = _refs("clean", dd, student)
    got = _dataset_dict(student.call("clean_drugs", ref, probe="ch5:dataset"), ["test", "train"], "clean_drugs")
    for split in ("train", "test"):
        want = _clean(rows[split])
        expect.equal(got[split]["columns"], CLEAN_COLUMNS, f"columns of {split!r}",
                     likely=("rename \"Unnamed: 0\" to \"patient_id\" and add review_length",
                             "把 \"Unnamed: 0\" 重命名为 \"patient_id\"，并添加 review_length"))
        kept = [r["patient_id"] for r in got[split]["rows"]]
        expect.equal(kept, [r["patient_id"] for r in want], f"patient_id of the rows kept in {split!r}",
                     likely=("drop missing conditions and keep review_length > 30 (strictly more than 30 words)",
                             "去掉缺失的 condition，只保留 review_length > 30（严格大于30个词）"))
        expect.true(all("&#039;" not in r["review"] and "&amp;" not in r["review"] for r in got[split]["rows"]),
                    f"reviews of {split!r} still contain HTML character references such as &#039;",
                    likely=("map html.unescape over the reviews", "对 review 做 html.unescape"))
        expect.equal(got[split]["rows"], want, f"rows of {split!r}",
                     likely=("lowercase condition; review_length counts review.split()", "condition 转小写；review_length 是 review.split() 的长度"))


@pytest.mark.grade(points=1, hint="dataset.sort(\"review_length\", reverse=True), then the first n reviews.",
                   hint_zh="dataset.sort(\"review_length\", reverse=True)，再取前 n 条 review。")
def test_longest_reviews(student, rng):
    ds = _clean_dataset(rng, rng.randint(60, 120))
    (ref,) = _refs("longest", ds, student)
    n = rng.randint(3, 10)
    rows = ds.to_list()
    want = [r["review"] for r in sorted(rows, key=lambda r: -r["review_length"])[:n]]
    expect.equal(student.longest_reviews(ref, n), want, f"the {n} longest reviews",
                 likely=("sort by review_length with reverse=True (longest first)", "按 review_length 排序并传 reverse=True（最长的在前）"))


@pytest.mark.grade(points=2, hint="In a batched map, pop overflow_to_sample_mapping and repeat every original column with it: values[i] for i in sample_map.",
                   hint_zh="在 batched map 里 pop 出 overflow_to_sample_mapping，并用它重复每个原始列：values[i] for i in sample_map。")
def test_chunk_reviews(student, fx, rng):
    ds = _clean_dataset(rng, rng.randint(30, 60))
    (ref,) = _refs("chunks", ds, student)
    max_length = rng.randint(24, 64)
    tok = fx.load(TOK)
    got = _dataset(student.call("chunk_reviews", ref, fx.ref(TOK), max_length, probe="ch5:dataset"), "chunk_reviews")
    want = []
    for row in ds.to_list():
        enc = tok(row["review"], truncation=True, max_length=max_length, return_overflowing_tokens=True)
        for k in range(len(enc["input_ids"])):
            want.append({**row, **{key: enc[key][k] for key in ("input_ids", "token_type_ids", "attention_mask")}})
    expect.equal(sorted(got["columns"]), sorted(want[0]), "columns of the chunked data set",
                 likely=("keep the original columns (repeat them with overflow_to_sample_mapping) and drop the mapping itself",
                         "保留原始列（用 overflow_to_sample_mapping 重复），并去掉映射列本身"))
    expect.equal(got["num_rows"], len(want), f"rows: one per chunk of at most {max_length} tokens",
                 likely=("tokenize with truncation=True, max_length=max_length, return_overflowing_tokens=True",
                         "tokenize 时传 truncation=True, max_length=max_length, return_overflowing_tokens=True"))
    expect.equal(got["rows"], want, "chunked rows",
                 likely=("repeat each column with values[i] for i in overflow_to_sample_mapping", "用 values[i] for i in overflow_to_sample_mapping 重复每一列"))


@pytest.mark.grade(points=2, hint="In pandas 2+, value_counts() gives a column named \"count\": rename it to \"frequency\".",
                   hint_zh="pandas 2 以后 value_counts() 得到的列名是 \"count\"：把它重命名为 \"frequency\"。")
def test_condition_frequencies(student, rng):
    ds = _clean_dataset(rng, rng.randint(120, 200))
    (ref,) = _refs("frequencies", ds, student)
    got = _dataset(student.call("condition_frequencies", ref, probe="ch5:dataset"), "condition_frequencies")
    likely = ("value_counts().to_frame().reset_index() has the columns condition and count: rename count to frequency",
              "value_counts().to_frame().reset_index() 的列是 condition 和 count：把 count 重命名为 frequency")
    expect.equal(got["columns"], ["condition", "frequency"], "columns", likely)
    counts = [r["frequency"] for r in got["rows"]]
    expect.equal({r["condition"]: r["frequency"] for r in got["rows"]}, dict(Counter(ds["condition"])),
                 "frequency of each condition", likely)
    expect.true(counts == sorted(counts, reverse=True), f"frequencies are not in descending order: {counts[:8]}",
                likely=("value_counts() sorts the most frequent first", "value_counts() 会把最常见的排在前面"))


@pytest.mark.grade(points=2, hint="train_test_split(train_size=0.8, seed=seed), rename its \"test\" to \"validation\", add the original test split.",
                   hint_zh="train_test_split(train_size=0.8, seed=seed)，把它的 \"test\" 改名为 \"validation\"，再加上原来的 test。")
def test_make_splits(student, rng):
    import datasets

    dd = datasets.DatasetDict(train=_clean_dataset(rng, rng.randint(80, 160)), test=_clean_dataset(rng, rng.randint(20, 40)))
    (ref,) = _refs("splits", dd, student)
    seed = rng.randrange(10_000)
    got = _dataset_dict(student.call("make_splits", ref, seed, probe="ch5:dataset"), ["test", "train", "validation"],
                        "make_splits", likely=("pop \"test\" of the split into \"validation\", then set \"test\" to the original test split",
                                              "把切分得到的 \"test\" pop 成 \"validation\"，再把原来的 test 放到 \"test\""))
    split = dd["train"].train_test_split(train_size=0.8, seed=seed)
    want = {"train": split["train"], "validation": split["test"], "test": dd["test"]}
    for name, part in want.items():
        expect.equal([r["patient_id"] for r in got[name]["rows"]], part["patient_id"][:], f"patient_id of {name!r}",
                     likely=("pass train_size=0.8 and seed=seed to train_test_split", "给 train_test_split 传 train_size=0.8 和 seed=seed"))


@pytest.mark.grade(points=1, hint="drugs.save_to_disk(directory), then load_from_disk(directory).",
                   hint_zh="drugs.save_to_disk(directory)，再 load_from_disk(directory)。")
def test_save_and_reload(student, rng):
    import datasets

    dd = datasets.DatasetDict(train=_clean_dataset(rng, 40), test=_clean_dataset(rng, 20))
    (ref,) = _refs("to-save", dd, student)
    target = student.scratch("saved")
    got = _dataset_dict(student.call("save_and_reload", ref, target, probe="ch5:dataset"), ["test", "train"], "save_and_reload")
    folder = student.collect(target)
    expect.true((folder / "dataset_dict.json").is_file(), "the directory holds no dataset_dict.json",
                likely=("save the whole DatasetDict with save_to_disk", "用 save_to_disk 保存整个 DatasetDict"))
    with expect.reply("the saved data set"):
        saved = datasets.load_from_disk(str(folder))
    for split in ("train", "test"):
        likely = ("save_to_disk(directory), then return load_from_disk(directory)", "先 save_to_disk(directory)，再返回 load_from_disk(directory)")
        expect.equal(saved[split].to_list(), dd[split].to_list(), f"{split!r} as saved on disk", likely)
        expect.equal(got[split]["rows"], dd[split].to_list(), f"{split!r} as reloaded", likely)


@pytest.mark.grade(points=2, hint="ds.to_json(directory / f\"drug-reviews-{split}.jsonl\") writes one JSON object per line.",
                   hint_zh="ds.to_json(directory / f\"drug-reviews-{split}.jsonl\") 每行写一个 JSON 对象。")
def test_export_jsonl(student, rng):
    import datasets

    dd = datasets.DatasetDict(train=_clean_dataset(rng, rng.randint(30, 60)), validation=_clean_dataset(rng, 15),
                              test=_clean_dataset(rng, 15))
    (ref,) = _refs("to-export", dd, student)
    target = student.scratch("jsonl")
    student.call("export_jsonl", ref, target)
    folder = student.collect(target)
    for split in dd:
        path = folder / f"drug-reviews-{split}.jsonl"
        expect.true(path.is_file(), f"{path.name} was not written", likely=("one file per split, named drug-reviews-<split>.jsonl",
                                                                            "每个划分一个文件，名为 drug-reviews-<split>.jsonl"))
        try:
            rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        except ValueError:
            expect.fail(f"{path.name} is not JSON Lines (one JSON object per line)",
                        likely=("use Dataset.to_json, which writes JSON Lines by default", "用 Dataset.to_json，它默认写 JSON Lines"))
        expect.equal(rows, dd[split].to_list(), f"rows of {path.name}",
                     likely=("write each split to its own file: ds.to_json(path)", "每个划分写到自己的文件：ds.to_json(path)"))
