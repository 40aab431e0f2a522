"""Grader for 4.3 Sharing pretrained models."""

import pytest
import torch
from safetensors.torch import load as load_safetensors
from safetensors.torch import load_file

from hfcourse import expect
from hfcourse.fixtures.build_ch4 import hub_seed
from hfcourse.fixtures.text import sample_sentences
from hfcourse.sandbox.codec import Service
from hfcourse.services import hub

TOKEN = "hf_course_write_token"
TOK, MODEL, MODEL_V2, SEEDED = "wordpiece-uncased", "tiny-sst2", "tiny-sst2-v2", "course/tiny-sst2"
MESSAGES = ("Add the fine-tuned sentiment model", "First version trained on sst2-like", "Upload weights and vocabulary")
FILES = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json")
MESSAGE_LIKELY = ("pass commit_message=message to push_to_hub", "给 push_to_hub 传 commit_message=message")


def _hub(target, fx) -> Service:
    """The Hub stand-in, started inside ``target``'s worker, which creates its state directory itself
    (so that the sandbox user owns it); one URL per worker, the same options in every chapter 4 grader."""
    return Service("hub", "service-hub", (("seed", hub_seed(fx.path)), ("token", TOKEN)))


def _repo(rng, stem: str) -> str:
    return f"student/{stem}-{rng.randrange(16 ** 6):06x}"


def _weights(state_dir, repo_id: str, revision: str) -> dict:
    with expect.reply("the Hub's records"):
        blob = hub.files_at(state_dir, repo_id, revision).get("model.safetensors")
    expect.true(blob is not None, f"{repo_id} has no model.safetensors on {revision!r}",
                likely=("push the model with model.push_to_hub(repo_id, ...)", "用 model.push_to_hub(repo_id, ...) 上传模型"))
    with expect.reply(f"model.safetensors of {repo_id} on the Hub"):
        return load_safetensors(hub.read_file(state_dir, blob))


def _same_weights(got: dict, name: str, fx, what: str) -> None:
    for key, value in fx.load(name).state_dict().items():
        expect.true(key in got, f"{what}: weight {key} is missing")
        expect.close(got[key], value, f"{what}: weight {key}", atol=0)


def _own_logits(fx, name: str, texts: list[str]) -> torch.Tensor:
    inputs = fx.load(TOK)(texts, padding=True, truncation=True, return_tensors="pt")
    with torch.no_grad():
        return fx.load(name)(**inputs).logits


@pytest.mark.grade(points=2, visibility="visible",
                   hint="model.save_pretrained(directory) and tokenizer.save_pretrained(directory) into the same directory; safetensors is the default format.",
                   hint_zh="model.save_pretrained(directory) 和 tokenizer.save_pretrained(directory) 保存到同一个目录；safetensors 是默认格式。")
def test_save_for_sharing(student, fx, rng):
    target = student.scratch("to-share")
    names = student.save_for_sharing(fx.ref(MODEL, fresh=True), fx.ref(TOK), target)
    folder = student.collect(target)
    for name in FILES:
        expect.true((folder / name).is_file(), f"{name} is missing from the saved directory",
                    likely=("save both the model and the tokenizer into the directory", "把模型和tokenizer都保存到这个目录"))
    expect.true(not any(p.suffix in (".bin", ".pt", ".pth", ".pkl") for p in folder.iterdir()),
                "the directory holds pickled weights: share safetensors only",
                likely=("use save_pretrained, not torch.save", "使用 save_pretrained，不要用 torch.save"))
    expect.equal(names, sorted(p.name for p in folder.iterdir()), "returned file names (sorted)")
    with expect.reply("the saved model.safetensors"):
        weights = load_file(folder / "model.safetensors")
    _same_weights(weights, MODEL, fx, "saved model.safetensors")
    from transformers import AutoTokenizer

    text = sample_sentences(rng, 1)[0]
    with expect.reply("the saved tokenizer"):
        ids = AutoTokenizer.from_pretrained(str(folder))(text)["input_ids"]
    expect.equal(ids, fx.load(TOK)(text)["input_ids"], "ids from the saved tokenizer")


@pytest.mark.grade(points=3, visibility="visible",
                   hint="Inside `with online(endpoint):` call model.push_to_hub(repo_id, commit_message=message, token=token), then the same for the tokenizer; return its .oid.",
                   hint_zh="在 `with online(endpoint):` 里调用 model.push_to_hub(repo_id, commit_message=message, token=token)，再对tokenizer做同样的事；返回它的 .oid。")
def test_push_model_and_tokenizer(student, fx, rng):
    svc, repo, message = _hub(student, fx), _repo(rng, "sst2"), rng.choice(MESSAGES)
    oid = student.push_model(fx.ref(MODEL, fresh=True), fx.ref(TOK), svc, TOKEN, repo, message)
    state_dir = student.collect(svc)
    with expect.reply("the Hub's records"):
        state = hub.repo_state(state_dir, repo)
    expect.true(state is not None, f"the repo {repo} was not created on the Hub",
                likely=("push to the repo_id you were given", "推送到给定的 repo_id"))
    with expect.reply("the Hub's records"):
        files = hub.files_at(state_dir, repo)
    for name in (*FILES, "README.md"):
        expect.true(name in files, f"{name} is missing from {repo} on main",
                    likely=("push both: model.push_to_hub(...) and tokenizer.push_to_hub(...)",
                            "两个都要推送：model.push_to_hub(...) 和 tokenizer.push_to_hub(...)"))
    _same_weights(_weights(state_dir, repo, "main"), MODEL, fx, "model.safetensors on the Hub")
    commits = [e for e in hub.read_log(state_dir) if e.get("op") == "commit" and e.get("repo") == repo]
    expect.equal([e["summary"] for e in commits], [message, message], "commit messages of the two pushes", likely=MESSAGE_LIKELY)
    expect.true(all(e["auth"] == "token" for e in commits), "the pushes were not made with the token",
                likely=("pass token=token to push_to_hub", "给 push_to_hub 传 token=token"))
    expect.equal(oid, state["refs"]["main"], "returned commit id (the newest commit on main)",
                 likely=("return the .oid of the CommitInfo that tokenizer.push_to_hub returns",
                         "返回 tokenizer.push_to_hub 所返回的 CommitInfo 的 .oid"))


@pytest.mark.grade(points=3, hint="push_to_hub(repo_id, revision=branch, commit_message=message, token=token) makes the branch from main and commits there.",
                   hint_zh="push_to_hub(repo_id, revision=branch, commit_message=message, token=token) 会从 main 建出分支并在上面提交。")
def test_push_revision(student, fx, rng):
    svc, repo = _hub(student, fx), _repo(rng, "sst2-rev")
    branch, message = rng.choice(["v2", "finetuned", "epoch-3"]), rng.choice(MESSAGES)
    oid = student.push_revision(fx.ref(MODEL_V2, fresh=True), svc, TOKEN, repo, branch, message)
    state_dir = student.collect(svc)
    with expect.reply("the Hub's records"):
        state = hub.repo_state(state_dir, repo) or {"refs": {}, "commits": {}}
        on_main = hub.files_at(state_dir, repo, "main")
    expect.true(branch in state["refs"], f"the repo has no branch {branch!r}",
                likely=("pass revision=branch to push_to_hub", "给 push_to_hub 传 revision=branch"))
    expect.true("model.safetensors" not in on_main,
                "the model was pushed to main as well: main must stay as it was",
                likely=("push once, with revision=branch", "只推送一次，并带上 revision=branch"))
    _same_weights(_weights(state_dir, repo, branch), MODEL_V2, fx, f"model.safetensors on {branch!r}")
    expect.equal(state["commits"][state["refs"][branch]]["summary"], message, f"commit message on {branch!r}",
                 likely=MESSAGE_LIKELY)
    expect.equal(oid, state["refs"][branch], "returned commit id",
                 likely=("return the .oid of the CommitInfo that push_to_hub returns", "返回 push_to_hub 所返回的 CommitInfo 的 .oid"))


@pytest.mark.grade(points=2, hint="from_pretrained(repo_id, revision=revision, token=token) for both the tokenizer and AutoModelForSequenceClassification.",
                   hint_zh="tokenizer 和 AutoModelForSequenceClassification 都用 from_pretrained(repo_id, revision=revision, token=token)。")
def test_download_revisions(student, fx, rng):
    svc, texts = _hub(student, fx), sample_sentences(rng, 4)
    texts[rng.randrange(4)] = " ".join(sample_sentences(rng, 80))  # longer than the model's 512 tokens
    main = student.call("download_logits", svc, TOKEN, SEEDED, "main", texts, probe="grad")
    expect.true(not main["grad"], "download_logits returned logits that carry autograd history",
                likely=("run the model inside `with torch.no_grad():` (or torch.inference_mode()): inference needs no gradients",
                        "在 `with torch.no_grad():`（或 torch.inference_mode()）中运行模型：推理不需要梯度"))
    main = main["value"]
    expect.close(main, _own_logits(fx, MODEL, texts), "logits of main", atol=1e-5,
                 likely=("pad the batch and pass the attention mask: tokenizer(texts, padding=True, truncation=True, return_tensors=\"pt\")",
                         "对批次做补齐并传入注意力掩码：tokenizer(texts, padding=True, truncation=True, return_tensors=\"pt\")"))
    v2_sha = hub.repo_state(student.collect(svc), SEEDED)["refs"]["v2"]
    for revision in ("v2", v2_sha):
        got = student.download_logits(svc, TOKEN, SEEDED, revision, texts)
        expect.close(got, _own_logits(fx, MODEL_V2, texts), f"logits at revision {revision!r}", atol=1e-5,
                     likely=("pass revision=revision to from_pretrained", "给 from_pretrained 传 revision=revision"))
    expect.differs(main, got, "logits of main and v2")


@pytest.mark.grade(points=2, hint="What you push and download back must give the same logits: push with push_model, load with download_logits(..., \"main\", ...).",
                   hint_zh="上传后再下载回来，logits 必须完全相同：用 push_model 上传，用 download_logits(..., \"main\", ...) 加载。")
def test_round_trip_identical_logits(student, reference, fx, rng):
    svc, repo, texts = _hub(student, fx), _repo(rng, "round-trip"), sample_sentences(rng, 5)
    student.push_model(fx.ref(MODEL, fresh=True), fx.ref(TOK), svc, TOKEN, repo, rng.choice(MESSAGES))
    got = student.download_logits(svc, TOKEN, repo, "main", texts)
    expect.close(got, _own_logits(fx, MODEL, texts), "logits after the round trip", atol=1e-6)
    ref_svc = _hub(reference, fx)
    expect.close(got, reference.download_logits(ref_svc, TOKEN, SEEDED, "main", texts), "logits (reference)", atol=1e-6)
    downloads = [e for e in student.saved(svc, hub.read_log, "the Hub's log") if e.get("op") == "download" and e.get("repo") == repo]
    expect.true(any(e["file"] == "model.safetensors" and e["status"] == 200 for e in downloads),
                "the weights were not downloaded from the Hub", likely=("load by repo id inside `with online(endpoint):`",
                                                                        "在 `with online(endpoint):` 里按仓库 id 加载"))
