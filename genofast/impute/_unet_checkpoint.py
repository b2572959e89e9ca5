"""U-Net imputer checkpoints: safetensors arrays plus a JSON config, never unpickled.

Arrays: ``win{w}.*`` the kept network of each finished window, ``var{k}.*``
the best state of each finished variant (k iterations) of the window in
progress, ``cur.*`` / ``opt.*`` / ``best.*`` the network, Adam moments and
best validated state of the (window, variant) being trained. Everything a
resumed ``fit`` needs besides the seed and the data.
"""

from __future__ import annotations

from ..io._files import FormatError
from ..models._base import (check_int, checked_config, checked_state_dict, load_checkpoint, load_optimizer,
                            optimizer_arrays, save_checkpoint, variants_from_checkpoint, variants_to_checkpoint)


def save(m, path) -> None:
    arrays = {}
    for w, net in enumerate(m.nets):
        if net is not None:
            arrays.update({f"win{w}.{k}": v.cpu().numpy() for k, v in net.state_dict().items()})
    for it, best in m._finished.items():
        arrays.update({f"var{it}.{k}": v.cpu().numpy() for k, v in best["state"].items()})
    groups = None
    if m._net is not None:
        arrays.update({f"cur.{k}": v.cpu().numpy() for k, v in m._net.state_dict().items()})
        opt_arrays, groups = optimizer_arrays(m._opt, "opt.")
        arrays.update(opt_arrays)
        if m._best is not None:
            arrays.update({f"best.{k}": v.cpu().numpy() for k, v in m._best["state"].items()})
    var_arrays, var_meta = variants_to_checkpoint(m.variants)
    arrays.update(var_arrays)
    state = dict(unit=m.unit, epoch=m.epoch, trace=m.trace, chosen=m.chosen, param_groups=groups,
                 finished={str(k): {"score": v["score"], "epoch": v["epoch"]} for k, v in m._finished.items()},
                 best=None if m._best is None else {"score": m._best["score"], "epoch": m._best["epoch"]},
                 variants=var_meta)
    config = {k: v for k, v in m.config.items()}
    save_checkpoint(path, m.kind, {"n_snps": m.n_snps, "config": config, "state": state}, arrays)


def load(cls, path, device: str = "cpu"):
    meta, arrays = load_checkpoint(path, cls.kind)
    m = checked_config(path, lambda: cls(meta["n_snps"], device=device, **meta["config"]))
    st = meta.get("state")
    if not isinstance(st, dict):
        raise FormatError(path, "config lacks the training 'state'")

    def tensors(prefix: str, w: int) -> dict:
        return checked_state_dict(path, arrays, prefix, m._build(w).state_dict(), m.device)

    def restore():
        m.unit, m.epoch = check_int(st["unit"], "unit", 0, len(m.units)), check_int(st["epoch"], "epoch", 0)
        m.trace = [dict(r) for r in st["trace"]]
        if len(st["chosen"]) != len(m.windows):
            raise ValueError(f"{len(st['chosen'])} windows recorded, the config makes {len(m.windows)}")
        for w, it in enumerate(st["chosen"]):
            if it is not None:
                m.nets[w], m.chosen[w] = m._build(w), check_int(it, "iterations")
                m.nets[w].load_state_dict(tensors(f"win{w}.", w))
                m.nets[w].eval()
        if m.unit < len(m.units):
            w = m.units[m.unit][0]
            m._finished = {int(k): {**v, "state": tensors(f"var{k}.", w)} for k, v in st["finished"].items()}
            if st["param_groups"] is not None:
                m._start_unit(0)
                m._net.load_state_dict(tensors("cur.", w))
                load_optimizer(m._opt, path, arrays, "opt.", st["param_groups"], m.device)
                if st["best"] is not None:
                    m._best = {**st["best"], "state": tensors("best.", w)}

    checked_config(path, restore)
    m.variants = variants_from_checkpoint(arrays, st.get("variants", {}), path, m.n_snps)
    return m

