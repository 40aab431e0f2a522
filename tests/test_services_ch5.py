"""The chapter 5 stand-in servers (remote files, GitHub issues API) and data generators."""

from __future__ import annotations

import gzip
import json
import random
import time
import urllib.error
import urllib.request

import pytest

from hfcourse.fixtures import build_ch5
from hfcourse.probes import ch5 as probes
from hfcourse.services import files, github


def _get(url: str, headers: dict | None = None, method: str = "GET"):
    """(status, headers, body) of one request; HTTP errors are answers too."""
    request = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


# -- files ----------------------------------------------------------------------------

@pytest.fixture
def served(tmp_path):
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "data.bin").write_bytes(bytes(range(256)) * 40)
    (root / "sub" / "a b.txt").write_text("hello")
    (tmp_path / "secret.txt").write_text("no")
    state = tmp_path / "state"
    return files.start(state, root=str(root)), state, root


def test_files_get_head_and_ranges(served):
    url, state, root = served
    data = (root / "data.bin").read_bytes()
    assert _get(url + "data.bin")[2] == data
    status, headers, body = _get(url + "data.bin", method="HEAD")
    assert (status, headers["Content-Length"], body) == (200, str(len(data)), b"")
    status, headers, body = _get(url + "data.bin", {"Range": "bytes=10-19"})
    assert (status, body, headers["Content-Range"]) == (206, data[10:20], f"bytes 10-19/{len(data)}")
    assert _get(url + "data.bin", {"Range": "bytes=-5"})[2] == data[-5:]
    assert _get(url + "data.bin", {"Range": "bytes=100000-"})[0] == 416
    assert _get(url + "sub/a%20b.txt")[2] == b"hello"
    log = files.read_log(state)
    assert [(e["method"], e["status"]) for e in log[:3]] == [("GET", 200), ("HEAD", 200), ("GET", 206)]
    assert log[0]["bytes"] == len(data) and log[2]["range"] == "bytes=10-19"


def test_files_serves_nothing_outside_its_root(served):
    url, _, _ = served
    for path in ("../secret.txt", "%2e%2e/secret.txt", "sub", "missing.txt", ""):
        assert _get(url + path)[0] == 404, path


def test_files_url_of_one_file(tmp_path):
    (tmp_path / "x.json").write_text("{}")
    url = files.start(tmp_path / "state", root=str(tmp_path), file="x.json")
    assert url.endswith("/x.json") and _get(url)[2] == b"{}"


# -- github ---------------------------------------------------------------------------

def _issues_url(base: str, **query) -> str:
    return f"{base}/repos/huggingface/datasets/issues?" + "&".join(f"{k}={v}" for k, v in query.items())


def test_github_pages_start_at_one_and_page_zero_is_page_one(tmp_path):
    base = github.start(tmp_path, seed=3, num_issues=45)
    every = [i for i, _ in build_ch5.github_issues(3, 45)]
    page = lambda p: json.loads(_get(_issues_url(base, state="all", per_page=20, page=p))[2])  # noqa: E731
    assert [i["number"] for i in page(1)] == [i["number"] for i in every[:20]]
    assert page(0) == page(1)
    assert [i["number"] for i in page(3)] == [i["number"] for i in every[40:]]
    assert page(4) == []
    status, headers, _ = _get(_issues_url(base, state="all", per_page=20, page=2))
    assert 'page=3>; rel="next"' in headers["Link"] and 'page=1>; rel="prev"' in headers["Link"]


def test_github_state_filter_and_pull_requests(tmp_path):
    base = github.start(tmp_path, seed=4, num_issues=60)
    open_only = json.loads(_get(_issues_url(base, per_page=100))[2])
    every = json.loads(_get(_issues_url(base, per_page=100, state="all"))[2])
    assert {i["state"] for i in open_only} == {"open"} and len(every) == 60 > len(open_only)
    prs = [i for i in every if "pull_request" in i]
    assert prs and all("/pull/" in i["html_url"] for i in prs)
    assert _get(f"{base}/repos/other/repo/issues")[0] == 404


def test_github_rate_limit_and_token(tmp_path):
    base = github.start(tmp_path, seed=5, num_issues=10, token="t0k", rate_limit=2, window=1.0, anonymous_limit=1)
    auth = {"Authorization": "token t0k"}
    first = _get(_issues_url(base), auth)
    assert first[0] == 200 and first[1]["X-RateLimit-Remaining"] == "1"
    assert _get(_issues_url(base), auth)[1]["X-RateLimit-Remaining"] == "0"
    status, headers, body = _get(_issues_url(base), auth)
    assert status == 403 and b"rate limit" in body
    time.sleep(max(0.0, int(headers["X-RateLimit-Reset"]) - time.time()) + 0.05)
    assert _get(_issues_url(base), {"Authorization": "Bearer t0k"})[0] == 200
    assert _get(_issues_url(base), {"Authorization": "token wrong"})[0] == 401
    assert _get(_issues_url(base))[0] == 200 and _get(_issues_url(base))[0] == 403
    log = github.read_log(tmp_path)
    assert [e["auth"] for e in log[-3:]] == ["bad", "anonymous", "anonymous"]


def test_github_comments_are_paged(tmp_path):
    base = github.start(tmp_path, seed=6, num_issues=30)
    comments = dict((i["number"], c) for i, c in build_ch5.github_issues(6, 30))
    url = f"{base}/repos/huggingface/datasets/issues/23/comments"
    assert len(comments[23]) > 30
    assert len(json.loads(_get(url)[2])) == 30
    both = json.loads(_get(url + "?per_page=20&page=1")[2]) + json.loads(_get(url + "?per_page=20&page=2")[2])
    assert [c["body"] for c in both] == [c["body"] for c in comments[23]][:40]
    assert _get(f"{base}/repos/huggingface/datasets/issues/999/comments")[0] == 404


def test_github_long_threads_need_a_second_page_of_100(tmp_path):
    base = github.start(tmp_path, seed=6, num_issues=30, long_threads=80)
    comments = dict((i["number"], c) for i, c in github.lengthen_threads(build_ch5.github_issues(6, 30), 80))
    thread = [c["body"] for c in comments[23]]
    assert 100 < len(thread) == len(build_ch5.github_issues(6, 30)[30 - 23][1]) + 80 and len(set(thread)) == len(thread)
    assert [len(c) for n, c in comments.items() if n != 23] == [len(c) for i, c in build_ch5.github_issues(6, 30)
                                                              if i["number"] != 23]
    url = f"{base}/repos/huggingface/datasets/issues/23/comments?per_page=100"
    pages = [json.loads(_get(f"{url}&page={page}")[2]) for page in (1, 2)]
    assert len(pages[0]) == 100 and [c["body"] for c in pages[0] + pages[1]] == thread


# -- generators and probes ------------------------------------------------------------

def test_generators_are_deterministic_and_shaped():
    assert build_ch5.github_issues(7, 20) == build_ch5.github_issues(7, 20)
    squad = build_ch5.squad_it(random.Random(1), 3)
    for art in squad["data"]:
        for par in art["paragraphs"]:
            for qa in par["qas"]:
                a = qa["answers"][0]
                assert par["context"][a["answer_start"]:].startswith(a["text"])
    rows = build_ch5.drug_rows(random.Random(2), 200, list(range(200)))
    assert any(r["condition"] is None for r in rows) and any("&#039;" in r["review"] for r in rows)
    assert {30, 31} <= {len(r["review"].split()) for r in rows}
    lines = build_ch5.pubmed_lines(random.Random(3), n=50, start=100)
    assert [json.loads(line)["meta"]["pmid"] for line in lines] == list(range(100, 250, 3))
    assert gzip.decompress(build_ch5.jsonl_bytes(lines)).decode() == "".join(lines)


def test_consume_probe_counts_batches_and_rejects_lists():
    def batches():
        for k in range(3):
            yield {"meta": [{"pmid": k * 10 + i} for i in range(4)], "text": ["x"] * 4}

    got = probes.PROBES["consume"](batches())
    want = sum(k * 10 + i for k in range(3) for i in range(4))
    assert (got["type"], got["batch_sizes"], got["pmid_sum"]) == ("generator", [4, 4, 4], want)
    assert probes.PROBES["consume"](list(batches()))["type"] == "list"
