"""Grader for 1.8 Inference with LLMs."""

import pytest
import torch
from transformers import (GenerationConfig, LogitsProcessorList, RepetitionPenaltyLogitsProcessor,
                          TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper)

from hfcourse import expect
from hfcourse.fixtures.text import sample_sentences

GPT2, TOK, BENCH = "tiny-gpt2", "bpe-gpt2", "bench-gpt2"
TOKENS = ("return the prompt and the new tokens as one [1, T + n] tensor", "把提示和新token一起作为 [1, T + n] 的张量返回")


def _logits(rng, batch=3, vocab=50) -> torch.Tensor:
    g = torch.Generator().manual_seed(rng.randrange(2**31))
    return torch.randn(batch, vocab, generator=g) * rng.choice((1.0, 3.0))


def _ids(rng, batch=3, vocab=50, length=6) -> torch.Tensor:
    return torch.tensor([[rng.randrange(vocab) for _ in range(length)] for _ in range(batch)])


def _same_filter(got, want: torch.Tensor, what: str, likely) -> None:
    got = expect.tensor(got, what, shape=tuple(want.shape), likely=likely)
    kept, want_kept = torch.isfinite(got), torch.isfinite(want)
    if not torch.equal(kept, want_kept):
        row = int((kept != want_kept).any(-1).nonzero()[0])
        expect.fail(f"{what}: row {row} keeps {int(kept[row].sum())} tokens, the library's warper keeps "
                    f"{int(want_kept[row].sum())}", likely)
    expect.true(bool((got[~kept] == float("-inf")).all()), f"{what}: removed entries must be -inf", likely)
    expect.close(got[kept], want[want_kept], f"{what} (kept entries)", atol=1e-6, likely=likely)


@pytest.mark.grade(points=1, visibility="visible", hint="Divide the logits by the temperature.",
                   hint_zh="把logits除以温度。")
def test_apply_temperature(student, rng):
    logits, ids = _logits(rng), _ids(rng)
    for t in (0.5, 1.7):
        expect.close(student.apply_temperature(logits, t), TemperatureLogitsWarper(t)(ids, logits.clone()),
                     f"logits at temperature {t}", atol=1e-6,
                     likely=("divide by the temperature; multiplying makes low temperatures flatter",
                             "要除以温度；乘以温度会让低温反而更平"))


@pytest.mark.grade(points=2, hint="torch.topk(logits, k).values[..., -1:] is each row's k-th value: set everything below it to -inf.",
                   hint_zh="torch.topk(logits, k).values[..., -1:] 是每一行第k大的值：把小于它的都设为 -inf。")
def test_top_k_filter(student, rng):
    logits, ids = _logits(rng), _ids(rng)
    for k in (1, rng.randint(2, 10)):
        _same_filter(student.top_k_filter(logits, k), TopKLogitsWarper(top_k=k)(ids, logits.clone()),
                     f"top-{k} logits", ("keep exactly the k largest logits of each row (dim=-1)",
                                         "每一行（dim=-1）恰好保留最大的k个logits"))


@pytest.mark.grade(points=2, hint="Sort ascending, cumsum of the softmax, remove where the cumulative sum is <= 1 - p, always keep the top token, scatter back.",
                   hint_zh="升序排序，对softmax求cumsum，去掉累积和 <= 1 - p 的位置，始终保留概率最大的token，再scatter回原顺序。")
def test_top_p_filter(student, reference, rng):
    logits, ids = _logits(rng), _ids(rng)
    for p in (rng.uniform(0.3, 0.6), rng.uniform(0.8, 0.95)):
        want = TopPLogitsWarper(top_p=p)(ids, logits.clone())
        _same_filter(student.top_p_filter(logits, p), want, f"top-p logits with p={p:.2f}",
                     ("keep the token that crosses p as well: the kept probabilities add up to more than p",
                      "越过p的那个token也要保留：保留的概率之和要大于p"))
    peaked = logits.clone()
    peaked[:, 0] = 50.0
    _same_filter(student.top_p_filter(peaked, 0.5), reference.top_p_filter(peaked, 0.5), "top-p of a peaked row",
                 ("the most likely token is always kept", "概率最大的token总是保留"))


@pytest.mark.grade(points=2, hint="Gather the logits of the seen ids; divide the positive ones by the penalty, multiply the negative ones; scatter back.",
                   hint_zh="取出已出现id的logits；正的除以惩罚系数，负的乘以它；再scatter回去。")
def test_repetition_penalty(student, rng):
    logits, ids = _logits(rng), _ids(rng)
    for penalty in (1.3, 2.0):
        want = RepetitionPenaltyLogitsProcessor(penalty=penalty)(ids, logits.clone())
        expect.close(student.repetition_penalty(logits, ids, penalty), want, f"logits with penalty {penalty}",
                     atol=1e-6, likely=("a negative logit must become more negative: multiply it by the penalty",
                                        "负的logit应变得更小：要乘以惩罚系数"))


@pytest.mark.grade(points=1, hint="Temperature, then top-k, then top-p, then softmax(dim=-1).",
                   hint_zh="先温度，再 top-k，再 top-p，最后 softmax(dim=-1)。")
def test_sampling_probs(student, rng):
    logits, ids = _logits(rng), _ids(rng)
    t, k, p = rng.uniform(0.5, 1.5), rng.randint(3, 12), rng.uniform(0.6, 0.9)
    chain = LogitsProcessorList([TemperatureLogitsWarper(t), TopKLogitsWarper(top_k=k), TopPLogitsWarper(top_p=p)])
    want = chain(ids, logits.clone()).softmax(-1)
    got = student.sampling_probs(logits, t, k, p)
    expect.close(got, want, "sampling distribution", atol=1e-6,
                 likely=("apply them in generate's order: temperature, top-k, top-p", "按 generate 的顺序：温度、top-k、top-p"))


def _prompt(fx, rng, length: int) -> torch.Tensor:
    """The first ``length`` token ids of random text, shape [1, length]."""
    text = " ".join(sample_sentences(rng, 80))
    return fx.load(TOK)(text, return_tensors="pt")["input_ids"][:, :length]


def _generate(fx, ids: torch.Tensor, n: int, eos: int | None, model: str = GPT2) -> torch.Tensor:
    config = GenerationConfig(do_sample=False, num_beams=1, max_new_tokens=n, eos_token_id=eos, pad_token_id=0)
    with torch.no_grad():
        return fx.load(model).generate(ids, generation_config=config, attention_mask=torch.ones_like(ids))


@pytest.mark.grade(points=3, hint="Prefill with the prompt, then feed only the new token with cache=out.cache; argmax of out.logits[:, -1] each step.",
                   hint_zh="先用提示做预填充，之后每步只输入新token并传 cache=out.cache；每步取 out.logits[:, -1] 的argmax。")
def test_greedy_decode(student, fx, rng):
    ids = _prompt(fx, rng, rng.randint(5, 20))
    n = rng.randint(10, 25)
    want = _generate(fx, ids, n, None)
    cached = student.greedy_decode(fx.ref(GPT2), ids, n, True)
    expect.equal(expect.tensor(cached, "tokens", likely=TOKENS).tolist(), want.tolist(), "tokens with the cache",
                 likely=("after the prompt, pass only the last token together with the cache", "预填充之后，只传最后一个token和缓存"))
    plain = student.greedy_decode(fx.ref(GPT2), ids, n, False)
    expect.equal(expect.tensor(plain, "tokens", likely=TOKENS).tolist(), want.tolist(), "tokens without the cache",
                 likely=("without the cache, feed the whole sequence every step", "不用缓存时，每一步都输入整个序列"))


@pytest.mark.grade(points=1, hint="Stop right after appending eos_token_id: it is the last token returned.",
                   hint_zh="在追加 eos_token_id 之后立即停止：它是返回的最后一个token。")
def test_greedy_decode_stops_at_eos(student, reference, fx, rng):
    ids = _prompt(fx, rng, rng.randint(5, 12))
    free = reference.greedy_decode(fx.ref(GPT2), ids, 20, True)
    eos = int(free[0, ids.shape[1] + rng.randint(2, 8)])
    want = _generate(fx, ids, 20, eos)
    got = student.greedy_decode(fx.ref(GPT2), ids, 20, True, eos)
    expect.equal(expect.tensor(got, "tokens", likely=TOKENS).tolist(), want.tolist(), f"tokens with eos_token_id={eos}",
                 likely=("append the EOS token, then stop", "先追加EOS token，再停止"))


@pytest.mark.grade(points=1, visibility="visible", hint="Find every stop sequence with str.find and cut at the smallest index found.",
                   hint_zh="用 str.find 查找每个停止序列，在找到的最小位置处截断。")
def test_truncate_at_stop(student, rng):
    words = sample_sentences(rng, 1, 12, 20)[0].split()
    early = words[rng.randint(1, 4)]
    text = " ".join(words) + " <|end|> and more"
    cases = [(["<|end|>", early], text[:text.find(early)]), ([early, "<|end|>"], text[:text.find(early)]),
             (["@@"], text), ([], text)]
    for stops, want in cases:
        expect.equal(student.truncate_at_stop(text, stops), want, f"text cut at {stops}",
                     likely=("cut at the earliest stop in the text, whatever its place in the list",
                             "在文本中最早出现的停止序列处截断，与它在列表中的顺序无关"))


def _stop_case(fx, tok, rng) -> tuple[str, str, str]:
    """A prompt, a 3-character stop sequence and the prompt's 30-token greedy continuation
    (new text only), where the stop first occurs after some new text: a stop at position 0
    would make the empty string right. (``generate(stop_strings=…)`` is no reference here:
    it also stops on a stop sequence that spans the prompt and the new text.)"""
    for _ in range(50):
        prompt = tok.decode(_prompt(fx, rng, rng.randint(5, 12))[0])
        ids = tok(prompt, return_tensors="pt")["input_ids"]
        new = tok.decode(_generate(fx, ids, 30, None)[0, ids.shape[1]:])
        starts = [i for i in range(len(new) // 2, len(new) - 3) if new.find(new[i:i + 3]) >= 2]
        if starts:
            stop = new[rng.choice(starts):][:3]
            return prompt, stop, new
    raise AssertionError("no prompt with a usable stop sequence in 50 draws")


@pytest.mark.grade(points=2, hint="After each token decode the new tokens; stop once a stop sequence appears, then cut before it.",
                   hint_zh="每生成一个token就解码新生成的部分；一旦出现停止序列就停止，再在它之前截断。")
def test_generate_until(student, reference, fx, rng):
    tok = fx.load(TOK)
    prompt, stop, new = _stop_case(fx, tok, rng)
    want = new[:new.find(stop)]
    got = student.generate_until(fx.ref(GPT2), fx.ref(TOK), prompt, [stop], 30)
    expect.equal(got, want, f"text generated until {stop!r}",
                 likely=("return the new text only, cut before the stop sequence", "只返回新生成的文本，并在停止序列之前截断"))
    expect.equal(got, reference.generate_until(fx.ref(GPT2), fx.ref(TOK), prompt, [stop], 30), "against the reference",
                 likely=("decode only the new tokens, greedily, one at a time", "逐个贪心生成，只解码新生成的token"))


@pytest.mark.grade(points=3, hint="With the cache each step costs one token; rerunning the whole sequence every step is several times slower.",
                   hint_zh="有缓存时每一步只计算一个token；每一步都重算整个序列要慢好几倍。")
def test_kv_cache_throughput(student, reference, fx, rng, bench):
    ids = _prompt(fx, rng, 300)
    n = 200
    expect.equal(expect.tensor(student.greedy_decode(fx.ref(BENCH), ids, 8, True), "tokens", likely=TOKENS).tolist(),
                 _generate(fx, ids, 8, None, BENCH).tolist(), "tokens of a long prompt",
                 likely=("after the prompt, pass only the last token together with the cache", "预填充之后，只传最后一个token和缓存"))
    bench.compare("greedy_decode", fx.ref(BENCH), ids, n, True, unit="tokens/s", items=n, threshold=0.5, rounds=5,
                  likely=("with use_cache=True feed only the new token and the cache; do not rerun the whole sequence",
                          "use_cache=True 时只输入新token和缓存；不要每步重算整个序列"))
