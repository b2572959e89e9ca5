"""Matplotlib figures of the evaluation report, each returned as PNG bytes."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

REAL_COLOR = "#333333"
COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _grid(n: int, width: float = 3.6, height: float = 3.4):
    cols = min(n, 4)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    for ax in axes.ravel()[n:]:
        ax.axis("off")
    return fig, axes.ravel()


def allele_frequencies(results: dict) -> bytes:
    fig, axes = _grid(len(results))
    for ax, (name, r), color in zip(axes, results.items(), COLORS):
        af = r["af"]
        ax.scatter(af.real, af.synthetic, s=4, alpha=0.5, color=color)
        ax.plot([0, 1], [0, 1], color=REAL_COLOR, lw=0.8)
        ax.set(xlabel="real allele frequency", ylabel=f"{name} allele frequency", title=f"{name}: r = {af.r:.3f}")
    return _png(fig)


def ld_heatmaps(real_ld: np.ndarray, results: dict) -> bytes:
    fig, axes = _grid(len(results), 3.8, 3.6)
    iu = np.triu_indices_from(real_ld, 1)
    for ax, (name, r) in zip(axes, results.items()):
        m = r["ld_matrix"].copy()
        m[iu] = real_ld[iu]
        im = ax.imshow(m, cmap="viridis", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(f"r²: real (upper), {name} (lower)", fontsize=8)
        ax.set(xlabel="SNP", ylabel="SNP")
    fig.colorbar(im, ax=list(axes[: len(results)]), shrink=0.7)
    return _png(fig)


def ld_decay(results: dict) -> bytes:
    fig, ax = plt.subplots(figsize=(6, 4))
    first = next(iter(results.values()))["ld_decay"]
    mids = np.sqrt(np.maximum(first.bin_edges[:-1], 1) * first.bin_edges[1:]) / 1e3
    ax.plot(mids, first.real, color=REAL_COLOR, lw=2, label="real")
    for (name, r), color in zip(results.items(), COLORS):
        ax.plot(mids, r["ld_decay"].synthetic, color=color, label=f"{name} (r = {r['ld_decay'].r:.2f})")
    ax.set(xlabel="distance (kb)", ylabel="mean r²", title="LD decay", xscale="log")
    ax.legend(fontsize=8)
    return _png(fig)


def pca(results: dict) -> bytes:
    pairs = [(0, 1), (2, 3), (4, 5)]
    fig, axes = plt.subplots(len(results), 3, figsize=(11, 3.4 * len(results)), squeeze=False)
    for row, ((name, r), color) in enumerate(zip(results.items(), COLORS)):
        p = r["pca"]
        for col, (i, j) in enumerate(pairs):
            ax = axes[row, col]
            if j >= p.real.shape[1]:
                ax.axis("off")
                continue
            ax.scatter(p.real[:, i], p.real[:, j], s=3, alpha=0.4, color=REAL_COLOR, label="real")
            ax.scatter(p.synthetic[:, i], p.synthetic[:, j], s=3, alpha=0.4, color=color, label=name)
            ax.set(xlabel=f"PC{i + 1}", ylabel=f"PC{j + 1}")
            if col == 0:
                ax.legend(fontsize=8, markerscale=3)
    return _png(fig)


def distances(results: dict) -> bytes:
    fig, axes = _grid(len(results), 4.2, 3.2)
    for ax, ((name, r), color) in zip(axes, zip(results.items(), COLORS)):
        dd = r["distances"]
        for counts, label, c in ((dd.within_real, "within real", REAL_COLOR), (dd.within_synthetic, f"within {name}",
                                 color), (dd.between, "between", "#999999")):
            total = counts.sum()
            if total:
                ax.plot(np.arange(counts.size), counts / total, color=c, label=label)
        ax.set(xlabel="Hamming distance", ylabel="share of pairs", title=name)
        ax.legend(fontsize=7)
    return _png(fig)


def scatter_pairs(results: dict, key: str, label: str) -> bytes:
    fig, axes = _grid(len(results))
    for ax, ((name, r), color) in zip(axes, zip(results.items(), COLORS)):
        x, y = r[key]
        ax.scatter(x, y, s=3, alpha=0.4, color=color)
        lo, hi = min(x.min(), y.min()), max(x.max(), y.max())
        ax.plot([lo, hi], [lo, hi], color=REAL_COLOR, lw=0.8)
        ax.set(xlabel=f"real {label}", ylabel=f"{name} {label}", title=name)
    return _png(fig)


def radar(scores: dict) -> bytes:
    axes_names = list(next(iter(scores.values())).keys())
    angles = np.linspace(0, 2 * np.pi, len(axes_names), endpoint=False)
    fig = plt.figure(figsize=(5.5, 5.5))
    ax = fig.add_subplot(polar=True)
    for (name, s), color in zip(scores.items(), COLORS):
        v = np.array([s[a] for a in axes_names])
        ax.plot(np.r_[angles, angles[0]], np.r_[v, v[0]], color=color, label=name)
        ax.fill(np.r_[angles, angles[0]], np.r_[v, v[0]], color=color, alpha=0.1)
    ax.set_xticks(angles, axes_names, fontsize=8)
    ax.set_ylim(0, 1)
    ax.legend(loc="upper right", bbox_to_anchor=(1.3, 1.1), fontsize=8)
    return _png(fig)


def privacy_utility(points: dict) -> bytes:
    fig, ax = plt.subplots(figsize=(5, 4))
    for (name, (aats, utility)), color in zip(points.items(), COLORS):
        ax.scatter([aats], [utility], color=color, s=60, label=name)
        ax.annotate(name, (aats, utility), textcoords="offset points", xytext=(5, 5), fontsize=8)
    ax.axvline(0.5, color=REAL_COLOR, lw=0.8, ls="--")
    ax.set(xlabel="AATS (0.5 ideal; low = copies, high = unrealistic)", ylabel="utility score (1 best)",
           title="privacy-utility", xlim=(0, 1), ylim=(0, 1.05))
    return _png(fig)
