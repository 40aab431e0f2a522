"""The Hub stand-in (hfcourse.services.hub) driven by the plain huggingface_hub client over HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

hf = pytest.importorskip("huggingface_hub")
from huggingface_hub import CommitOperationAdd, HfApi, constants, hf_hub_download  # noqa: E402
from huggingface_hub.errors import (  # noqa: E402
    EntryNotFoundError,
    HfHubHTTPError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from hfcourse.services import hub  # noqa: E402

TOKEN = "hf_test_token"


@pytest.fixture(autouse=True)
def _online(monkeypatch):
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)


@pytest.fixture
def served(tmp_path):
    seed = tmp_path / "seed"
    seed.mkdir()
    (seed / "config.json").write_text('{"model_type": "bert"}')
    (seed / "fixture.json").write_text("{}")
    state = tmp_path / "state"
    url = hub.start(state, token=TOKEN, seed={"course/seeded": str(seed)})
    return url, state, HfApi(endpoint=url, token=TOKEN)


def _get(url: str, state: Path, repo: str, name: str, tmp_path: Path, **kw) -> bytes:
    path = hf_hub_download(repo, name, endpoint=url, token=TOKEN, cache_dir=tmp_path / "cache", **kw)
    return Path(path).read_bytes()


def test_create_upload_list_download(served, tmp_path):
    url, state, api = served
    assert api.whoami()["name"] == "student"
    repo = api.create_repo("my-model").repo_id
    assert repo == "student/my-model"
    folder = tmp_path / "out"
    (folder / "sub").mkdir(parents=True)
    (folder / "config.json").write_text('{"a": 1}')
    (folder / "sub" / "weights.bin").write_bytes(bytes(range(256)) * 40)
    info = api.upload_folder(folder_path=folder, repo_id=repo, commit_message="Add files")
    assert sorted(api.list_repo_files(repo)) == [".gitattributes", "config.json", "sub/weights.bin"]
    assert _get(url, state, repo, "sub/weights.bin", tmp_path) == bytes(range(256)) * 40
    assert api.model_info(repo).sha == info.oid == hub.repo_state(state, repo)["refs"]["main"]
    assert [f.path for f in api.list_repo_tree(repo)] == [".gitattributes", "config.json", "sub"]
    assert api.create_repo(repo, exist_ok=True).repo_id == repo
    log = hub.read_log(state)
    commits = [e for e in log if e.get("op") == "commit"]
    assert [(c["repo"], c["summary"], c["files"], c["auth"]) for c in commits] == [
        (repo, "Add files", ["config.json", "sub/weights.bin"], "token")]


def test_revisions_branches_and_commits(served, tmp_path):
    url, state, api = served
    repo = api.create_repo("course-rev").repo_id
    api.upload_file(path_or_fileobj=b"one", path_in_repo="f.txt", repo_id=repo, commit_message="first")
    api.create_branch(repo, branch="v2")
    second = api.create_commit(repo, [CommitOperationAdd("f.txt", b"two")], commit_message="second",
                               commit_description="the v2 weights", revision="v2")
    api.create_branch(repo, branch="v2", exist_ok=True)
    assert _get(url, state, repo, "f.txt", tmp_path) == b"one"
    assert _get(url, state, repo, "f.txt", tmp_path, revision="v2") == b"two"
    assert _get(url, state, repo, "f.txt", tmp_path, revision=second.oid) == b"two"
    assert [c.title for c in api.list_repo_commits(repo, revision="v2")] == ["second", "first", "Initial commit"]
    assert api.list_repo_commits(repo, revision="v2")[0].message == "the v2 weights"
    refs = {b.name: b.target_commit for b in api.list_repo_refs(repo).branches}
    assert refs["v2"] == second.oid and refs["main"] != second.oid
    again = api.upload_file(path_or_fileobj=b"one", path_in_repo="f.txt", repo_id=repo, commit_message="same")
    assert again.oid == refs["main"], "an unchanged file is skipped by the client: no new commit"
    with pytest.raises(HfHubHTTPError) as err:
        api.create_branch(repo, branch="v2")
    assert err.value.response.status_code == 409


def test_clear_errors(served, tmp_path):
    url, state, api = served
    with pytest.raises(RepositoryNotFoundError):
        _get(url, state, "student/missing", "config.json", tmp_path)
    with pytest.raises(EntryNotFoundError):
        _get(url, state, "course/seeded", "nope.json", tmp_path)
    with pytest.raises(RevisionNotFoundError):
        _get(url, state, "course/seeded", "config.json", tmp_path, revision="no-such-branch")
    with pytest.raises(RepositoryNotFoundError):
        api.list_repo_files("student/missing")
    with pytest.raises(HfHubHTTPError) as err:
        api.create_repo("course/seeded")
    assert err.value.response.status_code == 409
    with pytest.raises(HfHubHTTPError) as err:
        HfApi(endpoint=url, token="wrong").create_repo("x")
    assert err.value.response.status_code == 401
    with pytest.raises(HfHubHTTPError) as err:
        HfApi(endpoint=url, token=False).upload_file(path_or_fileobj=b"x", path_in_repo="x", repo_id="course/seeded")
    assert err.value.response.status_code == 401
    with pytest.raises(ValueError, match="Invalid metadata"):
        api.upload_file(path_or_fileobj=b"---\nlicense: [mit\n---\n", path_in_repo="README.md", repo_id="course/seeded")
    statuses = {(e["method"], e["status"]) for e in hub.read_log(state)}
    assert ("GET", 404) in statuses or ("HEAD", 404) in statuses


def test_seeded_and_persistent(served, tmp_path):
    url, state, api = served
    assert sorted(api.list_repo_files("course/seeded")) == [".gitattributes", "config.json"]
    assert json.loads(_get(url, state, "course/seeded", "config.json", tmp_path)) == {"model_type": "bert"}
    api.upload_file(path_or_fileobj=b"kept", path_in_repo="notes.txt", repo_id="course/seeded", commit_message="note")
    url2 = hub.start(state, token=TOKEN, seed={"course/seeded": str(tmp_path / "seed")})
    api2 = HfApi(endpoint=url2, token=TOKEN)
    assert url2 != url
    assert sorted(api2.list_repo_files("course/seeded")) == [".gitattributes", "config.json", "notes.txt"]
    assert [c.title for c in api2.list_repo_commits("course/seeded")][:1] == ["note"]


def test_seed_branches(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for d, text in ((a, "main"), (b, "v2")):
        d.mkdir()
        (d / "w.txt").write_text(text)
    url = hub.start(tmp_path / "state", seed={"course/two": {"main": str(a), "v2": str(b)}})
    assert _get(url, tmp_path, "course/two", "w.txt", tmp_path, revision="v2") == b"v2"
    assert _get(url, tmp_path, "course/two", "w.txt", tmp_path) == b"main"
    assert hub.files_at(tmp_path / "state", "course/two", "missing") == {}
