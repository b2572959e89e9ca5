"""Blockwise metrics on a Dask cluster give bit for bit the single-process results, for any chunking."""

import numpy as np
import pytest

from genofast import HaplotypeMatrix, kernels, metrics

distributed = pytest.importorskip("distributed")
gd = pytest.importorskip("genofast.distributed")


@pytest.fixture(scope="module")
def client():
    # Threads, not processes: starting worker processes costs seconds on a 2-core machine, and the merge logic
    # under test is the same.
    with gd.local_cluster(2, processes=False) as c, distributed.Client(c) as cl:
        yield cl


def random_haplotypes(rng, n, n_snps):
    return HaplotypeMatrix.from_numpy(rng.integers(0, 2, (n, n_snps)).astype(np.uint8))


def tied_haplotypes(rng, n, n_snps=4):
    """Few SNPs, so many rows share a distance (and some are identical): the (distance, index) order decides."""
    return random_haplotypes(rng, n, n_snps)


def assert_same(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_array_equal(g, w)


# 1 row per block; blocks that do not divide the rows (uneven last block); one block holding everything.
@pytest.mark.parametrize("chunk_rows", [1, 3, 5, 64])
@pytest.mark.parametrize("k", [1, 3])
def test_nearest_neighbors_with_ties(client, rng, chunk_rows, k):
    a, b = tied_haplotypes(rng, 11), tied_haplotypes(rng, 8)
    assert_same(gd.nearest_neighbors(a, b, k, return_column_min=True, chunk_rows=chunk_rows, client=client),
                kernels.nearest_neighbors(a, b, k, return_column_min=True))
    assert_same(gd.nearest_neighbors(a, None, k, chunk_rows=chunk_rows, client=client),
                kernels.nearest_neighbors(a, None, k))


@pytest.mark.parametrize("chunk_rows", [7, 16, 50])
def test_nearest_neighbors_many_words(client, rng, chunk_rows):
    a, b = random_haplotypes(rng, 40, 130), random_haplotypes(rng, 33, 130)
    assert_same(gd.nearest_neighbors(a, b, 4, chunk_rows=chunk_rows, client=client),
                kernels.nearest_neighbors(a, b, 4))
    # k = n - 1 in self mode: every other row, for each row, in one process's order.
    assert_same(gd.nearest_neighbors(b, None, 32, chunk_rows=chunk_rows, client=client),
                kernels.nearest_neighbors(b, None, 32))


def test_merge_is_associative_across_chunkings(client, rng):
    """Different chunkings (so different merge trees) give identical neighbours."""
    a = tied_haplotypes(rng, 23, 6)
    results = [gd.nearest_neighbors(a, None, 5, chunk_rows=c, client=client) for c in (2, 4, 9, 23)]
    for r in results[1:]:
        assert_same(r, results[0])


@pytest.mark.parametrize("chunk_rows", [1, 4, 100])
def test_hamming_histogram(client, rng, chunk_rows):
    a, b = random_haplotypes(rng, 9, 70), random_haplotypes(rng, 6, 70)
    np.testing.assert_array_equal(gd.hamming_histogram(a, None, chunk_rows=chunk_rows, client=client),
                                  kernels.hamming_histogram(a))
    np.testing.assert_array_equal(gd.hamming_histogram(a, b, chunk_rows=chunk_rows, client=client),
                                  kernels.hamming_histogram(a, b))


@pytest.mark.parametrize("tie", ["strict", "inclusive"])
@pytest.mark.parametrize("chunk_rows", [2, 7])
def test_aats(client, rng, tie, chunk_rows):
    real, synthetic = tied_haplotypes(rng, 15, 8), tied_haplotypes(rng, 12, 8)
    got = gd.aats(real, synthetic, tie, chunk_rows=chunk_rows, client=client)
    want = metrics.aats(real, synthetic, tie)
    assert (got.aa_truth, got.aa_syn, got.aats, got.tie) == (want.aa_truth, want.aa_syn, want.aats, want.tie)
    for field in ("d_real_syn", "d_syn_real", "d_real_real", "d_syn_syn"):
        np.testing.assert_array_equal(getattr(got, field), getattr(want, field))


def test_copies(client, rng):
    train = random_haplotypes(rng, 20, 40)
    synthetic = HaplotypeMatrix.from_numpy(np.vstack([random_haplotypes(rng, 10, 40).to_numpy(),
                                                      train[[3, 17, 3]].to_numpy()]))
    for threshold in (0, 12):
        got = gd.copies(train, synthetic, threshold, chunk_rows=6, client=client)
        want = metrics.copies(train, synthetic, threshold)
        assert got.count == want.count
        assert_same((got.synthetic_indices, got.train_indices, got.distances),
                    (want.synthetic_indices, want.train_indices, want.distances))
    assert gd.copies(train, synthetic, chunk_rows=6, client=client).count >= 3


def test_privacy_loss_and_membership_inference(client, rng):
    train, test, synthetic = tied_haplotypes(rng, 14, 7), tied_haplotypes(rng, 9, 7), tied_haplotypes(rng, 12, 7)
    for tie in ("strict", "inclusive"):
        assert (gd.privacy_loss(train, test, synthetic, tie, seed=3, chunk_rows=4, client=client)
                == metrics.privacy_loss(train, test, synthetic, tie, seed=3))
    assert (gd.privacy_loss(train, test, synthetic, seed=3, subsamples=3, chunk_rows=4, client=client)
            == metrics.privacy_loss(train, test, synthetic, seed=3, subsamples=3))
    got = gd.membership_inference(train, test, synthetic, chunk_rows=4, client=client)
    want = metrics.membership_inference(train, test, synthetic)
    assert got.auc == want.auc
    assert_same((got.member_distances, got.non_member_distances), (want.member_distances, want.non_member_distances))


def test_current_client_is_used_and_errors_match(client, rng):
    a = random_haplotypes(rng, 6, 10)
    # client=None: the fixture's client is this process's current client.
    assert_same(gd.nearest_neighbors(a, None, 2, chunk_rows=2), kernels.nearest_neighbors(a, None, 2))
    with pytest.raises(ValueError, match=r"k=6 but only 5 reference haplotypes \(self excluded\)"):
        gd.nearest_neighbors(a, None, 6, client=client)
    with pytest.raises(ValueError, match="chunk_rows must be a positive integer"):
        gd.nearest_neighbors(a, None, 1, chunk_rows=0, client=client)
    missing = HaplotypeMatrix.from_numpy(np.array([[0, -1], [1, 0]]))
    with pytest.raises(ValueError, match="fully observed"):
        gd.nearest_neighbors(missing, client=client)


def test_worker_killed_mid_computation(rng):
    """SIGKILL one worker process while blocks are being compared: Dask reruns its tasks, same answer."""
    import os
    import signal
    import threading
    import time

    a = random_haplotypes(rng, 1200, 3000)
    want = kernels.nearest_neighbors(a, None, 2)
    killed, finished = threading.Event(), threading.Event()
    # Processes this time: only a real process can be killed. The nanny starts a replacement worker.
    with gd.local_cluster(2, processes=True) as c, distributed.Client(c, set_as_default=False) as cl:
        victim, pid = min(cl.run(os.getpid).items())

        def kill_when_busy():
            # Wait until the victim holds finished block results and is running more, then kill it.
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not finished.is_set():
                busy = cl.processing().get(victim, ())
                holds = [k for k, workers in cl.who_has().items() if victim in workers]
                if busy and len(holds) > 5:
                    os.kill(pid, signal.SIGKILL)
                    killed.set()
                    return
                time.sleep(0.05)

        killer = threading.Thread(target=kill_when_busy)
        killer.start()
        try:
            got = gd.nearest_neighbors(a, None, 2, chunk_rows=100, client=cl)
        finally:
            finished.set()
            killer.join()
    assert killed.is_set(), "the computation ended before a worker could be killed; make it larger"
    assert_same(got, want)


# --- cohorts in VCF Zarr stores, read block by block on the workers ------------------------------------------


def _store(tmp_path, name, haplotypes, variants=None):
    from genofast import io
    from genofast.matrix import Variants

    h = HaplotypeMatrix.from_numpy(haplotypes, variants=variants or Variants.numbered(haplotypes.shape[1]))
    io.write_zarr(tmp_path / name, h, chunk_variants=64)
    return tmp_path / name, h


def test_stores_equal_matrices(client, rng, tmp_path):
    # 130 SNPs: three variant blocks of 64; missing calls in both sets take each set's major allele
    real = rng.integers(0, 2, (26, 130)).astype(np.int8)
    synthetic = rng.integers(0, 2, (22, 130)).astype(np.int8)
    real[rng.random(real.shape) < 0.05] = -1
    synthetic[3, :] = -1
    (rp, rh), (sp, sh) = _store(tmp_path, "real.zarr", real), _store(tmp_path, "syn.zarr", synthetic)
    want = metrics.aats(rh, sh)
    for chunk_rows in (3, 8, 100):
        got = gd.aats(str(rp), sp, chunk_rows=chunk_rows, client=client)
        assert got.aats == want.aats
        for field in ("d_real_syn", "d_syn_real", "d_real_real", "d_syn_syn"):
            np.testing.assert_array_equal(getattr(got, field), getattr(want, field))
    # a store against a matrix; privacy loss draws the same subsample of the larger set
    assert gd.aats(rp, sh, chunk_rows=5, client=client).aats == want.aats
    test = HaplotypeMatrix.from_numpy(rng.integers(0, 2, (10, 130)).astype(np.uint8),
                                      variants=rh.variants)
    assert (gd.privacy_loss(rp, test, sp, seed=4, chunk_rows=4, client=client)
            == metrics.privacy_loss(rh, test, sh, seed=4))
    got = gd.membership_inference(rp, test, sp, chunk_rows=4, client=client)
    assert got.auc == metrics.membership_inference(rh, test, sh).auc
    full = rng.integers(0, 2, (12, 130)).astype(np.int8)
    fp, fh = _store(tmp_path, "full.zarr", full)
    assert_same(gd.nearest_neighbors(fp, None, 3, chunk_rows=5, client=client), kernels.nearest_neighbors(fh, None, 3))
    np.testing.assert_array_equal(gd.hamming_histogram(fp, chunk_rows=5, client=client), kernels.hamming_histogram(fh))


def test_store_errors_name_the_problem(client, rng, tmp_path):
    from genofast import GenotypeMatrix, io
    from genofast.matrix import Variants

    a = rng.integers(0, 2, (8, 70)).astype(np.int8)
    ap, _ = _store(tmp_path, "a.zarr", a)
    moved = Variants.numbered(70)
    moved = Variants(moved.chrom, moved.position + (np.arange(70) == 9), moved.id, moved.ref, moved.alt)
    bp, _ = _store(tmp_path, "b.zarr", a, moved)
    with pytest.raises(ValueError, match="SNP 9 differs"):
        gd.aats(ap, bp, client=client)
    io.write_zarr(tmp_path / "g.zarr", GenotypeMatrix.from_numpy(np.array([[0, 1], [1, 2]], np.int8)))
    with pytest.raises(ValueError, match="sample .*unphased heterozygous"):
        gd.aats(tmp_path / "g.zarr", tmp_path / "g.zarr", client=client)
    genotypes = HaplotypeMatrix.from_numpy(a.clip(0)).to_genotypes()  # in memory, against a store of haplotypes
    with pytest.raises(ValueError, match="synthetic set holds unphased genotypes, the other is a store"):
        gd.aats(ap, genotypes, client=client)
    g2 = GenotypeMatrix.from_numpy(rng.integers(0, 3, (9, 70)).astype(np.int8))
    got = gd.aats(g2, genotypes, client=client)  # both in memory: the single-process path, L1 distances
    assert got.aats == metrics.aats(g2, genotypes).aats
    a[2, 5] = -1
    cp, _ = _store(tmp_path, "c.zarr", a)
    with pytest.raises(ValueError, match="missing call"):
        gd.nearest_neighbors(cp, None, 1, client=client)


@pytest.mark.cuda
def test_gpu_workers_give_the_cpu_results(client, rng, monkeypatch):
    # the fixture's workers are threads of this process: with a GPU here they compute there
    a, b = tied_haplotypes(rng, 300, 70), tied_haplotypes(rng, 200, 70)
    monkeypatch.setenv("GENOFAST_WORKER_GPU", "1")
    on_gpu = (gd.nearest_neighbors(a, b, 3, return_column_min=True, chunk_rows=64, client=client),
              gd.aats(a, b, chunk_rows=64, client=client), gd.hamming_histogram(a, chunk_rows=64, client=client))
    assert_same(on_gpu[0], kernels.nearest_neighbors(a, b, 3, return_column_min=True))
    assert on_gpu[1].aats == metrics.aats(a, b).aats
    np.testing.assert_array_equal(on_gpu[2], kernels.hamming_histogram(a))


def test_store_blocks_are_read_once_per_call(client, rng, tmp_path, monkeypatch):
    from genofast.io.zarr import ZarrCohort

    (rp, rh), (sp, sh) = (_store(tmp_path, f"{n}.zarr", rng.integers(0, 2, (20, 70)).astype(np.int8)) for n in "rs")
    reads = []
    original = ZarrCohort.raw_block
    monkeypatch.setattr(ZarrCohort, "raw_block", lambda self, r0, r1: reads.append((self.path.name, r0)) or
                        original(self, r0, r1))
    got = gd.aats(rp, sp, chunk_rows=6, client=client)  # counting pass, cross and both self passes
    assert got.aats == metrics.aats(rh, sh).aats
    assert sorted(reads) == sorted((name, r0) for name in ("r.zarr", "s.zarr") for r0 in range(0, 20, 6))
