"""What every generative model shares: input coercion and safe, atomic checkpoints.

A checkpoint is a safetensors file of arrays plus a JSON config in its
metadata: loading never unpickles anything.
"""

from __future__ import annotations

import json
import math
import os
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


def check_classes(classes) -> list[str] | None:
    """Label names of a conditional model: distinct strings (None: not conditional)."""
    if classes is None:
        return None
    out = [str(c) for c in classes]
    if not out or len(set(out)) != len(out):
        raise ValueError(f"classes must be distinct label names, got {classes!r}")
    return out


def label_indices(classes: list[str] | None, labels, n: int, model: str) -> np.ndarray | None:
    """Labels (one per row, or one for all ``n`` rows) as indices into ``classes``, checked."""
    if not classes:
        if labels is not None:
            raise ValueError(f"this {model} is not conditional (no classes) but labels were given")
        return None
    if labels is None:
        raise ValueError(f"this {model} is conditional on {classes}: give labels")
    lab = np.asarray(labels).astype(str)
    if lab.ndim == 0:
        lab = np.full(n, lab.item())
    if lab.shape != (n,):
        raise ValueError(f"{lab.size} labels for {n} haplotypes")
    index = {c: i for i, c in enumerate(classes)}
    bad = sorted(str(b) for b in set(lab) - set(index))
    if bad:
        raise ValueError(f"unknown label(s) {bad[:5]}; the model knows {classes}")
    return np.array([index[x] for x in lab], dtype=np.int64)


def check_sample_count(n) -> int:
    if not _is_int(n) or n < 0:
        raise ValueError(f"number of haplotypes to sample must be a non-negative integer, got {n!r}")
    return int(n)


# Seeds feed numpy's generators and the Philox kernels (uint64 keys); the
# models derive per-epoch and per-window seeds by adding small offsets, so a
# seed stays below 2**63 to leave that headroom without wrapping.
SEED_LIMIT = 2**63


def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def check_seed(seed, name: str = "seed") -> int:
    if not _is_int(seed) or not 0 <= seed < SEED_LIMIT:
        raise ValueError(f"{name} must be an integer in [0, 2**63), got {seed!r}")
    return int(seed)


def check_int(value, name: str, low: int = 1, high: int | None = None) -> int:
    """``value`` as an int in [low, high], or a ValueError naming the argument."""
    if not _is_int(value) or value < low or (high is not None and value > high):
        span = f"at least {low}" if high is None else f"in [{low}, {high}]"
        raise ValueError(f"{name} must be an integer {span}, got {value!r}")
    return int(value)


def check_bool(value, name: str) -> bool:
    """``value`` if it is True or False, or a ValueError naming the argument."""
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return value


def log_odds(alleles: np.ndarray) -> np.ndarray:
    """Per-SNP log-odds of allele 1 in 0/1 ``alleles`` (rows x SNPs), frequencies clipped to [1e-3, 1 - 1e-3]."""
    f = np.clip(alleles.mean(axis=0), 1e-3, 1 - 1e-3)
    return np.log(f / (1 - f))


def check_float(value, name: str, low: float = 0.0, *, low_open: bool = False, high: float | None = None,
                high_open: bool = False) -> float:
    """``value`` as a finite float within the bounds (open or closed), or a ValueError naming the argument."""
    try:
        if isinstance(value, (bool, np.bool_, str)):
            raise TypeError
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    bad = not math.isfinite(x) or (x <= low if low_open else x < low)
    if high is not None:
        bad = bad or (x >= high if high_open else x > high)
    if bad:
        span = f"{'>' if low_open else '>='} {low:g}" + (
            "" if high is None else f" and {'<' if high_open else '<='} {high:g}")
        raise ValueError(f"{name} must be a finite number {span}, got {value!r}")
    return x


def available_memory() -> int:
    """Bytes of memory a new allocation can count on (MemAvailable, else free pages)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 2**63  # unknown: do not refuse


def gpu_available_memory(device) -> int:
    """Free bytes on a CUDA device (what cudaMemGetInfo reports)."""
    import torch

    return torch.cuda.mem_get_info(device)[0]


def gib(n_bytes: float) -> str:
    return f"{n_bytes / 2**30:,.1f} GiB"


def check_memory(n_bytes: float, what: str, advice: str, available: int | None = None) -> None:
    """Refuse up front (MemoryError with the estimate) instead of failing or swapping midway."""
    available = available_memory() if available is None else available
    if n_bytes > available:
        raise MemoryError(f"{what} needs about {gib(n_bytes)} of memory, but {gib(available)} is available; {advice}")


def check_tensor(path, arrays: dict, name: str, shape: tuple, low: float | None = None, high: float | None = None,
                 rows: slice = slice(None)) -> np.ndarray:
    """A checkpoint tensor, checked: present, the shape the config implies, finite, within [low, high].

    A corrupt or hand-edited checkpoint must fail here, naming file and
    tensor, rather than sample silently wrong haplotypes (a NaN frequency
    compares false, so it generates all-0 SNPs). ``rows`` limits the value
    checks to the rows the model reads.
    """
    if name not in arrays:
        raise FormatError(path, f"tensor {name!r} is missing")
    a = arrays[name]
    if tuple(a.shape) != tuple(shape):
        raise FormatError(path, f"tensor {name!r} has shape {tuple(a.shape)}, the config implies {tuple(shape)}")
    if a.dtype.kind not in "fiu":
        raise FormatError(path, f"tensor {name!r} has dtype {a.dtype}, expected numbers")
    v = a[rows]
    if not np.isfinite(v).all():
        raise FormatError(path, f"tensor {name!r} holds NaN or infinite values")
    if (low is not None and (v < low).any()) or (high is not None and (v > high).any()):
        allowed = f"below {low:g}" if high is None else f"outside [{low:g}, {high:g}]"
        raise FormatError(path, f"tensor {name!r} has values {allowed} (min {v.min():g}, max {v.max():g})")
    return a


def checked_config(path, build):
    """Run ``build()`` (which reads the config), turning a missing key or a bad value into a FormatError."""
    try:
        return build()
    except FormatError:
        raise
    except KeyError as e:
        raise FormatError(path, f"config lacks {e}") from None
    except (TypeError, ValueError, AttributeError, IndexError) as e:
        raise FormatError(path, f"bad config: {e}") from None
    except MemoryError as e:  # a model too large for this machine, or a damaged size: either way, say which file
        raise MemoryError(f"{path}: {e}") from None


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
    if "config" not in meta:
        raise FormatError(path, "checkpoint has no config in its metadata")
    try:
        config = json.loads(meta["config"])
    except json.JSONDecodeError as e:
        raise FormatError(path, f"config is not valid JSON: {e}") from None
    if not isinstance(config, dict):
        raise FormatError(path, f"config must be a JSON object, got {type(config).__name__}")
    return config, arrays


def variants_to_checkpoint(variants: Variants | None) -> tuple[dict, dict]:
    """Variant metadata as (arrays, JSON-able dict): positions as a tensor, names as strings."""
    if variants is None:
        return {}, {}
    meta = {f: [str(x) for x in getattr(variants, f)] for f in ("chrom", "id", "ref", "alt")}
    return {"variant_position": np.asarray(variants.position, dtype=np.int64)}, meta


def variants_from_checkpoint(arrays: dict, meta: dict, path=None, n_snps: int | None = None) -> Variants | None:
    if "variant_position" not in arrays or not meta:
        return None
    try:
        v = Variants(np.array(meta["chrom"]), arrays["variant_position"], np.array(meta["id"]), np.array(meta["ref"]),
                     np.array(meta["alt"]))
    except (KeyError, TypeError, ValueError) as e:
        raise FormatError(path, f"bad variant metadata: {e}") from None
    if n_snps is not None and len(v) != n_snps:
        raise FormatError(path, f"variant metadata for {len(v)} SNPs, the model has {n_snps}")
    return v


def checked_state_dict(path, arrays: dict, prefix: str, reference: dict, device) -> dict:
    """A torch state dict saved under ``prefix``: each tensor checked against ``reference``'s (present, its shape,
    finite; :func:`check_tensor`), cast to its dtype, on ``device``."""
    import torch

    # safetensors stores a 0-d tensor (batch norm's counter) with shape (1,)
    return {k: torch.as_tensor(check_tensor(path, arrays, prefix + k, tuple(v.shape) or (1,)))
            .to(v.dtype).reshape(v.shape).to(device) for k, v in reference.items()}


def optimizer_arrays(opt, prefix: str) -> tuple[dict, list]:
    """An optimizer's state as checkpoint arrays named ``{prefix}{param}.{key}``, and its JSON-able param groups."""
    sd = opt.state_dict()
    groups = [{k: v for k, v in g.items() if k != "params"} for g in sd["param_groups"]]
    arrays = {f"{prefix}{pid}.{k}": np.asarray(v.cpu().numpy() if hasattr(v, "cpu") else v)
              for pid, st in sd["state"].items() for k, v in st.items()}
    return arrays, groups


# torch.optim.Adam's state of a parameter it has stepped (amsgrad adds "max_exp_avg_sq"). A checkpoint lacking one
# of them would load and then fail at the first resumed step, far from the file that caused it.
ADAM_STATE = ("step", "exp_avg", "exp_avg_sq")


def load_optimizer(opt, path, arrays: dict, prefix: str, groups: list, device) -> None:
    """Restore what :func:`optimizer_arrays` saved, checked: the group count, every parameter's state complete
    (Adam: its step and both moments), each tensor the parameter's shape and finite, Adam's second moments and the
    step counts not below 0."""
    import torch

    sd = opt.state_dict()
    if len(groups) != len(sd["param_groups"]):
        raise ValueError(f"optimizer {prefix!r}: {len(groups)} parameter groups, expected {len(sd['param_groups'])}")
    for g, saved in zip(sd["param_groups"], groups):
        g.update(saved)
    params = [p for g in opt.param_groups for p in g["params"]]
    saved: dict[int, set] = {}
    for key in arrays:
        if key.startswith(prefix):
            pid, _, k = key[len(prefix):].partition(".")
            if not pid.isdigit() or int(pid) >= len(params) or not k:
                raise FormatError(path, f"optimizer tensor {key!r} names no state of the optimizer's {len(params)} "
                                        "parameters")
            saved.setdefault(int(pid), set()).add(k)
    known = None
    if isinstance(opt, torch.optim.Adam):
        known = set(ADAM_STATE) | ({"max_exp_avg_sq"} if any(g.get("amsgrad") for g in sd["param_groups"]) else set())
    state: dict = {}
    for pid, keys in sorted(saved.items()):
        for k in sorted((known or keys) ^ keys):
            what = "is missing" if k not in keys else "is not part of Adam's state"
            raise FormatError(path, f"tensor {f'{prefix}{pid}.{k}'!r} {what}")
        st = state[pid] = {}
        for k in sorted(keys):
            name = f"{prefix}{pid}.{k}"
            if k == "step":
                shape = (1,) * arrays[name].ndim if arrays[name].size == 1 else (1,)
                st[k] = torch.as_tensor(np.array(check_tensor(path, arrays, name, shape, 0.0))).reshape(())
            else:
                low = 0.0 if k in ("exp_avg_sq", "max_exp_avg_sq") else None
                a = check_tensor(path, arrays, name, tuple(params[pid].shape), low)
                st[k] = torch.as_tensor(np.array(a)).to(device)
    sd["state"] = state
    opt.load_state_dict(sd)


def training_extras(m) -> tuple[dict, dict]:
    """The checkpoint arrays every trained model shares (best epoch's parameters, fingerprints, SNP positions)
    and its JSON-able variant names."""
    arrays = {}
    best = getattr(m, "best_state", None)  # models kept whole (a chain of window RBMs) have none
    if best is not None:
        arrays.update({f"best.{k}": v.cpu().numpy() for k, v in best.items()})
    if m.fingerprints is not None:
        arrays["fingerprints"] = m.fingerprints
    variant_arrays, variants = variants_to_checkpoint(m.variants)
    arrays.update(variant_arrays)
    return arrays, variants


class progress_bar:
    """A rich progress bar when asked for and the output is a terminal, else nothing: piped into a log, a
    transient bar draws nothing useful and leaves an empty line behind each time it stops (one per window of a
    chain)."""

    def __init__(self, enabled: bool, total: int, done: int, label: str):
        self.bar = None
        if enabled:
            from rich.progress import Progress

            bar = Progress(transient=True)
            if not bar.console.is_terminal:
                return
            self.bar = bar
            self.bar.start()
            self.task = self.bar.add_task(label, total=total, completed=done)

    def advance(self, steps: int = 1):
        if self.bar:
            self.bar.advance(self.task, steps)

    def close(self):
        if self.bar:
            self.bar.stop()
