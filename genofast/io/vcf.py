"""VCF/BCF, streamed in chunks of variants.

Phased files become a :class:`HaplotypeMatrix` (rows 2i and 2i+1 are the two
haplotypes of sample i, ids ``<sample>_A`` / ``<sample>_B``), unphased ones a
:class:`GenotypeMatrix`. Allele 1 is the ALT allele.

Text VCF is read line by line here (htslib parses only the lines with unusual
calls): that is faster than a cyvcf2 loop, gives exact line numbers, and lets
every line's column count be checked, which htslib does not do for extra
columns. BCF and region queries go through cyvcf2 and the index.
"""

from __future__ import annotations

import contextlib
import gzip
import itertools
import os
import struct
import sys
import tempfile
import threading
from dataclasses import dataclass

import numpy as np

from .. import kernels
from ..matrix import GenotypeMatrix, HaplotypeMatrix, Variants
from ._files import (DECOMPRESSION_ERRORS, BgzfWriter, FormatError, atomic_path, check_bgzf_eof, check_ids, existing,
                     is_gzip, read_line_blocks)
from ._vcf_chunks import Chunks, _text, describe

_FIXED = ["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT"]


@dataclass
class _Header:
    text: str  # the header as htslib reads it, ending in the #CHROM line
    lines: int  # lines before the first record (0 for BCF)
    samples: list
    is_bcf: bool


def read_vcf(path, *, phased: bool | None = None, multiallelic: str = "error", region: str | None = None):
    """Read biallelic GT calls of a VCF/BCF file (plain, gzip or bgzip).

    Parameters
    ----------
    phased : None (default) returns a HaplotypeMatrix when no heterozygous
        call is unphased and a GenotypeMatrix otherwise; True requires phased
        data (error naming the first unphased heterozygote); False always
        returns genotypes. Homozygous and missing calls count as phased
        whichever separator they use (``0/0`` in a phased file is common).
    multiallelic : ``"error"`` (default) rejects sites with several ALT
        alleles, naming the site; ``"split"`` turns each ALT allele into its
        own biallelic record (allele 1 = that ALT, others count as 0).
    region : optional ``chrom:start-end`` (needs an index). Region reads trust
        the index and htslib: records are not checked for extra columns.

    A lone ``.`` call is read as missing (both alleles). Errors name the file,
    the line (or site) and the sample: missing GT field, haploid or
    polyploid calls, a record with more or fewer columns than the header,
    damaged or truncated compressed data, malformed records.
    """
    if multiallelic not in ("error", "split"):
        raise ValueError(f"multiallelic must be 'error' or 'split', got {multiallelic!r}")
    path = existing(path)
    header = _read_header(path)
    chunks = Chunks(path, header.samples, phased, multiallelic)
    if header.is_bcf or region:
        _read_htslib(path, header, chunks, region)
    else:
        _read_text(path, header, chunks)
    if not len(chunks):
        raise FormatError(path, "no variants in file" + (f" for region {region}" if region else ""))
    words, missing, n_snps = chunks.result()
    chrom, pos, ids, ref, alt = chunks.variants()
    variants = Variants(np.array(chrom), np.array(pos, dtype=np.int64), np.array(ids), np.array(ref), np.array(alt))
    if phased is not False and chunks.all_phased:
        hap_ids = np.array([f"{s}_{h}" for s in header.samples for h in "AB"])
        return HaplotypeMatrix(words, n_snps, missing if missing.any() else None, hap_ids, variants)
    g = kernels.haplotypes_to_genotypes(words, n_snps, missing)
    return GenotypeMatrix(g, n_snps, np.array(header.samples), variants)


def contig_lengths(path) -> dict:
    """``{contig: length}`` from the ``##contig`` header lines that give a length (for :func:`write_vcf`)."""
    out = {}
    for line in _read_header(existing(path)).text.splitlines():
        if line.startswith("##contig=<"):
            fields = dict(f.split("=", 1) for f in line[10:].rstrip(">").split(",") if "=" in f)
            if "ID" in fields and fields.get("length", "").isdigit():
                out[fields["ID"]] = int(fields["length"])
    return out


def _read_header(path) -> _Header:
    """The header, parsed here so that problems get a one-line error before htslib sees the file."""
    check_bgzf_eof(path)
    try:
        with (gzip.open(path, "rb") if is_gzip(path) else open(path, "rb")) as f:
            magic = f.peek(5)[:5]
            if magic[:3] == b"BCF":
                f.read(5)
                (size,) = struct.unpack("<I", f.read(4))
                text = f.read(size).rstrip(b"\0").decode()
                lines, is_bcf = 0, True
            else:
                head = [f.readline()]
                while head[-1] and head[-1].startswith(b"#") and not head[-1].startswith(b"#CHROM"):
                    head.append(f.readline())
                text, lines, is_bcf = b"".join(head).decode(), len(head), False
    except DECOMPRESSION_ERRORS as e:
        raise FormatError(path, f"corrupt or truncated compressed data in the header ({e})") from None
    except (UnicodeDecodeError, struct.error):
        raise FormatError(path, "not a VCF or BCF file") from None
    last = text.rstrip("\n").rsplit("\n", 1)[-1]
    if not last.startswith("#CHROM"):
        raise FormatError(path, "no '#CHROM POS ID ...' header line; not a VCF file")
    columns = last.rstrip("\r").split("\t")
    if columns[: len(_FIXED)] != _FIXED[: len(columns)]:
        raise FormatError(path, f"header line should start {' '.join(_FIXED)}, got {' '.join(columns[:9])!r}",
                          lines or None)
    samples = columns[len(_FIXED):]
    if not samples:
        raise FormatError(path, "no samples in file")
    if len(set(samples)) != len(samples):
        seen = set()
        dup = next(s for s in samples if s in seen or seen.add(s))
        raise FormatError(path, f"sample {dup!r} appears more than once in the header", lines or None)
    return _Header(text if text.endswith("\n") else text + "\n", lines, samples, is_bcf)


def _read_text(path, header: _Header, chunks: Chunks) -> None:
    n = len(header.samples)
    fast_length = 4 * n - 1  # n three-character calls and n - 1 tabs
    parser = _LineParser(path, header)
    chunks.parse_line = parser.parse
    records, calls, texts = [], [], []  # a batch of fast-path lines, handed over together

    def hand_over():
        if records:
            chunks.add_texts(records, calls, texts)
            records.clear(), calls.clear(), texts.clear()

    number = 0
    try:
        for first, lines in read_line_blocks(path):
            for lineno, line in enumerate(lines, start=first):
                if lineno <= header.lines or not line:
                    continue
                number += 1
                fields = line.split(b"\t", 9)
                if len(fields) < 8:
                    hand_over()
                    chunks.fail(FormatError(path, f"malformed record: {len(fields)} columns, at least 8 expected",
                                            lineno))
                chrom, pos, vid, ref, alt = fields[:5]
                if not pos.isdigit():
                    hand_over()
                    chunks.fail(FormatError(path, f"malformed record: POS {_text(pos)!r} is not a whole number",
                                            lineno))
                if len(pos) > 18 and int(pos) >= 2**63:  # found by fuzzing: overflowed the int64 positions later
                    hand_over()
                    chunks.fail(FormatError(path, f"malformed record: POS {_text(pos)} is beyond 2**63 - 1", lineno))
                # Python ints: positions past 2^31 stay exact.
                record = (lineno, number, chrom, int(pos), None if vid == b"." else vid, ref, alt,
                          0 if alt == b"." else alt.count(b",") + 1)
                if len(fields) == 10 and fields[8] == b"GT" and len(fields[9]) == fast_length:
                    records.append(record)
                    calls.append(fields[9])
                    texts.append(line)
                    if len(records) == chunks.room():
                        hand_over()
                    continue
                hand_over()
                if len(fields) == 8 or not fields[8].startswith(b"GT"):
                    chunks.fail(FormatError(path, f"{describe(record)} has no GT field", lineno))
                columns = 0 if len(fields) == 9 else fields[9].rstrip(b"\r").count(b"\t") + 1
                if columns != n:
                    # htslib drops extra sample columns without a word, so they are counted here.
                    chunks.fail(FormatError(path, f"malformed record: {describe(record)} has {columns} sample "
                                            f"columns, the header names {n}", lineno))
                chunks.add_array(record, parser.parse(line, record))
        hand_over()
    finally:
        parser.close()


class _LineParser:
    """htslib's parse of single text lines, for calls the fast decoder does not take."""

    def __init__(self, path, header: _Header):
        self.path, self.header, self.writer = path, header, None

    def parse(self, line: bytes, record) -> np.ndarray:
        import cyvcf2

        if self.writer is None:
            self.writer = cyvcf2.Writer.from_string("/dev/null", self.header.text, mode="w")
        try:
            gt = self.writer.variant_from_string(line.decode().rstrip("\r")).genotype
        except Exception:  # htslib reports the reason on stderr; the line itself may be megabytes long
            raise FormatError(self.path, "malformed record: htslib cannot parse it", record[0]) from None
        if gt is None or gt.ploidy < 1:  # ploidy 0: GT not stored as integers; array() would crash
            raise FormatError(self.path, f"{describe(record)} has no GT field", record[0])
        return gt.array()

    def close(self):
        if self.writer is not None:
            self.writer.close()


def _read_htslib(path, header: _Header, chunks: Chunks, region: str | None) -> None:
    import cyvcf2

    line = None if (region or header.is_bcf) else header.lines  # region reads do not know line numbers
    record = 0
    with _htslib_errors(path) as errors:
        try:
            vcf = cyvcf2.VCF(str(path), gts012=False, strict_gt=False, lazy=True)
        except Exception as e:
            raise FormatError(path, f"cannot read as VCF/BCF: {e}") from None
        try:
            source = vcf(region) if region else vcf
            for record, v in enumerate(source, start=1):
                # v.POS is a 32-bit int and wraps past 2^31; v.start is 64-bit.
                rec = (None if line is None else line + record, None if region else record, v.CHROM, v.start + 1,
                       v.ID, v.REF, ",".join(v.ALT) or ".", len(v.ALT))
                try:
                    gt = v.genotype
                except Exception:
                    gt = None
                # ploidy 0: a BCF whose GT is not stored as integers; cyvcf2's array() would segfault
                if gt is None or gt.ploidy < 1:
                    chunks.fail(FormatError(path, f"{describe(rec)} has no GT field", rec[0]))
                chunks.add_array(rec, gt.array())
        except FormatError:
            raise
        except Exception as e:  # htslib parse and read errors surface as assorted exceptions
            chunks.flush()
            raise FormatError(path, f"malformed or damaged record after record {record}: {errors() or e}") from None
        finally:
            vcf.close()
        if errors():
            # An iterator over a region stops at a damaged block as if the region ended there.
            raise FormatError(path, f"damaged data after record {record}: {errors()}")


_stderr_lock = threading.Lock()


@contextlib.contextmanager
def _htslib_errors(path):
    """Capture htslib's log (it writes to file descriptor 2) and yield a function giving its first error.

    htslib reports some failures only there: a region iterator meeting a
    damaged block ends quietly. Everything captured is passed on to stderr.
    """
    with _stderr_lock, tempfile.TemporaryFile() as log:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(log.fileno(), 2)
        first = []

        def errors() -> str:
            if not first:
                log.seek(0)
                text = log.read().decode(errors="replace")
                first.append(next((x.strip() for x in text.splitlines() if x.startswith("[E::")), ""))
                first.append(text)
            return first[0]

        try:
            yield errors
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            errors()
            if first[1]:
                sys.stderr.write(first[1])


def write_vcf(path, matrix: HaplotypeMatrix | GenotypeMatrix, *, contig_lengths: dict | None = None) -> None:
    """Write a matrix as VCF 4.2 (BGZF-compressed when the name ends in .gz), atomically.

    Haplotypes are written phased (``a|b``, rows 2i and 2i+1 as sample i),
    genotypes unphased (``0/1``); missing calls as ``./.``. ``contig_lengths``
    (``{contig: length}``, e.g. from :func:`contig_lengths`) adds ``length=``
    to the ``##contig`` lines. Sample ids with whitespace, and repeated sample
    ids, are refused: they would not read back as the same samples.
    """
    matrix = matrix.to("cpu")
    v = matrix.variants
    if isinstance(matrix, HaplotypeMatrix):
        if matrix.n_haplotypes % 2:
            raise ValueError("a phased VCF needs an even number of haplotypes (two per sample)")
        samples = [str(i).rsplit("_", 1)[0] for i in matrix.ids[::2]]
    else:
        samples = [str(i) for i in matrix.ids]
    header = _header(samples, v, contig_lengths, ['##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">'])
    _write_text(path, header, (_records(matrix, j0, min(matrix.n_snps, j0 + 4096))
                               for j0 in range(0, matrix.n_snps, 4096)))


def _header(samples: list, variants: Variants, contig_lengths: dict | None, fields: list) -> bytes:
    """The header of a written VCF: format line, contigs, the INFO/FORMAT lines ``fields``, the #CHROM line.

    Checks first that sample ids and variant fields would read back as written.
    """
    check_ids(samples, "sample id")
    for name, values in (("CHROM", variants.chrom), ("ID", variants.id), ("REF", variants.ref),
                         ("ALT", variants.alt)):
        check_ids(dict.fromkeys(map(str, values)), f"variant {name}")  # values repeat; only whitespace matters here
    lengths = contig_lengths or {}
    contigs = [f"##contig=<ID={c}" + (f",length={int(lengths[c])}>" if c in lengths else ">")
               for c in dict.fromkeys(map(str, variants.chrom))]
    lines = ["##fileformat=VCFv4.2", "##source=genofast", *contigs, *fields, "\t".join(_FIXED + samples)]
    return ("\n".join(lines) + "\n").encode()


def _write_text(path, header: bytes, pieces, level: int = 6) -> None:
    """Write the header and the records (bytes-like pieces, in order) atomically, BGZF when the name ends in .gz."""
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        out = BgzfWriter(f, level) if str(path).endswith(".gz") else f
        out.write(header)
        for piece in pieces:
            out.write(piece)
        if out is not f:
            out.close()


_IMPUTED_FIELDS = [
    '##INFO=<ID=AF,Number=A,Type=Float,Description="Estimated ALT allele frequency: mean dosage / 2">',
    '##INFO=<ID=DR2,Number=A,Type=Float,Description="Dosage R-squared: estimated squared correlation between '
    'imputed and true ALT dosage, over all samples, observed calls counted as certain">',
    '##INFO=<ID=IMP,Number=0,Type=Flag,Description="The site has imputed calls">',
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
    '##FORMAT=<ID=DS,Number=A,Type=Float,Description="Estimated ALT dose, P(0/1) + 2 P(1/1)">',
    '##FORMAT=<ID=GP,Number=G,Type=Float,Description="Estimated genotype probabilities P(0/0), P(0/1), P(1/1)">',
]
_IMPUTED_CALL = 28  # bytes a call: GT "0/1", ":", DS "1.000", ":", GP "0.000,1.000,0.000", tab or newline


def _decimal_table(top: int) -> np.ndarray:
    """Row k is the text "d.ddd" of k / 1000, for k = 0 .. 1000 * top (uint8, 5 columns)."""
    return np.frombuffer("".join(f"{k // 1000}.{k % 1000:03d}" for k in range(1000 * top + 1)).encode(),
                        np.uint8).reshape(-1, 5)


_DOSE_TEXT, _PROBABILITY_TEXT = _decimal_table(2), _decimal_table(1)
_OBSERVED_TEXT = np.frombuffer(b"0/0:0.000:1.000,0.000,0.000\t0/1:1.000:0.000,1.000,0.000\t"
                               b"1/1:2.000:0.000,0.000,1.000\t", np.uint8).reshape(3, _IMPUTED_CALL)


def write_imputed_vcf(path, imputed, *, contig_lengths: dict | None = None) -> None:
    """Write imputed genotypes as VCF 4.2 with GT, DS and GP (BGZF-compressed when the name ends in .gz), atomically.

    ``imputed`` is a :class:`genofast.impute.result.Imputed`. GT is its hard
    call (unphased ``0/1``, or phased ``a|b`` from ``imputed.phased`` when
    given), DS the expected ALT dose and GP the three genotype probabilities,
    3 decimals each. Observed calls are written as observed: their GT, an
    integral DS and a one-hot GP. INFO holds AF (mean dosage / 2), DR2
    (:func:`genofast.impute.scoring.dosage_r2` with ``calls="all"``, as Beagle
    reports it; left out where no call was
    imputed or it is undefined) and the flag IMP at sites with imputed calls.
    ``contig_lengths`` and the refusal of unreadable ids are as in :func:`write_vcf`.
    """
    observed = imputed.observed.to("cpu")
    n_samples, n_snps = observed.shape
    if n_samples == 0:
        raise ValueError("no samples to write")
    phased = imputed.phased
    if phased is not None:
        phased = np.asarray(phased)
        if phased.shape != (2 * n_samples, n_snps):
            raise ValueError(f"phased haplotypes of shape {phased.shape} do not match {n_samples} samples x "
                             f"{n_snps} SNPs (expected {2 * n_samples} x {n_snps})")
    header = _header([str(i) for i in observed.ids], observed.variants, contig_lengths, _IMPUTED_FIELDS)
    step = max(1, (1 << 21) // n_samples)  # ~2M calls, ~60 MB of text, a block
    blocks = (_imputed_records(imputed.probabilities, observed, phased, j0, min(n_snps, j0 + step))
              for j0 in range(0, n_snps, step))
    # Level 1: GP text is several times larger than GT alone and level 6 made compression most of the write time.
    _write_text(path, header, itertools.chain.from_iterable(blocks), level=1)


def _imputed_records(probabilities, observed: GenotypeMatrix, phased, j0: int, j1: int) -> list:
    """Text lines of SNPs [j0, j1) of an imputed cohort as pieces to write, laid out as fixed-width bytes with numpy.

    Observed calls have one of three texts, taken from a table; only the
    imputed calls are formatted, their numbers through tables of "d.ddd".
    """
    from ..impute.scoring import imputed_dosage_r2

    v = observed.variants
    obs = np.ascontiguousarray(observed[:, j0:j1].to_numpy().T)  # SNPs x samples
    snps, samples = np.nonzero(obs < 0)
    p = np.asarray(probabilities[samples, j0 + snps], dtype=np.float64)  # imputed calls x 3
    finite = np.isfinite(p).all(axis=1)
    if not finite.all():
        k = int(np.argmin(finite))
        raise ValueError(f"probability of sample {samples[k]} at SNP {j0 + snps[k]} is not a finite number")
    calls = p.argmax(axis=1)
    dose = p[:, 1] + 2 * p[:, 2]
    text = np.empty((len(p), _IMPUTED_CALL), np.uint8)
    text[:, 0] = (calls == 2) + ord("0")
    text[:, 1] = ord("/")
    text[:, 2] = (calls >= 1) + ord("0")
    text[:, 3] = text[:, 9] = ord(":")
    text[:, 4:9] = _DOSE_TEXT[np.clip(np.rint(dose * 1000), 0, 2000).astype(np.intp)]
    for k in range(3):
        text[:, 10 + 6 * k:15 + 6 * k] = _PROBABILITY_TEXT[np.clip(np.rint(p[:, k] * 1000), 0, 1000).astype(np.intp)]
    text[:, 15] = text[:, 21] = ord(",")
    text[:, 27] = ord("\t")
    out = _OBSERVED_TEXT[np.maximum(obs, 0)]  # SNPs x samples x bytes; imputed calls overwritten next
    out[snps, samples] = text
    if phased is not None:
        first, second = phased[0::2, j0:j1].T, phased[1::2, j0:j1].T
        hard = obs.copy()
        hard[snps, samples] = calls
        wrong = (first.astype(np.int16) + second != hard) | (first < 0) | (second < 0) | (first > 1) | (second > 1)
        if wrong.any():
            snp, sample = np.argwhere(wrong)[0]
            raise ValueError(f"phased haplotypes of sample {sample} at SNP {j0 + snp} read "
                             f"{first[snp, sample]}|{second[snp, sample]}, but the call is dosage {hard[snp, sample]}")
        out[..., 0] = first + ord("0")
        out[..., 1] = ord("|")
        out[..., 2] = second + ord("0")
    out[:, -1, 27] = ord("\n")
    dose_sum = obs.sum(axis=1, dtype=np.float64) + np.bincount(snps, dose + 1, j1 - j0)  # + 1: undo the -1s
    frequency = dose_sum / obs.shape[1] / 2
    r2 = imputed_dosage_r2(p, snps, j1 - j0, observed=obs)  # over every sample, as Beagle reports it
    has_imputed = np.bincount(snps, minlength=j1 - j0) > 0
    lines = []
    for j in range(j1 - j0):
        info = f"AF={frequency[j]:.4f}"
        if not np.isnan(r2[j]):
            info += f";DR2={r2[j]:.3f}"
        if has_imputed[j]:
            info += ";IMP"
        lines.append(_fixed_columns(v, j0 + j, info, "GT:DS:GP"))
        lines.append(memoryview(out[j]))  # the calls are written from the array, not copied once more
    return lines


def _fixed_columns(v: Variants, j: int, info: str, fields: str) -> bytes:
    """CHROM to FORMAT of SNP j, with the tab before the first sample."""
    return f"{v.chrom[j]}\t{v.position[j]}\t{v.id[j]}\t{v.ref[j]}\t{v.alt[j]}\t.\tPASS\t{info}\t{fields}\t".encode()


def _records(matrix, j0: int, j1: int) -> bytes:
    """Text lines of SNPs [j0, j1), unpacked a block at a time so memory stays near the packed size.

    Calls are laid out as bytes with numpy (4 bytes a call: allele, separator,
    allele, tab) rather than joined as strings, which was most of the write time.
    """
    v = matrix.variants
    block = matrix[:, j0:j1].to_numpy().astype(np.int8)
    if isinstance(matrix, HaplotypeMatrix):
        first, second, sep = block[0::2].T, block[1::2].T, ord("|")
    else:  # dosage 0, 1, 2 as 0/0, 0/1, 1/1 and missing (-1) as ./.
        first = np.where(block == 2, 1, np.minimum(block, 0)).T
        second, sep = np.minimum(block, 1).T, ord("/")
    calls = np.empty(first.shape + (4,), dtype=np.uint8)  # SNPs x samples x 4
    calls[:, :, 0] = np.where(first < 0, ord("."), first + ord("0"))
    calls[:, :, 1] = sep
    calls[:, :, 2] = np.where(second < 0, ord("."), second + ord("0"))
    calls[:, :, 3] = ord("\t")
    calls[:, -1, 3] = ord("\n")
    out = []
    for j in range(j0, j1):
        out.append(_fixed_columns(v, j, ".", "GT"))
        out.append(calls[j - j0].tobytes())
    return b"".join(out)
