"""4.3 Sharing pretrained models — 把自己的模型上传到hub

Save a model and its tokenizer in the safetensors format, push both to a Hub repository with
``push_to_hub`` and a commit message, push a new revision on a branch, and download each
revision back by id. Here the Hub is the course's stand-in: every function gets its
``endpoint`` URL and a ``token``, and runs its Hub calls inside ``with online(endpoint):``.
Course: https://huggingface.co/learn/llm-course/chapter4/3
中文课程：https://huggingface.co/learn/llm-course/zh-CN/chapter4/3

用 safetensors 格式保存模型和tokenizer，用 ``push_to_hub`` 加上提交信息把两者上传到 Hub 仓库，在一个
分支上推送新的版本，再按 id 把每个版本下载回来。这里的 Hub 是课程的本地替身：每个函数都会拿到它的
``endpoint`` 地址和一个 ``token``，并在 ``with online(endpoint):`` 里调用 Hub。
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import torch
from huggingface_hub import constants
from transformers import AutoModelForSequenceClassification, AutoTokenizer


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


def save_for_sharing(model, tokenizer, directory: Path) -> list[str]:
    """Save ``model`` and ``tokenizer`` into ``directory`` with ``save_pretrained`` (the weights
    go to ``model.safetensors``, never a pickled ``.bin``) and return the sorted file names."""
    # BEGIN SOLUTION
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return sorted(p.name for p in Path(directory).iterdir())
    # END SOLUTION


def push_model(model, tokenizer, endpoint: str, token: str, repo_id: str, message: str) -> str:
    """Push ``model`` and then ``tokenizer`` to ``repo_id`` (``push_to_hub`` creates the repo
    when needed), both with ``commit_message=message`` and ``token=token``. Return the
    commit id (``.oid``) of the tokenizer's push, the newest commit on ``main``."""
    # BEGIN SOLUTION
    with online(endpoint):
        model.push_to_hub(repo_id, commit_message=message, token=token)
        info = tokenizer.push_to_hub(repo_id, commit_message=message, token=token)
    return info.oid
    # END SOLUTION


def push_revision(model, endpoint: str, token: str, repo_id: str, branch: str, message: str) -> str:
    """Push ``model`` to the branch ``branch`` of ``repo_id`` (``revision=branch``: the branch is
    made from ``main`` when missing, and ``main`` stays as it was) with ``commit_message=message``.
    Return the new commit's id."""
    # BEGIN SOLUTION
    with online(endpoint):
        info = model.push_to_hub(repo_id, revision=branch, commit_message=message, token=token)
    return info.oid
    # END SOLUTION


def download_logits(endpoint: str, token: str, repo_id: str, revision: str, texts: list[str]) -> torch.Tensor:
    """Load the tokenizer and the sequence classifier of ``repo_id`` at ``revision`` (a branch
    or a commit id) from the Hub, and return the logits for ``texts`` (padded batch with its
    attention mask, truncated, no gradient), shape ``[len(texts), num_labels]``.

    Graded: the returned tensor carries no autograd history (``requires_grad`` False, no
    ``grad_fn``): run the model under ``torch.no_grad()`` or ``torch.inference_mode()``.
    """
    # BEGIN SOLUTION
    with online(endpoint):
        tokenizer = AutoTokenizer.from_pretrained(repo_id, revision=revision, token=token)
        model = AutoModelForSequenceClassification.from_pretrained(repo_id, revision=revision, token=token)
    inputs = tokenizer(texts, padding=True, truncation=True, return_tensors="pt")
    with torch.no_grad():
        return model.eval()(**inputs).logits
    # END SOLUTION
