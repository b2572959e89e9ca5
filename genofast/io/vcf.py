"""VCF/BCF through cyvcf2, streamed in chunks of variants.

Phased files become a :class:`HaplotypeMatrix` (rows 2i and 2i+1 are the two
haplotypes of sample i, ids ``<sample>_A`` / ``<sample>_B``), unphased ones a
:class:`GenotypeMatrix`. Allele 1 is the ALT allele.
"""

from __future__ import annotations

import numpy as np

from .. import kernels
from ..matrix import GenotypeMatrix, HaplotypeMatrix, Variants
from ._files import FormatError, atomic_path, existing, open_text

_CHUNK = 4096  # variants per chunk; a multiple of 64 keeps chunks word aligned


class _Chunks:
    """Packs haplotype columns chunk by chunk, so memory stays near the packed size."""

    def __init__(self, n_haplotypes: int):
        self.alleles = np.zeros((_CHUNK, n_haplotypes), dtype=np.uint8)
        self.missing = np.zeros((_CHUNK, n_haplotypes), dtype=bool)
        self.fill = 0
        self.words, self.missing_words = [], []

    def add(self, alleles: np.ndarray, missing: np.ndarray) -> None:
        self.alleles[self.fill] = alleles
        self.missing[self.fill] = missing
        self.fill += 1
        if self.fill == _CHUNK:
            self.flush()

    def flush(self) -> None:
        if self.fill == 0:
            return
        self.words.append(kernels.pack_haplotypes(np.ascontiguousarray(self.alleles[: self.fill].T)))
        self.missing_words.append(kernels.pack_haplotypes(np.ascontiguousarray(self.missing[: self.fill].T)))
        self.fill = 0

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        self.flush()
        return np.concatenate(self.words, axis=1), np.concatenate(self.missing_words, axis=1)


def read_vcf(path, *, phased: bool | None = None, multiallelic: str = "error", region: str | None = None):
    """Read biallelic GT calls of a VCF/BCF file (plain, gzip or bgzip).

    Parameters
    ----------
    phased : None (default) returns a HaplotypeMatrix when every called
        genotype is phased and a GenotypeMatrix otherwise; True requires
        phased data (error naming the first unphased call); False always
        returns genotypes.
    multiallelic : ``"error"`` (default) rejects sites with several ALT
        alleles, naming the site; ``"split"`` turns each ALT allele into its
        own biallelic record (allele 1 = that ALT, others count as 0).
    region : optional ``chrom:start-end`` (needs an index).

    Errors name the file, the line (or site) and the sample: missing GT
    field, haploid or polyploid calls, malformed records.
    """
    import cyvcf2

    if multiallelic not in ("error", "split"):
        raise ValueError(f"multiallelic must be 'error' or 'split', got {multiallelic!r}")
    path = existing(path)
    try:
        vcf = cyvcf2.VCF(str(path), gts012=False, strict_gt=False, lazy=True)
    except OSError as e:
        raise FormatError(path, f"cannot read as VCF/BCF: {e}") from None
    samples = np.array(vcf.samples)
    if samples.size == 0:
        raise FormatError(path, "no samples in file")
    header_lines = _header_line_count(path)
    chunks = _Chunks(2 * samples.size)
    chrom, pos, ids, ref, alt = [], [], [], [], []
    all_phased = True
    source = vcf(region) if region else vcf
    record = 0
    try:
        for record, v in enumerate(source, start=1):
            line = header_lines + record
            where = f"site {v.CHROM}:{v.POS}"
            try:
                gt = v.genotype
            except Exception:
                gt = None
            if gt is None:
                raise FormatError(path, f"{where} has no GT field", line)
            arr = gt.array()
            if arr.shape[1] != 3 or (arr[:, :2] == -2).any():
                bad = int(np.argmax((arr[:, :2] == -2).any(axis=1))) if arr.shape[1] == 3 else 0
                raise FormatError(path, f"{where}, sample {samples[bad]}: only diploid calls are supported", line)
            calls, is_phased = arr[:, :2], arr[:, 2].astype(bool)
            called = (calls >= 0).all(axis=1)
            unphased = called & ~is_phased
            if unphased.any():
                if phased:
                    s = samples[int(np.argmax(unphased))]
                    raise FormatError(path, f"{where}, sample {s}: unphased genotype where phased data are required",
                                      line)
                all_phased = False
            n_alt = len(v.ALT)
            if n_alt > 1 and multiallelic == "error":
                raise FormatError(path, f"{where} is multi-allelic (ALT={','.join(v.ALT)}); "
                                  "pass multiallelic='split' to split it", line)
            flat = calls.reshape(-1)
            missing = flat < 0
            if flat.max(initial=0) > max(n_alt, 1):
                s = samples[int(np.argmax(calls.max(axis=1) > max(n_alt, 1)))]
                raise FormatError(path, f"{where}, sample {s}: allele index beyond the ALT alleles", line)
            for a in range(1, max(n_alt, 1) + 1):
                chunks.add(flat == a, missing)
                chrom.append(v.CHROM)
                pos.append(v.POS)
                ids.append(v.ID or f"{v.CHROM}:{v.POS}")
                ref.append(v.REF)
                alt.append(v.ALT[a - 1] if n_alt else ".")
    except FormatError:
        raise
    except Exception as e:  # htslib parse errors surface as assorted exceptions
        raise FormatError(path, f"malformed record after site {record}: {e}", header_lines + record + 1) from None
    finally:
        vcf.close()
    if not pos:
        raise FormatError(path, "no variants in file" + (f" for region {region}" if region else ""))
    words, missing_words = chunks.result()
    variants = Variants(np.array(chrom), np.array(pos, dtype=np.int64), np.array(ids), np.array(ref), np.array(alt))
    n_snps = len(pos)
    if phased is not False and all_phased:
        hap_ids = np.array([f"{s}_{h}" for s in samples for h in "AB"])
        return HaplotypeMatrix(words, n_snps, missing_words if missing_words.any() else None, hap_ids, variants)
    g = kernels.haplotypes_to_genotypes(words, n_snps, missing_words)
    return GenotypeMatrix(g, n_snps, samples, variants)


def _header_line_count(path) -> int:
    """Lines before the first record, so errors can name a file line (BCF: records are numbered)."""
    try:
        with open_text(path) as f:
            n = 0
            for line in f:
                if not line.startswith("#"):
                    break
                n += 1
            return n
    except UnicodeDecodeError:  # binary BCF
        return 0


def write_vcf(path, matrix: HaplotypeMatrix | GenotypeMatrix) -> None:
    """Write a matrix as VCF 4.2 (bgzipped when the name ends in .gz), atomically.

    Haplotypes are written phased (``a|b``, rows 2i and 2i+1 as sample i),
    genotypes unphased (``0/1``); missing calls as ``.``.
    """
    import cyvcf2

    matrix = matrix.to("cpu")
    v = matrix.variants
    if isinstance(matrix, HaplotypeMatrix):
        if matrix.n_haplotypes % 2:
            raise ValueError("a phased VCF needs an even number of haplotypes (two per sample)")
        alleles = matrix.to_numpy().astype(np.int8)
        samples = [str(i).rsplit("_", 1)[0] for i in matrix.ids[::2]]
        text = np.where(alleles < 0, ".", alleles.astype(str)).astype(object)
        calls = text[0::2] + "|" + text[1::2]
    else:
        d = matrix.to_numpy()
        samples = [str(i) for i in matrix.ids]
        calls = np.choose(d + 1, np.array(["./.", "0/0", "0/1", "1/1"], dtype=object))
    header = "\n".join([
        "##fileformat=VCFv4.2",
        "##source=genofast",
        *[f"##contig=<ID={c}>" for c in dict.fromkeys(map(str, v.chrom))],
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        "\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT", *samples]),
    ]) + "\n"
    columns = calls.T  # one row per variant
    with atomic_path(path) as tmp:
        if str(path).endswith(".gz"):
            w = cyvcf2.Writer.from_string(str(tmp), header, mode="wz")
            for j in range(matrix.n_snps):
                w.write_record(w.variant_from_string(_record(v, j, columns[j])))
            w.close()
        else:
            with open(tmp, "w") as f:
                f.write(header)
                for j in range(matrix.n_snps):
                    f.write(_record(v, j, columns[j]) + "\n")


def _record(v: Variants, j: int, calls) -> str:
    return "\t".join([str(v.chrom[j]), str(v.position[j]), str(v.id[j]), str(v.ref[j]), str(v.alt[j]), ".", "PASS",
                      ".", "GT", *calls])
