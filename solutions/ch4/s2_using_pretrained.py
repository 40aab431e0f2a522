"""4.2 Using pretrained models — 使用模型库中的各种预训练模型

Load a checkpoint from the Hub by its id: with the Auto classes, which read the checkpoint's
config and pick the architecture, or with the model's own classes; then run the fill-mask
pipeline on it. Here the Hub is the course's stand-in: every function gets its ``endpoint`` URL
and a ``token``, and runs its Hub calls inside ``with online(endpoint):``.
Course: https://huggingface.co/learn/llm-course/chapter4/2
中文课程：https://huggingface.co/learn/llm-course/zh-CN/chapter4/2

按模型 id 从 Hub 加载 checkpoint：用 Auto 类（读取 checkpoint 的配置并选择对应的架构），或者用模型
自己的类；再在它上面运行 fill-mask pipeline。这里的 Hub 是课程的本地替身：每个函数都会拿到它的
``endpoint`` 地址和一个 ``token``，并在 ``with online(endpoint):`` 里调用 Hub。
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from huggingface_hub import constants
from transformers import AutoModelForMaskedLM, AutoTokenizer, BertForMaskedLM, BertTokenizer, pipeline


@contextlib.contextmanager
def online(endpoint: str) -> Iterator[None]:
    """Send this block's Hub calls to ``endpoint`` although the course runs offline
    (``HF_HUB_OFFLINE=1``): the client's settings are switched for the block, then restored."""
    saved = constants.HF_HUB_OFFLINE, constants.ENDPOINT, constants.HUGGINGFACE_CO_URL_TEMPLATE
    constants.HF_HUB_OFFLINE = False
    constants.ENDPOINT = endpoint.rstrip("/")
    constants.HUGGINGFACE_CO_URL_TEMPLATE = constants.ENDPOINT + "/{repo_id}/resolve/{revision}/{filename}"
    try:
        yield
    finally:
        constants.HF_HUB_OFFLINE, constants.ENDPOINT, constants.HUGGINGFACE_CO_URL_TEMPLATE = saved


def load_masked_lm(endpoint: str, token: str, repo_id: str) -> tuple:
    """Download the checkpoint ``repo_id`` (e.g. ``"course/tiny-mlm"``) and return
    ``(tokenizer, model)`` loaded with ``AutoTokenizer`` and ``AutoModelForMaskedLM``,
    passing ``token=token``."""
    # BEGIN SOLUTION
    with online(endpoint):
        tokenizer = AutoTokenizer.from_pretrained(repo_id, token=token)
        model = AutoModelForMaskedLM.from_pretrained(repo_id, token=token)
    return tokenizer, model
    # END SOLUTION


def load_with_model_classes(endpoint: str, token: str, repo_id: str) -> tuple:
    """The same checkpoint loaded with the architecture's own classes, as the course does with
    ``CamembertTokenizer`` / ``CamembertForMaskedLM``: here the checkpoint is a BERT, so use
    ``BertTokenizer`` and ``BertForMaskedLM``. Return ``(tokenizer, model)``."""
    # BEGIN SOLUTION
    with online(endpoint):
        tokenizer = BertTokenizer.from_pretrained(repo_id, token=token)
        model = BertForMaskedLM.from_pretrained(repo_id, token=token)
    return tokenizer, model
    # END SOLUTION


def fill_mask(endpoint: str, token: str, repo_id: str, text: str, top_k: int) -> list[dict]:
    """Run ``pipeline("fill-mask", model=repo_id, …)`` on ``text``, where ``{mask}`` marks the
    blank: replace it with the model's own mask token (``tokenizer.mask_token``; BERT's is
    ``[MASK]``, CamemBERT's ``<mask>``). Return the pipeline's ``top_k`` predictions, best
    first, each a dict with ``token_str``, ``score`` and ``sequence``."""
    # BEGIN SOLUTION
    with online(endpoint):
        unmasker = pipeline("fill-mask", model=repo_id, token=token)
    masked = text.replace("{mask}", unmasker.tokenizer.mask_token)
    return [{k: p[k] for k in ("token_str", "score", "sequence")} for p in unmasker(masked, top_k=top_k)]
    # END SOLUTION
