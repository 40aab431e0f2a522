"""A text-generation inference server on 127.0.0.1 (2.8), speaking the HTTP API of Text
Generation Inference (TGI) and its OpenAI-compatible chat route, with a fixture causal LM.

``start(state_dir, model=DIR, tokenizer=DIR, latency=…)`` loads the model and tokenizer
saved in those fixture directories and serves:

- ``POST /`` and ``POST /generate``: ``{"inputs", "parameters": {max_new_tokens,
  do_sample, temperature, top_k, top_p, seed, stop, details, return_full_text}, "stream"}``;
  the answer is ``{"generated_text", "details"?}`` (a one-element list on ``/``, as TGI
  does). ``details`` holds ``finish_reason`` (``length``, ``eos_token`` or
  ``stop_sequence``), ``generated_tokens``, ``seed`` and the ``tokens`` with their ids,
  texts and log-probabilities.
- ``POST /generate_stream`` (or ``"stream": true``): server-sent events, one per token,
  ``{"index", "token", "generated_text", "details"}``; the last one has the text and details.
- ``POST /v1/chat/completions``: OpenAI chat completions (``messages``, ``max_tokens``,
  ``temperature``, ``top_p``, ``seed``, ``stop``, ``stream``); ``stream`` answers
  ``chat.completion.chunk`` events, one per token, then ``data: [DONE]``. Messages are
  formatted with :data:`CHAT_TEMPLATE`.
- ``GET /info`` and ``GET /health``.

Greedy unless ``do_sample`` (or a chat ``temperature`` above 0); sampling draws from a
generator seeded with ``seed`` (a random one when there is none; ``details.seed`` says which),
so a request repeated with its seed gets the same text. The model runs one request at a time;
every request also waits ``latency`` seconds outside the model (up to twice that with
``jitter_seed``), as a real server's network and queue time would, so a client that keeps
several requests in flight finishes sooner.

Each request is appended to ``state_dir/requests.jsonl`` as ``{"path", "body", "start",
"end", "in_flight", "status", "answer"}`` (``in_flight``: requests being served when it
arrived, itself included; ``answer``: the ``text``, ``finish_reason``, ``generated_tokens``
and ``seed`` the server answered with), so a grader can check what a client sent and what
it was told.
"""

from __future__ import annotations

import json
import random
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from hfcourse.services.files import check_loopback, read_log, serve_in_foreground

__all__ = ["start", "main", "read_log", "CHAT_TEMPLATE", "format_chat"]

LOG = "requests.jsonl"
CHAT_TEMPLATE = ("{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}\n{% endfor %}"
                 "{% if add_generation_prompt %}<|assistant|>\n{% endif %}")
_PARAMETERS = {"max_new_tokens", "do_sample", "temperature", "top_k", "top_p", "seed", "stop", "details",
               "return_full_text", "decoder_input_details", "best_of", "repetition_penalty", "frequency_penalty",
               "truncate", "typical_p", "watermark", "top_n_tokens", "grammar", "adapter_id"}
MAX_NEW_TOKENS = 256


def format_chat(tokenizer: Any, messages: list[dict]) -> str:
    """The prompt the server generates from for ``messages``."""
    return tokenizer.apply_chat_template(messages, chat_template=CHAT_TEMPLATE, tokenize=False,
                                         add_generation_prompt=True)


class BadRequest(ValueError):
    """A request the server refuses with 422, as TGI does for invalid parameters."""


class _Engine:
    """The model, one request at a time."""

    def __init__(self, model_dir: str, tokenizer_dir: str):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
        self.model = AutoModelForCausalLM.from_pretrained(model_dir).eval()
        self.eos = self.tokenizer.eos_token_id
        self.lock = threading.Lock()
        self.max_positions = int(getattr(self.model.config, "n_positions", 512))

    def generate(self, prompt: str, p: dict) -> dict:
        """Tokens for ``prompt`` under the TGI parameters ``p``: {"ids", "texts", "logprobs",
        "finish_reason", "seed", "text", "prompt_tokens"}."""
        torch = self.torch
        n = 20 if p.get("max_new_tokens") is None else p["max_new_tokens"]
        if not isinstance(n, int) or not 0 < n <= MAX_NEW_TOKENS:
            raise BadRequest(f"`max_new_tokens` must be an integer from 1 to {MAX_NEW_TOKENS}")
        temperature, top_k, top_p = p.get("temperature"), p.get("top_k"), p.get("top_p")
        if temperature is not None and not temperature > 0:
            raise BadRequest("`temperature` must be strictly positive")
        if top_p is not None and not 0 < top_p < 1:
            raise BadRequest("`top_p` must be > 0.0 and < 1.0")
        sample = bool(p.get("do_sample")) or (temperature not in (None, 1.0)) or top_k is not None or top_p is not None
        seed = p.get("seed")
        if sample and seed is None:
            seed = random.SystemRandom().randrange(2**63)
        stops = [s for s in (p.get("stop") or []) if s]
        ids = self.tokenizer(prompt, return_tensors="pt")["input_ids"][:, -(self.max_positions - n):]
        out: dict[str, Any] = {"ids": [], "texts": [], "logprobs": [], "finish_reason": "length",
                               "seed": seed if sample else None, "prompt_tokens": int(ids.shape[1])}
        generator = torch.Generator().manual_seed(seed) if sample else None
        with self.lock, torch.inference_mode():
            step, cache = ids, None
            for _ in range(n):
                result = self.model(input_ids=step, cache=cache, use_cache=True, logits_to_keep=1)
                cache = result.cache
                logits = result.logits[0, -1].float()
                logprobs = logits.log_softmax(-1)
                if sample:
                    filtered = _filter(logits / (temperature or 1.0), top_k, top_p)
                    token = int(torch.multinomial(filtered.softmax(-1), 1, generator=generator))
                else:
                    token = int(logits.argmax())
                out["ids"].append(token)
                out["logprobs"].append(float(logprobs[token]))
                out["texts"].append(self.tokenizer.decode([token]))
                step = torch.tensor([[token]])
                if token == self.eos:
                    out["finish_reason"] = "eos_token"
                    break
                if stops:
                    text = self.tokenizer.decode(out["ids"], skip_special_tokens=True)
                    if any(s in text for s in stops):
                        out["finish_reason"] = "stop_sequence"
                        break
        out["text"] = self.tokenizer.decode(out["ids"], skip_special_tokens=True)
        return out


def _filter(logits: Any, top_k: int | None, top_p: float | None) -> Any:
    import torch

    if top_k:
        kth = torch.topk(logits, min(top_k, logits.numel())).values[-1]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p is not None:
        ordered, index = logits.sort(descending=False)
        remove = ordered.softmax(-1).cumsum(-1) <= 1 - top_p
        remove[-1] = False
        logits = logits.masked_fill(remove.scatter(0, index, remove), float("-inf"))
    return logits


class _Events(list):
    """A reply sent as server-sent events, one per item."""


class _Handler(BaseHTTPRequestHandler):
    server_version = "hfcourse-tgi/1"
    protocol_version = "HTTP/1.1"
    engine: _Engine
    log: Path
    latency: float
    jitter: random.Random | None
    model_id: str
    lock: threading.Lock
    in_flight: list[int]

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's name
        return

    def _record(self, entry: dict) -> None:
        with self.lock, open(self.log, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry) + "\n")

    def _json(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _events(self, events: list[Any]) -> None:
        """Server-sent events, one ``data:`` line each (a str is sent as it is)."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        for event in events:
            payload = event if isinstance(event, str) else json.dumps(event)
            self.wfile.write(f"data: {payload}\n\n".encode())
            self.wfile.flush()
        self.close_connection = True

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        if self.path == "/health":
            self._json(200, {})
        elif self.path == "/info":
            self._json(200, {"model_id": self.model_id, "model_dtype": "torch.float32", "max_input_tokens":
                             self.engine.max_positions - 1, "max_total_tokens": self.engine.max_positions,
                             "max_concurrent_requests": 128, "version": "hfcourse-tgi/1", "router": "hfcourse"})
        else:
            self._json(404, {"error": f"no route GET {self.path}", "error_type": "not_found"})

    def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
        start = time.time()
        with self.lock:
            self.in_flight[0] += 1
            in_flight = self.in_flight[0]
        entry: dict[str, Any] = {"path": self.path, "start": start, "in_flight": in_flight}
        self.answer: dict | None = None
        try:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            entry["body"] = body
            with self.lock:
                extra = self.jitter.random() * self.latency if self.jitter else 0.0
            time.sleep(self.latency + extra)
            status, reply = self._route(body)
        except BadRequest as exc:
            status, reply = 422, {"error": str(exc), "error_type": "validation"}
        except (ValueError, TypeError, AttributeError) as exc:
            status, reply = 422, {"error": f"invalid request: {exc}", "error_type": "validation"}
        except Exception as exc:  # noqa: BLE001 - the server answers 500 rather than dropping the connection
            status, reply = 500, {"error": f"{type(exc).__name__}: {exc}", "error_type": "generation"}
        finally:
            with self.lock:
                self.in_flight[0] -= 1
        entry.update(end=time.time(), status=status, answer=self.answer)
        self._record(entry)  # before answering: once a client has its answer, the log shows the request
        if isinstance(reply, _Events):
            self._events(reply)
        else:
            self._json(status, reply)

    def _route(self, body: dict) -> tuple[int, Any]:
        if not isinstance(body, dict):
            raise BadRequest("the request body must be a JSON object")
        if self.path == "/v1/chat/completions":
            return self._chat(body)
        if self.path in ("/", "/generate", "/generate_stream"):
            return self._generate(body, listed=self.path == "/", stream=self.path == "/generate_stream"
                                  or bool(body.get("stream")))
        return 404, {"error": f"no route POST {self.path}", "error_type": "not_found"}

    def _generate(self, body: dict, *, listed: bool, stream: bool) -> tuple[int, Any]:
        prompt, p = body.get("inputs"), dict(body.get("parameters") or {})
        if not isinstance(prompt, str) or not prompt:
            raise BadRequest("`inputs` must be a non-empty string")
        unknown = set(p) - _PARAMETERS
        if unknown:
            raise BadRequest(f"unknown parameters: {', '.join(sorted(unknown))}")
        out = self.engine.generate(prompt, p)
        text = (prompt + out["text"]) if p.get("return_full_text") else out["text"]
        tokens = [{"id": i, "text": t, "logprob": lp, "special": i == self.engine.eos}
                  for i, t, lp in zip(out["ids"], out["texts"], out["logprobs"])]
        summary = {"finish_reason": out["finish_reason"], "generated_tokens": len(tokens), "seed": out["seed"]}
        self.answer = {"text": text, **summary}
        if stream:
            events = [{"index": k + 1, "token": token, "top_tokens": None, "generated_text": None, "details": None}
                      for k, token in enumerate(tokens)]
            if events:
                events[-1].update(generated_text=text, details=summary)
            return 200, _Events(events)
        answer: dict[str, Any] = {"generated_text": text}
        if p.get("details"):
            answer["details"] = {**summary, "prefill": [], "tokens": tokens, "top_tokens": None,
                                 "best_of_sequences": None}
        return 200, [answer] if listed else answer

    def _chat(self, body: dict) -> tuple[int, Any]:
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages or not all(
                isinstance(m, dict) and isinstance(m.get("role"), str) and isinstance(m.get("content"), str)
                for m in messages):
            raise BadRequest("`messages` must be a non-empty list of {\"role\", \"content\"} objects")
        temperature = body.get("temperature")
        p = {"max_new_tokens": body.get("max_tokens"), "seed": body.get("seed"),
             "stop": [body["stop"]] if isinstance(body.get("stop"), str) else body.get("stop"),
             "top_p": body.get("top_p"), "temperature": temperature or None,
             "do_sample": bool(temperature) or body.get("top_p") is not None}
        out = self.engine.generate(format_chat(self.engine.tokenizer, messages), p)
        finish = {"length": "length"}.get(out["finish_reason"], "stop")
        self.answer = {"text": out["text"], "finish_reason": finish, "generated_tokens": len(out["ids"]),
                       "seed": out["seed"]}
        ident, created = f"chatcmpl-{random.getrandbits(48):012x}", int(time.time())
        head = {"id": ident, "created": created, "model": self.model_id, "system_fingerprint": "hfcourse-tgi/1"}
        if body.get("stream"):
            pieces, shown = [], ""
            for k in range(len(out["ids"])):
                now = self.engine.tokenizer.decode(out["ids"][: k + 1], skip_special_tokens=True)
                pieces.append(now[len(shown):])
                shown = now
            events: list[Any] = [{**head, "object": "chat.completion.chunk", "choices": [{
                "index": 0, "delta": {"role": "assistant", "content": piece}, "logprobs": None,
                "finish_reason": finish if k == len(pieces) - 1 else None}]} for k, piece in enumerate(pieces)]
            return 200, _Events([*events, "[DONE]"])
        return 200, {**head, "object": "chat.completion", "choices": [{
            "index": 0, "message": {"role": "assistant", "content": out["text"]}, "logprobs": None,
            "finish_reason": finish}], "usage": {"prompt_tokens": out["prompt_tokens"], "completion_tokens":
                                                 len(out["ids"]), "total_tokens": out["prompt_tokens"] + len(out["ids"])}}


def _server(state_dir: Path, model: str, tokenizer: str, latency: float, jitter_seed: int | None, model_id: str,
            port: int = 0) -> ThreadingHTTPServer:
    state_dir = Path(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    handler = type("TGIHandler", (_Handler,), {
        "engine": _Engine(model, tokenizer), "log": state_dir / LOG, "latency": float(latency),
        "jitter": None if jitter_seed is None else random.Random(jitter_seed),
        "model_id": model_id, "lock": threading.Lock(), "in_flight": [0]})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    check_loopback(server)
    server.daemon_threads = True
    return server


def start(state_dir: Path, model: str, tokenizer: str, latency: float = 0.0, jitter_seed: int | None = None,
          model_id: str = "hfcourse/tiny-gpt2") -> str:
    """Serve the causal LM saved in ``model`` with the tokenizer in ``tokenizer`` from a daemon
    thread; return the base URL (no trailing ``/``). With ``jitter_seed``, each request waits
    between 1 and 2 times ``latency`` (drawn from a generator with that seed), so answers to
    concurrent requests come back in another order than they were sent."""
    server = _server(state_dir, model, tokenizer, latency, jitter_seed, model_id)
    threading.Thread(target=server.serve_forever, name="hfcourse-tgi", daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


def main(argv: list[str] | None = None) -> int:
    """``hfcourse tgi serve [--port P] [--latency S] [--dir D]``: the 2.8 server in the
    foreground, serving the course's tiny GPT-2, for trying the exercises by hand."""
    import argparse

    from hfcourse import fixtures

    p = argparse.ArgumentParser(prog="hfcourse tgi serve", description="Serve the course's TGI stand-in (2.8).")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free port)")
    p.add_argument("--latency", type=float, default=0.05, help="seconds each request waits (default: %(default)s)")
    p.add_argument("--dir", default=".hfcourse-tgi", help="where the request log is kept (default: %(default)s)")
    args = p.parse_args(argv)
    server = _server(Path(args.dir), str(fixtures.path("tiny-gpt2")), str(fixtures.path("bpe-gpt2")), args.latency,
                     None, "hfcourse/tiny-gpt2", port=args.port)
    print(f"TGI stand-in on http://127.0.0.1:{server.server_address[1]} (requests logged in {args.dir}/{LOG}); "
          "pass this URL to the 2.8 functions", flush=True)
    serve_in_foreground(server)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
