"""The two SSEModel accessors the app uses instead of the torch module: DyT parameters and token table rows."""

import numpy as np
import pytest
import torch

import sse_demo


@pytest.fixture(scope="module")
def q4_model(q4_dir):
    return sse_demo.load_model(q4_dir)


def test_dyt_parameters_are_the_modules_as_float32_numpy(model, weights):
    alpha, beta, bias = model.dyt_parameters()
    for got, name in ((alpha, "alpha"), (beta, "beta"), (bias, "bias")):
        assert got.dtype == np.float32 and got.shape == (model.dim,)
        np.testing.assert_array_equal(got, weights[name])


def test_token_vectors_are_the_table_rows(model, weights):
    ids = [5, 0, 5, 17]
    np.testing.assert_array_equal(model.token_vectors(ids), weights["embedding"][ids])
    assert model.token_vectors([]).shape == (0, model.dim)


def test_token_vectors_of_a_4bit_model_are_its_dequantised_rows(q4_model):
    ids = np.array([3, 1, 3])
    table = q4_model.module.float_table().numpy()  # the whole table dequantised: what the rows must equal
    np.testing.assert_array_equal(q4_model.token_vectors(ids), table[ids])


@pytest.mark.parametrize("bad", [[-1], [10**6]])
def test_token_vectors_refuse_ids_outside_the_vocabulary(model, bad):
    with pytest.raises(ValueError, match=r"token ids must lie in 0\.\."):
        model.token_vectors(bad)


def test_memory_bytes_counts_the_packed_table_for_4bit(model, q4_model):
    assert model.memory_bytes == (model.vocab_size + 3) * model.dim * 4
    packed = q4_model.module.embedding
    expected = packed.packed.numel() + packed.scales.numel() * 4 + 3 * q4_model.dim * 4
    assert q4_model.memory_bytes == expected
    assert isinstance(packed.packed, torch.Tensor)
