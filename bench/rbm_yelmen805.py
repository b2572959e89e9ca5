"""Train an RBM on the 1000 Genomes 805-SNP set with a held-out split and report realism and privacy.

Run: python bench/rbm_yelmen805.py [--epochs 40] [--hidden 100] [--training rdm] [--k 100]
Uses ../shared/data/yelmen805. Model selection as in Yelmen et al. 2019: AATS
(training vs synthetic) every --eval-every epochs; the epoch closest to 0.5 is kept.
"""

import argparse
import time
from pathlib import Path

import numpy as np

from genofast import io, metrics
from genofast.metrics import quality
from genofast.models import RBM

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "yelmen805"


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--hidden", type=int, default=100)
    p.add_argument("--units", default="relu")
    p.add_argument("--training", default="rdm")
    p.add_argument("--k", type=int, default=100)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--eval-every", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    h = io.read_hapt(DATA / "805_SNP_1000G_real.hapt.gz", legend=DATA / "805_SNP.legend")
    order = np.random.default_rng(0).permutation(h.n_haplotypes)
    train, test = h[np.sort(order[:4000])], h[np.sort(order[4000:])]
    m = RBM(805, args.hidden, args.units, training=args.training, k=args.k, lr=args.lr, batch_size=args.batch_size,
            n_chains=args.batch_size)
    t = time.perf_counter()
    m.fit(train, args.epochs, args.seed, eval_every=args.eval_every, n_eval=1000, progress=True)
    fit_s = time.perf_counter() - t
    syn = m.sample(test.n_haplotypes, seed=args.seed + 100)
    ref = train[np.sort(np.random.default_rng(1).choice(train.n_haplotypes, test.n_haplotypes, replace=False))]
    a = metrics.aats(ref, syn)
    print(f"config: {vars(args)}")
    print(f"AATS trace (epoch, AATS): {[(e, round(s, 3)) for e, s in m.aats_trace]}; kept epoch {m.best_epoch}")
    print(f"training time {fit_s:.0f} s on this machine")
    print(f"AATS(train, synthetic) = {a.aats:.3f} (AA_truth {a.aa_truth:.3f}, AA_syn {a.aa_syn:.3f})")
    print(f"AATS(test, synthetic) = {metrics.aats(test, syn).aats:.3f}")
    print(f"privacy loss = {metrics.privacy_loss(ref, test, syn):.3f}")
    print(f"allele-frequency r (train vs synthetic) = {quality.compare_allele_frequencies(train, syn).r:.4f}")
    print(f"exact copies of training haplotypes: {metrics.copies(train, syn).count}")


if __name__ == "__main__":
    main()
