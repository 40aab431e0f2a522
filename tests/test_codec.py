"""The grader/worker boundary carries plain data only."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from hfcourse.sandbox import codec


def roundtrip(value, scratch=None):
    header, blob = codec.encode(value)
    return codec.decode(header, blob, scratch=scratch)


def test_plain_values_roundtrip():
    value = {"a": [1, 2.5, "x", None, True], "b": (1, (2, 3)), "c": b"\x00\xff", "d": {"nested": []}}
    assert roundtrip(value) == value


def test_non_finite_floats_are_tagged():
    got = roundtrip([float("nan"), float("inf"), -float("inf")])
    assert math.isnan(got[0]) and got[1] == math.inf and got[2] == -math.inf


def test_tensors_and_arrays_keep_type_dtype_and_values():
    t = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    a = np.arange(6, dtype=np.int64).reshape(2, 3)
    got = roundtrip({"t": t, "a": a, "b": torch.tensor([True, False])})
    assert type(got["t"]) is torch.Tensor and torch.equal(got["t"], t)
    assert isinstance(got["a"], np.ndarray) and got["a"].dtype == np.int64 and (got["a"] == a).all()
    assert got["b"].dtype == torch.bool


def test_tensor_subclass_arrives_as_plain_tensor():
    class Liar(torch.Tensor):
        def __eq__(self, other):
            return True

    got = roundtrip(torch.zeros(3).as_subclass(Liar))
    assert type(got) is torch.Tensor


def test_batch_encoding_becomes_a_dict():
    from transformers import BatchEncoding

    got = roundtrip(BatchEncoding({"input_ids": [[1, 2]]}))
    assert got == {"input_ids": [[1, 2]]} and type(got) is dict


@pytest.mark.parametrize("value", [object(), {1: "int key"}, np.array(["a"], dtype=object), lambda: 0, {1, 2}])
def test_unsupported_values_are_refused(value):
    with pytest.raises(codec.CodecError) as err:
        codec.encode(value)
    assert err.value.category == "UNSUPPORTED_TYPE"


def test_huge_integers_and_text_are_refused():
    with pytest.raises(codec.CodecError) as err:
        codec.encode(10 ** 200)
    assert err.value.category == "BAD_OUTPUT"
    with pytest.raises(codec.CodecError) as err:
        codec.encode("x" * 100, codec.Limits(header_bytes=50))
    assert err.value.category == "RESULT_TOO_BIG"


@pytest.mark.parametrize("header", [b"NaN", b'{"$evil": 1}', b"[1,", b'{"a": 1, "b": 2}', b"1" * 200])
def test_malformed_headers_are_bad_output(header):
    with pytest.raises(codec.CodecError) as err:
        codec.decode(header, b"")
    assert err.value.category == "BAD_OUTPUT"


def test_corrupt_tensor_blob_is_bad_output():
    with pytest.raises(codec.CodecError) as err:
        codec.decode(b'{"$tensor": "t0"}', b"\xff" * 64)
    assert err.value.category == "BAD_OUTPUT"


def test_paths_stay_inside_scratch(tmp_path):
    assert codec.decode(b'{"$path": "out/model"}', b"", scratch=tmp_path) == (tmp_path / "out/model").resolve()
    with pytest.raises(codec.CodecError):
        codec.decode(b'{"$path": "../../etc/passwd"}', b"", scratch=tmp_path)


def test_fixture_refs_carry_their_training_mode_dropout():
    ref = codec.Ref("tiny-sst2", "/fixtures/tiny-sst2", fresh=True, dropout=0.5)
    assert roundtrip(ref) == ref
    assert roundtrip(codec.Ref("tiny-sst2", "/fixtures/tiny-sst2")).dropout is None
    for bad in (b'1.5', b'"0.1"', b'-0.1'):
        with pytest.raises(codec.CodecError) as err:
            codec.decode(b'{"$ref": {"fixture": "m", "directory": "/m", "dropout": ' + bad + b'}}', b"")
        assert "dropout" in str(err.value)
