"""Grader for 7.4 Translation."""

import random

import numpy as np
import pytest
import sacrebleu
import torch

from hfcourse import expect

MODEL, TOK, DATA, METRIC = "tiny-t5", "unigram-t5", "kde4-like", "sacrebleu-metric"
BLEU_MARGIN = 10.0
"""BLEU points by which a model may do worse than the reference's, trained the same way in the same run:
before training (the fixture was trained with a task prefix; without one it does not translate yet,
BLEU about 1) and after two epochs on 160-240 pairs (the reference: 35-60). The student is held to the
reference on the same inputs, never to what the fixture reaches."""
COURSE_REFERENCE = "This plugin allows you to automatically translate web pages between several languages."
COURSE_BLEU = (("This plugin lets you translate web pages between several languages automatically.", 46.750469682990165),
               ("This This This This", 1.683602693167689),
               ("This plugin", 0.0))


def _data(fx) -> str:
    return str(fx.path(DATA) / "kde4")


def _metric(fx) -> str:
    return str(fx.path(METRIC) / "sacrebleu")


def _split(fx):
    from datasets import Dataset

    rows = fx.load(DATA)["train"]
    split = Dataset.from_dict(rows.to_dict(), features=rows.features).train_test_split(train_size=0.9, seed=20)
    return split["train"], split["test"]


def _pairs(fx, rng: random.Random, n: int) -> list[dict[str, str]]:
    rows = fx.load(DATA)["train"]
    return [rows[i]["translation"] for i in rng.sample(range(rows.num_rows), n)]


@pytest.mark.grade(points=1, visibility="visible",
                   hint="raw[\"train\"].train_test_split(train_size=0.9, seed=20), then split[\"validation\"] = split.pop(\"test\").",
                   hint_zh="raw[\"train\"].train_test_split(train_size=0.9, seed=20)，然后 split[\"validation\"] = split.pop(\"test\")。")
def test_split_dataset(student, fx):
    got = student.call("split_dataset", _data(fx), probe="ch3:dataset")
    expect.true(isinstance(got, dict) and "splits" in got, "split_dataset must return the DatasetDict")
    expect.equal(sorted(got["splits"]), ["train", "validation"], "split names",
                 likely=("rename the test split of train_test_split to validation", "把 train_test_split 得到的 test 划分改名为 validation"))
    for name, want in zip(("train", "validation"), _split(fx)):
        expect.equal(got["splits"][name]["rows"]["id"], list(want["id"]), f"ids of the {name} split",
                     likely=("split with train_size=0.9 and seed=20, as the course does", "与课程一样使用 train_size=0.9 和 seed=20 切分"))


@pytest.mark.grade(points=2, visibility="visible",
                   hint="tokenizer(inputs, text_target=targets, max_length=max_length, truncation=True): English inputs, French targets.",
                   hint_zh="tokenizer(inputs, text_target=targets, max_length=max_length, truncation=True)：英文作为输入，法文作为目标。")
def test_preprocess_function(student, reference, fx, rng):
    pairs = _pairs(fx, rng, 5)
    tok = fx.load(TOK)
    for max_length in (32, rng.choice([4, 5, 6])):
        got = student.preprocess_function({"id": ["0"] * 5, "translation": pairs}, fx.ref(TOK), max_length)
        expect.true(isinstance(got, dict) and {"input_ids", "labels"} <= set(got),
                    "preprocess_function must return the encoding with labels")
        english = tok([p["en"] for p in pairs], max_length=max_length, truncation=True)["input_ids"]
        french = tok(text_target=[p["fr"] for p in pairs], max_length=max_length, truncation=True)["input_ids"]
        expect.equal([list(r) for r in got["input_ids"]], english, f"input_ids (max_length {max_length})",
                     likely=("the inputs are the English sentences, truncated to max_length", "输入是英文句子，截断到 max_length"))
        expect.equal([list(r) for r in got["labels"]], french, f"labels (max_length {max_length})",
                     likely=("pass the French sentences as text_target=, with truncation", "把法文句子作为 text_target= 传入，并截断"))
        want = reference.preprocess_function({"id": ["0"] * 5, "translation": pairs}, fx.ref(TOK), max_length)
        expect.equal(sorted(got), sorted(want), "keys of the encoding")


@pytest.mark.grade(points=2, hint="DataCollatorForSeq2Seq(tokenizer, model=model): with the model it also builds decoder_input_ids, the labels shifted right.",
                   hint_zh="DataCollatorForSeq2Seq(tokenizer, model=model)：传入模型后它还会构造 decoder_input_ids，即右移一位的标签。")
def test_collate(student, fx, rng):
    pairs = _pairs(fx, rng, 4)
    tok = fx.load(TOK)
    enc = tok([p["en"] for p in pairs], text_target=[p["fr"] for p in pairs])
    features = [{k: enc[k][i] for k in ("input_ids", "attention_mask", "labels")} for i in range(len(pairs))]
    got = student.collate(features, fx.ref(TOK), fx.ref(MODEL))
    expect.true(isinstance(got, dict) and "decoder_input_ids" in got, "the batch has no decoder_input_ids",
                likely=("give the collator the model: DataCollatorForSeq2Seq(tokenizer, model=model)",
                        "把模型交给 collator：DataCollatorForSeq2Seq(tokenizer, model=model)"))
    width = max(len(f["labels"]) for f in features)
    labels = expect.tensor(got["labels"], "labels", shape=(len(pairs), width))
    decoder = expect.tensor(got["decoder_input_ids"], "decoder_input_ids", shape=(len(pairs), width))
    start = fx.load(MODEL).config.decoder_start_token_id
    for i, f in enumerate(features):
        n = len(f["labels"])
        expect.equal(labels[i].tolist(), f["labels"] + [-100] * (width - n), f"padded labels of row {i}",
                     likely=("labels are padded with -100 so that the loss ignores them", "标签用 -100 补齐，损失会忽略它们"))
        width_in = got["input_ids"].shape[1]
        expect.equal(got["input_ids"][i].tolist(), f["input_ids"] + [tok.pad_token_id] * (width_in - len(f["input_ids"])),
                     f"padded input_ids of row {i}")
    expect.equal(decoder[:, 0].tolist(), [start] * len(pairs), "first decoder input of every row (decoder_start_token_id)")
    keep = labels[:, :-1] != -100
    expect.true(bool((decoder[:, 1:][keep] == labels[:, :-1][keep]).all()),
                "decoder_input_ids are not the labels shifted one step to the right")


@pytest.mark.grade(points=1, visibility="visible",
                   hint="metric = evaluate.load(metric_path); metric.compute(predictions=…, references=…)[\"score\"], with a list of references per prediction.",
                   hint_zh="metric = evaluate.load(metric_path)；metric.compute(predictions=…, references=…)[\"score\"]，每个预测对应一个参考译文列表。")
def test_bleu_course_examples(student, fx):
    for prediction, value in COURSE_BLEU:
        got = student.bleu([prediction], [[COURSE_REFERENCE]], _metric(fx))
        expect.close(torch.tensor(float(got), dtype=torch.float64), torch.tensor(value, dtype=torch.float64),
                     f"BLEU of {prediction!r}", atol=1e-9, rtol=0,
                     likely=("return the \"score\" of the sacrebleu metric", "返回 sacrebleu 指标的 \"score\""))


@pytest.mark.grade(points=1, hint="preds may be a tuple (take preds[0]) and both preds and labels may hold -100: replace it by tokenizer.pad_token_id before batch_decode(…, skip_special_tokens=True).",
                   hint_zh="preds 可能是元组（取 preds[0]），preds 和 labels 都可能含 -100：在 batch_decode(…, skip_special_tokens=True) 之前把它替换为 tokenizer.pad_token_id。")
def test_compute_metrics(student, fx, rng):
    tok = fx.load(TOK)
    pairs = _pairs(fx, rng, 6)
    guesses = [p["fr"] if rng.random() < 0.5 else " ".join(rng.sample(p["fr"].split(), len(p["fr"].split()))) for p in pairs]
    preds = tok(guesses)["input_ids"]
    labels = tok(text_target=[p["fr"] for p in pairs])["input_ids"]
    width = max(map(len, preds + labels)) + 2
    preds_arr = np.array([[tok.pad_token_id] + r + [-100] * (width - 1 - len(r)) for r in preds])
    labels_arr = np.array([r + [-100] * (width - len(r)) for r in labels])
    got = student.score((preds_arr,), labels_arr, fx.ref(TOK), _metric(fx))
    expect.true(isinstance(got, dict) and "bleu" in got, "compute_metrics must return {\"bleu\": score}")
    want = sacrebleu.corpus_bleu(guesses, [[p["fr"] for p in pairs]]).score
    expect.close(torch.tensor(float(got["bleu"]), dtype=torch.float64), torch.tensor(want, dtype=torch.float64), "BLEU",
                 atol=1e-6, likely=("decode predictions and labels without special tokens, -100 replaced by the pad id",
                                    "解码预测和标签时跳过特殊 token，并先把 -100 替换为 pad id"))


@pytest.mark.grade(points=2, hint="Seq2SeqTrainingArguments(…, predict_with_generate=True); trainer.evaluate(max_length=max_length) before and after trainer.train().",
                   hint_zh="Seq2SeqTrainingArguments(…, predict_with_generate=True)；在 trainer.train() 前后调用 trainer.evaluate(max_length=max_length)。")
def test_fine_tune_with_seq2seq_trainer(student, reference, fx, rng):
    rows, seed = rng.choice([160, 240]), rng.randrange(1000)
    got = student.fine_tune(str(fx.path(MODEL)), _data(fx), _metric(fx), student.scratch("mt-run"), rows, 2, 3e-3, seed, 32)
    expect.true(isinstance(got, dict) and {"before", "after"} <= set(got), "fine_tune must return {\"before\", \"after\"}")
    with expect.reply("the BLEU scores fine_tune returned"):
        before, after = float(got["before"]), float(got["after"])
    want = reference.fine_tune(str(fx.path(MODEL)), _data(fx), _metric(fx), reference.scratch("mt-run"), rows, 2, 3e-3,
                               seed, 32)
    expect.as_good(before, float(want["before"]), "BLEU before training (a model never shown these inputs)",
                   margin=BLEU_MARGIN, lower_is_better=True, likely=("evaluate before trainer.train()", "在 trainer.train() 之前评估"))
    expect.as_good(after, float(want["after"]), "BLEU after fine-tuning", margin=BLEU_MARGIN,
                   likely=("train with the tokenized pairs and evaluate with predict_with_generate=True",
                           "用分词后的句对训练，并以 predict_with_generate=True 评估"))


@pytest.mark.grade(points=1, hint="Evaluate with accelerator.unwrap_model(model).generate(…, max_length=…), pad_across_processes, gather, postprocess, metric.add_batch; train with accelerator.backward(loss).",
                   hint_zh="评估时用 accelerator.unwrap_model(model).generate(…, max_length=…)、pad_across_processes、gather、后处理、metric.add_batch；训练时用 accelerator.backward(loss)。")
def test_train_with_accelerate(student, reference, fx, rng):
    config = {"model_dir": str(fx.path(MODEL)), "data_dir": _data(fx), "metric_path": _metric(fx),
              "train_rows": rng.choice([160, 240]), "epochs": 2, "lr": 3e-3, "batch_size": 16,
              "seed": rng.randrange(1000), "max_length": 32}
    got = student.train_with_accelerate(config)
    expect.true(isinstance(got, dict) and {"bleu", "predictions"} <= set(got),
                "train_with_accelerate must return {\"bleu\", \"predictions\"}")
    scores = [float(v) for v in got["bleu"]]
    expect.equal(len(scores), config["epochs"] + 1, "number of BLEU scores (before training, then one per epoch)")
    want = reference.train_with_accelerate({**config, "epochs": 0})["bleu"][0]
    expect.close(torch.tensor(scores[0]), torch.tensor(want), "BLEU before training", atol=1e-6,
                 likely=("generate greedily with max_length and decode without special tokens", "用 max_length 贪心生成，解码时跳过特殊 token"))
    _, validation = _split(fx)
    references = [t["fr"] for t in validation["translation"]]
    expect.equal(len(got["predictions"]), len(references), "number of validation translations")
    value = sacrebleu.corpus_bleu(list(got["predictions"]), [references]).score
    expect.close(torch.tensor(scores[-1]), torch.tensor(value), "BLEU after training vs. its translations", atol=1e-6)
    trained = reference.train_with_accelerate(config)["bleu"][-1]
    expect.as_good(value, float(trained), "BLEU after fine-tuning", margin=BLEU_MARGIN,
                   likely=("step the optimizer and the scheduler after accelerator.backward(loss)",
                           "在 accelerator.backward(loss) 之后调用 optimizer 和 scheduler 的 step"))


@pytest.mark.grade(points=1, hint="Each process pads its own batch: accelerator.pad_across_processes(generated, dim=1, pad_index=tokenizer.pad_token_id) and the labels with pad_index=-100, then accelerator.gather.",
                   hint_zh="每个进程的batch长度不同：先用 accelerator.pad_across_processes(generated, dim=1, pad_index=tokenizer.pad_token_id) 补齐生成结果，标签用 pad_index=-100，再 accelerator.gather。")
def test_train_with_accelerate_in_two_processes(student, reference, fx, rng):
    _, validation = _split(fx)
    references = [t["fr"] for t in validation["translation"]]
    # 40 validation rows: one batch of 20 for each process, so nothing is repeated to even them out
    config = {"model_dir": str(fx.path(MODEL)), "data_dir": _data(fx), "metric_path": _metric(fx), "train_rows": 40,
              "epochs": 1, "lr": 3e-3, "batch_size": len(references) // 2, "seed": rng.randrange(1000), "max_length": 32}
    want = reference.train_with_accelerate({**config, "epochs": 0})["bleu"][0]
    ranks = student.call("train_with_accelerate", config, processes=2)["ranks"]
    for rank, got in enumerate(ranks):
        expect.true(isinstance(got, dict) and {"bleu", "predictions"} <= set(got),
                    "train_with_accelerate must return {\"bleu\", \"predictions\"}")
        scores = [float(v) for v in got["bleu"]]
        expect.equal(len(scores), 2, f"process {rank} of 2: number of BLEU scores (before training, after the epoch)")
        expect.close(torch.tensor(scores[0]), torch.tensor(want), f"process {rank} of 2: BLEU before training, over "
                     "both processes' translations, vs. the reference in one process", atol=1e-6, likely=(
                         "gather the generated ids and the labels of every process with accelerator.gather",
                         "用 accelerator.gather 汇总所有进程生成的 id 和标签"))
        expect.equal(len(got["predictions"]), len(references), f"process {rank} of 2: number of validation translations")
        value = sacrebleu.corpus_bleu(list(got["predictions"]), [references]).score
        expect.close(torch.tensor(scores[-1]), torch.tensor(value), f"process {rank} of 2: BLEU after training vs. its "
                     "translations", atol=1e-6)
    expect.equal(list(ranks[1]["predictions"]), list(ranks[0]["predictions"]), "the translations of process 1 vs. process 0")
