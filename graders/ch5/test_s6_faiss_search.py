"""Grader for 5.6 Semantic search with FAISS."""

import numpy as np
import pytest
import torch

from hfcourse import expect
from hfcourse.fixtures.text import sample_sentences

ISSUES, EMBEDDED, MODEL, TOK = "github-issues-like", "issues-embeddings", "tiny-embedder", "wordpiece-uncased"
KEEP = ["title", "body", "html_url", "comments"]


def _ref(student, name, dataset):
    return student.put_dataset(dataset, name)


def _subset(rng, dataset, fraction=0.6):
    return dataset.select(sorted(rng.sample(range(len(dataset)), int(len(dataset) * fraction))))


def _with_comments(rows):
    return [{k: r[k] for k in r if k in KEEP} for r in rows if not r["is_pull_request"] and r["comments"]]


def _text(row) -> str:
    return row["title"] + " \n " + (row["body"] or "") + " \n " + row["comments"]


def _dataset(got, what):
    expect.true(isinstance(got, dict) and got.get("type") == "Dataset",
                f"{what}: expected a Dataset, got a {got.get('type') if isinstance(got, dict) else type(got).__name__}",
                likely=("return the Dataset itself (not a DataFrame or a dict)", "返回 Dataset 本身（不是 DataFrame 或 dict）"))
    return got


@pytest.mark.grade(points=2, visibility="visible",
                   hint="filter(not is_pull_request and len(comments) > 0), then remove_columns(set(KEEP).symmetric_difference(column_names)).",
                   hint_zh="filter(not is_pull_request and len(comments) > 0)，再 remove_columns(set(KEEP).symmetric_difference(column_names))。")
def test_keep_issues_with_comments(student, fx, rng):
    ds = _subset(rng, fx.load(ISSUES))
    got = _dataset(student.call("keep_issues_with_comments", _ref(student, "issues", ds), probe="ch5:dataset"),
                   "keep_issues_with_comments")
    want = _with_comments(ds.to_list())
    expect.equal(sorted(got["columns"]), sorted(KEEP), "columns kept",
                 likely=("remove_columns(set(KEEP).symmetric_difference(column_names))", "只保留需要的列：remove_columns(set(KEEP).symmetric_difference(column_names))"))
    expect.equal(got["rows"], want, "rows kept",
                 likely=("drop pull requests AND issues without comments", "既要去掉 pull request，也要去掉没有评论的 issue"))


@pytest.mark.grade(points=2, hint="DataFrame.explode(\"comments\", ignore_index=True), Dataset.from_pandas, comment_length = len(comment.split()), keep > 15.",
                   hint_zh="DataFrame.explode(\"comments\", ignore_index=True)，Dataset.from_pandas，comment_length = len(comment.split())，保留 > 15。")
def test_explode_comments(student, fx, rng):
    import datasets

    rows = _with_comments(_subset(rng, fx.load(ISSUES)).to_list())
    ds = datasets.Dataset.from_list(rows)
    got = _dataset(student.call("explode_comments", _ref(student, "explode", ds), probe="ch5:dataset"), "explode_comments")
    want = [{**r, "comments": c, "comment_length": len(c.split())} for r in rows for c in r["comments"] if len(c.split()) > 15]
    expect.equal(sorted(got["columns"]), sorted([*KEEP, "comment_length"]), "columns",
                 likely=("explode with ignore_index=True, or from_pandas adds an __index_level_0__ column",
                         "explode 时传 ignore_index=True，否则 from_pandas 会多出 __index_level_0__ 列"))
    expect.equal(got["num_rows"], len(want), "rows: one per comment of more than 15 words",
                 likely=("comment_length counts words (split()), and the filter keeps comment_length > 15",
                         "comment_length 统计的是词数（split()），过滤条件是 comment_length > 15"))
    expect.equal(got["rows"], want, "exploded rows",
                 likely=("one row per comment, in the original order", "每条评论一行，保持原来的顺序"))


@pytest.mark.grade(points=1, visibility="visible", hint="title + \" \\n \" + body + \" \\n \" + comments, with body or \"\" for a missing body.",
                   hint_zh="title + \" \\n \" + body + \" \\n \" + comments，正文缺失时用 body or \"\"。")
def test_concatenate_text(student, rng):
    for body in (sample_sentences(rng, 1)[0], None, ""):
        example = {"title": sample_sentences(rng, 1)[0], "body": body, "comments": sample_sentences(rng, 1)[0],
                   "html_url": "https://github.com/huggingface/datasets/issues/1"}
        expect.equal(student.concatenate_text(example), {"text": _text(example)}, f"concatenate_text with body={body!r}",
                     likely=("a missing body (None) counts as \"\"", "缺失的正文（None）按 \"\" 处理"))


@pytest.mark.grade(points=1, hint="The [CLS] token is the first position: last_hidden_state[:, 0].",
                   hint_zh="[CLS] 是第一个位置：last_hidden_state[:, 0]。")
def test_cls_pooling(student, rng):
    hidden = torch.randn(rng.randint(2, 5), rng.randint(3, 9), 8, generator=torch.Generator().manual_seed(rng.randrange(10**6)))
    expect.close(student.cls_pooling(hidden), hidden[:, 0], "CLS pooling", atol=0,
                 likely=("take position 0 of every sequence, not the mean or the first sequence", "取每个序列的第 0 个位置，而不是均值或第一个序列"))


@pytest.mark.grade(points=2, hint="tokenizer(texts, padding=True, truncation=True, return_tensors=\"pt\"), model(**encoded) under torch.no_grad(), then cls_pooling.",
                   hint_zh="tokenizer(texts, padding=True, truncation=True, return_tensors=\"pt\")，在 torch.no_grad() 下 model(**encoded)，再 cls_pooling。")
def test_get_embeddings(student, reference, fx, rng):
    stored = _subset(rng, fx.load(EMBEDDED), 0.01)
    texts = stored["text"][:] + [" ".join(sample_sentences(rng, 80))]
    got = student.get_embeddings(texts, fx.ref(MODEL), fx.ref(TOK))
    expect.tensor(got, "embeddings", shape=(len(texts), 32))
    likely = ("pad and truncate in one batch and pass the attention mask: model(**encoded), then [:, 0]",
              "一次 batch 中补齐并截断，并传入注意力掩码：model(**encoded)，再取 [:, 0]")
    expect.close(got[:-1], torch.tensor(stored["embeddings"][:]), "CLS embeddings of the comments", atol=1e-4, likely=likely)
    expect.close(got, reference.get_embeddings(texts, fx.ref(MODEL), fx.ref(TOK)), "CLS embeddings with a text over 512 tokens",
                 atol=1e-4, likely=likely)


@pytest.mark.grade(points=2, hint="map(concatenate_text), then a batched map adding get_embeddings(batch[\"text\"], …).numpy().",
                   hint_zh="map(concatenate_text)，再用 batched map 添加 get_embeddings(batch[\"text\"], …).numpy()。")
def test_embed_comments(student, fx, rng):
    base = fx.load(EMBEDDED)
    part = _subset(rng, base, 0.15)
    ref = _ref(student, "to-embed", part.remove_columns(["text", "embeddings"]))
    got = _dataset(student.call("embed_comments", ref, fx.ref(MODEL), fx.ref(TOK), probe="ch5:dataset"), "embed_comments")
    expect.equal([r.get("text") for r in got["rows"]], [_text(r) for r in part.to_list()], "text column",
                 likely=("comments.map(concatenate_text)", "先用 comments.map(concatenate_text) 拼接文本"))
    expect.true(got["features"].get("embeddings", "").endswith("Value('float32'))"),
                f"embeddings must be float32 values, got {got['features'].get('embeddings')}",
                likely=("store get_embeddings(...).numpy(): float32", "存 get_embeddings(...).numpy()：float32"))
    expect.close(torch.tensor([r["embeddings"] for r in got["rows"]]), torch.tensor(part["embeddings"][:]),
                 "embeddings", atol=1e-4, likely=("CLS embeddings of the text column", "text 列的 CLS 嵌入"))


def _queries(rng, embeddings: np.ndarray, n: int) -> np.ndarray:
    """Points between two rows of the data set, slightly off: each has clear nearest neighbours."""
    g = np.random.default_rng(rng.randrange(10**6))
    first, second = embeddings[g.integers(0, len(embeddings), n)], embeddings[g.integers(0, len(embeddings), n)]
    noise = g.normal(0.0, 0.05 * float(embeddings.std()), first.shape)
    return (0.7 * first + 0.3 * second + noise).astype(np.float32)


def _scores(embeddings: np.ndarray, query: np.ndarray, metric: str) -> np.ndarray:
    """Every row's L2 distance (squared, as IndexFlatL2 reports it) or inner product, in float64."""
    return ((embeddings - query) ** 2).sum(-1) if metric == "l2" else embeddings @ query


@pytest.mark.grade(points=2, hint="The default index is IndexFlatL2: a smaller distance is closer, so sort ascending (the course sorts descending).",
                   hint_zh="默认索引是 IndexFlatL2：距离越小越接近，所以要升序排列（课程里降序是错的）。")
@pytest.mark.parametrize("metric", ["l2", "ip"])
def test_search_matches_brute_force(student, fx, rng, metric):
    ds = fx.load(EMBEDDED)
    embeddings = np.asarray(ds["embeddings"][:], dtype=np.float64)
    queries, k = _queries(rng, embeddings, 6), rng.randint(3, 8)
    got = student.search(fx.ref(EMBEDDED), queries, k, metric)
    where = {(u, c): i for i, (u, c) in enumerate(zip(ds["html_url"][:], ds["comments"][:]))}
    likely = ("L2: ascending distances; inner product: descending scores (metric_type=faiss.METRIC_INNER_PRODUCT)",
              "L2 距离升序；内积分数降序（metric_type=faiss.METRIC_INNER_PRODUCT）")
    shape = ("return a list (one per query) of k dicts {\"score\", \"html_url\", \"comments\"}",
             "返回一个列表（每个查询一项），每项是 k 个 {\"score\", \"html_url\", \"comments\"} 字典")
    expect.true(isinstance(got, list) and len(got) == len(queries), "search must return one result list per query", shape)
    for q, (query, result) in enumerate(zip(queries.astype(np.float64), got)):
        scores = _scores(embeddings, query, metric)
        best = np.sort(scores)[:k] if metric == "l2" else -np.sort(-scores)[:k]
        expect.equal(len(result), k, f"results of query {q}", shape)
        rows = [where.get((r.get("html_url"), r.get("comments"))) for r in result]
        expect.true(None not in rows, f"query {q}: a result is not a row of the data set (html_url and comments)", shape)
        expect.close(torch.tensor(scores[rows]), torch.tensor(best), f"{metric} scores of the rows found for query {q}, "
                     f"best first (brute force over all {len(scores)} rows)", atol=1e-4, rtol=1e-5, likely=likely)
        expect.close(torch.tensor([float(r["score"]) for r in result]), torch.tensor(scores[rows]),
                     f"the scores reported for query {q}", atol=1e-3, rtol=1e-4, likely=likely)


@pytest.mark.grade(points=2, hint="Let the FAISS index do the search: one add_faiss_index, then get_nearest_examples per query.",
                   hint_zh="让 FAISS 索引来检索：add_faiss_index 一次，然后每个查询调用 get_nearest_examples。")
def test_search_throughput(student, reference, fx, rng, bench):
    ds = fx.load(EMBEDDED)
    queries = _queries(rng, np.asarray(ds["embeddings"][:], dtype=np.float64), 200)
    got = student.search(fx.ref(EMBEDDED), queries[:5], 5, "l2")
    expect.equal([[r["html_url"] for r in res] for res in got],
                 [[r["html_url"] for r in res] for res in reference.search(fx.ref(EMBEDDED), queries[:5], 5, "l2")],
                 "results of five queries", likely=("add_faiss_index, then get_nearest_examples", "add_faiss_index，再 get_nearest_examples"))
    bench.compare("search", fx.ref(EMBEDDED), queries, 5, "l2", unit="queries/s", items=len(queries), threshold=0.5,
                  likely=("search with the FAISS index, not by scanning every row in Python", "用 FAISS 索引检索，而不是在 Python 里逐行扫描"))
