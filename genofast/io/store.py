"""genofast's own store: packed words and metadata in one ``.npz``, no pickles."""

from __future__ import annotations

import zipfile
import zlib

import numpy as np

from ..matrix import GenotypeMatrix, HaplotypeMatrix, Variants
from ._files import FormatError, atomic_path, existing

_VARIANT_FIELDS = ("chrom", "position", "id", "ref", "alt")


def save(path, matrix: HaplotypeMatrix | GenotypeMatrix) -> None:
    """Save a packed matrix to ``path`` (``.npz``), atomically."""
    if not isinstance(matrix, (HaplotypeMatrix, GenotypeMatrix)):
        raise TypeError(f"expected a HaplotypeMatrix or GenotypeMatrix, got {type(matrix).__name__}")
    matrix = matrix.to("cpu")
    arrays = {
        "kind": np.array("haplotypes" if isinstance(matrix, HaplotypeMatrix) else "genotypes"),
        "words": matrix.words,
        "n_snps": np.array(matrix.n_snps),
        "ids": np.asarray(matrix.ids).astype(str),
    }
    for f in _VARIANT_FIELDS:
        arrays[f"variant_{f}"] = np.asarray(getattr(matrix.variants, f))
        if arrays[f"variant_{f}"].dtype == object:
            arrays[f"variant_{f}"] = arrays[f"variant_{f}"].astype(str)
    if getattr(matrix, "missing", None) is not None:
        arrays["missing"] = matrix.missing
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **arrays)


def load(path) -> HaplotypeMatrix | GenotypeMatrix:
    """Load a matrix written by :func:`save` (never unpickles)."""
    try:
        # Opened here: np.load leaks its own handle when the archive is damaged.
        with open(existing(path), "rb") as f, np.load(f, allow_pickle=False) as z:
            kind = str(z["kind"])
            variants = Variants(*(z[f"variant_{f}"] for f in _VARIANT_FIELDS))
            words, n_snps, ids = z["words"], int(z["n_snps"]), z["ids"]
            if kind == "haplotypes":
                missing = z["missing"] if "missing" in z.files else None
                return HaplotypeMatrix(words, n_snps, missing, ids, variants)
            if kind == "genotypes":
                return GenotypeMatrix(words, n_snps, ids, variants)
            raise FormatError(path, f"unknown matrix kind {kind!r}")
    # Damaged or truncated archives raise BadZipFile (bad CRC, no directory), zlib.error or EOFError;
    # well-formed archives with arrays of the wrong rank or type (found by fuzzing: 0-d ids, 2-D n_snps)
    # raise TypeError or IndexError from the matrix checks; zipfile raises NotImplementedError for a
    # damaged version or compression field and RuntimeError for an "encrypted" flag (both found by atheris).
    except (KeyError, ValueError, TypeError, IndexError, OSError, EOFError, NotImplementedError, RuntimeError,
            zlib.error, zipfile.BadZipFile) as e:
        if isinstance(e, (FormatError, FileNotFoundError)):
            raise
        raise FormatError(path, f"not a genofast store: {e}") from e
