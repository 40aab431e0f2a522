"""Grader for 7.5 Summarization."""

import numpy as np
import pytest
import torch
from nltk.tokenize.punkt import PunktSentenceTokenizer
from rouge_score import rouge_scorer

from hfcourse import expect

EN, ES, TOK, MODEL, METRIC = "reviews-en", "reviews-es", "reviews-unigram", "mt5-like-init", "rouge-metric"
NAMES = ["rouge1", "rouge2", "rougeL", "rougeLsum"]
BOOKS = ("book", "digital_ebook_purchase")
MARGIN = 2.0
"""ROUGE points by which a fine-tuned model may fall short of the reference's, trained with the same
seed on the same rows in the same run (the losses must already agree). Not a bar over the lead-3
baseline: the reference beat it by 12.3 to 30.5 points over training seeds 0-153, but the student
is held to the reference, never to what the fixture reaches."""


def _dirs(fx) -> tuple[str, str]:
    return str(fx.path(EN) / "reviews"), str(fx.path(ES) / "reviews")


def _metric(fx) -> str:
    return str(fx.path(METRIC) / "rouge")


def _with_one_long_title(student, fx, review_id: str) -> tuple[str, str]:
    """Copies of the English and Spanish review folders in the student's scratch where the
    review ``review_id`` has a title of about a dozen tokens (every other title has five), so
    that the label batches of two processes differ in length."""
    def lengthen(rows: list[dict]) -> None:
        for r in rows:
            if r["review_id"] == review_id:
                r["review_title"] += " and other stories about gardens, dragons and friendship"

    edited = {name: fx.copy_edited(name, "reviews", student.private_dir(name) / "reviews", "validation.parquet", lengthen)
              for name in (EN, ES)}
    return tuple(student.path(student.put(edited[name], f"{name}-one-long-title")) for name in (EN, ES))


def _own_rouge(predictions: list[str], references: list[str]) -> dict[str, float]:
    scorer = rouge_scorer.RougeScorer(NAMES)
    scores = [scorer.score(r, p) for p, r in zip(predictions, references)]
    return {n: float(np.mean([s[n].fmeasure for s in scores])) for n in NAMES}


def _as_labels(fx, titles: list[str], max_length: int = 16) -> list[str]:
    """The titles as the loop scores them: tokenized as labels (truncated to ``max_length``
    tokens), then decoded."""
    tok = fx.load(TOK)
    ids = tok(text_target=titles, max_length=max_length, truncation=True)["input_ids"]
    return tok.batch_decode(ids, skip_special_tokens=True)


def _sentences(text: str) -> list[str]:
    return PunktSentenceTokenizer().tokenize(text)


def _own_books(fx, split: str) -> list[dict]:
    rows = list(fx.load(EN)[split]) + list(fx.load(ES)[split])
    return [r for r in rows if r["product_category"] in BOOKS and len(r["review_title"].split()) > 2]


def _close(got, want: dict[str, float], what: str, atol: float, likely=None) -> None:
    expect.true(isinstance(got, dict) and set(NAMES) <= set(got), f"{what}: expected a dict with {', '.join(NAMES)}")
    expect.close(torch.tensor([float(got[n]) for n in NAMES]), torch.tensor([want[n] for n in NAMES]),
                 f"{what} ({', '.join(NAMES)})", atol=atol, likely=likely)


@pytest.mark.grade(points=1, visibility="visible",
                   hint="return example[\"product_category\"] == \"book\" or example[\"product_category\"] == \"digital_ebook_purchase\"",
                   hint_zh="类别为 \"book\" 或 \"digital_ebook_purchase\" 的评论都是图书评论：return example[\"product_category\"] == \"book\" or example[\"product_category\"] == \"digital_ebook_purchase\"")
def test_filter_books(student, fx, rng):
    rows = [fx.load(name)["train"][rng.randrange(400)] for name in (EN, ES) for _ in range(6)]
    for category in ("book", "digital_ebook_purchase", "home", "toy"):
        rows.append({**rows[0], "product_category": category})
    for row in rows:
        expect.equal(student.filter_books(row), row["product_category"] in BOOKS,
                     f"filter_books of a review in category {row['product_category']!r}", likely=(
                         "both \"book\" and \"digital_ebook_purchase\" are books", "\"book\" 和 \"digital_ebook_purchase\" 都算图书"))


@pytest.mark.grade(points=2,
                   hint="filter(filter_books) each language, concatenate_datasets([english[split], spanish[split]]) and shuffle(seed=…) every split, then filter(lambda x: len(x[\"review_title\"].split()) > 2).",
                   hint_zh="对每种语言 filter(filter_books)，每个划分 concatenate_datasets([english[split], spanish[split]]) 后 shuffle(seed=…)，再 filter(lambda x: len(x[\"review_title\"].split()) > 2)。")
def test_books_dataset(student, reference, fx, rng):
    seed = rng.randrange(1000)
    got = student.call("books_dataset", *_dirs(fx), seed, probe="ch3:dataset")
    expect.true(isinstance(got, dict) and "splits" in got, "books_dataset must return a DatasetDict")
    expect.equal(sorted(got["splits"]), ["test", "train", "validation"], "splits")
    want = reference.call("books_dataset", *_dirs(fx), seed, probe="ch3:dataset")
    for split in ("train", "validation", "test"):
        rows = got["splits"][split].get("rows", {})
        own = _own_books(fx, split)
        expect.equal(sorted(rows.get("review_id", [])), sorted(r["review_id"] for r in own), f"reviews kept in {split}",
                     likely=("keep the book reviews of BOTH languages whose title has more than two words",
                             "保留两种语言中标题超过两个词的图书评论"))
        expect.true(list(rows["review_id"]) != [r["review_id"] for r in own], f"the {split} split is not shuffled",
                    likely=("shuffle every split after concatenating", "拼接之后打乱每个划分"))
        expect.equal(list(rows["review_id"]), list(want["splits"][split]["rows"]["review_id"]),
                     f"order of {split} vs. the reference with the same seed", likely=(
                         "concatenate English then Spanish, shuffle(seed=seed), and filter the titles afterwards",
                         "先英语后西班牙语拼接，shuffle(seed=seed)，之后再过滤标题"))


@pytest.mark.grade(points=2,
                   hint="model_inputs = tokenizer(bodies, max_length=…, truncation=True); labels = tokenizer(text_target=titles, max_length=…, truncation=True); model_inputs[\"labels\"] = labels[\"input_ids\"].",
                   hint_zh="model_inputs = tokenizer(bodies, max_length=…, truncation=True)；labels = tokenizer(text_target=titles, max_length=…, truncation=True)；model_inputs[\"labels\"] = labels[\"input_ids\"]。")
def test_preprocess_function(student, fx, rng):
    rows = _own_books(fx, "train")
    picked = [rows[i] for i in rng.sample(range(len(rows)), 12)]
    long_review = {**picked[6], "review_body": " ".join(r["review_body"] for r in picked[6:]),
                   "review_title": " ".join(r["review_title"] for r in picked[6:])}
    picked = picked[:6]
    at = rng.randrange(len(picked) + 1)
    picked.insert(at, long_review)
    batch = {k: [r[k] for r in picked] for k in picked[0]}
    max_in, max_tgt = rng.choice([12, 24, 64]), rng.choice([3, 4])
    got = student.preprocess_function(batch, fx.ref(TOK), max_in, max_tgt)
    tok = fx.load(TOK)
    expect.true(isinstance(got, dict) and {"input_ids", "labels"} <= set(got), "expected input_ids and labels")
    expect.true(len(got["input_ids"]) == len(got["labels"]) == len(picked), "expected one row of input_ids and labels per review")
    expect.true(len(got["input_ids"][at]) <= max_in, f"row {at}, a long review, has more input_ids than max_input_length",
                likely=("truncate the bodies: tokenizer(bodies, max_length=max_input_length, truncation=True)",
                        "截断正文：tokenizer(bodies, max_length=max_input_length, truncation=True)"))
    expect.true(len(got["labels"][at]) <= max_tgt, f"row {at}, a long title, has more labels than max_target_length",
                likely=("truncate the titles: tokenizer(text_target=titles, max_length=max_target_length, truncation=True)",
                        "截断标题：tokenizer(text_target=titles, max_length=max_target_length, truncation=True)"))
    expect.equal(list(got["input_ids"]), tok(batch["review_body"], max_length=max_in, truncation=True)["input_ids"],
                 "input_ids: the review bodies", likely=("the inputs are the review bodies, truncated to max_input_length",
                                                          "输入是评论正文，截断到 max_input_length"))
    expect.equal(list(got["labels"]), tok(text_target=batch["review_title"], max_length=max_tgt, truncation=True)["input_ids"],
                 "labels: the review titles", likely=("the labels are the input ids of the titles, truncated to max_target_length",
                                                      "标签是标题的 input ids，截断到 max_target_length"))


@pytest.mark.grade(points=1, visibility="visible",
                   hint="evaluate.load(metric_path).compute(predictions=…, references=…) already returns floats: scores[\"rouge1\"], not scores[\"rouge1\"].mid.fmeasure.",
                   hint_zh="evaluate.load(metric_path).compute(predictions=…, references=…) 已经返回浮点数：用 scores[\"rouge1\"]，不要用 scores[\"rouge1\"].mid.fmeasure。")
def test_rouge_course_example(student, fx, rng):
    got = student.rouge(["I absolutely loved reading the Hunger Games"], ["I loved reading the Hunger Games"], _metric(fx))
    course = {"rouge1": 12 / 13, "rouge2": 8 / 11, "rougeL": 12 / 13, "rougeLsum": 12 / 13}
    _close(got, course, "ROUGE of the course's example", atol=1e-9)
    rows = _own_books(fx, "validation")
    picked = rng.sample(rows, 5)
    preds, refs = [" ".join(r["review_body"].split()[:6]) for r in picked], [r["review_title"] for r in picked]
    _close(student.rouge(preds, refs, _metric(fx)), _own_rouge(preds, refs), "ROUGE of several predictions", atol=1e-9)


@pytest.mark.grade(points=1,
                   hint="PunktSentenceTokenizer().tokenize(text) needs no download (sent_tokenize does); join the first three sentences with \"\\n\".",
                   hint_zh="PunktSentenceTokenizer().tokenize(text) 无需下载（sent_tokenize 需要）；用 \"\\n\" 连接前三句。")
def test_three_sentence_summary(student, fx, rng):
    rows = _own_books(fx, "test")
    for row in rng.sample(rows, 4):
        got = student.three_sentence_summary(row["review_body"])
        expect.equal(got, "\n".join(_sentences(row["review_body"])[:3]), "summary of a review", likely=(
            "the first three sentences, one per line", "前三句，每句一行"))


@pytest.mark.grade(points=1,
                   hint="ROUGE of three_sentence_summary(body) against the titles; every score * 100, rounded to 2 decimals.",
                   hint_zh="三句摘要 three_sentence_summary(body) 与标题之间的 ROUGE；每个分数乘以 100，保留两位小数。")
def test_evaluate_baseline(student, fx, rng):
    rows = rng.sample(_own_books(fx, "validation"), 20)
    bodies, titles = [r["review_body"] for r in rows], [r["review_title"] for r in rows]
    got = student.evaluate_baseline(bodies, titles, _metric(fx))
    own = _own_rouge(["\n".join(_sentences(b)[:3]) for b in bodies], titles)
    _close(got, {n: round(v * 100, 2) for n, v in own.items()}, "baseline ROUGE", atol=1e-9)


@pytest.mark.grade(points=2,
                   hint="Replace -100 in the labels by tokenizer.pad_token_id before batch_decode(skip_special_tokens=True); postprocess_text puts every sentence on its own line; scores * 100, rounded to 4 decimals.",
                   hint_zh="batch_decode(skip_special_tokens=True) 之前把标签中的 -100 换成 tokenizer.pad_token_id；postprocess_text 让每句单独一行；分数乘以 100，保留四位小数。")
def test_compute_metrics(student, fx, rng):
    tok = fx.load(TOK)
    rows = rng.sample(_own_books(fx, "validation"), 6)
    preds = [" ".join(_sentences(r["review_body"])[:2]) for r in rows]
    titles = [r["review_title"] for r in rows]
    generated = tok(preds, padding=True, return_tensors="np")["input_ids"]
    labels = tok(text_target=titles, padding=True, return_tensors="np")["input_ids"]
    labels = np.where(labels == tok.pad_token_id, -100, labels)
    got = student.compute_metrics((generated, labels), fx.ref(TOK), _metric(fx))
    own = _own_rouge(["\n".join(_sentences(p)) for p in preds], titles)
    _close(got, {n: round(v * 100, 4) for n, v in own.items()}, "metrics of generated summaries", atol=1e-6, likely=(
        "decode labels after replacing -100 with the pad token id; rougeLsum needs one sentence per line",
        "把 -100 换成 pad token id 后再解码标签；rougeLsum 需要每句一行"))


@pytest.mark.grade(points=3,
                   hint="Seq2SeqTrainer(model, Seq2SeqTrainingArguments(…, predict_with_generate=True, generation_max_length=16), train_dataset=…, eval_dataset=…, data_collator=DataCollatorForSeq2Seq(tokenizer, model=model), processing_class=tokenizer, compute_metrics=…).",
                   hint_zh="Seq2SeqTrainer(model, Seq2SeqTrainingArguments(…, predict_with_generate=True, generation_max_length=16), train_dataset=…, eval_dataset=…, data_collator=DataCollatorForSeq2Seq(tokenizer, model=model), processing_class=tokenizer, compute_metrics=…)。")
def test_fine_tune_beats_the_baseline(student, reference, fx, rng):
    seed = rng.randrange(1000)
    run = (fx.ref(TOK), *_dirs(fx), _metric(fx))
    sizes = (240, len(_own_books(fx, "validation")), 4, 1e-2, seed)
    got = student.fine_tune(fx.ref(MODEL, fresh=True), *run, student.scratch("sum-run"), *sizes)
    expect.true(isinstance(got, dict) and {"rouge", "baseline", "train_loss"} <= set(got),
                "fine_tune must return a dict with rouge, baseline and train_loss")
    want = reference.fine_tune(fx.ref(MODEL, fresh=True), *run, reference.scratch("sum-run"), *sizes)
    _close(got["baseline"], want["baseline"], "baseline on the validation rows", atol=1e-9)
    expect.as_good(float(got["rouge"]["rouge1"]), float(want["rouge"]["rouge1"]),
                   f"fine-tuned ROUGE-1 (the lead-3 baseline scores {float(want['baseline']['rouge1']):.1f})",
                   margin=MARGIN, likely=("train on the review bodies as inputs and the titles as labels",
                                          "以评论正文为输入、标题为标签进行训练"))
    expect.close(torch.tensor(float(got["train_loss"])), torch.tensor(float(want["train_loss"])),
                 "training loss vs. the reference with the same seed", atol=0.05)
    _close(got["rouge"], want["rouge"], "ROUGE of the fine-tuned model vs. the reference", atol=MARGIN)


@pytest.mark.grade(points=2,
                   hint="Generate with accelerator.unwrap_model(model).generate(…), pad generated ids and labels with accelerator.pad_across_processes(…, dim=1, pad_index=tokenizer.pad_token_id), gather, decode, postprocess_text, metric.add_batch; compute once at the end.",
                   hint_zh="用 accelerator.unwrap_model(model).generate(…) 生成，用 accelerator.pad_across_processes(…, dim=1, pad_index=tokenizer.pad_token_id) 补齐生成结果和标签，gather、解码、postprocess_text、metric.add_batch；最后只 compute 一次。")
def test_accelerate_loop_beats_the_baseline(student, reference, fx, rng):
    seed, eval_rows = rng.randrange(1000), len(_own_books(fx, "validation"))
    run = (fx.ref(TOK), *_dirs(fx), _metric(fx), 240, eval_rows, 4, 1e-2, seed)
    got = student.accelerate_fine_tune(fx.ref(MODEL, fresh=True), *run)
    expect.true(isinstance(got, dict) and {"rouge", "losses", "summaries"} <= set(got),
                "accelerate_fine_tune must return a dict with rouge, losses and summaries")
    books = reference.call("books_dataset", *_dirs(fx), seed, probe="ch3:dataset")["splits"]["validation"]["rows"]
    titles = books["review_title"][:eval_rows]
    summaries = [str(s) for s in got["summaries"]]
    expect.equal(len(summaries), eval_rows, "number of generated summaries")
    own = _own_rouge(["\n".join(_sentences(s.strip())) for s in summaries], titles)
    _close(got["rouge"], {n: v * 100 for n, v in own.items()}, "ROUGE of the returned summaries", atol=1e-6, likely=(
        "add every batch to the metric and compute once after the last batch", "每个batch都 add_batch，最后一个batch之后只 compute 一次"))
    want = reference.accelerate_fine_tune(fx.ref(MODEL, fresh=True), *run)
    theirs = _own_rouge(["\n".join(_sentences(str(s).strip())) for s in want["summaries"]], titles)
    expect.as_good(100 * own["rouge1"], 100 * theirs["rouge1"], "ROUGE-1 of the Accelerate loop", margin=MARGIN, likely=(
        "step the optimizer and the schedule after every backward pass", "每次反向传播后调用 optimizer 和学习率调度的 step"))
    expect.close(torch.tensor(got["losses"]), torch.tensor(want["losses"]), "training losses vs. the reference", atol=1e-3,
                 rtol=1e-3, likely=("set_seed(seed) and shuffle the train loader with torch.Generator().manual_seed(seed)",
                                    "调用 set_seed(seed)，并用 torch.Generator().manual_seed(seed) 打乱训练 loader"))


@pytest.mark.grade(points=2,
                   hint="In every process: generate, pad generated ids and labels with accelerator.pad_across_processes(…, dim=1, pad_index=tokenizer.pad_token_id) (each process pads to its own batch's length), then accelerator.gather.",
                   hint_zh="每个进程都要：生成，用 accelerator.pad_across_processes(…, dim=1, pad_index=tokenizer.pad_token_id) 补齐生成结果和标签（各进程的batch长度不同），再 accelerator.gather。")
def test_accelerate_loop_in_two_processes(student, reference, fx, rng):
    seed, eval_rows = rng.randrange(1000), 32
    first = reference.call("books_dataset", *_dirs(fx), seed, probe="ch3:dataset")["splits"]["validation"]["rows"]
    # process 0 evaluates rows 0-15 and process 1 rows 16-31: one long title makes their labels differ in length
    dirs = _with_one_long_title(student, fx, first["review_id"][0])
    books = reference.call("books_dataset", *dirs, seed, probe="ch3:dataset")["splits"]["validation"]["rows"]
    titles = _as_labels(fx, books["review_title"][:eval_rows])  # the long title is cut to 16 tokens
    got = student.call("accelerate_fine_tune", fx.ref(MODEL), fx.ref(TOK), *dirs, _metric(fx), 32, eval_rows, 1,
                       1e-2, seed, processes=2)
    summaries = []
    for rank, result in enumerate(got["ranks"]):
        expect.true(isinstance(result, dict) and {"rouge", "summaries"} <= set(result),
                    "accelerate_fine_tune must return a dict with rouge, losses and summaries")
        summaries.append([str(s) for s in result["summaries"]])
        expect.equal(len(summaries[-1]), eval_rows, f"summaries gathered by process {rank} of 2 ({eval_rows} rows, "
                     "16 per process)", likely=("gather the generated ids of every process with accelerator.gather",
                                                "用 accelerator.gather 汇总所有进程生成的 id"))
        own = _own_rouge(["\n".join(_sentences(s.strip())) for s in summaries[-1]], titles)
        _close(result["rouge"], {n: v * 100 for n, v in own.items()}, f"ROUGE of process {rank} vs. its summaries and "
               "the validation titles in order", atol=1e-6, likely=(
                   "gather the labels as well as the generated ids, both padded with dim=1",
                   "标签和生成的 id 都要用 dim=1 补齐后再 gather"))
    expect.equal(summaries[1], summaries[0], "the summaries of process 1 vs. those of process 0")
