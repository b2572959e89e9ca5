"""Neural generators on a simulated 10,000-SNP region (issue 19's second must-show).

    OMP_NUM_THREADS=1 .venv/bin/python bench/generators_sim10k.py --families vae --epochs vae=48 --eval-every 8
    OMP_NUM_THREADS=1 .venv/bin/python bench/generators_sim10k.py --families wgan --epochs wgan=300 --eval-every 50

The region: 2,004 haplotypes (three populations, msprime, seed 1) x 10,000
SNPs with MAF >= 0.01 (``--cache`` keeps it as .npz). Each family trains with
its defaults and the bench's ``OPTIONS`` (``--epochs`` per family) and selection
every ``--eval-every`` epochs, generates 2,004 haplotypes, and is scored against the real ones:
allele-frequency r over all SNPs and over SNPs with real frequency <= 0.2
(seed 003: VAE 0.94, WGAN 0.96), LD-decay r (mean r² by distance), LD level
(the synthetic curve's mean over the real one's), AATS and exact copies.
Prints seconds of training per family (selection included) and the
selection's trace. ``--set wgan.window=50`` (JSON values) overrides a default
or an ``OPTIONS`` item; ``--set 'wgan.architecture="convolutional"'`` trains
the paper's convolutional networks instead of the windowed ones.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from genofast import io, metrics
from genofast.metrics import quality


# Departures from the VAE's defaults for this region (docs/generators.md): batches of 16 (4x the updates per epoch), the
# decoder started at the allele log-odds and dense branches of 256 units in the encoder and decoder (from zero
# offsets and through the convolutions alone, the decoder was still learning the frequencies after 400 updates and
# no linkage was learnt), KL weight 0.1 with 128 latent dimensions (32 dimensions: LD-decay r -0.36), and the
# sampler calibrated to the training frequencies
OPTIONS = {"vae": {"batch_size": 16, "log_odds_init": True, "encoder_dense": 256, "decoder_dense": 256,
                   "kl_weight": 0.1, "latent": 128, "calibrate": True},
           # the windowed generator and critic (the convolutional ones make ~45 generator updates a minute here and
           # learnt no distance-decaying linkage), 2 critic steps per generator step at lr 1e-3 on batches of 64,
           # the critic shown the generator's 0/1 draws and scoring each allele linearly too
           "wgan": {"architecture": "windowed", "n_critic": 2, "lr": 1e-3, "batch_size": 64, "pack": 1,
                    "straight_through": True, "output": "bernoulli", "critic_linear": True}}


def region(cache: Path | None):
    from genofast.simulate import simulate

    if cache is not None and cache.exists():
        return io.load(cache)
    h = simulate(2004, 10_000, seed=1).haplotypes
    if cache is not None:
        io.save(cache, h)
    return h


def overrides(items: list[str]) -> dict[str, dict]:
    """``--set family.option=JSON`` items as {family: {option: value}}."""
    options: dict[str, dict] = {}
    for item in items:
        key, value = item.split("=", 1)
        family, option = key.split(".", 1)
        options.setdefault(family, {})[option] = json.loads(value)
    return options


def with_overrides(options: dict[str, dict], items: list[str], families) -> dict[str, dict]:
    """``options`` ({family: {option: value}}, not modified) with the ``--set`` items applied; a family not in
    ``families`` is refused."""
    out = {f: dict(o) for f, o in options.items()}
    for family, opts in overrides(items).items():
        if family not in families:
            raise ValueError(f"--set {family}.…: unknown family, expected one of {sorted(families)}")
        out.setdefault(family, {}).update(opts)
    return out


def main() -> None:
    from genofast.models import GAN, GMMN, VAE, WGAN

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--families", default="wgan,vae")
    p.add_argument("--epochs", default="wgan=300,vae=48", help="per family, e.g. wgan=10,vae=48")
    p.add_argument("--eval-every", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cache", type=Path, default=None)
    p.add_argument("--save", type=Path, default=None, help="a folder to keep each family's sample in (.npz)")
    p.add_argument("--set", action="append", default=[], metavar="FAMILY.OPTION=VALUE",
                   help="override a model default, e.g. wgan.batch_size=24 (JSON values; repeatable)")
    args = p.parse_args()
    epochs = {k: int(v) for k, v in (kv.split("=") for kv in args.epochs.split(",") if kv)}
    classes = {"gan": GAN, "wgan": WGAN, "vae": VAE, "gmmn": GMMN}
    options = with_overrides(OPTIONS, args.set, classes)
    h = region(args.cache)
    print(f"region: {h.n_haplotypes} haplotypes x {h.n_snps} SNPs", flush=True)
    print(f"{'family':<8}{'epochs':>7}{'train s':>9}{'AF r':>8}{'AF r<=0.2':>10}{'LD-decay r':>11}{'LD level':>9}"
          f"{'AATS':>7}{'AA_truth':>9}{'AA_syn':>8}{'copies':>7}", flush=True)
    for family in args.families.split(","):
        n_epochs = epochs.get(family, 10)
        model = classes[family](h.n_snps, **options.get(family, {}))
        print(f"{family}: {model.config}", flush=True)
        t = time.perf_counter()
        model.fit(h, n_epochs, args.seed, eval_every=args.eval_every)
        seconds = time.perf_counter() - t
        syn = model.sample(h.n_haplotypes, seed=args.seed + 1, allow_copies=True)
        if args.save is not None:
            args.save.mkdir(parents=True, exist_ok=True)
            io.save(args.save / f"{family}_seed{args.seed}.npz", syn)
        af = quality.compare_allele_frequencies(h, syn)
        decay = quality.ld_decay(h, syn, seed=args.seed)
        level = decay.synthetic.mean() / decay.real.mean()  # r is blind to scale: how much of the r² is there
        a = metrics.aats(h, syn)
        copies = metrics.copies(h, syn).count
        for row in model.trace:  # the selection's evaluations (1,000 haplotypes each), to see where training stands
            print(f"  epoch {row['epoch']:>3}: AF r {row['af_r']:.3f}, r2 r {row['ld_r']:.3f}, AATS {row['aats']:.3f} "
                  f"({row['aa_truth']:.3f}/{row['aa_syn']:.3f}), PCA W {row.get('pca_wasserstein', float('nan')):.3f}"
                  f"{' (kept)' if row['epoch'] == model.best_epoch else ''}", flush=True)
        print(f"{family:<8}{n_epochs:>7}{seconds:>9.0f}{af.r:>8.3f}{af.r_low:>10.3f}{decay.r:>11.3f}{level:>9.3f}{a.aats:>7.3f}"
              f"{a.aa_truth:>9.3f}{a.aa_syn:>8.3f}{copies:>7}", flush=True)


if __name__ == "__main__":
    main()
