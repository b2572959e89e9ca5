"""Slow, obviously correct numpy references for the kernels."""

import numpy as np


def pack_haplotypes(alleles: np.ndarray) -> np.ndarray:
    """numpy.packbits with LSB-first bit order, rows padded to whole uint64 words."""
    n, s = alleles.shape
    nw = -(-s // 64)
    bytes_ = np.packbits(alleles.astype(np.uint8), axis=1, bitorder="little")
    out = np.zeros((n, nw * 8), dtype=np.uint8)
    out[:, : bytes_.shape[1]] = bytes_
    return out.view("<u8").astype(np.uint64).reshape(n, nw)


def pack_genotypes(dosages: np.ndarray) -> np.ndarray:
    """2-bit codes, 32 per word, code 3 = missing, written out call by call."""
    n, s = dosages.shape
    nw = -(-s // 32)
    out = np.zeros((n, nw), dtype=np.uint64)
    codes = np.where(dosages < 0, 3, dosages).astype(np.uint64)
    for j in range(s):
        out[:, j // 32] |= codes[:, j] << np.uint64(2 * (j % 32))
    return out


def hamming_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """All pairwise Hamming distances of two 0/1 arrays."""
    a = a.astype(np.int32)
    b = b.astype(np.int32)
    return (a.sum(1)[:, None] + b.sum(1)[None, :] - 2 * a @ b.T).astype(np.int64)


def top_k(d: np.ndarray, k: int, exclude_diagonal: bool = False):
    """k smallest per row, ties by lower index, from a full distance matrix."""
    d = d.astype(np.int64).copy()
    if exclude_diagonal:
        np.fill_diagonal(d, np.iinfo(np.int64).max)
    idx = np.argsort(d, axis=1, kind="stable")[:, :k]  # stable sort keeps lower index first on ties
    return np.take_along_axis(d, idx, axis=1), idx


def aats(real: np.ndarray, syn: np.ndarray, strict: bool = True):
    d_ts = hamming_matrix(real, syn)
    d_tt = hamming_matrix(real, real)
    d_ss = hamming_matrix(syn, syn)
    np.fill_diagonal(d_tt, 10**9)
    np.fill_diagonal(d_ss, 10**9)
    cmp = np.greater if strict else np.greater_equal
    aa_truth = cmp(d_ts.min(1), d_tt.min(1)).mean()
    aa_syn = cmp(d_ts.min(0), d_ss.min(1)).mean()
    return aa_truth, aa_syn, (aa_truth + aa_syn) / 2


def rewrite_checkpoint(src, dst, change=None, config=None):
    """Copy a checkpoint with its tensors changed by ``change(arrays)`` and/or its config replaced.

    ``config`` is the new config text, or a function from the parsed config to the new one.
    """
    import json

    from safetensors import safe_open
    from safetensors.numpy import load_file, save_file

    with safe_open(str(src), framework="numpy") as f:
        meta = dict(f.metadata())
    arrays = {k: v.copy() for k, v in load_file(str(src)).items()}
    if change is not None:
        change(arrays)
    if config is not None:
        meta["config"] = config if isinstance(config, str) else json.dumps(config(json.loads(meta["config"])))
    save_file(arrays, str(dst), metadata=meta)
    return dst


def set_value(name, value):
    """A tensor change for :func:`rewrite_checkpoint`: the first element of tensor ``name`` set to ``value``."""
    def change(arrays):
        arrays[name].flat[0] = value
    return change


def edit_config(edit):
    """A config change for :func:`rewrite_checkpoint` from ``edit``, which changes the parsed config in place."""
    def change(config):
        edit(config)
        return config
    return change


def assert_refused(path, loaders, message):
    """Each loader refuses the damaged checkpoint ``path`` with a FormatError matching ``message`` that names it."""
    import pytest

    from genofast.io import FormatError

    for loader in loaders:
        with pytest.raises(FormatError, match=message) as e:
            loader(path)
        assert str(path) in str(e.value)

