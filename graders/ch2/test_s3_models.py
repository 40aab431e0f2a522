"""Grader for 2.3 Models."""

import json

import pytest
import torch
from safetensors.torch import load_file

from hfcourse import expect
from hfcourse.fixtures.text import sample_sentences

TOK, CLASSIFIER = "wordpiece-uncased", "tiny-sst2"
NO_GRAD = ("run the model inside `with torch.no_grad():` (or torch.inference_mode()): inference needs no gradients",
           "在 `with torch.no_grad():`（或 torch.inference_mode()）中运行模型：推理不需要梯度")
"""The likely mistake when a returned tensor carries autograd history (seen through the "grad" probe)."""


@pytest.mark.grade(points=2, visibility="visible",
                   hint="Build BertConfig(vocab_size=…, hidden_size=…, num_hidden_layers=…, num_attention_heads=…, intermediate_size=4*hidden_size), then BertModel(config).",
                   hint_zh="先构造 BertConfig(vocab_size=…, hidden_size=…, num_hidden_layers=…, num_attention_heads=…, intermediate_size=4*hidden_size)，再 BertModel(config)。")
def test_model_from_config(student, rng):
    from transformers import BertConfig, BertModel

    heads = rng.choice([2, 4])
    sizes = dict(vocab_size=rng.randrange(200, 900), hidden_size=heads * rng.choice([8, 16]),
                 num_layers=rng.choice([1, 2, 3]), num_heads=heads)
    got = student.model_from_config(**sizes)
    model = BertModel(BertConfig(vocab_size=sizes["vocab_size"], hidden_size=sizes["hidden_size"],
                                 num_hidden_layers=sizes["num_layers"], num_attention_heads=heads,
                                 intermediate_size=4 * sizes["hidden_size"]))
    want = {"num_parameters": model.num_parameters(), "hidden_size": sizes["hidden_size"],
            "num_hidden_layers": sizes["num_layers"], "num_attention_heads": heads}
    expect.equal(got, want, "model description",
                 likely=("pass every size to BertConfig; the defaults are BERT-base's", "把每个尺寸都传给 BertConfig；默认值是BERT-base的"))


@pytest.mark.grade(points=2, hint="model.save_pretrained(directory) writes config.json and model.safetensors.",
                   hint_zh="model.save_pretrained(directory) 会写出 config.json 和 model.safetensors。")
def test_save_writes_config_and_safetensors(student, fx):
    target = student.scratch("saved-model")
    student.call("save_and_reload", fx.ref(CLASSIFIER, fresh=True), target, probe="class_name")
    folder = student.collect(target)
    for name in ("config.json", "model.safetensors"):
        expect.true((folder / name).is_file(), f"{name} is missing from the saved directory",
                    likely=("use model.save_pretrained(directory), not torch.save", "使用 model.save_pretrained(directory)，不要用 torch.save"))
    original = fx.load(CLASSIFIER)
    with expect.reply("the saved model.safetensors"):
        saved = load_file(folder / "model.safetensors")
    for key, value in original.state_dict().items():
        expect.true(key in saved, f"weight {key} is missing from model.safetensors")
        expect.close(saved[key], value, f"saved weight {key}", atol=0)
    with expect.reply("the saved config.json"):
        config = json.loads((folder / "config.json").read_text())
    expect.equal({int(k): v for k, v in config.get("id2label", {}).items()}, dict(original.config.id2label),
                 "id2label in the saved config")


@pytest.mark.grade(points=2, hint="Reload with the same class: type(model).from_pretrained(directory).",
                   hint_zh="用同一个类重新加载：type(model).from_pretrained(directory)。")
def test_reloaded_model_is_identical(student, fx):
    target = student.scratch("reloaded-model")
    kind = student.call("save_and_reload", fx.ref(CLASSIFIER, fresh=True), target, probe="class_name")
    expect.equal(kind, "BertForSequenceClassification", "class of the reloaded model",
                 likely=("AutoModel drops the classification head: reload with the model's own class",
                         "AutoModel 会丢掉分类头：请用模型自己的类重新加载"))
    weights = student.call("save_and_reload", fx.ref(CLASSIFIER, fresh=True), target, probe="state_dict")
    for key, value in fx.load(CLASSIFIER).state_dict().items():
        expect.true(key in weights, f"weight {key} is missing after reloading")
        expect.close(weights[key], value, f"reloaded weight {key}", atol=0)


@pytest.mark.grade(points=1, hint="Wrap the list of id lists in torch.tensor(...) and call the model on it.",
                   hint_zh="用 torch.tensor(...) 包装id列表，再调用模型。")
def test_logits_from_ids(student, reference, fx, rng):
    tok = fx.load(TOK)
    ids = tok(sample_sentences(rng, 4), padding="max_length", truncation=True, max_length=12)["input_ids"]
    got = student.call("logits_from_ids", fx.ref(CLASSIFIER), ids, probe="grad")
    expect.true(not got["grad"], "logits_from_ids returned logits that carry autograd history", likely=NO_GRAD)
    got = got["value"]
    expect.close(got, reference.logits_from_ids(fx.ref(CLASSIFIER), ids), "logits", atol=1e-5)


@pytest.mark.grade(points=2, visibility="visible",
                   hint="Give the tokenizer both texts, tokenizer(first, second): it adds [SEP] between them and token_type_ids 0 then 1.",
                   hint_zh="把两个文本都交给tokenizer：tokenizer(first, second)，它会在中间加 [SEP]，token_type_ids 先0后1。")
def test_encode_pair(student, fx, rng):
    first, second = sample_sentences(rng, 2)
    got = student.encode_pair(fx.ref(TOK), first, second)
    want = fx.load(TOK)(first, second)
    types = got.get("token_type_ids", []) if isinstance(got, dict) else []
    n_first = want["token_type_ids"].count(0)
    expect.true(types[:n_first] == [0] * n_first and set(types[n_first:]) == {1},
                "token_type_ids must be 0 over [CLS] first [SEP] and 1 over second [SEP]",
                likely=("pass the texts as two arguments, not joined into one string",
                        "把两个文本作为两个参数传入，而不是拼成一个字符串"))
    for key in ("input_ids", "token_type_ids", "attention_mask"):
        expect.equal(got[key], want[key], key)


@pytest.mark.grade(points=1, hint="tokenizer(texts, truncation=True, max_length=max_length) cuts tokens, not characters, and keeps [SEP].",
                   hint_zh="tokenizer(texts, truncation=True, max_length=max_length) 按token截断（而不是字符），并保留 [SEP]。")
def test_truncate_batch(student, fx, rng):
    tok = fx.load(TOK)
    texts = sample_sentences(rng, 5, min_words=8, max_words=30)
    max_length = rng.randrange(6, 12)
    got = student.truncate_batch(fx.ref(TOK), texts, max_length)
    for row in got:
        expect.true(len(row) <= max_length, f"a row has {len(row)} tokens, more than max_length={max_length}")
        expect.true(row[-1] == tok.sep_token_id, "every row must still end with [SEP]",
                    likely=("slice by truncation=True in the tokenizer, not ids[:max_length]",
                            "用tokenizer的 truncation=True 截断，而不是 ids[:max_length]"))
    expect.equal(got, tok(texts, truncation=True, max_length=max_length)["input_ids"], "truncated ids")
