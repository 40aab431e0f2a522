"""Grader for 5.5 Creating your own dataset."""

import json
import math

import pytest

from hfcourse import expect
from hfcourse.fixtures import build_ch5
from hfcourse.services import github

OWNER = "huggingface"
PAGE_LIKELY = ("pages start at 1: GitHub serves page=0 as page 1, so range(num_pages) fetches page 1 twice and misses the last",
               "页码从 1 开始：GitHub 把 page=0 当作第 1 页，所以 range(num_pages) 会把第 1 页取两次并漏掉最后一页")


def _repo(rng) -> str:
    return rng.choice(["datasets", "transformers", "tokenizers", "evaluate"])


def _service(student, rng, state, **options):
    """A GitHub stand-in with a fresh token; returns (service, token, seed, repo)."""
    token, seed, repo = f"ghp_{rng.getrandbits(64):016x}", rng.randrange(10**6), _repo(rng)
    server = student.service("github", state=state, seed=seed, owner=OWNER, repo=repo, token=token, **options)
    return server, token, seed, repo


def _issues(seed: int, n: int, repo: str, long_threads: int = 0) -> list[tuple[dict, list[dict]]]:
    return github.lengthen_threads(build_ch5.github_issues(seed, n, OWNER, repo), long_threads)


def _log(student, server, kind: str = "issues") -> list[dict]:
    entries = student.saved(server, github.read_log, "the GitHub server's log")
    return [e for e in entries if e["path"].endswith("/" + kind)]


def _issues_ref(student, tmp_path, issues, name):
    """The issues as load_dataset("json") reads the file fetch_issues writes, as a Ref for the worker."""
    import datasets
    import pandas as pd

    path = tmp_path / f"{name}.jsonl"
    pd.DataFrame.from_records([i for i, _ in issues]).to_json(path, orient="records", lines=True)
    ds = datasets.load_dataset("json", data_files=str(path), split="train", cache_dir=str(tmp_path / "cache"))
    return student.put_dataset(ds, name)


def _read_jsonl(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.grade(points=1, visibility="visible",
                   hint="requests.get(base_url + path, params=params, headers={\"Authorization\": f\"token {token}\"}), raise_for_status(), .json().",
                   hint_zh="requests.get(base_url + path, params=params, headers={\"Authorization\": f\"token {token}\"})，raise_for_status()，.json()。")
def test_github_get(student, rng):
    server, token, seed, repo = _service(student, rng, "gh-get", num_issues=60)
    per_page, page = rng.randint(5, 12), rng.randint(1, 3)
    got = student.call("github_get", server, f"/repos/{OWNER}/{repo}/issues", token,
                {"state": "all", "per_page": per_page, "page": page})
    want = [i for i, _ in _issues(seed, 60, repo)][(page - 1) * per_page: page * per_page]
    expect.equal(got, want, f"page {page} of the issues ({per_page} per page)",
                 likely=("GET base_url + path with params as the query string, and return response.json()",
                         "GET base_url + path，params 作为查询参数，返回 response.json()"))
    entry = _log(student, server)[-1]
    expect.equal(entry["auth"], "token", "how the request authenticated",
                 likely=("send the header Authorization: token <token>", "发送请求头 Authorization: token <token>"))


@pytest.mark.grade(points=2, hint="After a response with X-RateLimit-Remaining: 0, time.sleep(reset - time.time()) before returning.",
                   hint_zh="收到 X-RateLimit-Remaining: 0 的响应后，返回前先 time.sleep(reset - time.time())。")
def test_github_get_respects_the_rate_limit(student, rng):
    server, token, seed, repo = _service(student, rng, "gh-limit", num_issues=30, rate_limit=2, window=2.0)
    path = f"/repos/{OWNER}/{repo}/issues"
    for page in (1, 2, 3):
        student.call("github_get", server, path, token, {"state": "all", "per_page": 5, "page": page})
    log = _log(student, server)
    statuses = [e["status"] for e in log]
    expect.equal(statuses, [200, 200, 200], "statuses of three requests with a quota of 2 per window",
                 likely=("when X-RateLimit-Remaining is 0, sleep until X-RateLimit-Reset", "X-RateLimit-Remaining 为 0 时，睡到 X-RateLimit-Reset 再继续"))
    expect.equal([e["remaining"] for e in log], ["1", "0", "1"], "X-RateLimit-Remaining after each request: the "
                 "first two share a window (no waiting while the quota lasts)", likely=(
                     "sleep only when X-RateLimit-Remaining is 0", "只有 X-RateLimit-Remaining 为 0 时才等待"))


def _check_fetch(student, server, path, want: list[int], per_page: int, what: str) -> None:
    where = ("write out_dir/{repo}-issues.jsonl and return its path", "写入 out_dir/{repo}-issues.jsonl 并返回它的路径")
    saved = student.collect(path)
    expect.true(saved.is_file(), f"{what}: no file was written at the returned path", where)
    expect.true(saved.name.endswith("-issues.jsonl"), f"{what}: the file is named {saved.name}", where)
    with expect.reply("the issues file"):
        numbers = [r.get("number") for r in _read_jsonl(saved)]
    twice = sorted(n for n in set(numbers) if numbers.count(n) > 1)
    expect.true(not twice, f"{what}: issues {twice[:8]} appear more than once", PAGE_LIKELY)
    expect.equal(numbers, want, f"{what}: issue numbers in the file, newest first",
                 likely=("state=all (open and closed), pages 1, 2, … up to ceil(num_issues / per_page), then keep num_issues",
                         "state=all（包括已关闭的），页码 1、2……直到 ceil(num_issues / per_page)，再只保留 num_issues 条"))
    pages = [e["query"].get("page") for e in _log(student, server) if e["status"] == 200]
    expect.equal(sorted(pages, key=int), [str(p) for p in range(1, math.ceil(len(want) / per_page) + 1)],
                 f"{what}: pages requested", PAGE_LIKELY)
    expect.true(all(e["query"].get("per_page") == str(per_page) and e["query"].get("state") == "all" for e in _log(student, server)),
                f"{what}: every request must ask for per_page={per_page} and state=all",
                likely=("pass params={\"page\": page, \"per_page\": per_page, \"state\": \"all\"}", "传入 params={\"page\": page, \"per_page\": per_page, \"state\": \"all\"}"))


@pytest.mark.grade(points=3, visibility="visible",
                   hint="for page in range(1, ceil(num_issues / per_page) + 1) with state=all and per_page, then pandas to_json(orient=\"records\", lines=True).",
                   hint_zh="for page in range(1, ceil(num_issues / per_page) + 1)，带 state=all 和 per_page，再用 pandas to_json(orient=\"records\", lines=True)。")
def test_fetch_issues_every_issue_once(student, rng):
    total, per_page = rng.randint(60, 130), rng.choice([10, 20, 25, 30])
    server, token, seed, repo = _service(student, rng, "gh-all", num_issues=total)
    path = student.call("fetch_issues", server, OWNER, repo, total, per_page, token, student.scratch("all-issues"))
    want = [i["number"] for i, _ in _issues(seed, total, repo)]
    _check_fetch(student, server, path, want, per_page, "fetch_issues")
    records = {r["number"]: r for r in student.saved(path, _read_jsonl, "the issues file")}
    for issue, _ in _issues(seed, total, repo):
        expect.equal(records[issue["number"]].get("pull_request") is not None, "pull_request" in issue,
                     f"whether issue {issue['number']} has a pull_request",
                     likely=("keep the API records as they are: pd.DataFrame.from_records(issues)", "原样保留 API 记录：pd.DataFrame.from_records(issues)"))


@pytest.mark.grade(points=2, hint="Stop after ceil(num_issues / per_page) pages and keep the first num_issues; wait when the quota runs out.",
                   hint_zh="取 ceil(num_issues / per_page) 页后停止，只保留前 num_issues 条；配额用完时要等待。")
def test_fetch_issues_some_with_rate_limit(student, rng):
    per_page = rng.choice([10, 15, 20])
    num_issues = per_page * rng.randint(3, 5) + rng.randint(1, per_page - 1)
    total = num_issues + rng.randint(1, 60)
    server, token, seed, repo = _service(student, rng, "gh-some", num_issues=total, rate_limit=3, window=1.0)
    path = student.call("fetch_issues", server, OWNER, repo, num_issues, per_page, token, student.scratch("some-issues"))
    expect.true(all(e["status"] != 403 for e in _log(student, server)), "some requests were refused: rate limit exceeded",
                likely=("when X-RateLimit-Remaining is 0, sleep until X-RateLimit-Reset", "X-RateLimit-Remaining 为 0 时，睡到 X-RateLimit-Reset 再继续"))
    want = [i["number"] for i, _ in _issues(seed, total, repo)][:num_issues]
    _check_fetch(student, server, path, want, per_page, f"fetch_issues(num_issues={num_issues})")


@pytest.mark.grade(points=1, hint="dataset.map(lambda x: {\"is_pull_request\": x[\"pull_request\"] is not None})",
                   hint_zh="用 map 添加一列：dataset.map(lambda x: {\"is_pull_request\": x[\"pull_request\"] is not None})")
def test_add_is_pull_request(student, rng, tmp_path):
    seed, n, repo = rng.randrange(10**6), rng.randint(30, 60), _repo(rng)
    issues = _issues(seed, n, repo)
    got = student.call("add_is_pull_request", _issues_ref(student, tmp_path, issues, "pr"), probe="ch5:dataset")
    expect.true(isinstance(got, dict) and got.get("type") == "Dataset" and "is_pull_request" in got.get("columns", []),
                "add_is_pull_request must return a Dataset with an is_pull_request column",
                likely=("return dataset.map(...), which adds the column", "返回 dataset.map(...)，它会添加这一列"))
    flags = [(r["number"], r["is_pull_request"]) for r in got["rows"]]
    expect.equal(flags, [(i["number"], "pull_request" in i) for i, _ in issues], "(number, is_pull_request) of each row",
                 likely=("the key pull_request is in every row (None for plain issues): test x[\"pull_request\"] is not None",
                         "每一行都有 pull_request 键（普通 issue 为 None）：要判断 x[\"pull_request\"] is not None"))


@pytest.mark.grade(points=2, hint="The comments endpoint is paged too: ask per_page=100 and go on while a page is full.",
                   hint_zh="评论接口也是分页的：用 per_page=100，一页取满就继续取下一页。")
def test_get_comments(student, rng):
    n, longer = 92, 80  # long threads of 111-125 comments: two pages even at per_page=100
    server, token, seed, repo = _service(student, rng, "gh-comments", num_issues=n, long_threads=longer)
    issues = {i["number"]: c for i, c in _issues(seed, n, repo, longer)}
    many = rng.choice([k for k in issues if len(issues[k]) > 100])
    for number in (many, rng.choice([k for k in issues if 0 < len(issues[k]) <= 30])):
        got = student.call("get_comments", server, OWNER, repo, number, token)
        expect.equal(got, [c["body"] for c in issues[number]], f"comments of issue {number} ({len(issues[number])} of them)",
                     likely=("follow the pages while a page is full: GitHub returns 30 comments per page by default, "
                             "100 at most", "一页取满就继续翻页：GitHub 默认每页只返回 30 条评论，最多 100 条"))


@pytest.mark.grade(points=2, hint="dataset.map(lambda x: {\"comments\": get_comments(…, x[\"number\"], …)})",
                   hint_zh="用 map 为每个 issue 取回评论：dataset.map(lambda x: {\"comments\": get_comments(…, x[\"number\"], …)})")
def test_attach_comments(student, rng, tmp_path):
    n = rng.randint(30, 50)
    server, token, seed, repo = _service(student, rng, "gh-attach", num_issues=n)
    issues = _issues(seed, n, repo)
    got = student.call("attach_comments", _issues_ref(student, tmp_path, issues, "attach"), server, OWNER, repo, token,
                       probe="ch5:dataset")
    expect.true(isinstance(got, dict) and got.get("type") == "Dataset", "attach_comments must return a Dataset",
                likely=("return dataset.map(...)", "返回 dataset.map(...)"))
    expect.equal([(r["number"], r["comments"]) for r in got["rows"]],
                 [(i["number"], [c["body"] for c in comments]) for i, comments in issues], "(number, comments) of each row",
                 likely=("map each row to {\"comments\": get_comments(…, x[\"number\"], …)}", "把每一行映射为 {\"comments\": get_comments(…, x[\"number\"], …)}"))


@pytest.mark.grade(points=1, hint="n<1K below 1,000; 1K<n<10K below 10,000; 10K<n<100K below 100,000; 100K<n<1M below 1,000,000.",
                   hint_zh="少于1,000为 n<1K；少于10,000为 1K<n<10K；少于100,000为 10K<n<100K；少于1,000,000为 100K<n<1M。")
def test_size_category(student, rng):
    limits = [(1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")]
    for n in [999, 1000, 9_999, 10_000, 100_000, 1_000_000, rng.randrange(1, 2_000_000)]:
        want = next((tag for limit, tag in limits if n < limit), "n>1M")
        expect.equal(student.size_category(n), want, f"size_category({n})",
                     likely=("each bound is exclusive: 1,000 examples are already \"1K<n<10K\"", "每个上界都不包含：1,000 条已属于 \"1K<n<10K\""))


def _check_card(path, owner: str, repo: str, n: int) -> None:
    from huggingface_hub import DatasetCard

    expect.true(path.is_file(), f"no dataset card at {path.name}", likely=("save the card as README.md", "把卡片保存为 README.md"))
    with expect.reply("the saved dataset card"):
        card = DatasetCard.load(path)
        data = card.data.to_dict()
    name = f"{owner}/{repo} GitHub issues"
    tag = "n<1K" if n < 1000 else "1K<n<10K"
    for key, want in (("language", ["en"]), ("license", ["apache-2.0"]), ("pretty_name", [name]), ("size_categories", [tag]),
                      ("task_categories", ["text-classification", "text-retrieval"])):
        value = data.get(key)
        expect.equal(value if isinstance(value, list) else [value], want, f"card metadata {key!r}",
                     likely=("DatasetCardData(language=\"en\", license=\"apache-2.0\", pretty_name=…, size_categories=…, task_categories=[…])",
                             "填写 DatasetCardData(language=\"en\", license=\"apache-2.0\", pretty_name=…, size_categories=…, task_categories=[…])"))
    summary = f"Issues and pull requests of the GitHub repository {owner}/{repo}, with their comments: {n} rows."
    for line in (f"# Dataset Card for {name}", summary, f"- **Repository:** https://github.com/{owner}/{repo}"):
        expect.true(line in card.text, f"the card text has no line {line!r}",
                    likely=("DatasetCard.from_template(data, pretty_name=…, dataset_summary=…, repo=…)",
                            "用 DatasetCard.from_template(data, pretty_name=…, dataset_summary=…, repo=…) 生成卡片"))


@pytest.mark.grade(points=2, hint="DatasetCard.from_template(DatasetCardData(...), pretty_name=…, dataset_summary=…, repo=…).save(directory / \"README.md\")",
                   hint_zh="用模板生成数据集卡片并保存：DatasetCard.from_template(DatasetCardData(...), pretty_name=…, dataset_summary=…, repo=…).save(directory / \"README.md\")")
def test_write_card(student, rng):
    repo, n = _repo(rng), rng.randint(10, 5000)
    path = student.call("write_card", student.scratch("card"), OWNER, repo, n)
    _check_card(student.collect(path), OWNER, repo, n)


@pytest.mark.grade(points=3, hint="fetch_issues → load_dataset(\"json\", split=\"train\") → add_is_pull_request → attach_comments → save_to_disk → write_card.",
                   hint_zh="fetch_issues → load_dataset(\"json\", split=\"train\") → add_is_pull_request → attach_comments → save_to_disk → write_card。")
def test_build_issues_dataset(student, rng):
    import datasets

    n = rng.randint(120, 180)
    server, token, seed, repo = _service(student, rng, "gh-build", num_issues=n)
    directory = student.collect(student.call("build_issues_dataset", server, OWNER, repo, n, token, student.scratch("build")))
    expect.true((directory / "dataset_info.json").is_file(), "the returned directory holds no data set saved with save_to_disk",
                likely=("issues.save_to_disk(out_dir / \"github-issues\") and return that directory", "issues.save_to_disk(out_dir / \"github-issues\") 并返回这个目录"))
    with expect.reply("the saved data set"):
        ds = datasets.load_from_disk(str(directory))
    issues = _issues(seed, n, repo)
    expect.equal(ds["number"][:], [i["number"] for i, _ in issues], "issue numbers of the saved data set", PAGE_LIKELY)
    expect.equal(ds["is_pull_request"][:], ["pull_request" in i for i, _ in issues], "is_pull_request of the saved data set",
                 likely=("add_is_pull_request before saving", "保存前先 add_is_pull_request"))
    expect.equal(ds["comments"][:], [[c["body"] for c in comments] for _, comments in issues], "comments of the saved data set",
                 likely=("attach_comments before saving", "保存前先 attach_comments"))
    _check_card(directory / "README.md", OWNER, repo, n)
