"""5.5 Creating your own dataset — 创建自己的datasets，提交到hub

Build a data set from a web API: page through the GitHub issues of a repository with
``requests`` (a token header, ``state=all``, pages numbered from 1, and the rate limit
respected), save the records as JSON Lines with pandas, load them with ``load_dataset``,
mark the pull requests, fetch each issue's comments, and write a dataset card with
``huggingface_hub.DatasetCard``. Here the Hub is out of reach, so the result is saved with
``save_to_disk`` next to its card instead of ``push_to_hub``.
Course: https://huggingface.co/learn/llm-course/chapter5/5
中文课程：https://huggingface.co/learn/llm-course/zh-CN/chapter5/5

从 Web API 构建数据集：用 ``requests`` 分页获取某个仓库的 GitHub issues（带 token 请求头、
``state=all``、页码从 1 开始，并遵守速率限制），用 pandas 保存为 JSON Lines，用 ``load_dataset``
加载，标记哪些是 pull request，获取每个 issue 的评论，并用 ``huggingface_hub.DatasetCard`` 编写
数据集卡片。这里无法访问 Hub，所以用 ``save_to_disk`` 把结果和卡片保存在一起，代替 ``push_to_hub``。
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import pandas as pd
import requests
from datasets import Dataset, load_dataset
from huggingface_hub import DatasetCard, DatasetCardData


def github_get(base_url: str, path: str, token: str, params: dict | None = None) -> Any:
    """GET ``base_url + path`` with the query ``params`` and the header
    ``Authorization: token <token>``; raise for an error status; return the decoded JSON.
    Respect the rate limit: when the response says ``X-RateLimit-Remaining: 0``, sleep
    until the time (epoch seconds) in ``X-RateLimit-Reset`` before returning, so that the
    next request is allowed."""
    # BEGIN SOLUTION
    response = requests.get(base_url + path, params=params, headers={"Authorization": f"token {token}"}, timeout=30)
    response.raise_for_status()
    if int(response.headers.get("X-RateLimit-Remaining", "1")) == 0:
        time.sleep(max(0.0, int(response.headers["X-RateLimit-Reset"]) - time.time()) + 0.05)
    return response.json()
    # END SOLUTION


def fetch_issues(base_url: str, owner: str, repo: str, num_issues: int, per_page: int, token: str,
                 out_dir: Path) -> Path:
    """Fetch the ``num_issues`` most recent issues (pull requests included, open and closed:
    ``state=all``) from ``{base_url}/repos/{owner}/{repo}/issues``, ``per_page`` per
    request, pages numbered from 1 (GitHub serves ``page=0`` as page 1), each page once;
    stop early when a page comes back short. Write them with pandas to
    ``out_dir/{repo}-issues.jsonl`` (``orient="records", lines=True``); return that path."""
    # BEGIN SOLUTION
    issues: list[dict] = []
    for page in range(1, math.ceil(num_issues / per_page) + 1):
        batch = github_get(base_url, f"/repos/{owner}/{repo}/issues", token,
                           {"page": page, "per_page": per_page, "state": "all"})
        issues.extend(batch)
        if len(batch) < per_page:
            break
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    path = Path(out_dir) / f"{repo}-issues.jsonl"
    pd.DataFrame.from_records(issues[:num_issues]).to_json(path, orient="records", lines=True)
    return path
    # END SOLUTION


def add_is_pull_request(dataset: Dataset) -> Dataset:
    """Add the boolean column ``is_pull_request``: True for the rows whose ``pull_request``
    is set (not None)."""
    # BEGIN SOLUTION
    return dataset.map(lambda x: {"is_pull_request": x["pull_request"] is not None})
    # END SOLUTION


def get_comments(base_url: str, owner: str, repo: str, number: int, token: str) -> list[str]:
    """The ``body`` of every comment of issue ``number``, oldest first, from
    ``{base_url}/repos/{owner}/{repo}/issues/{number}/comments``. The endpoint is paged
    like the issues (30 per page unless ``per_page`` says otherwise, at most 100)."""
    # BEGIN SOLUTION
    path = f"/repos/{owner}/{repo}/issues/{number}/comments"
    bodies: list[str] = []
    page = 1
    while True:
        batch = github_get(base_url, path, token, {"per_page": 100, "page": page})
        bodies += [comment["body"] for comment in batch]
        if len(batch) < 100:
            return bodies
        page += 1
    # END SOLUTION


def attach_comments(dataset: Dataset, base_url: str, owner: str, repo: str, token: str) -> Dataset:
    """Replace the ``comments`` column (a count) by the list of comment bodies of each issue."""
    # BEGIN SOLUTION
    return dataset.map(lambda x: {"comments": get_comments(base_url, owner, repo, x["number"], token)})
    # END SOLUTION


def size_category(num_examples: int) -> str:
    """The Hub's ``size_categories`` tag: ``"n<1K"`` below 1,000 examples, ``"1K<n<10K"``
    below 10,000, ``"10K<n<100K"`` below 100,000, ``"100K<n<1M"`` below 1,000,000,
    else ``"n>1M"``."""
    # BEGIN SOLUTION
    for limit, tag in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if num_examples < limit:
            return tag
    return "n>1M"
    # END SOLUTION


def write_card(directory: Path, owner: str, repo: str, num_examples: int) -> Path:
    """Write ``directory/README.md``, a dataset card made with ``DatasetCard.from_template``:
    metadata ``language="en"``, ``license="apache-2.0"``, ``pretty_name="{owner}/{repo}
    GitHub issues"``, ``size_categories`` from ``size_category``, ``task_categories=
    ["text-classification", "text-retrieval"]``; template fields ``pretty_name`` (the same),
    ``dataset_summary="Issues and pull requests of the GitHub repository {owner}/{repo},
    with their comments: {num_examples} rows."`` and ``repo="https://github.com/{owner}/{repo}"``.
    Create ``directory`` if needed; return the path of the card."""
    # BEGIN SOLUTION
    Path(directory).mkdir(parents=True, exist_ok=True)
    name = f"{owner}/{repo} GitHub issues"
    data = DatasetCardData(language="en", license="apache-2.0", pretty_name=name,
                           size_categories=size_category(num_examples),
                           task_categories=["text-classification", "text-retrieval"])
    summary = f"Issues and pull requests of the GitHub repository {owner}/{repo}, with their comments: {num_examples} rows."
    card = DatasetCard.from_template(data, pretty_name=name, dataset_summary=summary,
                                     repo=f"https://github.com/{owner}/{repo}")
    path = Path(directory) / "README.md"
    card.save(path)
    return path
    # END SOLUTION


def build_issues_dataset(base_url: str, owner: str, repo: str, num_issues: int, token: str, out_dir: Path) -> Path:
    """The whole course pipeline: fetch ``num_issues`` issues (100 per page) into
    ``out_dir``, load the JSON Lines file with ``load_dataset("json", …, split="train")``,
    add ``is_pull_request``, attach the comments, save the data set with ``save_to_disk``
    to ``out_dir/github-issues`` and write its card there; return that directory."""
    # BEGIN SOLUTION
    path = fetch_issues(base_url, owner, repo, num_issues, 100, token, out_dir)
    issues = load_dataset("json", data_files=str(path), split="train")
    issues = attach_comments(add_is_pull_request(issues), base_url, owner, repo, token)
    target = Path(out_dir) / "github-issues"
    issues.save_to_disk(target)
    write_card(target, owner, repo, len(issues))
    return target
    # END SOLUTION
