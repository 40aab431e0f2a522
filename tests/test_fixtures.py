"""Tests of the fixture system: recipes, keys, cache, chapter 2 builders, text generators."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import stat
import subprocess
import sys
import textwrap
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

from hfcourse import fixtures
from hfcourse.fixtures import _lexicon, text

REPO = Path(__file__).resolve().parents[1]
SRC = Path(fixtures.__file__).resolve().parents[2]
CHAPTER2 = ["sst2-like", "wordpiece-uncased", "tiny-bert", "tiny-sst2"]
OBVIOUS = [("I love this movie", "POSITIVE"), ("This film was terrible", "NEGATIVE")]


def make_course(where: Path) -> Path:
    """A throwaway course root: an empty course.toml and a copy of fixtures/."""
    where.mkdir(parents=True, exist_ok=True)
    shutil.copytree(REPO / "fixtures", where / "fixtures")
    (where / "course.toml").write_text("")
    return where


def use(mp: pytest.MonkeyPatch, root: Path, cache: Path) -> None:
    mp.setenv("HFCOURSE_ROOT", str(root))
    mp.setenv("HFCOURSE_CACHE", str(cache))


@dataclass
class Built:
    root: Path
    cache: Path
    paths: dict[str, Path]
    lines: list[str]


slow = pytest.mark.slow


@pytest.fixture(scope="session")
def course_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_course(tmp_path_factory.mktemp("course"))


@pytest.fixture
def course(course_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The copied course with an empty cache: for tests that build nothing."""
    use(monkeypatch, course_copy, tmp_path / "empty-cache")
    return course_copy


@pytest.fixture(scope="session")
def built(course_copy: Path, tmp_path_factory: pytest.TempPathFactory) -> Built:
    root = course_copy
    cache = tmp_path_factory.mktemp("cache")
    lines: list[str] = []
    with pytest.MonkeyPatch.context() as mp:
        use(mp, root, cache)
        paths = fixtures.build(CHAPTER2, progress=lines.append)
    return Built(root, cache, paths, lines)


@pytest.fixture
def env(built: Built, monkeypatch: pytest.MonkeyPatch) -> Built:
    use(monkeypatch, built.root, built.cache)
    return built


def subprocess_env(**extra: str) -> dict[str, str]:
    e = dict(os.environ, **extra)
    e["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")]))
    return e


def test_import_does_not_pull_in_heavy_libraries() -> None:
    code = (
        "import sys, hfcourse.fixtures; "
        "print(sorted({'torch', 'transformers', 'datasets'} & set(sys.modules)))"
    )
    run = [sys.executable, "-c", code]
    out = subprocess.run(run, env=subprocess_env(), capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_names_follow_the_recipe_file(course: Path) -> None:
    names = []
    for path in sorted((course / "fixtures" / "recipes").glob("*.toml")):
        with open(path, "rb") as fh:
            names += list(tomllib.load(fh))
    assert fixtures.names() == names
    assert [n for n in fixtures.names() if n in CHAPTER2] == CHAPTER2


def test_key_is_stable_and_follows_recipe_changes(
    course: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = {n: fixtures.key(n) for n in CHAPTER2}
    assert before == {n: fixtures.key(n) for n in CHAPTER2}
    assert all(re.fullmatch(r"[0-9a-f]{16}", k) for k in before.values())
    assert len(set(before.values())) == len(before)

    other = make_course(tmp_path / "course")
    recipes = other / "fixtures" / "recipes" / "ch2.toml"
    recipes.write_text(recipes.read_text().replace("train = 2000", "train = 1999", 1))
    monkeypatch.setenv("HFCOURSE_ROOT", str(other))
    after = {n: fixtures.key(n) for n in CHAPTER2}
    assert after["sst2-like"] != before["sst2-like"]
    assert after["tiny-sst2"] != before["tiny-sst2"], "a dependency's key is part of the key"
    assert after["wordpiece-uncased"] == before["wordpiece-uncased"]
    assert after["tiny-bert"] == before["tiny-bert"]

    data = other / "fixtures" / "data" / "extra.txt"
    data.parent.mkdir(exist_ok=True)
    data.write_text("one\n")
    text_before = recipes.read_text()
    line = 'kind = "wordpiece_tokenizer"'
    recipes.write_text(text_before.replace(line, line + '\nfiles = { extra = "data/extra.txt" }'))
    with_file = fixtures.key("wordpiece-uncased")
    assert with_file != after["wordpiece-uncased"]
    data.write_text("one two\n")
    assert fixtures.key("wordpiece-uncased") != with_file
    assert fixtures.key("tiny-bert") != after["tiny-bert"]


@slow
def test_cold_build_makes_every_chapter2_fixture(env: Built) -> None:
    assert list(env.paths) == [n for n in fixtures.names() if n in env.paths]
    for name in CHAPTER2:
        d = env.paths[name]
        assert d == env.cache / "fixtures" / name / fixtures.key(name)
        meta = json.loads((d / "fixture.json").read_text())
        assert (meta["name"], meta["key"]) == (name, fixtures.key(name))
        assert meta["build_seconds"] >= 0
        assert fixtures.info(name) == meta
        for p in [d, *d.rglob("*")]:
            mode = p.stat().st_mode
            wanted = stat.S_IROTH | (stat.S_IXOTH if p.is_dir() else 0)
            assert mode & wanted == wanted, f"{p} is not world-readable"
    leftovers = [p for p in (env.cache / "fixtures").rglob(".*") if p.is_dir()]
    assert leftovers == [], "temporary dirs left behind"
    assert "building tiny-sst2 (4/4)…" in env.lines
    assert any(re.fullmatch(r"tiny-sst2 built in [0-9.]+ s", line) for line in env.lines)
    assert any("epoch" in line and "loss" in line and "accuracy" in line for line in env.lines)


@slow
def test_warm_path_and_build_do_not_rebuild(env: Built) -> None:
    stamps = {n: (env.paths[n] / "fixture.json").stat().st_mtime_ns for n in CHAPTER2}
    lines: list[str] = []
    assert fixtures.path("tiny-sst2", progress=lines.append) == env.paths["tiny-sst2"]
    assert fixtures.build(CHAPTER2, progress=lines.append) == {n: env.paths[n] for n in CHAPTER2}
    assert lines == []
    assert stamps == {n: (env.paths[n] / "fixture.json").stat().st_mtime_ns for n in CHAPTER2}


@slow
def test_status_reports_the_cache(
    env: Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = {row["name"]: row for row in fixtures.status()}
    for name in CHAPTER2:
        assert rows[name]["built"] is True
        assert rows[name]["path"] == env.paths[name]
        assert rows[name]["key"] == fixtures.key(name)
    monkeypatch.setenv("HFCOURSE_CACHE", str(tmp_path / "empty"))
    assert not any(row["built"] for row in fixtures.status())


def test_path_without_build_tells_how_to_build(course: Path) -> None:
    with pytest.raises(FileNotFoundError, match="hfcourse fixtures build"):
        fixtures.path("tiny-sst2", build=False)
    with pytest.raises(KeyError, match="no-such-fixture"):
        fixtures.path("no-such-fixture")


def test_failed_build_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_course(tmp_path / "course")
    for extra in (root / "fixtures" / "recipes").glob("*.toml"):
        extra.unlink()
    recipes = root / "fixtures" / "recipes" / "broken.toml"
    recipes.write_text('[broken]\nkind = "sentiment_dataset"\nseed = 1\n')
    cache = tmp_path / "cache"
    use(monkeypatch, root, cache)
    with pytest.raises(KeyError):
        fixtures.build(progress=lambda line: None)
    left = [p.name for p in (cache / "fixtures" / "broken").iterdir() if p.is_dir()]
    assert left == []
    recipes.write_text('[odd]\nkind = "no_such_kind"\n')
    with pytest.raises(ValueError, match="no_such_kind"):
        fixtures.build(progress=lambda line: None)


@slow
def test_load_returns_the_right_classes(env: Built) -> None:
    import datasets
    import torch
    import transformers

    from hfcourse.sandbox.adapters import load_fixture

    tok = fixtures.load("wordpiece-uncased")
    assert isinstance(tok, transformers.PreTrainedTokenizerBase) and tok.is_fast
    bert = fixtures.load("tiny-bert")
    assert type(bert) is transformers.BertModel and not bert.training
    clf = fixtures.load("tiny-sst2")
    assert type(clf) is transformers.BertForSequenceClassification and not clf.training
    assert clf.config.id2label == {0: "NEGATIVE", 1: "POSITIVE"}
    assert clf.config.label2id == {"NEGATIVE": 0, "POSITIVE": 1}
    assert isinstance(fixtures.load("sst2-like"), datasets.DatasetDict)
    trained = load_fixture(env.paths["tiny-sst2"], dropout=0.3)
    assert trained.training and all(m.training for m in trained.modules())
    rates = {m.p for m in trained.modules() if isinstance(m, torch.nn.Dropout)}
    assert rates == {0.3}, rates
    with pytest.raises(TypeError, match="model fixture"):
        load_fixture(env.paths["wordpiece-uncased"], dropout=0.3)
    for name in ("tiny-bert", "tiny-sst2"):
        assert (env.paths[name] / "model.safetensors").is_file()
        same_dir_tok = transformers.AutoTokenizer.from_pretrained(str(env.paths[name]))
        assert same_dir_tok.get_vocab() == tok.get_vocab()
        assert fixtures.load(name).config.vocab_size == len(tok)


@slow
def test_sst2_like_schema(env: Built) -> None:
    import datasets

    ds = fixtures.load("sst2-like")
    assert set(ds) == {"train", "validation", "test"}
    assert (len(ds["train"]), len(ds["validation"]), len(ds["test"])) == (2000, 300, 300)
    features = ds["train"].features
    assert features["sentence"] == datasets.Value("string")
    assert features["label"] == datasets.ClassLabel(names=["negative", "positive"])
    assert features["idx"] == datasets.Value("int32")
    train = ds["train"][:]
    assert train["idx"] == list(range(2000))
    assert 0.35 < sum(train["label"]) / 2000 < 0.65
    lengths = [len(s.split()) for s in train["sentence"]]
    assert min(lengths) >= 3 and max(lengths) <= 21 and len(set(lengths)) > 10
    assert any(s[0].isupper() for s in train["sentence"])
    assert any(s[-1] in ".!" for s in train["sentence"])
    everything = [s.lower() for split in ds.values() for s in split["sentence"]]
    assert len(set(everything)) == len(everything), "splits overlap"


@slow
def test_tokenizer_behaves_like_bert(env: Built) -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(env.paths["wordpiece-uncased"]))
    assert 1000 <= len(tok) <= 2000
    specials = ["pad", "unk", "cls", "sep", "mask"]
    assert [getattr(tok, f"{s}_token_id") for s in specials] == [0, 1, 2, 3, 4]
    assert tok.model_max_length == 512
    enc = tok("hello world")
    assert tok.convert_ids_to_tokens(enc["input_ids"]) == ["[CLS]", "hello", "world", "[SEP]"]
    assert enc["token_type_ids"] == [0, 0, 0, 0]
    pair = tok("the plot was dull", "what a wonderful cast")
    types, ids = pair["token_type_ids"], pair["input_ids"]
    first_sep = ids.index(tok.sep_token_id)
    assert types == [0] * (first_sep + 1) + [1] * (len(ids) - first_sep - 1)
    assert ids[-1] == tok.sep_token_id
    assert tok.decode(enc["input_ids"], skip_special_tokens=True) == "hello world"
    assert tok.decode(tok("I LOVED This Film")["input_ids"]) == "[CLS] i loved this film [SEP]"
    pieces = tok.tokenize("photosynthesis")
    assert len(pieces) > 2 and all(p.startswith("##") for p in pieces[1:])
    texts = ["short", "a much longer sentence than the first one"]
    batch = tok(texts, padding=True, return_tensors="pt")
    assert batch["input_ids"][0, -1].item() == 0 and batch["attention_mask"][0, -1].item() == 0
    assert tok(["word " * 600], truncation=True)["input_ids"][0].__len__() == 512


@slow
def test_tiny_sst2_accuracy_measured_here(env: Built) -> None:
    import torch

    tok, model = fixtures.load("wordpiece-uncased"), fixtures.load("tiny-sst2")
    val = fixtures.load("sst2-like")["validation"][:]
    with torch.inference_mode():
        batch = tok(val["sentence"], padding=True, truncation=True, return_tensors="pt")
        pred = model(**batch).logits.argmax(-1)
    accuracy = (pred == torch.tensor(val["label"])).float().mean().item()
    assert accuracy >= 0.90
    assert abs(accuracy - fixtures.info("tiny-sst2")["metrics"]["validation_accuracy"]) < 1e-3
    sentences = [s for s, _ in OBVIOUS]
    with torch.inference_mode():
        logits = model(**tok(sentences, padding=True, return_tensors="pt")).logits
    assert [model.config.id2label[i] for i in logits.argmax(-1).tolist()] == [y for _, y in OBVIOUS]


@slow
def test_tiny_sst2_generalises_to_held_out_examples(env: Built) -> None:
    import torch

    tok, model = fixtures.load("wordpiece-uncased"), fixtures.load("tiny-sst2")
    examples = text.sentiment_examples(random.Random(1234), 300)
    with torch.inference_mode():
        logits = model(**tok([s for s, _ in examples], padding=True, return_tensors="pt")).logits
    accuracy = (logits.argmax(-1) == torch.tensor([y for _, y in examples])).float().mean().item()
    assert accuracy >= 0.9


def _logits(name: str, sentences: list[str]) -> "object":
    import torch

    tok, model = fixtures.load("wordpiece-uncased"), fixtures.load(name)
    with torch.inference_mode():
        out = model(**tok(sentences, padding=True, return_tensors="pt"))
    return out.logits if hasattr(out, "logits") else out.last_hidden_state


@slow
def test_rebuild_in_a_fresh_cache_is_identical(
    env: Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    sentences = ["I love this movie", "the plot was dull and boring", "Hello world!"]
    first = {n: _logits(n, sentences) for n in ("tiny-bert", "tiny-sst2")}
    monkeypatch.setenv("HFCOURSE_CACHE", str(tmp_path / "again"))
    again = fixtures.build(CHAPTER2, progress=lambda line: None)
    for name in ("tiny-bert", "tiny-sst2"):
        assert torch.equal(_logits(name, sentences), first[name]), name
    for rel in ("tokenizer.json", "model.safetensors", "config.json"):
        fresh, first_build = again["tiny-sst2"] / rel, env.paths["tiny-sst2"] / rel
        assert fresh.read_bytes() == first_build.read_bytes(), rel
    old = (again["sst2-like"] / "fixture.json").stat().st_mtime_ns
    lines: list[str] = []
    fixtures.build(["sst2-like"], force=True, progress=lines.append)
    assert lines[0] == "building sst2-like (1/1)…"
    assert (again["sst2-like"] / "fixture.json").stat().st_mtime_ns != old
    dirs = [p.name for p in again["sst2-like"].parent.iterdir() if p.is_dir()]
    assert dirs == [again["sst2-like"].name]


_RACER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import datasets, tokenizers, transformers
    from hfcourse import fixtures
    go = Path(sys.argv[1])
    (go.parent / ("ready-" + sys.argv[2])).touch()
    while not go.exists():
        time.sleep(0.005)
    fixtures.build(["sst2-like", "wordpiece-uncased"])
    """
)


@slow
def test_concurrent_builds_share_one_directory(env: Built, tmp_path: Path) -> None:
    cache, go = tmp_path / "cache", tmp_path / "go"
    e = subprocess_env(HFCOURSE_ROOT=str(env.root), HFCOURSE_CACHE=str(cache))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _RACER, str(go), str(i)],
            env=e,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    def ready() -> bool:
        marks = [tmp_path / f"ready-{i}" for i in range(len(procs))]
        return all(m.exists() or p.poll() is not None for m, p in zip(marks, procs))

    while not ready():
        pass
    go.touch()
    errs = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errs
    log = "".join(errs)
    for name in ("sst2-like", "wordpiece-uncased"):
        assert log.count(f"building {name} ") == 1, log
        entries = [p.name for p in (cache / "fixtures" / name).iterdir() if p.is_dir()]
        assert entries == [env.paths[name].name]


def test_sample_sentences_vary_and_repeat() -> None:
    a = text.sample_sentences(random.Random(7), 200)
    assert a == text.sample_sentences(random.Random(7), 200)
    assert a != text.sample_sentences(random.Random(8), 200)
    lengths = [len(s.split()) for s in a]
    assert min(lengths) >= 2 and max(lengths) <= 24 and len(set(lengths)) >= 15
    assert any(re.search(r"\d", s) for s in a)
    assert any(s[:1].isupper() for s in a) and any(s[-1] in ".!?" for s in a)
    assert any(w.strip(".,!?").lower() in _lexicon.RARE for s in a for w in s.split())
    short = text.sample_sentences(random.Random(1), 50, min_words=3, max_words=5)
    assert all(3 <= len(s.split()) <= 5 for s in short)
    with pytest.raises(ValueError):
        text.sample_sentences(random.Random(1), 1, min_words=5, max_words=4)


@slow
def test_sentiment_examples_are_held_out(env: Built) -> None:
    examples = text.sentiment_examples(random.Random(3), 300)
    assert examples == text.sentiment_examples(random.Random(3), 300)
    assert {y for _, y in examples} == {0, 1}
    splits = fixtures.load("sst2-like").values()
    dataset = {s.lower() for split in splits for s in split["sentence"]}
    overlap = [s for s, _ in examples if s.lower() in dataset]
    assert len(overlap) <= 3, overlap


@slow
def test_a_build_trains_even_inside_no_grad(course: Path) -> None:
    """A fixture is built on first use; a grader that first loads one inside ``torch.no_grad()``
    or ``torch.inference_mode()`` must still get it trained (6.3's RuntimeError on a fresh cache:
    element 0 of tensors does not require grad)."""
    import torch

    with torch.no_grad(), torch.inference_mode():
        built = fixtures.build(["tiny-sst2"], progress=lambda line: None)
    assert (built["tiny-sst2"] / "model.safetensors").is_file()
    assert torch.is_grad_enabled()


def test_a_build_that_behaves_differently_is_an_error_naming_it(course: Path) -> None:
    """fixtures/digests.json records each fixture's files and outputs on probe inputs; a fresh
    build whose outputs differ is refused (nothing installed), one that agrees installs."""
    from hfcourse.fixtures import _digest

    recorded = _digest.load_record(REPO / "fixtures")
    assert {"wordpiece-uncased", "tiny-sst2", "ner-tiny-cased"} <= set(recorded)
    (course / "fixtures" / _digest.RECORD).write_text(json.dumps({"wordpiece-uncased": recorded["wordpiece-uncased"]}))
    built = fixtures.build(["wordpiece-uncased"], progress=lambda line: None)["wordpiece-uncased"]
    assert fixtures.check_digests(["wordpiece-uncased"]) == {"wordpiece-uncased": ""}
    wrong = json.loads(json.dumps(recorded["wordpiece-uncased"]))
    wrong["outputs"]["ids"][0][1] += 1
    (course / "fixtures" / _digest.RECORD).write_text(json.dumps({"wordpiece-uncased": wrong}))
    with pytest.raises(_digest.FixtureMismatch, match="fixture 'wordpiece-uncased' does not behave like the recorded"):
        fixtures.build(["wordpiece-uncased"], force=True, progress=lambda line: None)
    assert not list(built.parent.glob(".*tmp-*"))  # the refused build left nothing behind
    assert fixtures.check_digests(["wordpiece-uncased"])["wordpiece-uncased"].startswith("MISMATCH")
