"""Grader for 1.3 Transformers, what can they do?"""

import functools

import pytest
import torch

from hfcourse import expect
from hfcourse.fixtures.build_ch1_data import (TOPICS, ner_examples, qa_examples, summary_examples,
                                              topic_examples, translation_examples)
from hfcourse.fixtures.text import sample_sentences, sentiment_examples

TOK, ENCODER, SST2 = "wordpiece-uncased", "tiny-bert", "tiny-sst2"
NLI, GPT2, MLM, NER, QA, T5 = "tiny-nli", "tiny-gpt2", "bias-mlm", "tiny-ner", "tiny-qa", "tiny-t5"


def _dir(fx, name: str) -> str:
    return str(fx.path(name))


@functools.cache
def _pipe(directory: str, task: str, **options):
    from transformers import pipeline

    return pipeline(task, model=directory, **options)


GROUP = ("aggregation_strategy=\"simple\" groups the pieces of each entity", "aggregation_strategy=\"simple\" 会把每个实体的子词合并")


def _spans(entities) -> list[tuple]:
    return [(e["entity_group"], int(e["start"]), int(e["end"])) for e in entities]


@pytest.mark.grade(points=2, visibility="visible",
                   hint="pipeline(\"feature-extraction\", model=model_dir)(text) is [1][tokens][hidden]: return its first element.",
                   hint_zh="pipeline(\"feature-extraction\", model=model_dir)(text) 的形状是 [1][tokens][hidden]：返回第一个元素。")
def test_extract_features(student, fx, rng):
    text = sample_sentences(rng, 1)[0]
    got = student.extract_features(_dir(fx, ENCODER), text)
    tok, model = fx.load(TOK), fx.load(ENCODER)
    with torch.no_grad():
        want = model(**tok(text, return_tensors="pt")).last_hidden_state[0]
    expect.true(isinstance(got, list), f"expected a list of vectors, got a {type(got).__name__}",
                likely=("return the pipeline's output for the text, indexed [0]", "返回pipeline对该文本的输出并取 [0]"))
    expect.close(torch.tensor(got), want, "token vectors", atol=1e-4,
                 likely=("one vector per token, [CLS] and [SEP] included: drop only the batch level",
                         "每个token一个向量，包括 [CLS] 和 [SEP]：只去掉batch这一层"))
    pipe = _pipe(_dir(fx, ENCODER), "feature-extraction")(text)[0]
    expect.close(torch.tensor(got), torch.tensor(pipe), "token vectors against the pipeline's", atol=1e-5,
                 likely=("use the feature-extraction pipeline of model_dir", "使用 model_dir 的 feature-extraction pipeline"))


@pytest.mark.grade(points=2, visibility="visible",
                   hint="pipeline(\"sentiment-analysis\", model=model_dir)(texts) returns one {label, score} per text.",
                   hint_zh="pipeline(\"sentiment-analysis\", model=model_dir)(texts) 对每个文本返回一个 {label, score}。")
def test_classify(student, fx, rng):
    obvious = [("I love this movie", 1), ("This film was terrible", 0), ("what a wonderful cast", 1)]
    examples = [*obvious, *sentiment_examples(rng, 4)]
    rng.shuffle(examples)
    texts = [t for t, _ in examples]
    got = expect.list_of(student.classify(_dir(fx, SST2), texts), (dict, str), "classify's result")
    want = _pipe(_dir(fx, SST2), "sentiment-analysis")(texts)
    expect.equal([g.get("label") if isinstance(g, dict) else g for g in got], [w["label"] for w in want],
                 "labels", likely=("use the sentiment-analysis pipeline on the whole list",
                                   "对整个列表使用 sentiment-analysis pipeline"))
    expect.close(torch.tensor([g["score"] for g in got]), torch.tensor([w["score"] for w in want]), "scores", atol=1e-6,
                 likely=("keep the pipeline's score, the probability of the predicted label", "保留pipeline的score，即预测标签的概率"))
    names = ("NEGATIVE", "POSITIVE")
    for text, label in obvious:
        expect.equal(got[texts.index(text)]["label"], names[label], f"label of {text!r}",
                     likely=("return the pipeline's labels unchanged", "原样返回pipeline给出的标签"))
    expect.equal([sorted(g) for g in got], [sorted(w) for w in want], "keys of each result",
                 likely=("return the list of {label, score} dicts as the pipeline gives it", "按pipeline给出的样子返回 {label, score} 字典列表"))


@pytest.mark.grade(points=2, hint="pipeline(\"zero-shot-classification\", model=model_dir)(text, candidate_labels=labels).",
                   hint_zh="pipeline(\"zero-shot-classification\", model=model_dir)(text, candidate_labels=labels)。")
def test_zero_shot(student, reference, fx, rng):
    labels = list(TOPICS)
    rng.shuffle(labels)
    examples = topic_examples(rng, 4)
    right = ref_right = 0
    for text, topic in examples:
        got = student.zero_shot(_dir(fx, NLI), text, labels)
        expect.true(isinstance(got, dict) and {"labels", "scores"} <= set(got),
                    f"expected a dict with labels and scores, got {got!r:.120}",
                    likely=("return the pipeline's dict (sequence, labels, scores)", "返回pipeline的字典（sequence、labels、scores）"))
        expect.equal(sorted(got["labels"]), sorted(labels), "labels (a permutation of the candidates)",
                     likely=("pass the labels unchanged as candidate_labels", "把标签原样作为 candidate_labels 传入"))
        scores = torch.tensor(got["scores"], dtype=torch.float64)
        expect.close(scores.sum(), torch.tensor(1.0), "sum of the scores", atol=1e-5,
                     likely=("one label per text: leave multi_label off, so the scores are a softmax over the labels",
                             "每个文本一个标签：不要打开 multi_label，这样分数是对各标签的softmax"))
        expect.true(bool((scores[:-1] >= scores[1:]).all()), "labels must be sorted by score, best first",
                    likely=("keep the pipeline's order", "保持pipeline给出的顺序"))
        want = reference.zero_shot(_dir(fx, NLI), text, labels)
        template = ("use the default hypothesis template \"This example is {}.\"", "使用默认的假设模板 \"This example is {}.\"")
        expect.equal(got["labels"], want["labels"], "ranking of the labels", likely=template)
        expect.close(scores, torch.tensor(want["scores"], dtype=torch.float64), "scores", atol=1e-5, likely=template)
        right += got["labels"][0] == topic
        ref_right += want["labels"][0] == topic
    expect.as_good(right, ref_right, "texts of 4 whose top label was their topic",
                   likely=("pass the labels as candidate_labels and return the ranking unchanged",
                           "把标签作为 candidate_labels 传入，并原样返回排序"))


@pytest.mark.grade(points=2, hint="Greedy text: pipeline(\"text-generation\", model=model_dir)(prompt, do_sample=False, max_new_tokens=n)[0][\"generated_text\"].",
                   hint_zh="贪心生成：pipeline(\"text-generation\", model=model_dir)(prompt, do_sample=False, max_new_tokens=n)[0][\"generated_text\"]。")
def test_generate_text(student, reference, fx, rng):
    prompt = sample_sentences(rng, 1, 2, 6)[0].rstrip(".!?")
    n = rng.randint(6, 14)
    got = student.generate_text(_dir(fx, GPT2), prompt, n)
    want = _pipe(_dir(fx, GPT2), "text-generation")(prompt, do_sample=False, max_new_tokens=n)[0]["generated_text"]
    expect.true(isinstance(got, str) and got.startswith(prompt), f"the text must start with the prompt, got {got!r:.120}",
                likely=("return [0][\"generated_text\"], which includes the prompt", "返回 [0][\"generated_text\"]，其中包含提示"))
    expect.equal(got, want, "generated text",
                 likely=("the pipeline samples by default: pass do_sample=False, and max_new_tokens (not max_length)",
                         "pipeline默认会采样：传入 do_sample=False，并用 max_new_tokens（不是 max_length）"))
    expect.equal(student.generate_text(_dir(fx, GPT2), prompt, n), got, "a second call with the same prompt",
                 likely=("greedy decoding is deterministic: turn sampling off", "贪心解码是确定的：请关闭采样"))
    expect.equal(got, reference.generate_text(_dir(fx, GPT2), prompt, n), "generated text against the reference",
                 likely=("greedy: do_sample=False with max_new_tokens=n", "贪心：do_sample=False 并设置 max_new_tokens=n"))


@pytest.mark.grade(points=2, hint="pipeline(\"fill-mask\", model=model_dir)(text, top_k=k): keep each guess's token_str.",
                   hint_zh="pipeline(\"fill-mask\", model=model_dir)(text, top_k=k)：取每个结果的 token_str。")
def test_fill_mask(student, reference, fx, rng):
    words = sample_sentences(rng, 1, 5, 12)[0].rstrip(".!?").split()
    words[rng.randrange(1, len(words))] = "[MASK]"
    text = " ".join(words)
    k = rng.choice((3, 4, 6, 7))
    got = student.fill_mask(_dir(fx, MLM), text, k)
    want = [g["token_str"] for g in _pipe(_dir(fx, MLM), "fill-mask")(text, top_k=k)]
    expect.equal(got, want, f"the top {k} tokens for {text!r}",
                 likely=("pass top_k=k and keep the guesses in the pipeline's order", "传入 top_k=k，并保持pipeline给出的顺序"))
    expect.equal(got, reference.fill_mask(_dir(fx, MLM), text, k), "tokens against the reference",
                 likely=("return the token_str of each guess, not the whole sequence", "返回每个结果的 token_str，而不是整句"))


@pytest.mark.grade(points=2, hint="pipeline(\"ner\", model=model_dir, aggregation_strategy=\"simple\"): grouped_entities=True no longer exists.",
                   hint_zh="pipeline(\"ner\", model=model_dir, aggregation_strategy=\"simple\")：grouped_entities=True 已经不存在了。")
def test_named_entities(student, reference, fx, rng):
    examples = ner_examples(rng, 4)
    found = ref_found = 0
    for text, gold in examples:
        got = student.named_entities(_dir(fx, NER), text)
        expect.true(isinstance(got, list) and all(isinstance(e, dict) and "entity_group" in e for e in got),
                    f"expected a list of dicts with entity_group, got {got!r:.160}",
                    likely=("group the pieces: aggregation_strategy=\"simple\"", "合并子词：aggregation_strategy=\"simple\""))
        want = _pipe(_dir(fx, NER), "ner", aggregation_strategy="simple")(text)
        expect.equal(_spans(got), _spans(want), f"entities of {text!r}", likely=GROUP)
        expect.close(torch.tensor([float(e["score"]) for e in got]), torch.tensor([float(e["score"]) for e in want]),
                     "entity scores", atol=1e-5, likely=GROUP)
        ref = reference.named_entities(_dir(fx, NER), text)
        expect.equal(_spans(got), _spans(ref), f"entities of {text!r} against the reference", likely=GROUP)
        found += sorted(_spans(got)) == sorted(_spans(gold))
        ref_found += sorted(_spans(ref)) == sorted(_spans(gold))
    expect.as_good(found, ref_found, "sentences of 4 whose people and places were all found", likely=GROUP)


@pytest.mark.grade(points=3, hint="Softmax the start and end logits over the context tokens only, take the best span with start <= end, and map tokens to characters with offset_mapping.",
                   hint_zh="只在上下文token上对起止logits做softmax，取 start <= end 的最佳片段，再用 offset_mapping 映射回字符位置。")
def test_answer_question(student, reference, fx, rng):
    right = ref_right = 0
    for item in qa_examples(rng, 8):
        got = student.answer_question(_dir(fx, QA), item["question"], item["context"])
        expect.true(isinstance(got, dict) and {"answer", "start", "end", "score"} <= set(got),
                    f"expected a dict with answer, start, end and score, got {got!r:.120}",
                    likely=("return {\"answer\", \"start\", \"end\", \"score\"}", "返回 {\"answer\", \"start\", \"end\", \"score\"}"))
        expect.equal(got["answer"], item["context"][got["start"]:got["end"]], "answer against context[start:end]",
                     likely=("start and end are character offsets from offset_mapping, not token indices",
                             "start 和 end 是来自 offset_mapping 的字符位置，不是token下标"))
        want = reference.answer_question(_dir(fx, QA), item["question"], item["context"])
        expect.equal((got["answer"], got["start"], got["end"]), (want["answer"], want["start"], want["end"]),
                     f"answer to {item['question']!r}",
                     likely=("search only spans inside the context with start <= end", "只在上下文内搜索 start <= end 的片段"))
        expect.close(torch.tensor(got["score"]), torch.tensor(want["score"]), "score", atol=1e-5,
                     likely=("score = p_start * p_end, each softmax over the context tokens only",
                             "score = p_start * p_end，各自只在上下文token上做softmax"))
        right += got["answer"] == item["answer"]
        ref_right += want["answer"] == item["answer"]
    expect.as_good(right, ref_right, "simple questions of 8 answered right",
                   likely=("mask the question tokens before choosing the span", "选择片段之前先屏蔽问题部分的token"))
    item = qa_examples(rng, 1)[0]
    context = item["context"] + " " + " ".join(sample_sentences(rng, 60))  # longer than the model's 512 positions
    got = student.answer_question(_dir(fx, QA), item["question"], context)
    want = reference.answer_question(_dir(fx, QA), item["question"], context)
    expect.equal((got["answer"], got["start"], got["end"]), (want["answer"], want["start"], want["end"]),
                 "answer in a context longer than the model's 512 positions",
                 likely=("truncate the context only: truncation=\"only_second\"", "只截断上下文：truncation=\"only_second\""))


def _seq2seq(student, reference, fx, rng, fn: str, examples) -> None:
    texts = [s for s, _ in examples]
    got = student.call(fn, _dir(fx, T5), texts)
    expect.true(isinstance(got, list) and len(got) == len(texts), f"expected {len(texts)} strings, got {got!r:.120}",
                likely=("return tokenizer.batch_decode(outputs, skip_special_tokens=True), one string per text",
                        "返回 tokenizer.batch_decode(outputs, skip_special_tokens=True)，每个文本一个字符串"))
    want = reference.call(fn, _dir(fx, T5), texts)
    with expect.reply(f"the strings {fn} returned"):
        right = sum(g == t for g, (_, t) in zip(got, examples))
    prefix = "summarize: " if fn == "summarize" else "translate English to French: "
    expect.as_good(right, sum(w == t for w, (_, t) in zip(want, examples)), f"{fn}: outputs of {len(texts)} that are right",
                   likely=(f"put the task prefix {prefix!r} before each text, pass the attention mask, decode with skip_special_tokens=True",
                           f"在每个文本前加上任务前缀 {prefix!r}，传入注意力掩码，解码时用 skip_special_tokens=True"))
    expect.equal(got, want, f"{fn} against the reference",
                 likely=("greedy generate (num_beams=1, do_sample=False) with max_new_tokens", "贪心生成（num_beams=1，do_sample=False），并设置 max_new_tokens"))


@pytest.mark.grade(points=2, hint="tokenizer([\"summarize: \" + t for t in texts], padding=True, return_tensors=\"pt\"), model.generate(**inputs, max_new_tokens=…), batch_decode(skip_special_tokens=True).",
                   hint_zh="tokenizer([\"summarize: \" + t for t in texts], padding=True, return_tensors=\"pt\")，model.generate(**inputs, max_new_tokens=…)，batch_decode(skip_special_tokens=True)。")
def test_summarize(student, reference, fx, rng):
    _seq2seq(student, reference, fx, rng, "summarize", summary_examples(rng, 5))


@pytest.mark.grade(points=2, hint="As summarize, with the prefix \"translate English to French: \".",
                   hint_zh="与 summarize 相同，前缀换成 \"translate English to French: \"。")
def test_translate(student, reference, fx, rng):
    _seq2seq(student, reference, fx, rng, "translate", translation_examples(rng, 5))
