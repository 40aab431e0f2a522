"""Mutation operators, mutant generation and ``hfcourse mutants``."""

from __future__ import annotations

import json
import textwrap

import pytest

from hfcourse import manifest
from hfcourse.mutate import OPERATORS, generate, regions, select
from hfcourse.mutate import runner
from helpers import ROOT, run_cli, run_grade

COURSE = manifest.load(ROOT / "course.toml")


def _module(body: str) -> str:
    """``body`` as the solution region of a function, with code outside the region around it."""
    inner = textwrap.indent(textwrap.dedent(body).strip("\n"), "    ")
    return ("import torch\n\nOUTSIDE = torch.softmax(torch.ones(2), dim=-1)[1:]\n\n\n"
            "def f(model, tokenizer, x, a, b, n, labels, logits, ds, inputs):\n"
            "    before = torch.softmax(x, dim=-1)[1:]\n"
            "    # BEGIN SOLUTION\n"
            f"{inner}\n"
            "    # END SOLUTION\n")


def _mutated(body: str, operator: str) -> list[str]:
    """The changed region (dedented, stripped) of every mutant ``operator`` makes of ``body``."""
    text = _module(body)
    out = []
    for m in generate(text, section="9.9", file="solutions/ch9/s9_x.py", operators=[operator]):
        assert m.operator == operator
        compile(m.source, m.file, "exec")
        head, tail = m.source.split("# BEGIN SOLUTION\n")[1], "    # END SOLUTION"
        out.append(textwrap.dedent(head.split(tail)[0]).strip())
    return out


@pytest.mark.parametrize("operator, body, expected", [
    ("dim", "return torch.softmax(logits, dim=-1)", ["return torch.softmax(logits, dim=0)"]),
    ("dim", "return logits.argmax(-1)", ["return logits.argmax(0)"]),
    ("dim", "return torch.log_softmax(logits, -1)", ["return torch.log_softmax(logits, 0)"]),
    ("dim", "return x.mean(dim=0)", ["return x.mean(dim=-1)"]),
    ("attention-mask", "return model(input_ids=x, attention_mask=a).logits", ["return model(input_ids=x).logits"]),
    ("attention-mask", "return model(**inputs).logits", ['return model(inputs["input_ids"]).logits']),
    ("attention-mask", "return dict(**inputs)", []),
    ("flag", "return tokenizer(x, padding=True)", ["return tokenizer(x, padding=False)"]),
    ("flag", 'return tokenizer(x, padding="max_length", truncation=True)',
     ['return tokenizer(x, padding=False, truncation=True)', 'return tokenizer(x, padding="max_length", truncation=False)']),
    ("flag", "return ds.map(a, batched=True)", ["return ds.map(a, batched=False)"]),
    ("flag", "return tokenizer(x, padding=False)", []),
    ("label-shift", "return labels[..., 1:]", ["return labels[..., :]"]),
    ("label-shift", "return logits[:, :-1, :]", ["return logits[:, :, :]"]),
    ("ignore-index", "return torch.where(a, labels, -100)", ["return torch.where(a, labels, 0)"]),
    ("ignore-index", "return torch.nn.CrossEntropyLoss(ignore_index=-100)", ["return torch.nn.CrossEntropyLoss()", "return torch.nn.CrossEntropyLoss(ignore_index=0)"]),
    ("no-eval", "model.eval()\nreturn model(x)", ["pass\nreturn model(x)"]),
    ("no-grad", "with torch.no_grad():\n    y = model(x)\n    y = y + 1\nreturn y", ["y = model(x)\ny = y + 1\nreturn y"]),
    ("no-grad", "with torch.inference_mode(), open(n) as fh:\n    return fh", ["with open(n) as fh:\n    return fh"]),
    ("unseeded", "return ds.shuffle(seed=a)", ["return ds.shuffle()"]),
    ("unseeded", "torch.manual_seed(n)\nreturn a", ["pass\nreturn a"]),
    ("compare", "return a < b, a >= b", ["return a <= b, a >= b", "return a < b, a > b"]),
    ("swap-args", "return torch.cat(a, b, n)", ["return torch.cat(b, a, n)", "return torch.cat(a, n, b)"]),
    ("swap-args", "return tokenizer(a, a)", []),
    ("return-swap", "return a, b", ["return b, a"]),
    ("slice-bound", "return x[:n]", ["return x[:n + 1]", "return x[:n - 1]"]),
    ("slice-bound", "return x[2:]", ["return x[3:]", "return x[1:]"]),
    ("constant", "return x[0], True", ["return x[1], True", "return x[0], False"]),
    ("constant", "return x.sum(dim=-1)", []),
])
def test_operator_makes_the_expected_mutation(operator, body, expected):
    assert _mutated(body, operator) == expected


def test_mutations_stay_inside_solution_regions():
    text = _module("return x")
    assert regions(text) == [(9, 9)]
    for name in OPERATORS:
        for m in generate(text, section="9.9", file="s.py", operators=[name]):
            assert m.line == 9, (name, m.line, m.mutated)
    assert generate(text, section="9.9", file="s.py") == [], "OUTSIDE and `before` hold softmax, slices and -1 dims"


def test_every_real_solution_mutant_compiles_and_is_recorded_with_its_line():
    section = COURSE.section("2.2")
    text = (ROOT / "solutions" / section.module).read_text(encoding="utf-8")
    made = generate(text, section="2.2", file=f"solutions/{section.module}")
    assert {"dim", "attention-mask", "flag", "no-grad"} <= {m.operator for m in made}
    spans = regions(text)
    lines = text.splitlines()
    for m in made:
        compile(m.source, m.file, "exec")
        assert any(a <= m.line <= b for a, b in spans)
        assert lines[m.line - 1].strip() == m.original
        assert m.source != text and m.mutated in m.source


def test_duplicates_and_unchanged_mutants_are_dropped():
    made = generate(_module("return tokenizer(x, padding=True)"), section="9.9", file="s.py", operators=["flag", "constant"])
    assert [(m.operator, m.mutated) for m in made] == [("flag", "return tokenizer(x, padding=False)")]


def test_byte_offsets_follow_non_ascii_text():
    assert _mutated('return ("中文标签", x[:n])', "slice-bound") == ['return ("中文标签", x[:n + 1])', 'return ("中文标签", x[:n - 1])']


def test_unknown_operator_is_named():
    with pytest.raises(ValueError, match="no-such-op"):
        generate(_module("return x"), section="9.9", file="s.py", operators=["no-such-op"])


def test_select_takes_operators_in_turn():
    made = generate(_module("y = torch.softmax(x, dim=-1)\nz = tokenizer(a, padding=True, truncation=True)\nreturn y[0], z[1]"),
                    section="9.9", file="s.py")
    assert [m.operator for m in made] == ["dim", "flag", "flag", "return-swap", "constant", "constant"]
    assert [m.operator for m in select(made, 3)] == ["dim", "flag", "return-swap"]
    assert [m.operator for m in select(made, 5)] == ["dim", "flag", "return-swap", "constant", "flag"]
    assert select(made, None) == made and select(made, 0) == []


def test_curated_mutants_and_rounds():
    per_section = runner.candidates(COURSE, [COURSE.section("2.2"), COURSE.section("2.4")], limit=2)
    curated = [m for m in per_section["2.2"] if m.operator == "curated"]
    assert len(curated) >= 3 and all(m.name and m.line > 0 for m in curated)
    assert sum(m.operator != "curated" for m in per_section["2.2"]) == 2
    batches = runner.rounds(per_section)
    assert len(batches) == max(map(len, per_section.values()))
    for batch in batches:
        assert len({m.section for m in batch}) == len(batch)
    assert sorted(m.id for b in batches for m in b) == sorted(m.id for v in per_section.values() for m in v)


def test_a_grading_run_over_its_limit_counts_as_timeout():
    mutant = runner.candidates(COURSE, [COURSE.section("2.4")], limit=1, with_curated=False)["2.4"]
    outcomes = runner.grade_round(mutant, COURSE, timeout=0.5, seed=1)
    assert [o.status for o in outcomes] == ["timeout"]
    assert "0.5 s" in outcomes[0].detail


def test_mutants_list_and_bad_options():
    proc = run_cli("mutants", "2.2", "--limit", "2", "--list", "--no-curated")
    assert proc.returncode == 0, proc.stderr
    assert "2 mutant(s) of 1 section(s) in 2 grading run(s)" in proc.stdout
    source = (ROOT / "solutions" / "ch2" / "s2_behind_the_pipeline.py").read_text().splitlines()
    first_dim = next(i for i, line in enumerate(source, 1) if "dim=" in line)
    assert f"solutions/ch2/s2_behind_the_pipeline.py:{first_dim}  dim" in proc.stdout
    proc = run_cli("mutants", "9.9", "--list")
    assert proc.returncode == 2 and "9.9" in proc.stderr


@pytest.mark.slow
def test_mutants_end_to_end(tmp_path):
    out = tmp_path / "mutation.json"
    proc = run_cli("mutants", "2.2", "--limit", "4", "--no-curated", "--out", str(out), timeout=1800)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(out.read_text())
    (section,) = report["sections"]
    assert section["section"] == "2.2"
    graded = [m for m in report["mutants"] if m["status"] != "error"]
    assert len(report["mutants"]) == 4 and len(graded) == section["total"] == report["total"]
    killed = [m for m in graded if m["status"] in ("killed", "timeout")]
    assert section["killed"] == len(killed) == report["killed"]
    assert all(m["failed"] for m in graded if m["status"] == "killed")
    assert all(not m["failed"] for m in graded if m["status"] == "survived")
    assert [m["line"] for m in section["survivors"]] == [m["line"] for m in graded if m["status"] == "survived"]
    assert section["score"] == round(100 * len(killed) / len(graded), 1)
    assert "2.2" in proc.stdout and f"{section['score']:.1f}%" in proc.stdout
    # The softmax over the batch is caught; grading that mutant on its own agrees with the report.
    dim = next(m for m in report["mutants"] if m["operator"] == "dim")
    assert dim["status"] == "killed"
    mutant = next(m for m in runner.candidates(COURSE, [COURSE.section("2.2")], limit=4, with_curated=False)["2.2"]
                  if m.operator == "dim")
    sub = tmp_path / "sub" / COURSE.section("2.2").module
    sub.parent.mkdir(parents=True)
    sub.write_text(mutant.source)
    proc, graded_report = run_grade("--target", str(tmp_path / "sub"), "--sections", "2.2", "--seed", str(report["seed"]))
    failed = sorted(f"{t['name']} [{t['category']}]" for t in graded_report["tests"] if t["status"] != "passed")
    assert failed == sorted(dim["failed"])
