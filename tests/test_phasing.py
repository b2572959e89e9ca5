import os
import subprocess
import sys

import numpy as np
import pytest

from genofast import GenotypeMatrix, HaplotypeMatrix, phasing


def G(rows):
    return GenotypeMatrix.from_numpy(np.array(rows, dtype=np.int8))


def H(rows):
    return HaplotypeMatrix.from_numpy(np.array(rows, dtype=np.int8))


def test_random_phase_invariants(rng):
    d = rng.integers(-1, 3, (40, 3000)).astype(np.int8)
    a, b = phasing.random_phase(G(d), seed=7)
    ha, hb = a.to_numpy().astype(int), b.to_numpy().astype(int)
    observed = d >= 0
    np.testing.assert_array_equal((ha + hb)[observed], d[observed])
    assert (ha[~observed] == -1).all() and (hb[~observed] == -1).all()
    het = d == 1
    share = ha[het].mean()  # allele 1 lands on hap A about half the time
    assert abs(share - 0.5) < 4 * 0.5 / np.sqrt(het.sum())
    assert list(a.ids[:2]) == ["sample0_A", "sample1_A"]


def test_random_phase_is_seeded(rng):
    g = G(rng.integers(0, 3, (10, 500)))
    a1, _ = phasing.random_phase(g, 1)
    a2, _ = phasing.random_phase(g, 1)
    a3, _ = phasing.random_phase(g, 2)
    np.testing.assert_array_equal(a1.words, a2.words)
    assert (a1.words != a3.words).any()


def test_same_phasing_on_any_thread_count(tmp_path):
    code = (
        "import numpy as np, hashlib; from genofast import GenotypeMatrix, phasing\n"
        "d = np.random.default_rng(3).integers(-1, 3, (257, 999)).astype(np.int8)\n"
        "a, b = phasing.random_phase(GenotypeMatrix.from_numpy(d), 11)\n"
        "r = phasing.reconcile(GenotypeMatrix.from_numpy(d), b, a, 5)\n"
        "print(hashlib.sha256(a.words.tobytes() + r.hap_a.words.tobytes()).hexdigest())\n"
    )
    out = {}
    for threads in ("1", "2", "3"):
        env = dict(os.environ, OMP_NUM_THREADS=threads)
        # run outside the project root, so the installed package is imported however it was installed
        out[threads] = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                      check=True, cwd=tmp_path).stdout
    assert out["1"] == out["2"] == out["3"]


def test_complement_hand_made():
    g = G([[0, 1, 2, 1, -1, 0, 2]])
    h = H([[0, 1, 1, 0, 1, 1, 0]])  # site 5: allele 1 on a 0/0 call, site 6: allele 0 on 1/1
    c = phasing.complement(g, h)
    np.testing.assert_array_equal(c.other.to_numpy(), [[0, 0, 1, 1, -1, 0, 1]])
    np.testing.assert_array_equal(c.haplotype.to_numpy(), [[0, 1, 1, 0, -1, 0, 1]])
    assert c.n_corrected == 2


def test_complement_with_missing_haplotype_alleles():
    g = G([[1, 2, 0]])
    c = phasing.complement(g, H([[-1, -1, -1]]))
    # het with unknown allele: both unknown; homozygous: determined by the genotype, not a correction
    np.testing.assert_array_equal(c.haplotype.to_numpy(), [[-1, 1, 0]])
    np.testing.assert_array_equal(c.other.to_numpy(), [[-1, 1, 0]])
    assert c.n_corrected == 0


def test_complement_of_random_phase_is_the_other_half(rng):
    g = G(rng.integers(-1, 3, (20, 700)))
    a, b = phasing.random_phase(g, 3)
    c = phasing.complement(g, a)
    assert c.n_corrected == 0
    np.testing.assert_array_equal(c.other.to_numpy(), b.to_numpy())


def test_reconcile_hand_made():
    g = G([[1, 1, 0, 2, -1, 1]])
    a = H([[1, 1, 1, 0, 1, 0]])
    b = H([[0, 1, 0, 1, 0, 1]])
    r = phasing.reconcile(g, a, b, seed=0)
    ra, rb = r.hap_a.to_numpy(), r.hap_b.to_numpy()
    # site 1 het with 1|1: re-split; site 2: 0/0 with 1|0; site 3: 2 with 0|1 -> 3 conflicts
    assert r.n_conflicts == 3
    assert ra[0, 1] + rb[0, 1] == 1
    np.testing.assert_array_equal(ra[0, [0, 2, 3, 4, 5]], [1, 0, 1, 1, 0])
    np.testing.assert_array_equal(rb[0, [0, 2, 3, 4, 5]], [0, 0, 1, 0, 1])


def test_reconcile_repairs_random_predictions(rng):
    d = rng.integers(-1, 3, (30, 400)).astype(np.int8)
    pa = H(rng.integers(0, 2, d.shape))
    pb = H(rng.integers(0, 2, d.shape))
    r = phasing.reconcile(G(d), pa, pb, seed=9)
    s = r.hap_a.to_numpy().astype(int) + r.hap_b.to_numpy()
    obs = d >= 0
    np.testing.assert_array_equal(s[obs], d[obs])
    expect = ((pa.to_numpy().astype(int) + pb.to_numpy()) != d)[obs].sum()
    assert r.n_conflicts == expect
    np.testing.assert_array_equal(r.hap_a.to_numpy()[~obs], pa.to_numpy()[~obs])


def test_merge_values():
    pa = np.array([0.0, 1.0, 0.5, 0.2], dtype=np.float32)
    pb = np.array([0.0, 1.0, 0.5, 0.9], dtype=np.float32)
    p = phasing.merge(pa, pb)
    np.testing.assert_allclose(p[0], [1, 0, 0])
    np.testing.assert_allclose(p[1], [0, 0, 1])
    np.testing.assert_allclose(p[2], [0.25, 0.5, 0.25])
    np.testing.assert_allclose(p[3], [0.8 * 0.1, 0.2 * 0.1 + 0.8 * 0.9, 0.2 * 0.9], rtol=1e-6)
    big = np.random.default_rng(0).random((50, 70)).astype(np.float32)
    q = phasing.merge(big, big[::-1].copy())
    assert q.shape == (50, 70, 3)
    np.testing.assert_allclose(q.sum(-1), 1.0, rtol=1e-6)


def test_mask_calls(rng):
    d = rng.integers(-1, 3, (12, 500)).astype(np.int8)
    masked, mask = phasing.mask_calls(G(d), 0.25, seed=4)
    obs = d >= 0
    assert not (mask & ~obs).any()  # only observed calls are hidden
    np.testing.assert_array_equal(mask.sum(1), np.round(0.25 * obs.sum(1)))
    m = masked.to_numpy()
    assert (m[mask] == -1).all() and (m[~mask] == d[~mask]).all()
    again = phasing.mask_calls(G(d), 0.25, seed=4)[1]
    np.testing.assert_array_equal(mask, again)


def test_bad_input(rng):
    g = G(rng.integers(0, 3, (3, 10)))
    with pytest.raises(ValueError, match="do not match"):
        phasing.complement(g, H(rng.integers(0, 2, (3, 11))))
    with pytest.raises(TypeError, match="expected unphased genotypes, got a HaplotypeMatrix"):
        phasing.random_phase(H(np.zeros((3, 10), dtype=np.uint8)), 1)
    with pytest.raises(ValueError, match="seed"):
        phasing.random_phase(g, -1)
    with pytest.raises(ValueError, match="differ in shape"):
        phasing.merge(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="NaN"):
        phasing.merge(np.array([np.nan]), np.array([0.5]))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        phasing.merge(np.array([1.5]), np.array([0.5]))
    with pytest.raises(ValueError, match="fraction"):
        phasing.mask_calls(g, 1.5, 0)
    with pytest.raises(ValueError, match=r"dosage not in \{-1,0,1,2\} at row 0, SNP 1"):
        G([[0, 5]])


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=pytest.mark.cuda)])
def test_word_count_must_match_n_snps(rng, device):
    from genofast import kernels

    words = G(rng.integers(0, 3, (3, 100))).words  # 4 genotype words hold 100 SNPs
    if device == "cuda":
        import torch

        words = torch.from_numpy(words.view(np.int64)).cuda()
    for n_snps in (200, 60):  # more SNPs than the words hold would read past each row
        with pytest.raises(ValueError, match=f"4 words per row do not hold {n_snps} SNPs"):
            kernels.random_phase(words, n_snps, 0)


@pytest.mark.cuda
def test_cuda_equals_cpu(rng):
    import torch

    d = rng.integers(-1, 3, (65, 1111)).astype(np.int8)
    g = G(d)
    gg = g.to("cuda")
    a, b = phasing.random_phase(g, 21)
    ga, gb = phasing.random_phase(gg, 21)
    np.testing.assert_array_equal(ga.to("cpu").words, a.words)
    np.testing.assert_array_equal(gb.to("cpu").words, b.words)
    c = phasing.complement(g, b)
    gc = phasing.complement(gg, gb.to("cuda"))
    assert gc.n_corrected == c.n_corrected
    np.testing.assert_array_equal(gc.other.to("cpu").words, c.other.words)
    pa = H(rng.integers(0, 2, d.shape))
    pb = H(rng.integers(0, 2, d.shape))
    r = phasing.reconcile(g, pa, pb, 5)
    gr = phasing.reconcile(gg, pa.to("cuda"), pb.to("cuda"), 5)
    assert gr.n_conflicts == r.n_conflicts
    np.testing.assert_array_equal(gr.hap_a.to("cpu").words, r.hap_a.words)
    # 1,200 elements (four per thread, 16-byte aligned), 91 (a tail of 3) and 90 from offset 1 (unaligned)
    for p, q in ((rng.random((30, 40)), rng.random((30, 40))), (rng.random((7, 13)), rng.random((7, 13)))):
        p, q = p.astype(np.float32), q.astype(np.float32)
        np.testing.assert_allclose(phasing.merge(torch.from_numpy(p).cuda(), torch.from_numpy(q).cuda()).cpu().numpy(),
                                   phasing.merge(p, q), rtol=1e-6)
        gp, gq = torch.from_numpy(p).cuda().flatten()[1:], torch.from_numpy(q).cuda().flatten()[1:]
        np.testing.assert_allclose(phasing.merge(gp, gq).cpu().numpy(), phasing.merge(p.ravel()[1:], q.ravel()[1:]),
                                   rtol=1e-6)


def test_merge_into_buffer():
    pa = np.array([[0.2, 0.5]], dtype=np.float32)
    out = np.full((1, 2, 3), np.nan, dtype=np.float32)
    assert phasing.merge(pa, pa, out=out) is out
    np.testing.assert_allclose(out[0, 1], [0.25, 0.5, 0.25])
    with pytest.raises(ValueError, match="out must be"):
        phasing.merge(pa, pa, out=np.empty((1, 2), dtype=np.float32))


def test_array_likes_are_accepted_where_matrices_are(rng):
    d = rng.integers(-1, 3, (7, 70)).astype(np.int8)
    a, b = phasing.random_phase(d, seed=4)
    a2, b2 = phasing.random_phase(G(d), seed=4)
    np.testing.assert_array_equal(a.words, a2.words)
    c = phasing.complement(d, a.to_numpy())
    np.testing.assert_array_equal(c.other.to_numpy(), phasing.complement(G(d), a).other.to_numpy())
    r = phasing.reconcile(d.tolist(), a.to_numpy(), b.to_numpy(), seed=1)
    assert r.hap_a.shape == (7, 70)
    with pytest.raises(ValueError, match="dosage not in"):
        phasing.random_phase(np.full((2, 3), 5), seed=1)
