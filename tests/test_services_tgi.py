"""The 2.8 inference server stand-in, through the real huggingface_hub client."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from huggingface_hub import InferenceClient, constants

from hfcourse import fixtures
from hfcourse.services import tgi


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    state = tmp_path_factory.mktemp("tgi")
    url = tgi.start(state, str(fixtures.path("tiny-gpt2")), str(fixtures.path("bpe-gpt2")), latency=0.05)
    saved = constants.HF_HUB_OFFLINE
    constants.HF_HUB_OFFLINE = False
    yield url, state, InferenceClient(model=url, timeout=60)
    constants.HF_HUB_OFFLINE = saved


def _last(state, path="/"):
    return [e for e in tgi.read_log(state) if e["path"] == path][-1]


def test_text_generation_with_details_is_greedy_and_logged(served):
    url, state, client = served
    out = client.text_generation("the storm was", max_new_tokens=7, details=True)
    again = client.text_generation("the storm was", max_new_tokens=7)
    assert again == out.generated_text and out.details.generated_tokens == 7 == len(out.details.tokens)
    assert out.details.finish_reason == "length" and out.details.seed is None
    assert "".join(t.text for t in out.details.tokens) == out.generated_text
    assert all(t.logprob <= 0 for t in out.details.tokens)
    entry = _last(state)
    assert entry["body"]["parameters"]["max_new_tokens"] == 7 and entry["status"] == 200
    assert entry["answer"]["text"] == out.generated_text and entry["end"] >= entry["start"] + 0.05


def test_stop_sequences_and_streaming(served):
    _, _, client = served
    free = client.text_generation("the storm was", max_new_tokens=12)
    stop = free.split()[2]
    out = client.text_generation("the storm was", max_new_tokens=12, stop=[stop], details=True)
    assert out.details.finish_reason == "stop_sequence" and out.generated_text.endswith(stop)
    assert free.startswith(out.generated_text)
    tokens = list(client.text_generation("the storm was", max_new_tokens=5, stream=True))
    assert len(tokens) == 5 and "".join(tokens) == client.text_generation("the storm was", max_new_tokens=5)


def test_chat_sampling_is_reproducible_with_its_seed(served):
    _, state, client = served
    messages = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "tell me about the storm"}]
    a, b = (client.chat_completion(messages, max_tokens=12, temperature=1.0, seed=5) for _ in range(2))
    assert a.choices[0].message.content == b.choices[0].message.content
    assert a.usage.completion_tokens == 12
    answers = {client.chat_completion(messages, max_tokens=12, temperature=1.0, seed=s).choices[0].message.content
               for s in range(6)}
    assert len(answers) > 1
    entry = _last(state, "/v1/chat/completions")
    assert entry["body"]["messages"] == messages and entry["answer"]["seed"] == 5
    prompt = tgi.format_chat(fixtures.load("bpe-gpt2"), messages)
    assert prompt.startswith("<|system|>\nbe brief\n<|user|>\n") and prompt.endswith("<|assistant|>\n")


def test_streamed_chat_pieces_join_to_the_greedy_answer(served):
    _, _, client = served
    messages = [{"role": "user", "content": "the weather"}]
    whole = client.chat_completion(messages, max_tokens=9).choices[0].message.content
    pieces = [c.choices[0].delta.content for c in client.chat_completion(messages, max_tokens=9, stream=True)]
    assert len(pieces) == 9 and "".join(pieces) == whole


def test_concurrent_requests_overlap_and_bad_ones_get_422(served):
    url, state, client = served
    prompts = [f"a {w} came" for w in ("storm", "bread", "weather", "garden")]
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda p: client.text_generation(p, max_new_tokens=3), prompts))
    entries = [e for e in tgi.read_log(state) if e["body"].get("inputs") in prompts]
    assert len(entries) == 4 and max(e["in_flight"] for e in entries) >= 2
    request = urllib.request.Request(url + "/generate", data=json.dumps(
        {"inputs": "x", "parameters": {"max_new_tokens": 0}}).encode(), headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(request, timeout=30)
    assert err.value.code == 422 and "max_new_tokens" in json.loads(err.value.read())["error"]


def test_jitter_reorders_answers(tmp_path):
    url = tgi.start(tmp_path, str(fixtures.path("tiny-gpt2")), str(fixtures.path("bpe-gpt2")), latency=0.05,
                    jitter_seed=1)
    done: list[int] = []

    def send(k: int) -> None:
        request = urllib.request.Request(url + "/generate", data=json.dumps(
            {"inputs": f"the storm {k}", "parameters": {"max_new_tokens": 1}}).encode(),
            headers={"Content-Type": "application/json"})
        urllib.request.urlopen(request, timeout=30).read()
        done.append(k)

    threads = [threading.Thread(target=send, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(done) == list(range(8)) and done != list(range(8))
