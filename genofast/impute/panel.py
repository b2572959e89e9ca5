"""Artificial genomes as imputation reference panels (the experiment of seed 001).

Can a panel of artificial haplotypes stand in for the real panel they were
learnt from? :func:`panel_benchmark` trains each generator on the real panel,
imputes the targets' untyped sites with Beagle 5.4 from (i) the real panel,
(ii) the artificial one, (iii) both together, and scores each against the
targets' true genotypes per minor-allele-frequency bin of the real panel:
genotype concordance of Beagle's best-guess calls and the aggregate dosage
r² (squared Pearson r of DS and true dosage, pooled over the bin's
genotypes, as imputation papers report it).

Beagle needs the ``beagle`` command (``apt-get install beagle``) or a jar.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..align import _keys
from ..matrix import GenotypeMatrix, HaplotypeMatrix, Variants
from ..metrics.quality import allele_frequencies
from .beagle import beagle_command, run_beagle

MAF_BINS = (0.0, 0.01, 0.05, 0.1, 0.2, 0.5)


def typed_sites(panel: Variants, array: Variants) -> np.ndarray:
    """Which panel sites the array types: a boolean per panel site, matched by chromosome, position and alleles."""
    on_array = set(_keys(array))
    return np.array([k in on_array for k in _keys(panel)], dtype=bool)


@dataclass(frozen=True)
class PanelRun:
    """Beagle's imputation of every panel site: dosages (DS) and best-guess calls, samples x panel sites."""

    dosages: np.ndarray
    calls: np.ndarray
    seconds: float
    peak_mib: float


def impute_from_panel(targets: GenotypeMatrix, panel: HaplotypeMatrix, *, seed: int = 0, nthreads: int = 1,
                      jar: str | None = None, workdir=None) -> PanelRun:
    """Impute every site of a phased reference ``panel`` in unphased ``targets`` typed at a subset of them.

    The targets' sites must be panel sites (same chromosome, position and
    alleles); results come back in the panel's site order and the targets'
    sample order.
    """
    from cyvcf2 import VCF

    from ..io import write_vcf

    cmd = beagle_command(jar)
    targets, panel = targets.to("cpu"), panel.to("cpu")
    typed = typed_sites(panel.variants, targets.variants)
    if typed.sum() != targets.n_snps:
        raise ValueError(f"{targets.n_snps - int(typed.sum())} target sites are not in the panel (matched by "
                         "chromosome, position and alleles); keep the panel's sites only")
    if panel.has_missing:
        raise ValueError("a reference panel must be fully called; impute or drop its missing alleles first")
    index = {k: j for j, k in enumerate(_keys(panel.variants))}
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        gt, ref, out = Path(tmp) / "targets.vcf.gz", Path(tmp) / "panel.vcf.gz", Path(tmp) / "imputed"
        write_vcf(gt, targets)
        write_vcf(ref, panel)
        seconds, peak = run_beagle([*cmd, f"gt={gt}", f"ref={ref}", f"out={out}", f"nthreads={nthreads}",
                                    f"seed={seed}", "impute=true"], out)
        vcf = VCF(f"{out}.vcf.gz")
        order = {s: k for k, s in enumerate(vcf.samples)}
        missing = [s for s in map(str, targets.ids) if s not in order]
        if missing:
            raise RuntimeError(f"Beagle did not return samples {missing[:5]}")
        rows = np.array([order[s] for s in map(str, targets.ids)])
        dosages = np.full((targets.n_samples, panel.n_snps), np.nan, np.float32)
        calls = np.full((targets.n_samples, panel.n_snps), -1, np.int8)
        for v in vcf:
            j = index.get((v.CHROM, int(v.POS), v.REF.upper(), (v.ALT[0] if v.ALT else ".").upper()))
            if j is None:
                continue
            g = v.genotype.array()[:, :2].astype(np.int8)  # allele codes, -1 missing
            calls[:, j] = np.where((g < 0).any(1), -1, g.sum(1))[rows]
            ds = v.format("DS")
            dosages[:, j] = (ds[:, 0] if ds is not None else calls[:, j])[rows]
        vcf.close()
    lost = np.flatnonzero(np.isnan(dosages).all(0))
    if lost.size:
        raise RuntimeError(f"Beagle returned no dosage for {lost.size} panel sites, first at position "
                           f"{panel.variants.position[lost[0]]}")
    return PanelRun(dosages, calls, seconds, peak)


def panel_scores(dosages: np.ndarray, calls: np.ndarray, truth: np.ndarray, maf: np.ndarray, scored: np.ndarray,
                 bins=MAF_BINS) -> list[dict]:
    """Per MAF bin (left-open, right-closed; sites with MAF 0 left out): sites, genotype concordance of
    ``calls`` and aggregate dosage r² of ``dosages`` against ``truth`` (samples x sites, -1 missing), over the
    ``scored`` sites and the called truth genotypes."""
    rows = []
    for lo, hi in zip(bins[:-1], bins[1:]):
        sites = scored & (maf > lo) & (maf <= hi)
        t, d, c = truth[:, sites], dosages[:, sites], calls[:, sites]
        known = t >= 0
        r = np.nan
        if known.sum() > 1 and np.std(t[known]) > 0 and np.std(d[known]) > 0:
            r = float(np.corrcoef(d[known].astype(np.float64), t[known])[0, 1])
        rows.append({"bin": f"({lo:g}, {hi:g}]", "sites": int(sites.sum()),
                     "concordance": float((c[known] == t[known]).mean()) if known.any() else np.nan,
                     "r2": r * r})
    return rows


@dataclass
class PanelBenchmark:
    """Rows of (panel, MAF bin, sites, concordance, r2), Beagle's seconds per panel, and the page/figure."""

    rows: list[dict]
    seconds: dict = field(default_factory=dict)

    def table(self) -> dict:
        """{panel: {bin: "concordance / r2"}} for printing."""
        out: dict = {}
        for r in self.rows:
            out.setdefault(r["panel"], {})[f"{r['bin']} ({r['sites']})"] = f"{r['concordance']:.4f} / {r['r2']:.3f}"
        return out

    def figure(self) -> bytes:
        """Dosage r² and concordance by MAF bin, one line per panel (PNG)."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from ..report.figures import _png

        fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
        panels = list(dict.fromkeys(r["panel"] for r in self.rows))
        for name in panels:
            rows = [r for r in self.rows if r["panel"] == name]
            x = np.arange(len(rows))
            for ax, key in zip(axes, ("r2", "concordance")):
                ax.plot(x, [r[key] for r in rows], marker="o", label=name,
                        linestyle="-" if name == "real" else "--")
                ax.set_xticks(x, [r["bin"] for r in rows], rotation=30)
                ax.set_xlabel("minor allele frequency in the real panel")
                ax.set_ylabel({"r2": "aggregate dosage r²", "concordance": "genotype concordance"}[key])
        axes[0].legend(fontsize=8)
        fig.tight_layout()
        return _png(fig)

    def write(self, path) -> None:
        """An HTML page with the table and the figure, written atomically."""
        from ..report.page import write_panel_page

        write_panel_page(self, path)


def panel_benchmark(real_panel: HaplotypeMatrix, targets: GenotypeMatrix, truth: GenotypeMatrix, generators: dict,
                    *, n_synthetic: int | None = None, bins=MAF_BINS, seed: int = 0, nthreads: int = 1,
                    jar: str | None = None, workdir=None, progress=print) -> PanelBenchmark:
    """Impute the targets' untyped sites from the real panel, each generator's artificial panel, and both.

    ``real_panel``: phased reference haplotypes; ``targets``: unphased
    genotypes at the typed (array) sites, a subset of the panel's; ``truth``:
    the same samples' genotypes at every panel site (scored where untyped
    and called). ``generators``: ``{name: make}`` where ``make(panel, seed)``
    trains a model on the real panel and returns ``n`` artificial haplotypes
    on its sites (``n`` = ``n_synthetic``, default the panel's size), e.g.
    ``lambda h, s: MarkovChain(3).fit(h).sample(h.n_haplotypes, seed=s)``.
    """
    if truth.n_snps != real_panel.n_snps or list(map(str, truth.ids)) != list(map(str, targets.ids)):
        raise ValueError("truth must hold the targets' samples (same order) at every panel site")
    n = n_synthetic or real_panel.n_haplotypes
    scored = ~typed_sites(real_panel.variants, targets.variants)
    af = np.nan_to_num(allele_frequencies(real_panel))
    maf = np.minimum(af, 1 - af)
    truth_d = truth.to("cpu").to_numpy()
    panels, real_alleles = {"real": real_panel}, real_panel.to_numpy()
    for name, make in generators.items():
        ag = make(real_panel, seed)
        if not isinstance(ag, HaplotypeMatrix) or ag.n_snps != real_panel.n_snps or ag.n_haplotypes != n:
            raise ValueError(f"generator {name!r} must return a HaplotypeMatrix of {n} x {real_panel.n_snps}")
        ids = np.array([f"ag_{name}_{i // 2}_{'AB'[i % 2]}".replace(" ", "_") for i in range(n)])
        ag = HaplotypeMatrix(ag.to("cpu").words, ag.n_snps, None, ids, real_panel.variants)
        panels[f"{name} AG"] = ag
        both = np.vstack([real_alleles, ag.to_numpy()]).astype(np.uint8)
        panels[f"real + {name} AG"] = HaplotypeMatrix.from_numpy(
            both, ids=np.concatenate([np.asarray(real_panel.ids, str), ids]), variants=real_panel.variants)
    result = PanelBenchmark([])
    for name, panel in panels.items():
        run = impute_from_panel(targets, panel, seed=seed, nthreads=nthreads, jar=jar, workdir=workdir)
        result.seconds[name] = run.seconds
        result.rows += [{"panel": name, **row} for row in panel_scores(run.dosages, run.calls, truth_d, maf, scored,
                                                                       bins)]
        if progress:
            progress(f"{name}: Beagle {run.seconds:.0f} s")
    return result

