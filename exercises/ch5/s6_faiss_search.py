# Exercise 5.6: fill in every TODO, then run `hfcourse check 5.6`.
# 练习 5.6：完成每个 TODO，然后运行 `hfcourse check 5.6`。
"""5.6 Semantic search with FAISS — 基于FAISS的语义检索引擎

A small search engine over GitHub issue comments: keep the issues with comments, give
every comment its own row (pandas ``explode``), join title, body and comment into one
text, embed it with the ``[CLS]`` vector of a transformer, index the embeddings with
``add_faiss_index`` and find the nearest comments of a question with
``get_nearest_examples``. The default FAISS index measures L2 distance: smaller is
closer, so the best results come first in ascending order.
Course: https://huggingface.co/learn/llm-course/chapter5/6
中文课程：https://huggingface.co/learn/llm-course/zh-CN/chapter5/6

基于 GitHub issue 评论的小型搜索引擎：保留有评论的 issue，用 pandas 的 ``explode`` 让每条评论
单独成行，把标题、正文和评论拼成一段文本，用 transformer 的 ``[CLS]`` 向量做嵌入，用
``add_faiss_index`` 建立索引，再用 ``get_nearest_examples`` 找出与问题最接近的评论。默认的
FAISS 索引度量 L2 距离：越小越接近，所以最好的结果按升序排在前面。
"""

from __future__ import annotations

import faiss
import numpy as np
import torch
from datasets import Dataset

KEEP = ["title", "body", "html_url", "comments"]


def keep_issues_with_comments(issues: Dataset) -> Dataset:
    """The rows that are not pull requests and have at least one comment, with only the
    columns of ``KEEP`` (remove the others: the symmetric difference of ``KEEP`` and the
    column names)."""
    # TODO: implement keep_issues_with_comments (see the docstring)
    raise NotImplementedError("5.6 keep_issues_with_comments: not implemented yet")


def explode_comments(issues: Dataset) -> Dataset:
    """One row per comment: go to pandas, ``explode("comments", ignore_index=True)``, come
    back with ``Dataset.from_pandas``; then add ``comment_length`` (the number of
    white-space separated words of the comment) and keep the rows with
    ``comment_length > 15``."""
    # TODO: implement explode_comments (see the docstring)
    raise NotImplementedError("5.6 explode_comments: not implemented yet")


def concatenate_text(example: dict) -> dict:
    """``{"text": title + " \\n " + body + " \\n " + comments}`` of one example; a missing
    body (None) counts as the empty string."""
    # TODO: implement concatenate_text (see the docstring)
    raise NotImplementedError("5.6 concatenate_text: not implemented yet")


def cls_pooling(last_hidden_state: torch.Tensor) -> torch.Tensor:
    """The embedding of each sequence is the hidden state of its first token, ``[CLS]``:
    shape [batch, hidden] from [batch, length, hidden]."""
    # TODO: implement cls_pooling (see the docstring)
    raise NotImplementedError("5.6 cls_pooling: not implemented yet")


def get_embeddings(texts: list[str], model, tokenizer) -> torch.Tensor:
    """CLS embeddings of ``texts``, shape [len(texts), hidden]: one padded and truncated
    batch, the model run without gradients."""
    # TODO: implement get_embeddings (see the docstring)
    raise NotImplementedError("5.6 get_embeddings: not implemented yet")


def embed_comments(comments: Dataset, model, tokenizer) -> Dataset:
    """Add the column ``text`` (``concatenate_text``), then ``embeddings``: the CLS
    embedding of each text as float32 values, computed in a batched ``map``."""
    # TODO: implement embed_comments (see the docstring)
    raise NotImplementedError("5.6 embed_comments: not implemented yet")


def search(dataset: Dataset, queries: np.ndarray, k: int, metric: str = "l2") -> list[list[dict]]:
    """For each query vector (rows of ``queries``), the ``k`` rows of ``dataset`` nearest
    by its ``embeddings`` column, through a FAISS index: ``add_faiss_index(column=
    "embeddings")`` measures L2 distance (``metric="l2"``: smaller is closer); with
    ``metric="ip"`` pass ``metric_type=faiss.METRIC_INNER_PRODUCT`` (larger is closer).
    Each result is a list of ``{"score", "html_url", "comments"}``, best first: ascending
    scores for L2, descending for inner product. Drop the index before returning."""
    # TODO: implement search (see the docstring)
    raise NotImplementedError("5.6 search: not implemented yet")
