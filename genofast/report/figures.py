"""Matplotlib figures of the evaluation report, each returned as PNG bytes."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

REAL_COLOR = "#333333"
COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]


DPI = 90


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _grid(n: int, width: float = 3.6, height: float = 3.4):
    from ..models._base import check_memory

    cols = min(n, 4)
    rows = -(-n // cols)
    # Agg draws to an RGBA canvas; with the PNG encoder's copy about 3 bytes x 4 channels per pixel,
    # and the canvas grows with the number of synthetic sets
    pixels = (width * cols * DPI) * (height * rows * DPI)
    check_memory(12 * pixels, f"a report figure of {n} panels", "evaluate fewer synthetic sets per report")
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
        ax.set(xlabel="distance (differing alleles)", ylabel="share of pairs", title=name)
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
    """points: name -> (AATS, utility U, privacy P, aggregate score)."""
    fig, ax = plt.subplots(figsize=(5, 4))
    for (name, (aats, utility, _, score)), color in zip(points.items(), COLORS):
        ax.scatter([aats], [utility], color=color, s=60, label=name)
        ax.annotate(f"{name} ({score:.2f})", (aats, utility), textcoords="offset points", xytext=(5, 5), fontsize=8)
    ax.axvline(0.5, color=REAL_COLOR, lw=0.8, ls="--")
    ax.set(xlabel="AATS (0.5 ideal; low = copies, high = unrealistic)", ylabel="utility score U (1 best)",
           title="privacy-utility (aggregate score in brackets)", xlim=(0, 1), ylim=(0, 1.05))
    return _png(fig)


def _population_colors(labels) -> dict:
    return {p: c for p, c in zip(dict.fromkeys(labels), COLORS[::-1] + COLORS)}


def embeddings(results: dict, labels=None) -> bytes:
    """Rows: sets; columns: UMAP, Isomap. Real in circles, synthetic in crosses; per population colour with labels."""
    methods = [m for m in ("umap", "isomap") if m in next(iter(results.values()))]
    fig, axes = plt.subplots(len(results), len(methods), figsize=(5 * len(methods), 4.2 * len(results)),
                             squeeze=False)
    pop_colors = _population_colors(labels) if labels is not None else None
    for row, ((name, r), color) in enumerate(zip(results.items(), COLORS)):
        for col, m in enumerate(methods):
            ax, e = axes[row, col], r[m]
            if pop_colors is None:
                ax.scatter(*e.real.T, s=4, alpha=0.4, color=REAL_COLOR, label="real")
                ax.scatter(*e.synthetic.T, s=6, alpha=0.5, color=color, marker="x", label=name)
            else:
                for p, c in pop_colors.items():
                    ax.scatter(*e.real[labels == p].T, s=4, alpha=0.3, color=c, label=f"real {p}")
                    ax.scatter(*e.synthetic[r["labels"] == p].T, s=8, alpha=0.6, color=c, marker="x")
            ax.set(title=f"{name}: {'UMAP' if m == 'umap' else 'Isomap'}", xticks=[], yticks=[])
            if col == 0:
                ax.legend(fontsize=7, markerscale=2, loc="best")
    return _png(fig)


PER_POPULATION = ("synthetic share", "AF r", "LD r² window r", "AATS")


def per_population(populations: dict) -> bytes:
    """populations: set name -> population -> statistics. One panel per statistic, bars per population and set."""
    names = list(populations)
    pops = list(dict.fromkeys(p for rows in populations.values() for p in rows))
    fig, axes = plt.subplots(1, len(PER_POPULATION), figsize=(3.6 * len(PER_POPULATION), 3.4), squeeze=False)
    width = 0.8 / len(names)
    x = np.arange(len(pops))
    for ax, stat in zip(axes[0], PER_POPULATION):
        if stat == "synthetic share":
            ax.bar(x - 0.4 + width * len(names) / 2, [populations[names[0]][p]["real share"] for p in pops],
                   width * len(names), color="none", edgecolor=REAL_COLOR, label="real share")
        for k, (name, color) in enumerate(zip(names, COLORS)):
            v = [populations[name].get(p, {}).get(stat, np.nan) for p in pops]
            ax.bar(x - 0.4 + width * (k + 0.5), np.nan_to_num(v), width, color=color, label=name)
        if stat == "AATS":
            ax.axhline(0.5, color=REAL_COLOR, lw=0.8, ls="--")
        ax.set_xticks(x, pops, fontsize=8, rotation=45 if len(pops) > 6 else 0)
        ax.set(title=stat, ylim=(min(0, ax.get_ylim()[0]), 1))
    axes[0, 0].legend(fontsize=7)
    return _png(fig)


def selection_scan(scan) -> bytes:
    """One row per set (real first): scores along the genome, the real top windows as grey bands."""
    sets = {"real": scan.real, **scan.synthetic}
    fig, axes = plt.subplots(len(sets), 1, figsize=(11, 1.9 * len(sets)), sharex=True, squeeze=False)
    top = np.argsort(-np.nan_to_num(scan.real_windows, nan=-np.inf), kind="stable")[: scan.n_top]
    x = scan.positions / 1e6
    for ax, ((name, v), color) in zip(axes[:, 0], zip(sets.items(), [REAL_COLOR] + COLORS)):
        for w in top:
            ax.axvspan(scan.window_start[w] / 1e6, scan.window_stop[w] / 1e6, color="#bbbbbb", alpha=0.6, lw=0)
        ok = np.isfinite(v)
        ax.scatter(x[ok], v[ok], s=3, color=color)
        if ok.any():
            ax.axhline(np.percentile(v[ok], 99), color="black", lw=0.8, ls=":")
        title = name if name == "real" else f"{name}: r = {scan.r[name]:.2f}, top overlap {scan.top_overlap[name]:.2f}"
        ax.set_title(title, fontsize=9, loc="left")
        ax.set_ylabel(scan.name, fontsize=8)
    axes[-1, 0].set_xlabel("position (Mb); dotted: 99th percentile of the set")
    fig.suptitle(scan.label, fontsize=10)
    return _png(fig)


def training_traces(traces: dict) -> bytes:
    """Each criterion of each model's training trace over epochs, each accuracy beside its target (dotted, same
    colour); the selection score (lower is better, on its own scale) on the right axis; the kept epoch dashed."""
    colors = plt.get_cmap("tab10").colors
    fig, axes = _grid(len(traces), 5.6, 4.6)
    for ax, (name, (trace, kept)) in zip(axes, traces.items()):
        epochs = [row["epoch"] for row in trace]
        keys = [k for k in trace[0] if k not in ("epoch", "score") and not k.startswith("target")
                and isinstance(trace[0][k], (int, float))]
        for key, color in zip(keys, colors * 2):
            ax.plot(epochs, [row.get(key, np.nan) for row in trace], "-", color=color, label=key, lw=1.2)
            target = {"aa_truth": "target_truth", "aa_syn": "target_syn"}.get(key)
            if target in trace[0]:
                ax.plot(epochs, [row.get(target, np.nan) for row in trace], ":", color=color, lw=1.2,
                        label=f"{target} (unseen real)")
        if "score" in trace[0]:
            right = ax.twinx()
            right.plot(epochs, [row["score"] for row in trace], "--", color="0.5", lw=1, label="score")
            right.set_ylabel("selection score (lower is better)", fontsize=7, color="0.4")
            right.tick_params(labelsize=7, colors="0.4")
        if kept is not None:
            ax.axvline(kept, color=REAL_COLOR, ls="--", lw=1)
        ax.set(xlabel="epoch", title=f"{name}: kept epoch {kept}")
        ax.legend(fontsize=6, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.16))  # below: no line hidden
    return _png(fig)
