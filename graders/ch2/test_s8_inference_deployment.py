"""Grader for 2.8 Optimized inference deployment."""

import pytest

from hfcourse import expect
from hfcourse.fixtures.text import sample_sentences
from hfcourse.services import tgi

GPT2, TOK = "tiny-gpt2", "bpe-gpt2"
GENERATE = ("/", "/generate")
CHAT = "/v1/chat/completions"


def _server(target, fx, state: str, **options):
    """A TGI stand-in serving the tiny GPT-2 inside ``target``'s worker."""
    return target.service("tgi", state=state, model=str(fx.path(GPT2)), tokenizer=str(fx.path(TOK)), **options)


def _requests(student, server, paths) -> list[dict]:
    return [e for e in student.saved(server, tgi.read_log, "the server's log") if e["path"] in paths]


def _prompt(rng) -> str:
    return " ".join(sample_sentences(rng, 2, 4, 10))


def _messages(rng) -> list[dict]:
    return [{"role": "system", "content": sample_sentences(rng, 1, 4, 8)[0]},
            {"role": "user", "content": sample_sentences(rng, 1, 4, 10)[0]}]


@pytest.mark.grade(points=2, visibility="visible",
                   hint="client(url).text_generation(prompt, max_new_tokens=…, details=True); read out.generated_text and out.details.",
                   hint_zh="client(url).text_generation(prompt, max_new_tokens=…, details=True)；读取 out.generated_text 和 out.details。")
def test_complete(student, fx, rng):
    prompt, n = _prompt(rng), rng.randint(6, 16)
    server = _server(student, fx, "tgi-complete")
    got = student.call("complete", server, prompt, n)
    expect.true(isinstance(got, dict) and {"text", "tokens", "finish_reason"} <= set(got),
                "complete must return a dict with text, tokens and finish_reason")
    sent = _requests(student, server, GENERATE)
    expect.true(len(sent) == 1, f"complete sent {len(sent)} requests to the generate route, expected 1",
                likely=("one text_generation call does it", "一次 text_generation 调用即可"))
    params, answer = sent[0]["body"].get("parameters") or {}, sent[0]["answer"]
    expect.equal(params.get("max_new_tokens"), n, "max_new_tokens in the request",
                 likely=("pass max_new_tokens: the server's default is another length", "要传 max_new_tokens：服务器默认的长度不同"))
    expect.true(params.get("details") is True, "complete must ask for details=True",
                likely=("details=True makes the server report the tokens and the finish reason", "details=True 才会让服务器返回 token 数和停止原因"))
    expect.true(not params.get("return_full_text"), "complete must return the new text only, not the prompt with it",
                likely=("leave return_full_text off", "不要打开 return_full_text"))
    expect.equal(got["text"], answer["text"], "generated text (as the server sent it)",
                 likely=("return only the new text (return_full_text is off by default)", "只返回新生成的文本（return_full_text 默认关闭）"))
    expect.equal(got["tokens"], answer["generated_tokens"], "number of generated tokens (as the server reported it)",
                 likely=("read out.details.generated_tokens: words are not tokens", "读取 out.details.generated_tokens：单词数不等于 token 数"))
    expect.equal(got["finish_reason"], answer["finish_reason"], "finish reason (as the server reported it)",
                 likely=("read out.details.finish_reason", "读取 out.details.finish_reason"))


@pytest.mark.grade(points=1, hint="Pass stop=[…] to text_generation: the server stops once the new text contains one, and says so in finish_reason.",
                   hint_zh="把 stop=[…] 传给 text_generation：新文本一出现停止序列服务器就停止，并在 finish_reason 中说明。")
def test_complete_stops_at_a_stop_sequence(student, reference, fx, rng):
    ref_server = _server(reference, fx, "tgi-stop")
    for _ in range(20):
        prompt = _prompt(rng)
        free = reference.call("complete", ref_server, prompt, 16)["text"]
        words = free.split()
        if len(words) >= 4 and free.find(" " + words[2]) > 0:
            break
    stop = " " + words[2]
    got = student.call("complete", _server(student, fx, "tgi-stop"), prompt, 16, [stop])
    want = reference.call("complete", ref_server, prompt, 16, [stop])
    expect.true(isinstance(got, dict) and {"text", "finish_reason"} <= set(got),
                "complete must return a dict with text, tokens and finish_reason")
    expect.equal(got["finish_reason"], "stop_sequence", f"finish reason with stop=[{stop!r}]",
                 likely=("pass stop to text_generation", "把 stop 传给 text_generation"))
    expect.equal(got["text"], want["text"], f"text generated with stop=[{stop!r}]",
                 likely=("pass stop as a list of strings", "stop 要以字符串列表的形式传入"))


@pytest.mark.grade(points=2, hint="client(url).chat_completion(messages, max_tokens=…, temperature=…, seed=…).choices[0].message.content",
                   hint_zh="带上 seed 调用：client(url).chat_completion(messages, max_tokens=…, temperature=…, seed=…).choices[0].message.content")
def test_chat_is_reproducible_with_its_seed(student, reference, fx, rng):
    messages, n = _messages(rng), rng.randint(8, 16)
    temperature, seed = rng.choice([0.7, 0.9, 1.2]), rng.randrange(2**31)
    server = _server(student, fx, "tgi-chat")
    got = [student.call("chat", server, messages, n, temperature, seed) for _ in range(2)]
    want = reference.call("chat", _server(reference, fx, "tgi-chat"), messages, n, temperature, seed)
    sent = _requests(student, server, (CHAT,))
    expect.true(len(sent) == 2, f"two chat calls sent {len(sent)} requests to {CHAT}",
                likely=("use chat_completion: it posts to the server's /v1/chat/completions", "用 chat_completion：它会请求服务器的 /v1/chat/completions"))
    body = sent[0]["body"]
    expect.equal(body.get("messages"), messages, "messages in the request",
                 likely=("send the whole conversation, system message included", "发送完整的对话，包括 system 消息"))
    expect.equal(body.get("seed"), seed, "seed in the request",
                 likely=("pass seed=seed: without it the server draws a new seed for every request", "要传 seed=seed：不传的话服务器每次都会换一个随机种子"))
    expect.equal(body.get("temperature"), temperature, "temperature in the request",
                 likely=("pass temperature=temperature", "要传 temperature=temperature"))
    expect.equal(body.get("max_tokens"), n, "max_tokens in the request",
                 likely=("pass max_tokens=max_tokens", "要传 max_tokens=max_tokens"))
    expect.equal(got[0], got[1], "the same chat call twice", likely=("pass the seed", "要传 seed"))
    expect.equal(got[0], want, "assistant's answer", likely=(
        "return choices[0].message.content", "返回 choices[0].message.content"))


@pytest.mark.grade(points=2, hint="chat_completion(messages, max_tokens=…, stream=True) yields chunks; keep each chunk.choices[0].delta.content that is not empty.",
                   hint_zh="chat_completion(messages, max_tokens=…, stream=True) 会逐个返回 chunk；保留每个非空的 chunk.choices[0].delta.content。")
def test_stream_chat(student, reference, fx, rng):
    messages, n = _messages(rng), rng.randint(8, 16)
    server = _server(student, fx, "tgi-stream")
    got = student.call("stream_chat", server, messages, n)
    want = reference.call("stream_chat", _server(reference, fx, "tgi-stream"), messages, n)
    sent = _requests(student, server, (CHAT,))
    expect.true(len(sent) == 1 and sent[0]["body"].get("stream") is True,
                "stream_chat must send one chat request with stream=True",
                likely=("pass stream=True and iterate over the chunks", "传 stream=True 并遍历返回的 chunk"))
    expect.true(isinstance(got, list) and all(isinstance(p, str) for p in got), "stream_chat must return a list of str")
    expect.equal("".join(got), "".join(want), "streamed answer, joined",
                 likely=("keep chunk.choices[0].delta.content of every chunk", "保留每个 chunk 的 chunk.choices[0].delta.content"))
    expect.equal(got, want, "streamed pieces, one per chunk",
                 likely=("one piece per chunk, in arrival order; skip only the empty ones", "每个 chunk 一段，按到达顺序；只跳过空的"))


@pytest.mark.grade(points=2, hint="Keep the answers in the order of the prompts: ThreadPoolExecutor.map does; as_completed does not.",
                   hint_zh="答案要按提示的顺序排列：ThreadPoolExecutor.map 会保持顺序，as_completed 不会。")
def test_complete_many_keeps_order(student, reference, fx, rng):
    ref_server = _server(reference, fx, "tgi-many")
    n, prompts, answers = rng.randint(6, 10), [], set()
    while len(prompts) < 8:
        prompt = _prompt(rng)
        answer = reference.call("complete", ref_server, prompt, n)["text"]
        if answer not in answers:
            prompts.append(prompt)
            answers.add(answer)
    server = _server(student, fx, "tgi-many-jitter", latency=0.05, jitter_seed=rng.randrange(2**31))
    got = student.call("complete_many", server, prompts, n, 8)
    want = reference.call("complete_many", ref_server, prompts, n, 8)
    expect.true(isinstance(got, list) and all(isinstance(t, str) for t in got), "complete_many must return a list of str")
    expect.equal(len(got), len(prompts), "number of answers")
    sent = _requests(student, server, GENERATE)
    expect.equal(sorted(e["body"].get("inputs") for e in sent), sorted(prompts), "prompts sent to the server",
                 likely=("send each prompt once", "每个提示只发送一次"))
    expect.equal(got, want, "answers in the order of the prompts (the server answers them out of order)",
                 likely=("collect the results in prompt order (pool.map), not in completion order",
                         "按提示的顺序收集结果（pool.map），不要按完成的顺序"))


@pytest.mark.grade(points=3, hint="Keep several requests in flight (a thread pool of `concurrency` workers): the server overlaps them, a loop waits for each answer in turn.",
                   hint_zh="同时保持多个请求在途（用 `concurrency` 个线程的线程池）：服务器会让它们重叠执行，而循环要逐个等待回答。")
def test_complete_many_throughput(student, reference, fx, rng, bench):
    prompts = [_prompt(rng) for _ in range(8)]
    server = _server(student, fx, "tgi-bench", latency=0.05)
    got = student.call("complete_many", server, prompts, 6, 8)
    expect.equal(got, reference.call("complete_many", _server(reference, fx, "tgi-bench", latency=0.05), prompts, 6, 8),
                 "answers", likely=("one answer per prompt, in order", "每个提示一个答案，按顺序"))
    bench.compare("complete_many", server, prompts, 6, 8, unit="prompts/s", items=len(prompts), threshold=0.5, rounds=5,
                  likely=("send the requests from a thread pool, not one after another", "用线程池发送请求，不要一个接一个地发"))
