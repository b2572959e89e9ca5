"""random_phase, complement and merge on 2,067 x 160,858 genotypes vs vectorised numpy.

The size is that of the Human Origins panel of the iterative imputer's
thesis (simulated here: dosages with 1% missing). genofast works on the
packed matrix (how it holds data); numpy on the dense int8 array a user
would otherwise hold.
"""

import numpy as np
import pytest

from genofast import GenotypeMatrix, phasing

SHAPE = (2067, 160_858)


@pytest.fixture(scope="module")
def dosages():
    r = np.random.default_rng(0)
    d = r.choice(np.array([0, 1, 2], dtype=np.int8), size=SHAPE, p=[0.5, 0.3, 0.2])
    d[r.random(SHAPE, dtype=np.float32) < 0.01] = -1
    return d


@pytest.fixture(scope="module")
def genotypes(dosages):
    return GenotypeMatrix.from_numpy(dosages)


@pytest.fixture(scope="module")
def probabilities():
    r = np.random.default_rng(1)
    return r.random(SHAPE, dtype=np.float32), r.random(SHAPE, dtype=np.float32)


def numpy_random_phase(d, seed):
    r = np.random.default_rng(seed).random(d.shape, dtype=np.float32) < 0.5
    het, hom2 = d == 1, d == 2
    a = (hom2 | (het & r)).astype(np.int8)
    b = (hom2 | (het & ~r)).astype(np.int8)
    missing = d < 0
    a[missing] = -1
    b[missing] = -1
    return a, b


def numpy_complement(d, hap):
    other = d - hap
    impossible = (d >= 0) & ((other < 0) | (other > 1))
    hom = (d == 0) | (d == 2)
    fixed = np.where(hom, d // 2, hap).astype(np.int8)
    other = np.where(hom, d // 2, other).astype(np.int8)
    other[d < 0] = -1
    return fixed, other, int(impossible.sum())


def numpy_merge(pa, pb):
    return np.stack([(1 - pa) * (1 - pb), pa * (1 - pb) + (1 - pa) * pb, pa * pb], axis=-1)


def numpy_merge_into(pa, pb, out):
    qa, qb = 1 - pa, 1 - pb
    np.multiply(qa, qb, out=out[..., 0])
    np.multiply(pa, pb, out=out[..., 2])
    np.multiply(pa, qb, out=out[..., 1])
    out[..., 1] += qa * pb
    return out


def test_random_phase_genofast(benchmark, genotypes, dosages):
    benchmark.group = "random_phase 2067 x 160858"
    benchmark.name = "genofast phasing.random_phase"
    a, b = benchmark.pedantic(phasing.random_phase, (genotypes, 1), rounds=3, iterations=1)
    s = a[:20].to_numpy().astype(int) + b[:20].to_numpy()
    obs = dosages[:20] >= 0
    assert (s[obs] == dosages[:20][obs]).all()


def test_random_phase_numpy(benchmark, dosages):
    benchmark.group = "random_phase 2067 x 160858"
    benchmark.name = "numpy vectorised"
    benchmark.pedantic(numpy_random_phase, (dosages, 1), rounds=3, iterations=1)


def test_complement_genofast(benchmark, genotypes):
    benchmark.group = "complement 2067 x 160858"
    benchmark.name = "genofast phasing.complement"
    a, _ = phasing.random_phase(genotypes, 1)
    benchmark.pedantic(phasing.complement, (genotypes, a), rounds=3, iterations=1)


def test_complement_numpy(benchmark, dosages):
    benchmark.group = "complement 2067 x 160858"
    benchmark.name = "numpy vectorised"
    a, _ = numpy_random_phase(dosages, 1)
    benchmark.pedantic(numpy_complement, (dosages, a), rounds=3, iterations=1)


def test_merge_genofast(benchmark, probabilities):
    benchmark.group = "merge 2067 x 160858 float32"
    benchmark.name = "genofast phasing.merge"
    out = benchmark.pedantic(phasing.merge, probabilities, rounds=3, iterations=1)
    np.testing.assert_allclose(out[:3], numpy_merge(probabilities[0][:3], probabilities[1][:3]), rtol=1e-6)


def test_merge_numpy(benchmark, probabilities):
    benchmark.group = "merge 2067 x 160858 float32"
    benchmark.name = "numpy vectorised"
    benchmark.pedantic(numpy_merge, probabilities, rounds=3, iterations=1)


# An iterative imputer merges every iteration: both sides reuse one output buffer.
@pytest.fixture(scope="module")
def merge_buffer():
    out = np.empty((*SHAPE, 3), dtype=np.float32)
    out.fill(0)  # page it in once
    return out


def test_merge_into_genofast(benchmark, probabilities, merge_buffer):
    benchmark.group = "merge into a reused buffer"
    benchmark.name = "genofast phasing.merge(out=)"
    benchmark.pedantic(phasing.merge, (*probabilities, merge_buffer), rounds=3, iterations=1, warmup_rounds=1)


def test_merge_into_numpy(benchmark, probabilities, merge_buffer):
    benchmark.group = "merge into a reused buffer"
    benchmark.name = "numpy ufuncs with out="
    benchmark.pedantic(numpy_merge_into, (*probabilities, merge_buffer), rounds=3, iterations=1, warmup_rounds=1)
