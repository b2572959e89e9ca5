"""Must-show measurement for the neural generators on yelmen805 (issue 19).

yelmen805 is split at random *by individual* (hapt rows 2i and 2i+1 are one
person; the file is in population order, so never split by row order) into
2,000 individuals (4,000 training haplotypes) and 504 (1,008 held out). Each
family trains on the 4,000 training haplotypes, generates 2,000, and is scored
against 2,000 training haplotypes drawn at random; the held-out real
haplotypes are scored the same way as the target row (against 1,008 of the 2,000
real ones: AATS needs sets of equal size; its AATS columns are the mean over 10
such subsamples, as in rbm_yelmen805.py).

    OMP_NUM_THREADS=1 .venv/bin/python bench/generators_yelmen805.py --families gan,wgan,vae,gmmn

Columns: AATS (strict ties) with AA_truth and AA_syn; Pearson r of allele
frequencies, over all SNPs and over SNPs with real frequency <= 0.2; exact
copies of training haplotypes (of all 4,000); privacy loss AATS(held out) -
AATS(train) at equal sizes; MLP real-vs-synthetic accuracy and the worst
classifier's |0.5 - accuracy| (seed 002's Delta).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from genofast.matrix import HaplotypeMatrix
from rbm_yelmen805 import aats_target

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "yelmen805"
# epochs per family, chosen from measured seconds per epoch to train each in a few minutes on one CPU thread
EPOCHS = {"gan": 60, "wgan": 60, "vae": 32, "gmmn": 240}
# departures from the library defaults (the papers' settings), each for a CPU budget of minutes: the GAN's
# generator learns 5x faster, and its discriminator sees 0/1 draws (straight-through; shown tanh outputs, it
# scores their softness and the generator collapses: AA_syn 1.000, low-frequency AF r 0.385 after 60 epochs);
# the GAN samples from the moving average of its generator's weights (the iterates' allele frequencies swing
# from one evaluation to the next: AF r 0.74-0.94), its generator's loss holds the frequencies of its iterates
# (frequency_weight; without it seed 1 lost them after epoch 50, AF r 0.63 at 60), and its sampler's per-SNP offsets
# are calibrated to the training frequencies (the averaged weights under-draw rare alleles: low-frequency AF r 0.90
# on seed 2 with the frequency term, 0.71 without);
# the WGAN takes 2 critic steps per generator step on batches of 48 (more generator updates per second), its
# critic sees 0/1 draws (straight-through; shown soft probabilities, the critic scores softness and the allele
# frequencies drift: AF r 0.71 -> 0.25 over 60 epochs), scores each SNP's frequency through a linear term and
# linkage through a dense branch of 256 units (the convolutions alone learn no linkage in a CPU budget), its
# generator adds a dense branch of 512 units to its logits (without it, AATS 0.824 and MLP 0.965 after 60
# epochs), and its generator's learning rate drops 10x from epoch 25 (the paper's second phase: without it the
# generator collapses onto a few haplotypes once it has learnt linkage, AA_syn 1.000 by epoch 40); the VAE halves
# the KL weight (at 1, 30 epochs leave the latent nearly unused) and ramps it up over 16 epochs (the decoder learns
# to use the latent code first), and calibrates its sampler like the GAN's (haplotypes decoded from prior draws:
# low-frequency AF r 0.936 after 120 epochs, 0.988 calibrated); the GMMN matches a mixture of Gaussian kernels
# over the Hamming distance (the paper's ReLU features: worst classifier delta 0.356 after 80 epochs, 0.295 with
# these), samples from the moving average of its generator, and draws twice the paper's number of random features
# (20 x SNPs) afresh every epoch instead of every 5 (80 epochs: delta 0.249 with 10 x SNPs every 5, 0.178 every
# epoch, 0.189 with 20 x SNPs every 5, 0.086 with both), and its learning rate drops 10x from epoch 160 of 240
# (the WGAN's second phase: 160 epochs without it gave delta 0.060-0.104 over three seeds)
OPTIONS = {"gan": {"lr_generator": 5e-4, "straight_through": True, "ema": 0.999, "frequency_weight": 1.0,
                   "calibrate": True},
           "wgan": {"n_critic": 2, "batch_size": 48, "straight_through": True, "output": "bernoulli",
                    "critic_linear": True, "critic_dense": 256, "generator_dense": 512, "fine_tune_epoch": 25},
           "vae": {"kl_weight": 0.5, "kl_warmup": 16, "calibrate": True},
           "gmmn": {"kernel": [50, 100, 200, 400], "ema": 0.99, "restart_every": 1, "features": 16100,
                    "fine_tune_epoch": 160}}


def split(h, seed: int = 0, n_train_individuals: int = 2000):
    people = np.random.default_rng(seed).permutation(len(h) // 2)
    rows = lambda p: np.sort(np.concatenate([2 * p, 2 * p + 1]))  # noqa: E731
    return rows(people[:n_train_individuals]), rows(people[n_train_individuals:])


def score(name, real, train_all, holdout, syn, seconds=None, privacy=True):
    from genofast.metrics import aats, copies, privacy_loss
    from genofast.metrics.quality import classifier_scores, compare_allele_frequencies

    a = aats(real, syn)
    af = compare_allele_frequencies(real, syn)
    clf = classifier_scores(real, syn, seed=0)
    return {"set": name, "aats": a.aats, "aa_truth": a.aa_truth, "aa_syn": a.aa_syn, "af_r": af.r,
            "low_af_r": af.r_low, "copies": copies(train_all, syn).count,
            "privacy_loss": privacy_loss(train_all, holdout, syn) if privacy else float("nan"),
            "mlp": clf.accuracy["MLP"], "worst_delta": max(clf.delta.values()), "train_s": seconds}


def make(family: str, n_snps: int, classes=None):
    from genofast.models import GAN, GMMN, RBM, VAE, WGAN

    if family == "rbm":  # the conditional RBM (its defaults), for --conditional rbm
        return RBM(n_snps, classes=classes)
    return {"gan": GAN, "wgan": WGAN, "vae": VAE, "gmmn": GMMN}[family](n_snps, classes, **OPTIONS[family])


def override(items: list[str]):
    """Apply ``--set family.option=JSON`` items to OPTIONS."""
    from generators_sim10k import with_overrides

    OPTIONS.update(with_overrides(OPTIONS, items, OPTIONS))


def attacks(family, model, train, holdout, syn, seed, shadow_epochs=20):
    """Seed 003's membership attacks: candidates are 1,008 training and the 1,008 held-out haplotypes."""
    from genofast.metrics.membership import black_box, white_box

    members = train[np.sort(np.random.default_rng(seed + 2).choice(len(train), len(holdout), replace=False))]
    candidates = HaplotypeMatrix.from_numpy(np.concatenate([members.to_numpy(), holdout.to_numpy()]))
    is_member = np.r_[np.ones(len(members), bool), np.zeros(len(holdout), bool)]
    fmt = lambda r: ", ".join(f"top {f:.0%}: {a:.3f}" for f, a in r.accuracy.items())  # noqa: E731
    print(f"  {family} white-box attack (chance {0.5:.2f}): {fmt(white_box(model, candidates, is_member))}")
    if family == "gan":  # a shadow GAN trained on the synthetic set; too slow for the WGAN on a CPU
        start = time.perf_counter()
        r = black_box(lambda: make(family, train.n_snps), syn, candidates, is_member, shadow_epochs, seed)
        print(f"  {family} black-box attack ({shadow_epochs} epochs, {time.perf_counter() - start:.0f} s): {fmt(r)}")


def conditional(family, train, labels, epochs, seed, eval_every, holdout, holdout_labels, n_per_label=400):
    """Train one conditional model; per label: share of its samples a real-trained classifier assigns to it, AF r.

    The same shares for the held-out real haplotypes of each label are the reference: admixed groups (AMR)
    are not told apart from their sources even for real data."""
    from sklearn.linear_model import LogisticRegression

    from genofast.metrics.quality import compare_allele_frequencies

    classes = sorted(set(labels))
    model = make(family, train.n_snps, classes)
    start = time.perf_counter()
    model.fit(train, epochs=epochs, seed=seed, labels=labels, eval_every=eval_every)
    seconds = time.perf_counter() - start
    clf = LogisticRegression(max_iter=1000, C=0.1).fit(train.to_numpy(), labels)
    print(f"conditional {family}: {epochs} epochs, best {model.best_epoch}, {seconds:.0f} s; "
          f"classifier accuracy on its training set {clf.score(train.to_numpy(), labels):.3f}")
    if model.trace:
        print("  trace (epoch, PC W1, AA_truth, AA_syn): " + ", ".join(
            f"({e['epoch']}, {e.get('pca_wasserstein', float('nan')):.3f}, {e['aa_truth']:.3f}, {e['aa_syn']:.3f})"
            for e in model.trace))
    for lab in classes:
        syn = model.sample(n_per_label, seed=seed + 1, labels=lab, allow_copies=True)
        share = float(np.mean(clf.predict(syn.to_numpy()) == lab))
        real = holdout[np.flatnonzero(holdout_labels == lab)]
        real_share = float(np.mean(clf.predict(real.to_numpy()) == lab))
        r = compare_allele_frequencies(train[np.flatnonzero(labels == lab)], syn).r
        print(f"  {lab}: assigned to own label {share:.3f} (held-out real {real_share:.3f}), per-label AF r {r:.3f}",
              flush=True)


def main():
    import torch

    torch.set_num_threads(1)
    import genofast

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--families", default="gan,wgan,vae,gmmn")
    p.add_argument("--epochs", default="", help="overrides, e.g. gan=100,wgan=30")
    p.add_argument("--eval-every", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", default=None, help="also write the rows here")
    p.add_argument("--conditional", default=None, help="a family (gan, wgan, vae, gmmn or rbm) to train "
                   "conditionally on super-population")
    p.add_argument("--conditional-epochs", type=int, default=40)
    p.add_argument("--conditional-eval-every", type=int, default=None, help="default: --eval-every; 0: no selection")
    p.add_argument("--select", default=None, help="selection weights for the unconditional fits (JSON), e.g. "
                   "'{\"classifier\": 1}'")
    p.add_argument("--n-eval", type=int, default=1000, help="haplotypes generated at each evaluation (and real rows "
                   "compared with them, at most half the training set)")
    p.add_argument("--set", action="append", default=[], metavar="FAMILY.OPTION=VALUE",
                   help="override an option, e.g. 'wgan.output=\"bernoulli\"' (JSON values; repeatable)")
    args = p.parse_args()
    override(args.set)
    epochs = dict(EPOCHS, **{k: int(v) for k, v in (kv.split("=") for kv in args.epochs.split(",") if kv)})

    h = genofast.io.read_hapt(DATA / "805_SNP_1000G_real.hapt.gz", legend=DATA / "805_SNP.legend")
    train_rows, hold_rows = split(h, args.seed)
    train, holdout = h[train_rows], h[hold_rows]
    real = train[np.sort(np.random.default_rng(args.seed + 1).choice(len(train), 2000, replace=False))]
    print(f"train {len(train)} haplotypes, held out {len(holdout)}; threads: torch {torch.get_num_threads()}, "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}", flush=True)
    if args.conditional:
        from genofast.metrics.population import haplotype_labels, read_labels

        table = read_labels(DATA / "805_SNP_1000G_real.labels.tsv")
        labels, holdout_labels = haplotype_labels(train.ids, table), haplotype_labels(holdout.ids, table)
        every = args.eval_every if args.conditional_eval_every is None else args.conditional_eval_every
        conditional(args.conditional, train, labels, args.conditional_epochs, args.seed, every or None, holdout,
                    holdout_labels)
    # AATS compares nearest-neighbour distances within and across the two sets, so they must be the same size:
    # the 1,008 held-out haplotypes are scored against 1,008 of the 2,000 real ones (with all 2,000 the
    # target's AA_truth and AA_syn came out 0.632 and 0.325 instead of about 0.45 and 0.52)
    same_size = real[np.sort(np.random.default_rng(args.seed + 6).choice(len(real), len(holdout), replace=False))]
    rows = [score("held-out real (target)", same_size, train, holdout, holdout, privacy=False)]
    # its AATS columns: the mean over 10 such subsamples (one subsample's AA_truth wanders by about 0.02, sd)
    rows[0].update(zip(("aats", "aa_truth", "aa_syn"), aats_target(real, holdout).values()))
    for family in [f for f in args.families.split(",") if f]:
        model = make(family, h.n_snps)
        start = time.perf_counter()
        model.fit(train, epochs=epochs[family], seed=args.seed, eval_every=args.eval_every, n_eval=args.n_eval,
                  select=None if args.select is None else json.loads(args.select))
        seconds = time.perf_counter() - start
        syn = model.sample(2000, seed=args.seed + 1, allow_copies=True)
        row = score(f"{family} ({epochs[family]} ep, best {model.best_epoch})", real, train, holdout, syn, seconds)
        row["trace"] = model.trace
        if model.trace and "classifier_delta" in model.trace[0]:
            print("  trace (epoch, selection score, worst classifier Δ): " + ", ".join(
                f"({e['epoch']}, {e['score']:.3f}, {e['classifier_delta']:.3f})" for e in model.trace), flush=True)
        if family in ("gan", "wgan"):
            attacks(family, model, train, holdout, syn, args.seed)
        rows.append(row)
        print(json.dumps({k: v for k, v in row.items() if k != "trace"}), flush=True)
    head = f"{'set':34s} {'AATS':>6s} {'AAtru':>6s} {'AAsyn':>6s} {'AF r':>6s} {'lowAF':>6s} {'copy':>5s} " \
           f"{'ploss':>6s} {'MLP':>6s} {'wDelta':>6s} {'train s':>8s}"
    print(head)
    for r in rows:
        t = "" if r["train_s"] is None else f"{r['train_s']:8.0f}"
        print(f"{r['set']:34s} {r['aats']:6.3f} {r['aa_truth']:6.3f} {r['aa_syn']:6.3f} {r['af_r']:6.3f} "
              f"{r['low_af_r']:6.3f} {r['copies']:5d} {r['privacy_loss']:6.3f} {r['mlp']:6.3f} "
              f"{r['worst_delta']:6.3f} {t}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
