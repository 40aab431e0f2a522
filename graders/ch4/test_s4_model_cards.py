"""Grader for 4.4 Building a model card."""

import pytest

from hfcourse import expect
from hfcourse.fixtures.build_ch4 import hub_seed
from hfcourse.fixtures.text import sample_sentences
from hfcourse.sandbox.codec import Service
from hfcourse.services import hub

TOKEN = "hf_course_write_token"
SEEDED = "course/tiny-sst2"
MESSAGES = ("Add a model card", "Describe the model", "Update README.md with the evaluation results")


def _hub(target, fx) -> Service:
    """The Hub stand-in, started inside ``target``'s worker, which creates its state directory itself
    (so that the sandbox user owns it); one URL per worker, the same options in every chapter 4 grader."""
    return Service("hub", "service-hub", (("seed", hub_seed(fx.path)), ("token", TOKEN)))


def _args(rng) -> dict:
    return {"model_name": f"tiny-sst2-{rng.randrange(1000)}", "license": rng.choice(["mit", "apache-2.0", "cc-by-4.0"]),
            "language": rng.choice(["en", "fr", "zh"]), "dataset_id": rng.choice(["course/sst2-like", "glue", "imdb"]),
            "accuracy": round(rng.uniform(0.7, 0.99), 4), "description": sample_sentences(rng, 1, min_words=6)[0]}


def _content(student, args: dict) -> str:
    got = student.call("build_card", kwargs=args, probe="ch4:card")
    expect.true(isinstance(got, dict) and got.get("type") == "ModelCard",
                f"build_card must return a huggingface_hub.ModelCard, got a {got.get('type') if isinstance(got, dict) else type(got).__name__}",
                likely=("return ModelCard.from_template(card_data, ...)", "返回 ModelCard.from_template(card_data, ...)"))
    return got["content"]


def _data(content: str):
    from huggingface_hub import ModelCard

    return ModelCard(content, ignore_metadata_errors=True).data


def _check_eval(data, args: dict, where: str) -> None:
    results = data.eval_results or []
    expect.equal(len(results), 1, f"{where}: number of evaluation results in model-index",
                 likely=("pass eval_results=[EvalResult(...)] and model_name to ModelCardData",
                         "给 ModelCardData 传 eval_results=[EvalResult(...)] 和 model_name"))
    r = results[0]
    got = {"model_name": data.model_name, "task_type": r.task_type, "dataset_type": r.dataset_type,
           "dataset_name": r.dataset_name, "dataset_split": r.dataset_split, "metric_type": r.metric_type}
    want = {"model_name": args["model_name"], "task_type": "text-classification", "dataset_type": args["dataset_id"],
            "dataset_name": args["dataset_id"], "dataset_split": "validation", "metric_type": "accuracy"}
    expect.equal(got, want, f"{where}: evaluation result")
    expect.true(isinstance(r.metric_value, (int, float)) and abs(r.metric_value - args["accuracy"]) < 1e-9,
                f"{where}: the accuracy in model-index is not the value given",
                likely=("give the accuracy as it is, a fraction such as 0.91, not a percentage",
                        "按原样给出准确率，即 0.91 这样的小数，而不是百分数"))


@pytest.mark.grade(points=3, visibility="visible",
                   hint="ModelCardData(license=license, language=language, datasets=[dataset_id], metrics=[\"accuracy\"], ...), then ModelCard.from_template(card_data, model_description=description).",
                   hint_zh="ModelCardData(license=license, language=language, datasets=[dataset_id], metrics=[\"accuracy\"], ...)，再 ModelCard.from_template(card_data, model_description=description)。")
def test_card_metadata(student, rng):
    args = _args(rng)
    content = _content(student, args)
    expect.true(content.startswith("---\n"), "the card must start with its YAML metadata block (---)",
                likely=("build the card from ModelCardData, not from plain text", "用 ModelCardData 生成卡片，而不是纯文本"))
    meta = _data(content).to_dict()
    got = {k: meta.get(k) for k in ("license", "language", "datasets", "metrics")}
    want = {"license": args["license"], "language": args["language"], "datasets": [args["dataset_id"]], "metrics": ["accuracy"]}
    expect.equal(got, want, "card metadata",
                 likely=("datasets and metrics are lists: datasets=[dataset_id], metrics=[\"accuracy\"]",
                         "datasets 和 metrics 是列表：datasets=[dataset_id]、metrics=[\"accuracy\"]"))


@pytest.mark.grade(points=3, hint="EvalResult(task_type=\"text-classification\", dataset_type=dataset_id, dataset_name=dataset_id, dataset_split=\"validation\", metric_type=\"accuracy\", metric_value=accuracy).",
                   hint_zh="EvalResult(task_type=\"text-classification\", dataset_type=dataset_id, dataset_name=dataset_id, dataset_split=\"validation\", metric_type=\"accuracy\", metric_value=accuracy)。")
def test_card_eval_result(student, rng):
    args = _args(rng)
    _check_eval(_data(_content(student, args)), args, "build_card")


@pytest.mark.grade(points=1, hint="ModelCard.from_template(card_data, model_description=description) fills the default template's sections.",
                   hint_zh="ModelCard.from_template(card_data, model_description=description) 会填好默认模板的各个小节。")
def test_card_text(student, reference, rng):
    args = _args(rng)
    content = _content(student, args)
    body = content.split("---", 2)[-1]
    for heading in ("## Model Details", "## Uses", "## Evaluation"):
        expect.true(heading in body, f"the card text has no {heading!r} section",
                    likely=("use ModelCard.from_template, which writes the standard sections", "使用 ModelCard.from_template，它会写出标准的各个小节"))
    expect.true(args["description"] in body, "the description is not in the card text",
                likely=("pass model_description=description to from_template", "给 from_template 传 model_description=description"))
    want = reference.call("build_card", kwargs=args, probe="ch4:card")["content"]
    expect.equal(body, want.split("---", 2)[-1], "card text (reference)")


@pytest.mark.grade(points=3, visibility="visible",
                   hint="HfApi(endpoint=endpoint, token=token): create_repo(repo_id, exist_ok=True), then upload_file(path_or_fileobj=content.encode(), path_in_repo=\"README.md\", repo_id=repo_id, commit_message=message).",
                   hint_zh="HfApi(endpoint=endpoint, token=token)：先 create_repo(repo_id, exist_ok=True)，再 upload_file(path_or_fileobj=content.encode(), path_in_repo=\"README.md\", repo_id=repo_id, commit_message=message)。")
def test_push_card(student, fx, rng):
    from huggingface_hub import EvalResult, ModelCard, ModelCardData

    args, svc = _args(rng), _hub(student, fx)
    repo, message = f"student/card-{rng.randrange(16 ** 6):06x}", rng.choice(MESSAGES)
    result = EvalResult(task_type="text-classification", dataset_type=args["dataset_id"], dataset_name=args["dataset_id"],
                        dataset_split="validation", metric_type="accuracy", metric_value=args["accuracy"])
    content = str(ModelCard.from_template(ModelCardData(model_name=args["model_name"], license=args["license"],
                                                        eval_results=[result]), model_description=args["description"]))
    oid = student.push_card(content, svc, TOKEN, repo, message)
    state_dir = student.collect(svc)
    with expect.reply("the Hub's records"):
        state = hub.repo_state(state_dir, repo)
    expect.true(state is not None, f"the repo {repo} was not created",
                likely=("create it first: api.create_repo(repo_id, exist_ok=True)", "先创建仓库：api.create_repo(repo_id, exist_ok=True)"))
    with expect.reply("the Hub's records"):
        blob = hub.files_at(state_dir, repo).get("README.md")
    expect.true(blob is not None, "README.md is missing from the repo",
                likely=("the card must be uploaded as path_in_repo=\"README.md\"", "卡片必须以 path_in_repo=\"README.md\" 上传"))
    with expect.reply("the Hub's records"):
        card = hub.read_file(state_dir, blob).decode("utf-8")
    expect.equal(card, content, "README.md on the Hub")
    expect.equal(state["commits"][state["refs"]["main"]]["summary"], message, "commit message",
                 likely=("pass commit_message=message to upload_file", "给 upload_file 传 commit_message=message"))
    expect.equal(oid, state["refs"]["main"], "returned commit id",
                 likely=("return the .oid of the CommitInfo that upload_file returns", "返回 upload_file 所返回的 CommitInfo 的 .oid"))
    expect.true(any(e["path"] == "/api/validate-yaml" for e in hub.read_log(state_dir)),
                "the card's metadata was not validated by the Hub before the commit",
                likely=("upload README.md with the huggingface_hub client", "用 huggingface_hub 客户端上传 README.md"))


@pytest.mark.grade(points=2, hint="Push the card of build_card to the existing repo: create_repo(..., exist_ok=True) must not fail when the repo is there.",
                   hint_zh="把 build_card 生成的卡片推送到已有的仓库：仓库已存在时 create_repo(..., exist_ok=True) 不能报错。")
def test_pushed_card_metadata(student, fx, rng):
    args, svc = _args(rng), _hub(student, fx)
    student.push_card(_content(student, args), svc, TOKEN, SEEDED, rng.choice(MESSAGES))
    state_dir = student.collect(svc)
    with expect.reply("the Hub's records"):
        files = hub.files_at(state_dir, SEEDED)
    expect.true("README.md" in files, f"README.md is missing from {SEEDED}")
    expect.true(all(name in files for name in ("config.json", "model.safetensors", "tokenizer.json")),
                f"the model files of {SEEDED} are gone: upload the README only")
    with expect.reply("the Hub's records"):
        text = hub.read_file(state_dir, files["README.md"]).decode("utf-8")
    data = _data(text)
    expect.equal(data.license, args["license"], "license in the pushed card")
    _check_eval(data, args, "the pushed card")
