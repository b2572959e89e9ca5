"""GT calls of VCF records gathered in chunks, checked and bit-packed a chunk at a time.

Records arrive either as htslib's per-sample arrays (``genotype.array()``:
allele indices, -1 missing, -2 past the end of a shorter call, last column the
phase flag) or, for text lines whose calls are all three characters under
``FORMAT=GT`` (``0|1``, ``./.``), as the raw text, which numpy decodes for the
whole chunk at once; a line that does not fit that pattern goes to htslib.
Checks run vectorised over the chunk, with reductions over whole contiguous
rows (numpy's reductions along a short inner axis are slow); only when one
fails is the first bad record located, so errors still name the line, site
and sample. Memory stays near the packed size: one chunk of calls plus fewer
than 64 unpacked columns.

A record is a tuple ``(line, number, chrom, pos, id, ref, alt, n_alt)``:
``line`` is None where lines are unknown (BCF, region queries), ``number``
None for region queries, ``alt`` the ALT column as written ("A,C" or ".").
Text columns are bytes for text files (decoded together at the end) and str
from htslib.
"""

from __future__ import annotations

import numpy as np

from .. import kernels
from ._files import FormatError, UnphasedError

# Calls are held as one byte per allele: the allele index, or one of these.
MISSING = 254  # ord('.') - ord('0') in uint8 arithmetic, so text decodes with one subtraction
NOT_DIPLOID = 253  # a haploid or polyploid call
MAX_ALT = 250
_CHUNK_BYTES = 16 << 20  # call buffer budget; bounds memory for very many samples
_BAR, _SLASH, _TAB = (ord(c) for c in "|/\t")


class Chunks:
    """Collects the records of one file; :meth:`result` returns packed haplotype words."""

    def __init__(self, path, samples, phased: bool | None, multiallelic: str):
        self.path, self.samples, self.phased, self.multiallelic = path, samples, phased, multiallelic
        self.parse_line = None  # (text line, record) -> htslib array, for lines the text decoder refuses
        n = len(samples)
        self.capacity = int(min(4096, max(64, _CHUNK_BYTES // (3 * n))))
        self.alleles = np.empty((self.capacity, n, 2), dtype=np.uint8)
        self.phase = np.empty((self.capacity, n), dtype=bool)
        self.raw = None  # htslib arrays of this chunk, converted together at flush
        self.raw_rows, self.text_rows, self.text_calls, self.text_lines = [], [], [], []
        self.records = []
        self.start = 0  # index in self.records of the chunk's first record
        self.all_phased = True
        self.packed, self.packed_missing = [], []
        self.carry = None  # (alleles, missing) columns not yet a whole number of words

    def __len__(self) -> int:
        return len(self.records)

    def room(self) -> int:
        return self.capacity - (len(self.records) - self.start)

    # --- adding records ------------------------------------------------------

    def _check_alt(self, record) -> None:
        n_alt = record[7]
        if n_alt > 1 and (self.multiallelic == "error" or n_alt > MAX_ALT):
            self.flush()  # an earlier record of this chunk may hold the first error
            what = f"is multi-allelic (ALT={_text(record[6])}); pass multiallelic='split' to split it" \
                if self.multiallelic == "error" else f"has more than {MAX_ALT} ALT alleles"
            raise FormatError(self.path, f"{describe(record)} {what}", record[0])

    def add_array(self, record, array: np.ndarray) -> None:
        """A record decoded by htslib (``genotype.array()``)."""
        self._check_alt(record)
        row = len(self.records) - self.start
        self.records.append(record)
        if self.raw is None:
            self.raw = np.empty((self.capacity, len(self.samples), 3), dtype=np.int16)
        self.raw[row] = array if array.shape[1] == 3 else _as_diploid(array)
        self.raw_rows.append(row)
        if row + 1 == self.capacity:
            self.flush()

    def add_texts(self, records, calls, lines) -> None:
        """Text records under ``FORMAT=GT`` whose call fields have the length of all three-character calls.

        At most :meth:`room` records at a time.
        """
        for r in records:
            if r[7] > 1:
                self._check_alt(r)
        row = len(self.records) - self.start
        self.records.extend(records)
        self.text_rows.extend(range(row, row + len(records)))
        self.text_calls.extend(calls)
        self.text_lines.extend(lines)
        if row + len(records) == self.capacity:
            self.flush()

    def fail(self, error: FormatError):
        """Raise ``error`` for the next record, after any error in the records before it."""
        self.flush()
        raise error

    # --- decoding, checking and packing -----------------------------------------

    def flush(self) -> None:
        k = len(self.records) - self.start
        if k == 0:
            return
        stop, pending = k, None
        if self.text_rows:
            stop, pending = self._decode_text()
        if self.raw_rows:
            rows = np.array(self.raw_rows)
            self._set_raw(rows, self.raw[rows])
            self.raw_rows.clear()
        self._check(stop)
        if pending is not None:
            raise pending
        self._pack(k)
        self.start = len(self.records)

    def _decode_text(self):
        n = len(self.samples)
        rows = np.array(self.text_rows)
        x = np.frombuffer(b"\t".join(self.text_calls) + b"\t", dtype=np.uint8).reshape(len(rows), n, 4)
        codes = x[:, :, 0:3:2] - np.uint8(ord("0"))  # digits -> 0..9, '.' -> MISSING
        sep = x[:, :, 1]
        phase = sep == _BAR
        # +2 maps MISSING to 0: valid codes become 0..11.
        all_ok = bool((codes + np.uint8(2)).max() < 12 and (phase | (sep == _SLASH)).all()
                      and (x[:, :, 3] == _TAB).all())
        fast = rows
        if not all_ok:  # locate the lines with unusual calls (rare), row by row
            ok = (codes + np.uint8(2)).reshape(len(rows), -1).max(axis=1) < 12
            ok &= (phase | (sep == _SLASH)).min(axis=1) & (x[:, :, 3] == _TAB).min(axis=1)
            codes, phase, fast = codes[ok], phase[ok], rows[ok]
        if len(fast) and fast[-1] - fast[0] == len(fast) - 1:  # usually the whole chunk, in order
            self.alleles[fast[0] : fast[-1] + 1] = codes
            self.phase[fast[0] : fast[-1] + 1] = phase
        else:
            self.alleles[fast] = codes
            self.phase[fast] = phase
        stop, pending = len(self.records) - self.start, None
        for i in [] if all_ok else np.flatnonzero(~ok):  # e.g. two-digit alleles, a lone '.': htslib parses
            row = int(rows[i])
            try:
                array = self.parse_line(self.text_lines[i], self.records[self.start + row])
            except FormatError as e:
                stop, pending = row, e
                break
            self._set_raw(np.array([row]), (array if array.shape[1] == 3 else _as_diploid(array))[None])
        self.text_rows.clear()
        self.text_calls.clear()
        self.text_lines.clear()
        return stop, pending

    def _set_raw(self, rows, raw) -> None:
        a, b = raw[:, :, 0], raw[:, :, 1]
        b[(b == -2) & (a == -1)] = -1  # a lone '.' (bcftools merge writes it) is a missing diploid call
        codes = raw[:, :, :2]
        # An index past MAX_ALT is past the ALT alleles too (sites with more are refused): MAX_ALT + 1 says so.
        out = np.where(codes == -1, MISSING, np.where(codes < 0, NOT_DIPLOID, np.minimum(codes, MAX_ALT + 1)))
        self.alleles[rows] = out.astype(np.uint8)
        self.phase[rows] = raw[:, :, 2] != 0

    def _check(self, k: int) -> None:
        """Raise for the first bad call among the chunk's first ``k`` records."""
        alleles, phase = self.alleles[:k], self.phase[:k]
        records = self.records[self.start : self.start + k]
        # +2 in uint8 maps MISSING to 0 and NOT_DIPLOID to 255, so one maximum finds both
        # allele indices past the ALT alleles and non-diploid calls.
        shifted = (alleles + np.uint8(2)).reshape(k, -1)
        limit = np.array([max(r[7], 1) + 2 for r in records], dtype=np.uint8)
        first = []
        if shifted.max() > limit.min():
            bad = shifted.max(axis=1) > limit
            if bad.any():
                row = int(np.argmax(bad))
                s = int(np.argmax(shifted[row] > limit[row])) // 2
                first.append((row, 0, s, "only diploid calls are supported" if NOT_DIPLOID in alleles[row, s]
                              else "allele index beyond the ALT alleles", FormatError))
        if (self.all_phased and self.phased is not False) or self.phased:
            # Only a heterozygote written unphased loses information; homozygous
            # and missing calls carry no phase whichever separator they use.
            unphased_at = np.flatnonzero(~phase.reshape(-1))
            if unphased_at.size:
                pairs = alleles.reshape(-1, 2)[unphased_at]
                het = (pairs[:, 0] != pairs[:, 1]) & (pairs[:, 0] != MISSING) & (pairs[:, 1] != MISSING)
                if het.any():
                    self.all_phased = False
                    if self.phased:
                        at = int(unphased_at[np.argmax(het)])
                        first.append((at // len(self.samples), 1, at % len(self.samples),
                                      "unphased genotype where phased data are required", UnphasedError))
        if first:  # the first bad record's problem; (row, order) never ties, so the classes are never compared
            row, _, s, message, error = min(first)
            record = records[row]
            raise error(self.path, f"{describe(record)}, sample {self.samples[s]}: {message}", record[0])

    def _pack(self, k: int) -> None:
        calls = self.alleles[:k]
        n_alt = np.array([r[7] for r in self.records[self.start : self.start + k]])
        if n_alt.max() <= 1:
            alleles = calls == 1
        else:  # split: one output SNP per ALT allele, that allele = 1, every other allele = 0
            rep = np.repeat(np.arange(k), np.maximum(n_alt, 1))
            which = np.concatenate([np.arange(1, max(m, 1) + 1) for m in n_alt]).astype(np.uint8)
            calls = calls[rep]
            alleles = calls == which[:, None, None]
        missing = calls == MISSING
        # (SNPs, samples, 2) -> (haplotypes, SNPs): rows 2i, 2i+1 are sample i's two alleles.
        alleles = alleles.reshape(len(alleles), -1).T
        missing = missing.reshape(len(missing), -1).T
        if self.carry is not None:
            alleles = np.concatenate([self.carry[0], alleles], axis=1)
            missing = np.concatenate([self.carry[1], missing], axis=1)
        whole = alleles.shape[1] // 64 * 64  # pack whole words only, so chunks concatenate word-aligned
        if whole:
            self.packed.append(_pack(alleles[:, :whole]))
            self.packed_missing.append(_pack(missing[:, :whole]))
        self.carry = (alleles[:, whole:], missing[:, whole:])

    def result(self):
        """(words, missing words, n_snps) of everything added."""
        self.flush()
        if self.carry is not None and self.carry[0].shape[1]:
            self.packed.append(_pack(self.carry[0]))
            self.packed_missing.append(_pack(self.carry[1]))
        words = np.concatenate(self.packed, axis=1)
        missing = np.concatenate(self.packed_missing, axis=1)
        return words, missing, int(sum(max(r[7], 1) for r in self.records))

    def variants(self) -> tuple:
        """(chrom, position, id, ref, alt) arrays, one entry per output SNP (per ALT allele when split)."""
        rows = self.records
        if any(r[7] > 1 for r in rows):
            rows = [r[:6] + (a,) for r in rows for a in _text(r[6]).split(",")]
        chrom, ref, alt = (_strings([r[i] for r in rows]) for i in (2, 5, 6))
        pos = np.array([r[3] for r in rows], dtype=np.int64)
        ids = _strings([r[4] for r in rows])
        if any(r[4] is None for r in rows):
            ids = np.array([f"{c}:{p}" if r[4] is None else i for r, c, p, i in zip(rows, chrom, pos, ids)])
        return chrom, pos, ids, ref, alt


def _strings(values) -> np.ndarray:
    """A str array of str or bytes values; bytes are decoded in one go where ASCII (nearly always)."""
    values = [b"" if v is None else v for v in values]
    if values and isinstance(values[0], bytes):
        try:
            return np.array(values).astype(str)
        except UnicodeDecodeError:
            # found by fuzzing: non-UTF-8 bytes in CHROM/ID/REF/ALT; kept visible as \x escapes, not a crash
            values = [v.decode(errors="backslashreplace") for v in values]
    return np.array(values, dtype=str)


def _text(value) -> str:
    """For messages: bytes that are not UTF-8 (damaged files) show as \\x escapes instead of raising."""
    return value.decode(errors="backslashreplace") if isinstance(value, bytes) else str(value)


def describe(record) -> str:
    """'site chrom:pos', with the record number where there are no lines (BCF)."""
    line, number, chrom, pos = record[:4]
    site = f"site {_text(chrom)}:{pos}"
    return site if line is not None or number is None else f"record {number}, {site}"


def _pack(bits: np.ndarray) -> np.ndarray:
    if not bits.any():  # most chunks of most files have no missing calls
        return np.zeros((bits.shape[0], -(-bits.shape[1] // 64)), dtype=np.uint64)
    return kernels.pack_haplotypes(np.ascontiguousarray(bits).view(np.uint8))


def _as_diploid(array: np.ndarray) -> np.ndarray:
    """htslib's array for a record whose widest call is not diploid, as (samples, 3).

    Haploid calls keep -2 in the second allele (a lone '.' becomes missing
    later); calls with more than two alleles get -3 there, so both fail the
    diploid check.
    """
    out = np.full((array.shape[0], 3), -2, dtype=np.int16)
    out[:, 2] = array[:, -1]
    width = min(2, array.shape[1] - 1)
    out[:, :width] = array[:, :width]
    if array.shape[1] > 3:
        out[(array[:, 2:-1] != -2).any(axis=1), 1] = -3
    return out
