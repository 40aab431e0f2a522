# Exercise 2.8: fill in every TODO, then run `hfcourse check 2.8`.
# 练习 2.8：完成每个 TODO，然后运行 `hfcourse check 2.8`。
"""2.8 Optimized inference deployment — 推理部署的优化

Talk to a deployed model the way applications do: through an inference server's HTTP API.
Text Generation Inference (TGI), vLLM and llama.cpp's server all answer OpenAI-style chat
completions, and TGI also has its own ``generate`` route; ``huggingface_hub.InferenceClient``
speaks both. Generate with details (tokens and why generation stopped), chat with a seed so a
sampled answer can be reproduced, stream the answer token by token, and keep several requests
in flight at once: a server batches concurrent requests, so a client that waits for each
answer before sending the next wastes most of its time. Here the server is the course's own
TGI-compatible stand-in on 127.0.0.1, serving a tiny GPT-2; every function gets its ``url``.
Course: https://huggingface.co/learn/llm-course/chapter2/8
中文课程：https://huggingface.co/learn/llm-course/zh-CN/chapter2/8

像应用程序那样使用已部署的模型：通过推理服务器的 HTTP API。Text Generation Inference（TGI）、
vLLM 和 llama.cpp 的服务器都提供 OpenAI 风格的 chat completions 接口，TGI 还有自己的 ``generate``
接口；``huggingface_hub.InferenceClient`` 两种都支持。带 details 生成（得到 token 以及停止生成的原因），
用 seed 做对话以便复现采样结果，逐个 token 地流式接收回答，并同时保持多个请求在途：服务器会把并发的
请求合并成批处理，所以等上一个回答回来才发下一个请求的客户端会浪费大部分时间。这里的服务器是课程自己
在 127.0.0.1 上的 TGI 兼容替身，运行一个很小的 GPT-2；每个函数都会拿到它的 ``url``。
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from huggingface_hub import InferenceClient, constants


def client(url: str) -> InferenceClient:
    """An ``InferenceClient`` for the inference server at ``url``. (The course runs with
    ``HF_HUB_OFFLINE=1``, which stops every ``huggingface_hub`` request; the server here is
    a local one, so offline mode is switched off first.)"""
    constants.HF_HUB_OFFLINE = False
    return InferenceClient(model=url, timeout=120)


def complete(url: str, prompt: str, max_new_tokens: int, stop: list[str] | None = None) -> dict:
    """Greedy continuation of ``prompt`` from the server's text-generation route, at most
    ``max_new_tokens`` tokens, stopping early at any of ``stop``. Returns ``{"text": the new
    text only, "tokens": the number of tokens generated, "finish_reason": "length",
    "eos_token" or "stop_sequence"}`` as the server reports them."""
    # TODO: implement complete (see the docstring)
    raise NotImplementedError("2.8 complete: not implemented yet")


def chat(url: str, messages: list[dict], max_tokens: int, temperature: float, seed: int) -> str:
    """The assistant's answer to ``messages`` (a list of ``{"role", "content"}``, sent as they
    are) from the chat-completions route, sampled at ``temperature`` with ``seed`` so that the
    same call gives the same answer; at most ``max_tokens`` tokens."""
    # TODO: implement chat (see the docstring)
    raise NotImplementedError("2.8 chat: not implemented yet")


def stream_chat(url: str, messages: list[dict], max_tokens: int) -> list[str]:
    """The greedy answer to ``messages`` streamed from the chat-completions route: the text
    pieces in the order they arrive, one per streamed chunk that carries text."""
    # TODO: implement stream_chat (see the docstring)
    raise NotImplementedError("2.8 stream_chat: not implemented yet")


def complete_many(url: str, prompts: list[str], max_new_tokens: int, concurrency: int = 8) -> list[str]:
    """The greedy new text for each of ``prompts`` (at most ``max_new_tokens`` tokens each),
    in the order of ``prompts``, with up to ``concurrency`` requests in flight at once."""
    # TODO: implement complete_many (see the docstring)
    raise NotImplementedError("2.8 complete_many: not implemented yet")
