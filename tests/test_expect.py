"""Failure messages of hfcourse.expect: compact diffs in both languages, likely mistakes,
and public (hidden-test) messages that hold no expected value."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from hfcourse import expect

CJK = re.compile(r"[\u4e00-\u9fff]")


def _failure(fn, *args, **kwargs) -> expect.GradeFailure:
    with pytest.raises(expect.GradeFailure) as info:
        fn(*args, **kwargs)
    return info.value


def _bilingual(en: str, zh: str) -> None:
    assert en and not CJK.search(en) and CJK.search(zh), (en, zh)


def test_passing_comparisons_raise_nothing():
    expect.equal([1, [2, "a"]], [1, [2, "a"]], "x")
    expect.close(torch.tensor([1.0, 2.0]), np.array([1.0, 2.0]), "x")
    expect.differs(torch.zeros(2), torch.ones(2), "x")
    assert expect.tensor(np.zeros((2, 3), dtype=np.float32), "x", shape=(2, 3)).shape == (2, 3)


def test_string_diff_shows_position_and_context_but_public_hides_the_expected_text():
    want = "the quick brown fox jumps over the SECRETWORD dog"
    got = "the quick brown fox jumps over the lazy dog"
    err = _failure(expect.equal, got, want, "caption")
    _bilingual(err.message, err.message_zh)
    assert "character 35" in err.message and "…" in err.message
    assert "SECRET" in err.message and "lazy" in err.message
    assert "SECRET" not in err.public + err.public_zh and "35" in err.public
    _bilingual(err.public, err.public_zh)


def test_string_case_and_whitespace_mistakes_are_named():
    assert "case" in _failure(expect.equal, "Hello World", "hello world", "s").likely
    assert "spaces" in _failure(expect.equal, "hello ", "hello", "s").likely
    err = _failure(expect.equal, "hello  world", "hello world", "s")
    assert "whitespace" in err.likely and CJK.search(err.likely_zh)


def test_caller_likely_wins_over_the_guess():
    err = _failure(expect.equal, "A", "a", "s", likely=("lower-case it", "转为小写"))
    assert (err.likely, err.likely_zh) == ("lower-case it", "转为小写")


def test_nested_list_diff_names_the_path_and_the_count():
    want = [[101, 7, 102], [101, 8, 102], [101, 9, 102]]
    got = [[101, 7, 102], [101, 8, 0], [101, 9, 0]]
    err = _failure(expect.equal, got, want, "input_ids")
    assert err.message.startswith("input_ids[1][2]: expected 102, got 0 (2 of 3 items differ)")
    assert err.public.startswith("input_ids[1][2]: wrong value (2 of 3 items differ)")
    assert "102" not in err.public + err.public_zh
    _bilingual(err.message, err.message_zh)


def test_list_length_diff_gives_both_lengths_and_first_difference():
    err = _failure(expect.equal, [1, 2, 3], [1, 5, 3, 4], "ids")
    assert "expected 4 items, got 3" in err.message and "index 1" in err.message
    assert "wrong number of items (3)" in err.public and "5" not in err.public + err.public_zh


@pytest.mark.parametrize("got, want, words", [
    ([3, 2, 1], [1, 2, 3], "reverse"),
    ([2, 1, 3], [1, 2, 3], "different order"),
    (["[CLS]", "a", "b"], ["a", "b"], "too many"),
    (["a"], ["a", "b"], "missing"),
])
def test_list_mistakes_are_named(got, want, words):
    err = _failure(expect.equal, got, want, "tokens")
    assert words in err.likely and CJK.search(err.likely_zh)


def test_dict_keys_and_values():
    err = _failure(expect.equal, {"a": 1, "c": 2}, {"a": 1, "b": 2}, "enc")
    assert "missing ['b']" in err.message and "unexpected ['c']" in err.message
    err = _failure(expect.equal, {"label": "x", "secret": "S3"}, {"label": "HIDDEN-y", "secret": "S3"}, "out")
    assert err.message.startswith("out['label']: strings differ at character 0")
    assert "HIDDEN" not in err.public + err.public_zh and "S3" not in err.public + err.public_zh


def test_type_mismatch_names_both_types():
    err = _failure(expect.equal, "3", 3, "count")
    assert "expected a int, got a str" in err.message
    _bilingual(err.public, err.public_zh)
    err = _failure(expect.equal, [1, (2, 3)], [1, [2, 3]], "pairs")
    assert err.message.startswith("pairs[1]: expected a list, got a tuple")


def test_tensor_diff_gives_shape_dtype_count_positions_and_max_diff():
    want = torch.zeros(4, 3)
    got = want.clone()
    got[1, 2] = 0.5
    got[3, 0] = -2.0
    err = _failure(expect.close, got, want, "logits")
    _bilingual(err.message, err.message_zh)
    assert "2 of 12 values differ" in err.message
    assert "shape (4, 3), dtype torch.float32" in err.message
    assert "(1, 2), (3, 0)" in err.message and "max abs diff 2" in err.message
    assert "expected 0, got 0.5" in err.message
    assert "only some rows differ" in err.likely
    assert "expected" not in err.public + err.public_zh and "max abs diff" not in err.public + err.public_zh
    assert "2 of 12 values differ" in err.public


def test_hidden_tensor_values_never_reach_the_public_message():
    want = torch.full((2, 2), 12345.678)
    err = _failure(expect.close, torch.zeros(2, 2), want, "values")
    assert "12345" in err.message and "12345" not in err.public + err.public_zh


def test_dtype_difference_is_shown():
    err = _failure(expect.close, torch.zeros(2, dtype=torch.float64), torch.ones(2), "x")
    assert "dtype torch.float64 (expected torch.float32)" in err.message


def test_logits_and_wrong_softmax_dimension_are_recognised():
    logits = torch.tensor([[2.0, -1.0], [0.5, 3.0], [1.0, 1.5]])
    probs = torch.softmax(logits, dim=-1)
    assert "logits" in _failure(expect.close, logits, probs, "p").likely
    assert "dim=-1" in _failure(expect.close, torch.softmax(logits, dim=0), probs, "p").likely


def test_shape_mistakes_are_named():
    assert "transposed" in _failure(expect.tensor, torch.zeros(3, 2), "x", shape=(2, 3)).likely
    assert "size 1" in _failure(expect.tensor, torch.zeros(1, 5), "x", shape=(5,)).likely
    err = _failure(expect.tensor, [1, 2], "x")
    assert "expected a tensor, got a list" in err.message and "torch" in err.likely


def test_nan_is_reported_with_a_count():
    err = _failure(expect.close, torch.tensor([1.0, float("nan"), float("inf")]), torch.ones(3), "x")
    assert "2 value(s) are NaN or infinity" in err.message


def test_differs_and_true():
    err = _failure(expect.differs, torch.ones(2), torch.ones(2), "padded logits")
    _bilingual(err.message, err.message_zh)
    err = _failure(expect.true, False, "no weight changed", ("call optimizer.step()", "调用 optimizer.step()"))
    assert err.message == err.public == "no weight changed" and err.likely_zh
