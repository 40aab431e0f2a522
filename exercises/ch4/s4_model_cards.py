# Exercise 4.4: fill in every TODO, then run `hfcourse check 4.4`.
# 练习 4.4：完成每个 TODO，然后运行 `hfcourse check 4.4`。
"""4.4 Building a model card — 模型卡片

A model card is the ``README.md`` of a model repo: a YAML header with the metadata the Hub
indexes (license, language, data sets, metrics and the evaluation results, as ``model-index``)
and a text that says what the model is for and how it was made. ``ModelCardData`` holds the
metadata, ``ModelCard.from_template`` writes the text, and the card is pushed like any file.
Here the Hub is the course's stand-in: push functions get its ``endpoint`` URL and a ``token``,
and run their Hub calls inside ``with online(endpoint):``.
Course: https://huggingface.co/learn/llm-course/chapter4/4
中文课程：https://huggingface.co/learn/llm-course/zh-CN/chapter4/4

模型卡片就是模型仓库的 ``README.md``：开头是 Hub 会索引的 YAML 元数据（许可证、语言、数据集、指标，
以及以 ``model-index`` 形式给出的评估结果），后面是说明模型用途和制作方式的文字。``ModelCardData``
保存元数据，``ModelCard.from_template`` 生成正文，卡片像普通文件一样上传。这里的 Hub 是课程的本地
替身：上传函数会拿到它的 ``endpoint`` 地址和一个 ``token``，并在 ``with online(endpoint):`` 里调用 Hub。
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from huggingface_hub import EvalResult, HfApi, ModelCard, ModelCardData, constants


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


def build_card(model_name: str, license: str, language: str, dataset_id: str, accuracy: float,
               description: str) -> ModelCard:
    """A ``ModelCard`` made with ``ModelCard.from_template(card_data, model_description=description)``
    where ``card_data = ModelCardData(...)`` has ``model_name``, ``license``, ``language``,
    ``datasets=[dataset_id]``, ``metrics=["accuracy"]`` and one ``EvalResult``: task type
    ``"text-classification"``, data set ``dataset_id`` (as its type and name), split
    ``"validation"``, metric ``"accuracy"`` with value ``accuracy`` (a fraction such as 0.91)."""
    # TODO: implement build_card (see the docstring)
    raise NotImplementedError("4.4 build_card: not implemented yet")


def push_card(content: str, endpoint: str, token: str, repo_id: str, message: str) -> str:
    """Publish ``content`` (a card's full text) as ``README.md`` of the model repo ``repo_id``:
    create the repo if it does not exist yet (``exist_ok=True``), then upload the file with
    ``HfApi(endpoint=endpoint, token=token).upload_file(path_or_fileobj=…, path_in_repo=…,
    repo_id=…, commit_message=message)``. Return the commit id (``.oid``)."""
    # TODO: implement push_card (see the docstring)
    raise NotImplementedError("4.4 push_card: not implemented yet")
