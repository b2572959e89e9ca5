"""r² of SNP pairs (LD decay, LD fidelity, model selection) vs plink 1.9 --r2 and vectorised numpy.

10,000 diploid samples x 5,000 SNPs (simulated: 400 founder haplotypes copied in blocks, so there is linkage),
1% of calls missing; every pair within 20 SNPs (99,790 pairs), as plink's ``--ld-window 21`` takes them. genofast
works on the packed matrix it holds; numpy on the dense int8 dosages a user would hold (pairwise complete sums,
pairs in blocks); plink reads its .bed and writes the text table it always writes.
"""

import shutil
import subprocess

import numpy as np
import pytest

from genofast import GenotypeMatrix, io
from genofast.metrics import quality

N, P, SPAN = 10_000, 5_000, 20
GROUP = f"r2 of {P * SPAN - SPAN * (SPAN + 1) // 2:,} pairs, {N} x {P} genotypes"


@pytest.fixture(scope="module")
def dosages():
    r = np.random.default_rng(0)
    founders = (r.random((400, P)) < r.beta(0.6, 2, P)).astype(np.int8)
    h = np.empty((2 * N, P), np.int8)
    for b in range(0, P, 250):
        h[:, b : b + 250] = founders[r.integers(0, 400, 2 * N), b : b + 250]
    d = h[0::2] + h[1::2]
    d[r.random(d.shape, dtype=np.float32) < 0.01] = -1
    return d


@pytest.fixture(scope="module")
def pairs():
    return np.array([(i, i + s) for s in range(1, SPAN + 1) for i in range(P - s)])


@pytest.fixture(scope="module")
def reference(dosages, pairs):
    return numpy_r2(dosages, pairs[:2000])


def numpy_r2(d, pairs, block=4096):
    out = np.empty(len(pairs))
    called = d >= 0
    x0 = np.where(called, d, 0).astype(np.float32)
    for b in range(0, len(pairs), block):
        i, j = pairs[b : b + block].T
        both = (called[:, i] & called[:, j]).astype(np.float32)
        x, y = x0[:, i] * both, x0[:, j] * both
        n, sx, sy = both.sum(0), x.sum(0), y.sum(0)
        cov = (x * y).sum(0) / n - sx * sy / n**2
        vx, vy = (x * x).sum(0) / n - (sx / n) ** 2, (y * y).sum(0) / n - (sy / n) ** 2
        with np.errstate(invalid="ignore", divide="ignore"):
            out[b : b + block] = np.where((vx > 0) & (vy > 0), cov**2 / (vx * vy), 0)
    return out


def test_r2_genofast(benchmark, dosages, pairs, reference):
    benchmark.group = GROUP
    benchmark.name = "genofast metrics.pair_r2 (packed)"
    g = GenotypeMatrix.from_numpy(dosages)
    r2 = benchmark.pedantic(quality.pair_r2, (g, pairs), rounds=3, iterations=1)
    np.testing.assert_allclose(r2[:2000], reference, atol=1e-4)


def test_r2_numpy(benchmark, dosages, pairs, reference):
    benchmark.group = GROUP
    benchmark.name = "numpy, dense float32 sums"
    r2 = benchmark.pedantic(numpy_r2, (dosages, pairs), rounds=1, iterations=1)
    np.testing.assert_allclose(r2[:2000], reference, atol=1e-4)


def test_r2_plink(benchmark, dosages, tmp_path, reference):
    if shutil.which("plink1.9") is None:
        pytest.skip("plink1.9 not installed (apt-get install plink1.9)")
    benchmark.group = GROUP
    benchmark.name = "plink 1.9 --r2 --ld-window 21 (2 threads)"
    prefix = tmp_path / "g"
    io.write_plink(prefix.with_suffix(".bed"), GenotypeMatrix.from_numpy(dosages))

    def run():
        subprocess.run(["plink1.9", "--bfile", str(prefix), "--r2", "--ld-window", str(SPAN + 1), "--ld-window-kb",
                        "1000000", "--ld-window-r2", "0", "--threads", "2", "--allow-no-sex", "--out",
                        str(tmp_path / "ld")], check=True, capture_output=True)

    benchmark.pedantic(run, rounds=1, iterations=1)
    rows = np.loadtxt(tmp_path / "ld.ld", skiprows=1, usecols=(6,), max_rows=2000)
    assert len(rows) == 2000 and np.isfinite(rows).all()
