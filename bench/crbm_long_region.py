"""A conditional-RBM chain over a long simulated region: train, sample end to end, check linkage at the seams.

Run: python bench/crbm_long_region.py [--snps 65536] [--haplotypes 2004] [--window 1024] [--context 256]
     [--hidden 100] [--local-hidden L] [--k 20] [--epochs 16] [--cache /tmp/region.npz] [--first W --windows N]
     [--heldout N] [--context-gain 1 1.25] [--samples N]
     [--save-model chain.safetensors | --load-model chain.safetensors]

msprime (genofast.simulate, three populations) gives the region; the chain
(Yelmen et al. 2023) is an RBM on the first window and a conditional RBM per
next window given the previous ``context`` SNPs; every option defaults to
``ConditionalRBMChain.DEFAULTS`` (and its 16 epochs). Reported: wall time of
training and of sampling, peak memory (max RSS), allele-frequency r, and
LD-decay r (mean r² by distance, synthetic vs real) for pairs inside
windows and for pairs straddling each window boundary, and the same between
two halves of the real haplotypes (what sampling alone costs); the r² of the
pairs straddling each seam as a share of the real (the level the LD-decay r
does not see), and with ``--heldout`` the same share when each conditional
window is sampled given the real contexts of haplotypes left out of training.
Each ``--context-gain`` value is sampled and scored in turn from one trained
chain (``ConditionalRBMChain.sample(context_gain=...)``).
"""

import argparse
import resource
import time
from pathlib import Path

import numpy as np

from genofast import io
from genofast.matrix import HaplotypeMatrix
from genofast.metrics import quality
from genofast.models import ConditionalRBMChain
from genofast.simulate import simulate


def region(n_hap: int, n_snps: int, seed: int, cache: Path | None):
    if cache is not None and cache.exists():
        return io.load(cache)
    # ~1 SNP above MAF 0.01 per 600 bp in this demography: 40 Mb holds 65,536 of them
    h = simulate(n_hap, n_snps, seed=seed, sequence_length=max(1e6, 650.0 * n_snps)).haplotypes
    if cache is not None:
        io.save(cache, h)
    return h


def pairs_within(lo: int, hi: int, span: int, rng, n: int) -> np.ndarray:
    i = rng.integers(lo, hi - 1, n)
    j = np.minimum(i + rng.integers(1, span + 1, n), hi - 1)
    keep = j > i
    return np.stack([i[keep], j[keep]], 1)


def straddling(boundary: int, span: int, n_snps: int) -> np.ndarray:
    """Every pair (i, j) with i in the ``span`` SNPs before the boundary and j in the ``span`` from it on."""
    i, j = np.meshgrid(np.arange(max(boundary - span, 0), boundary), np.arange(boundary, min(boundary + span, n_snps)),
                       indexing="ij")
    return np.stack([i.ravel(), j.ravel()], 1)


def seam_shares(real, syn, seams) -> np.ndarray:
    """Mean r² of each set of pairs (a seam's straddling pairs, a window's pairs) in ``syn`` as a share of that in
    ``real``: the linkage level kept."""
    return np.array([quality.pair_r2(syn, q).mean() / quality.pair_r2(real, q).mean() for q in seams])


def heldout_contexts(chain, held, span: int) -> None:
    """Each conditional window sampled given the real contexts of haplotypes it was not trained on: how much of
    the r² across its seam it carries when its context is real (end to end the context is sampled)."""
    real, shares = held.to_numpy(), []
    for (s, e), model in zip(chain.bounds[1:], chain.models[1:]):
        ctx = real[:, s - model.config["n_context"] : s]
        sampled = model.sample(held.n_haplotypes, seed=1, context=ctx, allow_copies=True).to_numpy()
        # only the columns the seam's pairs touch: real before the seam, sampled from it on
        width = min(span, model.config["n_context"])
        lo, hi = s - width, min(s + width, e)
        mixed = np.concatenate([real[:, lo:s], sampled[:, : hi - s]], axis=1)
        q = straddling(width, width, hi - lo)
        shares.append(seam_shares(held[:, lo:hi], HaplotypeMatrix.from_numpy(mixed), [q])[0])
    print(f"r² across seams as a share of the real, given held-out real contexts: min {min(shares):.2f} median "
          f"{np.median(shares):.2f} max {max(shares):.2f}", flush=True)


def _below(values, limit: float = 0.9) -> str:
    """Which windows or seams (by index) fall below ``limit``, with their values."""
    return ", ".join(f"{i}: {v:.3f}" for i, v in enumerate(values) if not v >= limit) or "none"


def score(h, syn, inside, seams) -> None:
    """Allele-frequency r, and LD-decay r and r² shares within windows (``inside`` pairs) and across seams."""
    print(f"allele-frequency r: {quality.compare_allele_frequencies(h, syn).r:.4f}")
    for groups, what in ((inside, "within windows"), (seams, "across boundaries")):
        if not groups:
            continue
        each = [quality.ld_decay(h, syn, pairs=q, n_bins=10).r for q in groups]
        pooled = quality.ld_decay(h, syn, pairs=np.concatenate(groups), n_bins=30).r
        share = seam_shares(h, syn, groups)
        print(f"LD-decay r {what}: pooled {pooled:.3f}, each min {min(each):.3f} median {np.median(each):.3f}; "
              f"below 0.9: {_below(each)}; r² as a share of the real: min {share.min():.2f} median "
              f"{np.median(share):.2f} max {share.max():.2f}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    chain_defaults = ConditionalRBMChain.DEFAULTS
    p.add_argument("--snps", type=int, default=65_536)
    p.add_argument("--haplotypes", type=int, default=2004)
    p.add_argument("--window", type=int, default=chain_defaults["window"])
    p.add_argument("--context", type=int, default=chain_defaults["context"])
    p.add_argument("--hidden", type=int, default=chain_defaults["n_hidden"])
    p.add_argument("--local-hidden", type=int, default=chain_defaults["local_hidden"],
                   help="locally connected units in each window's RBM (default: the RBM's local_hidden=None, "
                   "about 300 per 1,024-SNP window; 0: none)")
    p.add_argument("--windows", type=int, default=None, help="train and score only N windows (from --first)")
    p.add_argument("--first", type=int, default=0, help="start at this window (with --windows: a stretch)")
    p.add_argument("--heldout", type=int, default=0, help="train on all but N haplotypes (drawn at random) and also "
                   "sample each conditional window given their real contexts")
    p.add_argument("--k", type=int, default=chain_defaults["k"])
    p.add_argument("--epochs", type=int, default=ConditionalRBMChain.FIT_EPOCHS)
    p.add_argument("--lr", type=float, default=chain_defaults["lr"])
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--span", type=int, default=100, help="SNPs apart at most, for the LD pairs")
    p.add_argument("--cache", type=Path, default=None)
    p.add_argument("--save", type=Path, default=None, help="keep the sampled haplotypes (.npz)")
    p.add_argument("--score", type=Path, default=None, help="score haplotypes saved by --save; no training")
    p.add_argument("--save-model", type=Path, default=None, help="keep the trained chain (.safetensors)")
    p.add_argument("--load-model", type=Path, default=None, help="sample a chain saved by --save-model; no training")
    p.add_argument("--samples", type=int, default=None,
                   help="haplotypes to sample (default: as many as the region has); more of them shrink the "
                   "synthetic side's sampling noise in the per-seam curves")
    p.add_argument("--context-gain", type=float, nargs="+", default=[1.0],
                   help="ConditionalRBMChain.sample's context_gain: each value sampled and scored in turn")
    args = p.parse_args()
    if args.samples is not None and args.samples < 2:
        p.error(f"--samples {args.samples}: sample at least 2 haplotypes")
    t0 = time.perf_counter()
    h = region(args.haplotypes, args.snps, args.seed, args.cache)
    if args.first or args.windows:
        first = args.first * args.window
        if not 0 <= first < h.n_snps:
            p.error(f"--first {args.first}: the region has {-(-h.n_snps // args.window)} windows")
        h = h[:, first : first + args.windows * args.window if args.windows else None]
    held = None
    if args.heldout:
        if not 0 < args.heldout < h.n_haplotypes - 1:
            p.error(f"--heldout {args.heldout}: leave some of the {h.n_haplotypes} haplotypes to train on")
        rows = np.random.default_rng(args.seed).permutation(h.n_haplotypes)
        h, held = h[np.sort(rows[args.heldout :])], h[np.sort(rows[: args.heldout])]
    print(f"region: {h.n_haplotypes} haplotypes x {h.n_snps} SNPs, {h.variants.position[-1] / 1e6:.1f} Mb "
          f"({time.perf_counter() - t0:.0f} s to simulate or load)", flush=True)
    bounds = [(s, min(s + args.window, h.n_snps)) for s in range(0, h.n_snps, args.window)]
    if args.score is not None:
        samples = {None: io.load(args.score)}
        print(f"scoring {args.score}: {samples[None].n_haplotypes} haplotypes", flush=True)
    else:
        if args.load_model is not None:
            chain = ConditionalRBMChain.load(args.load_model)
            # the seams are scored with --window and --context: they must be the chain's
            if (chain.n_snps, chain.window, chain.context) != (h.n_snps, args.window, args.context):
                p.error(f"--load-model {args.load_model}: {chain.n_snps} SNPs in windows of {chain.window}, context "
                        f"{chain.context}; the region {h.n_snps} in windows of {args.window}, --context {args.context}")
            trained = f"loaded from {args.load_model}"
        else:
            chain = ConditionalRBMChain(h.n_snps, window=args.window, context=args.context, n_hidden=args.hidden,
                                        local_hidden=args.local_hidden, k=args.k, lr=args.lr,
                                        batch_size=args.batch_size, n_chains=args.batch_size)
            t = time.perf_counter()
            chain.fit(h, args.epochs, args.seed, progress=True)
            trained = f"{args.epochs} epochs; training {time.perf_counter() - t:.0f} s"
            if args.save_model is not None:
                chain.save(args.save_model)
        samples, cfg = {}, chain.models[-1].config  # as trained, also for a loaded chain
        n_samples = args.samples or h.n_haplotypes
        for gain in args.context_gain:
            t = time.perf_counter()
            samples[gain] = chain.sample(n_samples, seed=args.seed + 1, context_gain=gain)
            sample_s = time.perf_counter() - t
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
            print(f"chain: {len(chain.models)} windows of {chain.window} SNPs, context {chain.context}, "
                  f"{cfg['n_hidden']} hidden + {cfg['local_hidden']} local, Rdm-{cfg['k']}, "
                  f"{trained}, "
                  f"sampling {n_samples} in {sample_s:.0f} s (context gain {gain:g}), peak memory "
                  f"{peak:.2f} GiB", flush=True)
        if held is not None:
            heldout_contexts(chain, held, args.span)
        if args.save is not None:
            io.save(args.save, samples[args.context_gain[0]])
    rng = np.random.default_rng(0)
    # Per window and per seam the mean-r² curve over ~65 kb is nearly flat, so its r against the real curve is
    # sensitive to which pairs are drawn: 20,000 random pairs per window, every straddling pair per seam
    # (span² of them), 10 distance bins each, merged by ld_decay to hold 200 pairs or more (4,000 random pairs in
    # 20 bins of any size gave seam values from -0.4 to 0.9 for the same chain, two samples apart)
    inside = [pairs_within(s, e, args.span, rng, 20_000) for s, e in bounds if e - s > 1]
    seams = [straddling(s, min(args.span, args.context), h.n_snps) for s, _ in bounds[1:]]
    for gain, syn in samples.items():
        if gain is not None:
            print(f"-- context gain {gain:g}")
        score(h, syn, inside, seams)
    # what the same measurement gives for two halves of the real haplotypes: how far from 1 sampling alone moves it
    half = np.random.default_rng(1).permutation(h.n_haplotypes)
    a, b = h[np.sort(half[: h.n_haplotypes // 2])], h[np.sort(half[h.n_haplotypes // 2 :])]
    floor_in = [quality.ld_decay(a, b, pairs=q, n_bins=10).r for q in inside]
    floor_across = [quality.ld_decay(a, b, pairs=q, n_bins=10).r for q in seams]
    print(f"the same for two halves of the real haplotypes: within windows min {min(floor_in):.3f}, across "
          f"boundaries min {min(floor_across, default=float('nan')):.3f}; below 0.9: {_below(floor_in)} / "
          f"{_below(floor_across)}")
    print(f"total {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
