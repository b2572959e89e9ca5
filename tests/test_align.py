import numpy as np
import pytest

from genofast import GenotypeMatrix, HaplotypeMatrix, Variants
from genofast.align import align, align_to, flip
from genofast.metrics import privacy


def variants(pos, ref, alt, chrom="20"):
    n = len(pos)
    return Variants(np.full(n, chrom), np.array(pos, dtype=np.int64), np.array([f"rs{p}" for p in pos]),
                    np.array(list(ref)), np.array(list(alt)))


def test_flip_haplotypes_and_genotypes(rng):
    a = rng.integers(-1, 2, (6, 70)).astype(np.int8)
    which = rng.random(70) < 0.4
    got = flip(HaplotypeMatrix.from_numpy(a), which).to_numpy()
    np.testing.assert_array_equal(got, np.where(which & (a >= 0), 1 - a, a))
    d = rng.integers(-1, 3, (5, 70)).astype(np.int8)
    got = flip(GenotypeMatrix.from_numpy(d), which).to_numpy()
    np.testing.assert_array_equal(got, np.where(which & (d >= 0), 2 - d, d))


def test_swapped_alleles_are_flipped_and_reordered_by_position():
    # as PLINK writes a VCF's sites without --keep-allele-order: A1 = minor allele, so REF/ALT swap at some sites
    ref_v = variants([100, 200, 300], "ACG", "TTT")
    other_v = variants([300, 100, 200], "GTT", "TAC")  # site 100 and 200 swapped, order changed
    d_ref = np.array([[0, 1, 2], [2, 1, 0]])
    d_other = np.array([[2, 2, 1], [0, 0, 1]])  # = d_ref reordered, flipped at 100 and 200
    a, b, info = align(GenotypeMatrix.from_numpy(d_ref, variants=ref_v),
                       GenotypeMatrix.from_numpy(d_other, variants=other_v))
    assert info.flipped == 2 and info.reordered and info.n_snps == 3
    np.testing.assert_array_equal(b.to_numpy(), d_ref)
    assert list(b.variants.ref) == list("ACG") and list(b.variants.position) == [100, 200, 300]
    assert "2 with REF/ALT swapped" in info.describe()


def test_unmatched_snps_are_refused_or_intersected():
    ref_v = variants([100, 200, 300], "ACG", "TTT")
    other_v = variants([100, 200, 301], "ACG", "TTT")
    r, o = (HaplotypeMatrix.from_numpy(np.zeros((2, 3), np.uint8), variants=v) for v in (ref_v, other_v))
    with pytest.raises(ValueError, match=r"1 SNPs of other and 1 of reference cannot be matched.*20:301 G>T"):
        align(r, o)
    a, b, info = align(r, o, on_mismatch="intersect")
    assert a.n_snps == b.n_snps == 2 and info.dropped_other == 1 and info.dropped_reference == 1
    # alleles that match neither way are not the same variant
    bad = variants([100, 200, 300], "ACG", "TTA")
    with pytest.raises(ValueError, match="cannot be matched"):
        align_to(ref_v, HaplotypeMatrix.from_numpy(np.zeros((2, 3), np.uint8), variants=bad))


def test_sets_without_metadata_match_by_order():
    r = HaplotypeMatrix.from_numpy(np.eye(3, dtype=np.uint8), variants=variants([5, 6, 7], "AAA", "CCC"))
    o = HaplotypeMatrix.from_numpy(np.eye(3, dtype=np.uint8))
    _, b, info = align(r, o)
    assert info.by_order and b is o
    with pytest.raises(ValueError, match="no SNP metadata"):
        align(r, HaplotypeMatrix.from_numpy(np.eye(4, dtype=np.uint8)))


def test_privacy_metrics_align_before_comparing(rng):
    a = rng.integers(0, 2, (20, 6), dtype=np.uint8)
    v = variants(range(10, 70, 10), "ACGTAC", "GTACGT")
    swapped = Variants(v.chrom, v.position, v.id, v.alt, v.ref)
    real = HaplotypeMatrix.from_numpy(a, variants=v)
    same_coded_other_way = HaplotypeMatrix.from_numpy(1 - a, variants=swapped)
    # every haplotype is an exact copy once alleles are aligned
    assert privacy.copies(real, same_coded_other_way).count == 20
    assert privacy.aats(real, same_coded_other_way).aats == 0.0


def test_first_difference_by_hand():
    from genofast.align import first_difference

    def v(pos, alt):
        n = len(pos)
        return Variants(np.array(["1"] * n), np.array(pos), np.array(["."] * n), np.array(["A"] * n), np.array(alt))

    assert first_difference(v([1, 2, 3], ["G", "G", "T"]), v([1, 2, 3], ["g", "G", "T"])) is None  # case-blind
    assert first_difference(v([1, 2, 3], ["G", "G", "T"]), v([1, 2, 3], ["G", "C", "T"])) == 1
    assert first_difference(v([1, 2, 3], ["G", "G", "T"]), v([1, 2, 4], ["G", "G", "T"])) == 2
    assert first_difference(v([1, 2], ["G", "G"]), v([1, 2, 3], ["G", "G", "T"])) == 2  # one list is longer
