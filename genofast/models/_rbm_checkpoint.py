"""RBM checkpoints: parameters, optimizer moments, chains, offsets and the training state, all validated on load."""

from __future__ import annotations

from ..io._files import FormatError
from ._base import (check_int, check_tensor, checked_config, load_checkpoint, save_checkpoint, training_extras,
                    variants_from_checkpoint)
from ._gate import fingerprints_from_checkpoint
from ._selection import load_selection, selection_state


def save(m, path) -> None:
    bad = m._non_finite()
    if bad:
        raise ValueError(f"{path}: not saved, parameter {bad!r} is NaN or infinite")
    arrays = {k: v.cpu().numpy() for k, v in m.params.items()}
    for k, (m1, m2) in m.moments.items():
        arrays[f"moment1.{k}"], arrays[f"moment2.{k}"] = m1.cpu().numpy(), m2.cpu().numpy()
    arrays.update({f"offset.{k}": v.cpu().numpy() for k, v in m.offsets.items()})
    if m.chains is not None:
        arrays["chains"] = m.chains.cpu().numpy()
    extras, variants = training_extras(m)
    arrays.update(extras)
    state = dict(**selection_state(m), updates=m.updates, step=m.step, variants=variants)
    save_checkpoint(path, m.kind, {"config": m.config, "state": state}, arrays)


def load(cls, path, device: str):
    meta, arrays = load_checkpoint(path, cls.kind)
    m = checked_config(path, lambda: cls._from_stored(meta["config"], device))
    m._load_params(path, arrays, "", moments=True)
    for k, p in m.offsets.items():
        m.offsets[k] = m._tensor(check_tensor(path, arrays, f"offset.{k}", tuple(p.shape)))
    if "chains" in arrays:
        m.chains = m._tensor(check_tensor(path, arrays, "chains", (m.config["n_chains"], m.config["n_visible"]),
                                          0.0, 1.0))
    st = meta.get("state")
    if not isinstance(st, dict):
        raise FormatError(path, "config lacks the training 'state'")

    def state():
        m.updates, m.step = (check_int(st[x], x, 0) for x in ("updates", "step"))
        load_selection(m, st)

    checked_config(path, state)
    if m.best_epoch is not None and "best.W" in arrays:
        m.best_state = {k: m._tensor(check_tensor(path, arrays, f"best.{k}", tuple(p.shape)))
                        for k, p in m.params.items()}
    m.fingerprints = fingerprints_from_checkpoint(path, arrays)
    m.variants = variants_from_checkpoint(arrays, st.get("variants", {}), path, m.config["n_visible"])
    return m
