"""What every generative model shares: input coercion and safe, atomic checkpoints.

A checkpoint is a safetensors file of arrays plus a JSON config in its
metadata: loading never unpickles anything.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..io._files import FormatError, atomic_path, existing
from ..matrix import HaplotypeMatrix, Variants


def as_alleles(haplotypes) -> np.ndarray:
    """A HaplotypeMatrix or 0/1 array as a dense uint8 array, checked."""
    if isinstance(haplotypes, HaplotypeMatrix):
        if haplotypes.has_missing:
            raise ValueError("training haplotypes must be fully observed; impute missing alleles first")
        return haplotypes.to("cpu").to_numpy()
    a = np.asarray(haplotypes)
    if a.ndim != 2:
        raise ValueError(f"haplotypes must be 2-D (haplotypes x SNPs), got shape {a.shape}")
    if a.size and (a.dtype.kind not in "biuf" or np.isnan(a.astype(float)).any() or not np.isin(a, (0, 1)).all()):
        raise ValueError("haplotypes must contain only 0 and 1")
    return a.astype(np.uint8)


def check_fit_input(alleles: np.ndarray, n_snps: int | None = None) -> None:
    if alleles.shape[0] == 0:
        raise ValueError("cannot fit a model on an empty cohort (0 haplotypes)")
    if n_snps is not None and alleles.shape[1] != n_snps:
        raise ValueError(f"model has {n_snps} SNPs, data have {alleles.shape[1]}")


def check_sample_count(n) -> int:
    if not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"number of haplotypes to sample must be a non-negative integer, got {n!r}")
    return int(n)


def save_checkpoint(path, kind: str, config: dict, arrays: dict[str, np.ndarray]) -> None:
    from safetensors.numpy import save

    meta = {"genofast_model": kind, "config": json.dumps(config)}
    tensors = {k: np.ascontiguousarray(v) for k, v in arrays.items()}
    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(save(tensors, metadata=meta))


def load_checkpoint(path, kind: str) -> tuple[dict, dict[str, np.ndarray]]:
    from safetensors import safe_open

    path = existing(path)
    try:
        with safe_open(str(path), framework="numpy") as f:
            meta = f.metadata() or {}
            arrays = {k: f.get_tensor(k) for k in f.keys()}
    except Exception as e:  # safetensors raises its own error types for corrupt files
        raise FormatError(path, f"not a safetensors checkpoint: {e}") from None
    if meta.get("genofast_model") != kind:
        raise FormatError(path, f"checkpoint holds a {meta.get('genofast_model')!r} model, not {kind!r}")
    return json.loads(meta["config"]), arrays


def variants_to_checkpoint(variants: Variants | None) -> tuple[dict, dict]:
    """Variant metadata as (arrays, JSON-able dict): positions as a tensor, names as strings."""
    if variants is None:
        return {}, {}
    meta = {f: [str(x) for x in getattr(variants, f)] for f in ("chrom", "id", "ref", "alt")}
    return {"variant_position": np.asarray(variants.position, dtype=np.int64)}, meta


def variants_from_checkpoint(arrays: dict, meta: dict) -> Variants | None:
    if "variant_position" not in arrays or not meta:
        return None
    return Variants(np.array(meta["chrom"]), arrays["variant_position"], np.array(meta["id"]), np.array(meta["ref"]),
                    np.array(meta["alt"]))
