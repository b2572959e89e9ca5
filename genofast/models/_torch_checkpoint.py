"""Checkpoints of the PyTorch generators (GAN, WGAN, VAE, GMMN): networks (buffers included), optimizer moments,
the selection trace and the kept epoch's parameters, all validated on load, so that a resumed run repeats the
uninterrupted one bit for bit (see :mod:`genofast.models._torch`)."""

from __future__ import annotations

from ..io._files import FormatError
from ._base import (check_int, checked_config, checked_state_dict, load_checkpoint, load_optimizer, optimizer_arrays,
                    save_checkpoint, training_extras, variants_from_checkpoint)
from ._gate import fingerprints_from_checkpoint
from ._selection import load_selection, selection_state


def save(m, path) -> None:
    bad = m._non_finite()
    if bad:
        raise ValueError(f"{path}: not saved, {bad} is NaN or infinite")
    arrays = {f"net.{k}": v.cpu().numpy() for k, v in m._state_copy().items()}
    groups = {}
    for name, opt in m.optimizers.items():
        opt_arrays, groups[name] = optimizer_arrays(opt, f"opt.{name}.")
        arrays.update(opt_arrays)
    extras, variants = training_extras(m)
    arrays.update(extras)
    state = dict(**selection_state(m), updates=m.updates, param_groups=groups, variants=variants)
    config = {k: v for k, v in m.config.items() if k not in ("n_snps", "classes")}
    save_checkpoint(path, m.kind, {"n_snps": m.n_snps, "classes": m.classes, "config": config, "state": state},
                    arrays)


def load(cls, path, device: str):
    meta, arrays = load_checkpoint(path, cls.kind)
    m = checked_config(path, lambda: cls(meta["n_snps"], meta["classes"], device=device, **meta["config"]))
    st = meta.get("state")
    if not isinstance(st, dict):
        raise FormatError(path, "config lacks the training 'state'")
    m._load_state(checked_state_dict(path, arrays, "net.", m._state_copy(), m.device))

    def optimizers():
        for name, opt in m.optimizers.items():
            load_optimizer(opt, path, arrays, f"opt.{name}.", st["param_groups"][name], m.device)

    def state():
        m.updates = check_int(st["updates"], "updates", 0)
        load_selection(m, st)

    checked_config(path, optimizers)
    checked_config(path, state)
    if m.best_epoch is not None:
        m.best_state = checked_state_dict(path, arrays, "best.", m._state_copy(), m.device)
    m.fingerprints = fingerprints_from_checkpoint(path, arrays)
    m.variants = variants_from_checkpoint(arrays, st.get("variants", {}), path, m.n_snps)
    return m
