"""Privacy metrics for cohorts larger than one process, on ``dask.distributed``.

A cohort is cut into row blocks of packed haplotypes; every (query block,
reference block) pair is one Dask task that calls
:func:`genofast.kernels.nearest_neighbors` or
:func:`genofast.kernels.hamming_histogram` on that worker: on its GPU when
it has one (the block pair is copied there; CUDA results equal the CPU's),
else on its CPU; ``GENOFAST_WORKER_GPU=0`` in a worker's environment keeps
it on the CPU. Partial results are merged by operations that are
associative and commutative:

- top-k neighbours: concatenate candidates, order by (distance, global index),
  keep k. Global indices are unique, so the order is total and the merge gives
  the single-process answer whatever the chunking or the worker count;
- column minima: elementwise minimum;
- histograms: sums.

So every function here returns exactly (bit for bit) what its single-process
twin in :mod:`genofast.kernels` or :mod:`genofast.metrics` returns.

Cohorts larger than memory: pass a phased VCF Zarr store (a path, or an
:class:`genofast.io.zarr.ZarrCohort`) instead of a matrix. Then each block
is a task that reads its rows from the store on the worker, so neither the
client nor any worker ever holds the whole cohort (Dask spills blocks to
disk when a worker's memory limit is reached, and re-reads a block lost with
a worker). Missing calls take the set's major allele, counted from the same
block reads, as :func:`genofast.metrics.quality.complete` does; the
two sets must hold the same variants (chromosome, position, alleles) in the
same order.

Scheduling, data movement, retries and memory limits are Dask's: the words
are ``scatter``-ed once, blocks and pair tasks are ``submit``-ted, merges form a binary tree of
tasks so no task ever holds more than two partial results. ``client=None``
uses the current client (``distributed.get_client``) or, when there is none,
starts a two-worker :class:`distributed.LocalCluster` for the call.
"""

from __future__ import annotations

import contextlib
import os

import numpy as np

from . import kernels
from .align import first_difference
from .io.zarr import ZarrCohort
from .metrics import privacy

__all__ = ["ZarrCohort", "aats", "copies", "distance_distributions", "hamming_histogram", "local_cluster",
           "membership_inference", "nearest_neighbors", "privacy_loss"]

DEFAULT_CHUNK_ROWS = 4096


# --- client and blocks -------------------------------------------------------


@contextlib.contextmanager
def _using(client):
    """The given client, the current one, or a LocalCluster closed on exit."""
    import distributed

    if client is not None:
        yield client
        return
    try:
        yield distributed.get_client()
        return
    except ValueError:  # no client in this process: start one for this call
        pass
    with local_cluster() as cluster, distributed.Client(cluster) as local:
        yield local


def local_cluster(n_workers: int = 2, **options):
    """A ``distributed.LocalCluster`` with one thread per worker and no dashboard.

    The scheduler's HTTP server (health checks) gets a free port instead of
    8787, so several clusters (tests, notebooks) start side by side without
    port warnings; the dashboard is off, so bokeh is not needed. ``options``
    go to ``LocalCluster`` (e.g. ``processes=False``, ``memory_limit``).
    """
    import distributed

    options = {"threads_per_worker": 1, "dashboard_address": None, **options}
    options["scheduler_kwargs"] = {"dashboard_address": ":0", **options.get("scheduler_kwargs", {})}
    return distributed.LocalCluster(n_workers=n_workers, **options)


def _blocks(n_rows: int, chunk_rows: int) -> list[tuple[int, int]]:
    if not isinstance(chunk_rows, (int, np.integer)) or chunk_rows < 1:
        raise ValueError(f"chunk_rows must be a positive integer, got {chunk_rows!r}")
    return [(r0, min(r0 + chunk_rows, n_rows)) for r0 in range(0, n_rows, chunk_rows)]


def _rows(words, r0: int, r1: int):
    return words[r0:r1]


def _scatter(client, words: np.ndarray, blocks):
    """Futures of the row blocks, which Dask can recompute after losing a worker.

    Scattered data has no lineage: a block scattered only to a worker that
    dies is gone and the computation fails. So the packed words are
    broadcast to every worker (they are 1 bit per allele: 125 MB for
    100,000 x 10,000) and blocks are cut from them by tasks; a lost block is
    re-cut from a surviving replica. The caller holds the returned list,
    whose first item keeps the replicas alive until it is dropped (Dask frees
    data no client holds once its dependents have run).
    """
    if not blocks:
        return [None]
    if isinstance(words, ZarrCohort):  # read on the workers; a lost block is read again
        raw = words.with_fill(None)  # read once per block: the same task key for the counts and the blocks
        return [None] + [client.submit(_fill_task, words, client.submit(_store_raw, raw, r0, r1))
                         for r0, r1 in blocks]
    # hash=False: a fresh key per call, so a cohort's words are never confused with an earlier call's.
    whole = client.scatter(words, broadcast=True, hash=False)
    return [whole] + [client.submit(_rows, whole, r0, r1) for r0, r1 in blocks]


# --- tasks (run on workers; module-level so they pickle by reference) --------


def _on_worker_device(*blocks):
    """The blocks on this worker's GPU when it has one (the kernels run where their input lies)."""
    if os.environ.get("GENOFAST_WORKER_GPU", "1") == "0" or not kernels.has_cuda().available:
        return blocks
    import torch

    return tuple(None if b is None else torch.from_numpy(np.ascontiguousarray(b).view(np.int64)).cuda()
                 for b in blocks)


def _host(x):
    """A kernel result as a numpy array, wherever it was computed."""
    if x is None:
        return None
    return x.cpu().numpy() if kernels.is_cuda(x) else np.asarray(x)


def _store_raw(cohort, r0: int, r1: int):
    return cohort.raw_block(r0, r1)


def _fill_task(cohort, raw):
    return cohort.filled(raw)


def _nn_task(query, reference, k: int, offset: int, is_diagonal: bool, want_column_min: bool):
    """Top-min(k, available) of one block pair, indices made global by ``offset``."""
    n_available = reference.shape[0] - 1 if is_diagonal else reference.shape[0]
    kk = min(k, n_available)
    m = query.shape[0]
    if kk < 1:  # a 1-row diagonal block has no neighbour but itself
        return np.empty((m, 0), np.int32), np.empty((m, 0), np.int64), None
    query, reference = _on_worker_device(query, reference)
    if is_diagonal:
        dist, idx = kernels.nearest_neighbors(query, None, kk)
        column_min = None
    elif want_column_min:
        dist, idx, column_min = kernels.nearest_neighbors(query, reference, kk, return_column_min=True)
    else:
        dist, idx = kernels.nearest_neighbors(query, reference, kk)
        column_min = None
    return _host(dist), _host(idx).astype(np.int64) + offset, _host(column_min)


def _merge_top_k(k: int, left, right):
    """Keep the k best of two candidate lists per row, by (distance, index) as one process orders them."""
    dist = np.concatenate([left[0], right[0]], axis=1)
    idx = np.concatenate([left[1], right[1]], axis=1)
    # lexsort sorts by the last key first: distance, then index breaks ties.
    order = np.lexsort((idx, dist), axis=1)[:, :k]
    return np.take_along_axis(dist, order, 1), np.take_along_axis(idx, order, 1), None


def _column_min(part):
    return part[2]


def _minimum(a, b):
    return np.minimum(a, b)


def _add(a, b):
    return a + b


def _pair_min_task(query, reference, is_diagonal: bool):
    """Nearest distances both ways for one block pair of a self comparison: (per query row, per reference row)."""
    if is_diagonal and query.shape[0] < 2:  # a lone row's neighbours all lie in other blocks
        return np.full(query.shape[0], np.iinfo(np.int32).max, np.int32), None
    query, reference = _on_worker_device(query, reference)
    if is_diagonal:
        return _host(kernels.nearest_neighbors(query, None, 1)[0])[:, 0], None
    dist, _, column_min = kernels.nearest_neighbors(query, reference, 1, return_column_min=True)
    return _host(dist)[:, 0], _host(column_min)


def _part(pair, i: int):
    return pair[i]


def _histogram_task(query, reference, is_diagonal: bool):
    query, reference = _on_worker_device(query, None if is_diagonal else reference)
    return _host(kernels.hamming_histogram(query, reference))


def _tree(client, fn, parts, *args):
    """Reduce futures pairwise with ``fn(*args, a, b)``: depth log2(n), any order gives the same result."""
    parts = list(parts)
    while len(parts) > 1:
        merged = [client.submit(fn, *args, parts[i], parts[i + 1]) for i in range(0, len(parts) - 1, 2)]
        parts = merged + ([parts[-1]] if len(parts) % 2 else [])
    return parts[0]


# --- public API ----------------------------------------------------------------


def _words(a, b):
    wa, wb = kernels._pair(a, b)  # the same checks (missing, widths, devices) as one process
    if kernels.is_cuda(wa):
        raise ValueError("genofast.distributed takes CPU (numpy) words; workers choose their own device")
    return wa, wb


def _is_store(x) -> bool:
    return isinstance(x, (str, os.PathLike, ZarrCohort))


def _filled(client, x, chunk_rows: int, keep: list):
    """A store's cohort with missing calls set to its major alleles, counted over the blocks the computation
    reads (their futures go to ``keep``: held by the caller, the blocks are read once for both)."""
    cohort = x if isinstance(x, ZarrCohort) else ZarrCohort(x)
    if cohort.fill is not None:
        return cohort
    raw = cohort.with_fill(None)
    blocks = [client.submit(_store_raw, raw, r0, r1) for r0, r1 in _blocks(cohort.n_haplotypes, chunk_rows)]
    keep += blocks
    if not blocks:
        return cohort.with_fill(np.zeros(cohort.n_snps, np.int8))
    counts = client.gather(_tree(client, _add, [client.submit(_part, b, 2) for b in blocks]))
    return cohort.with_fill((2 * counts[0] > counts[1]).astype(np.int8))  # quality.major_alleles' rule


def _sources(client, a, b, names, chunk_rows: int, fill: bool = True, keep: list | None = None):
    """Packed words or store cohorts of both sets, checked to be comparable (``b`` None: self mode).

    In-memory sets go through the single-process path (alignment, missing
    fill); stores must match the other set's variants exactly. ``keep``
    receives the futures of the stores' blocks read for counting: the caller
    holds them so that the computation reuses them instead of reading again.
    """
    if not (_is_store(a) or _is_store(b)):
        if b is not None and fill:
            a, b = privacy._sets(a, b, names=names)
        elif fill:
            a = privacy._haplotypes(a, names[0])
        return _words(a, b)

    from .matrix import GenotypeMatrix

    for x, name in ((a, names[0]), (b, names[1])):
        if isinstance(x, GenotypeMatrix):
            raise ValueError(f"the {name} set holds unphased genotypes, the other is a store of haplotypes: "
                             "compare like with like")

    def source(x, name):
        if _is_store(x):
            if fill:
                return _filled(client, x, chunk_rows, keep if keep is not None else [])
            return x if isinstance(x, ZarrCohort) else ZarrCohort(x)
        return _words(privacy._haplotypes(x, name) if fill else x, None)[0]

    sa, sb = source(a, names[0]), None if b is None else source(b, names[1])
    if sb is not None:
        na, nb = (getattr(src, "n_snps", getattr(x, "n_snps", None)) for src, x in ((sa, a), (sb, b)))
        if sa.shape[1] != sb.shape[1] or None not in (na, nb) and na != nb:
            raise ValueError(f"the {names[0]} set has {na} SNPs but the {names[1]} set {nb}")
        va, vb = (getattr(x, "variants", None) for x in (sa if isinstance(sa, ZarrCohort) else a,
                                                           sb if isinstance(sb, ZarrCohort) else b))
        j = None if va is None or vb is None else first_difference(va, vb)
        if j is not None:
            raise ValueError(f"SNP {j} differs between the {names[0]} ({va.chrom[j]}:{va.position[j]}) and "
                             f"{names[1]} ({vb.chrom[j]}:{vb.position[j]}) sets; a store is compared as it "
                             "is: write both on the same variants (genofast.align) first")
    return sa, sb


def nearest_neighbors(a, b=None, k: int = 1, *, return_column_min: bool = False, chunk_rows: int = DEFAULT_CHUNK_ROWS,
                      client=None):
    """The k nearest haplotypes of B for every haplotype of A, computed block by block on a Dask cluster.

    Same parameters and results as :func:`genofast.kernels.nearest_neighbors`
    (``b=None``: A against itself without the diagonal; ties go to the lower
    index), plus ``chunk_rows``, the rows per block (the work per task grows
    as ``chunk_rows**2``), and ``client``, a ``distributed.Client`` (default:
    the current one, or a local two-worker cluster started for this call).
    A and B may be VCF Zarr stores (see the module docstring); like the
    kernel, this function refuses missing calls.
    """
    _blocks(0, chunk_rows)  # check it before a cluster is started
    with _using(client) as c:
        wa, wb = _sources(c, a, b, ("a", "b"), chunk_rows, fill=False)
        kernels.check_neighbor_request(wa, wb, k, return_column_min)
        return _nearest(c, wa, wb, int(k), return_column_min, chunk_rows)


def _nearest(client, wa, wb, k, return_column_min, chunk_rows):
    self_mode = wb is None
    q_blocks = _blocks(wa.shape[0], chunk_rows)
    r_blocks = q_blocks if self_mode else _blocks(wb.shape[0], chunk_rows)
    q_held = _scatter(client, wa, q_blocks)
    r_held = q_held if self_mode else _scatter(client, wb, r_blocks)
    q_data, r_data = q_held[1:], r_held[1:]
    rows, column_parts = [], [[] for _ in r_blocks]
    for i, q in enumerate(q_data):
        parts = []
        for j, (r, (r0, _)) in enumerate(zip(r_data, r_blocks)):
            part = client.submit(_nn_task, q, r, k, r0, self_mode and i == j, return_column_min)
            parts.append(part)
            if return_column_min:
                column_parts[j].append(client.submit(_column_min, part))
        rows.append(_tree(client, _merge_top_k, parts, k))
    results = client.gather(rows)
    dist = np.concatenate([r[0] for r in results]) if results else np.empty((0, k), np.int32)
    idx = np.concatenate([r[1] for r in results]) if results else np.empty((0, k), np.int64)
    if not return_column_min:
        return dist, idx
    if not q_blocks:  # no queries: the kernel's column minima are its "no distance" fill
        return dist, idx, kernels.nearest_neighbors(wa, wb, k, return_column_min=True)[2]
    column_min = client.gather([_tree(client, _minimum, parts) for parts in column_parts])
    return dist, idx, np.concatenate(column_min) if column_min else np.empty(0, np.int32)


def _self_min_distance(client, words, chunk_rows):
    """Each row's distance to its nearest other row, computing every block pair once.

    Distance is symmetric: the pair (i, j) gives block i its row minima and
    block j its column minima, so only the upper triangle of block pairs is
    run, as the single-process self kernel also does.
    """
    blocks = _blocks(words.shape[0], chunk_rows)
    held = _scatter(client, words, blocks)
    data = held[1:]
    parts = [[] for _ in blocks]
    for i in range(len(blocks)):
        for j in range(i, len(blocks)):
            pair = client.submit(_pair_min_task, data[i], data[j], i == j)
            parts[i].append(client.submit(_part, pair, 0))
            if j != i:
                parts[j].append(client.submit(_part, pair, 1))
    mins = client.gather([_tree(client, _minimum, p) for p in parts])
    return np.concatenate(mins) if mins else np.empty(0, np.int32)


def hamming_histogram(a, b=None, n_snps: int | None = None, *, chunk_rows: int = DEFAULT_CHUNK_ROWS, client=None):
    """Counts of all pairwise Hamming distances, summed over blocks on a Dask cluster.

    Same results as :func:`genofast.kernels.hamming_histogram` (``b=None``:
    each unordered pair of distinct rows of A once). A and B may be VCF Zarr stores.
    """
    _blocks(0, chunk_rows)
    with _using(client) as c:
        wa, wb = _sources(c, a, b, ("a", "b"), chunk_rows, fill=False)
        n_snps = n_snps if n_snps is not None else getattr(wa, "n_snps", getattr(a, "n_snps", wa.shape[1] * 64))
        self_mode = wb is None
        q_blocks = _blocks(wa.shape[0], chunk_rows)
        r_blocks = q_blocks if self_mode else _blocks(wb.shape[0], chunk_rows)
        q_held = _scatter(c, wa, q_blocks)
        r_held = q_held if self_mode else _scatter(c, wb, r_blocks)
        q_data, r_data = q_held[1:], r_held[1:]
        parts = []
        for i, q in enumerate(q_data):
            # Self mode counts unordered pairs: the diagonal block alone, and each block pair above it once.
            for j in range(i if self_mode else 0, len(r_data)):
                parts.append(c.submit(_histogram_task, q, r_data[j], self_mode and i == j))
        if not parts:
            return np.zeros(n_snps + 1, np.int64)
        return c.gather(_tree(c, _add, parts))[: n_snps + 1]


def distance_distributions(real, synthetic, *, chunk_rows: int = DEFAULT_CHUNK_ROWS, client=None):
    """All pairwise Hamming distances within and between the sets as histograms, on a Dask cluster; equal to
    :func:`genofast.metrics.quality.distance_distributions` (missing alleles take the set's major allele)."""
    from .metrics.quality import DistanceDistributions

    _blocks(0, chunk_rows)
    with _using(client) as c:
        keep: list = []  # the stores' blocks, read once
        wr, ws = _sources(c, real, synthetic, ("real", "synthetic"), chunk_rows, keep=keep)
        n_snps = getattr(wr, "n_snps", getattr(real, "n_snps", wr.shape[1] * 64))
        return DistanceDistributions(*(hamming_histogram(a, b, n_snps, chunk_rows=chunk_rows, client=c)
                                       for a, b in ((wr, None), (ws, None), (wr, ws))))


def aats(real, synthetic, tie: str = "strict", *, chunk_rows: int = DEFAULT_CHUNK_ROWS,
         client=None) -> privacy.AATSResult:
    """Nearest-neighbour adversarial accuracy on a Dask cluster; equal to :func:`genofast.metrics.aats`.

    ``real`` and ``synthetic`` may be VCF Zarr stores (see the module docstring).
    """
    if tie not in privacy.TIE_RULES:
        raise ValueError(f"tie must be one of {privacy.TIE_RULES}, got {tie!r}")
    _blocks(0, chunk_rows)
    with _using(client) as c:
        keep: list = []  # the stores' blocks, read once
        wt, ws = _sources(c, real, synthetic, ("real", "synthetic"), chunk_rows, keep=keep)
        for name, x in (("real", wt), ("synthetic", ws)):
            if x.shape[0] < 2:
                raise ValueError(f"AATS needs at least 2 {name} haplotypes (nearest neighbour excludes itself)")
        d_ts, _, d_st = _nearest(c, wt, ws, 1, True, chunk_rows)
        d_tt = _self_min_distance(c, wt, chunk_rows)  # AATS needs distances only, not which neighbour
        d_ss = _self_min_distance(c, ws, chunk_rows)
    d_ts, d_st = d_ts.reshape(-1), d_st.reshape(-1)
    farther = np.greater if tie == "strict" else np.greater_equal
    aa_truth = float(np.mean(farther(d_ts, d_tt)))
    aa_syn = float(np.mean(farther(d_st, d_ss)))
    return privacy.AATSResult(aa_truth, aa_syn, (aa_truth + aa_syn) / 2, tie, d_ts, d_st, d_tt, d_ss)


def copies(train, synthetic, threshold: int = 0, *, chunk_rows: int = DEFAULT_CHUNK_ROWS, client=None):
    """Exact or near copies of training haplotypes in a synthetic set; equal to :func:`genofast.metrics.copies`."""
    if threshold < 0:
        raise ValueError(f"threshold must be >= 0, got {threshold}")
    _blocks(0, chunk_rows)
    with _using(client) as c:
        keep: list = []  # the stores' blocks, read once
        wt, ws = _sources(c, train, synthetic, ("training", "synthetic"), chunk_rows, keep=keep)
        d, i = _nearest(c, ws, wt, 1, False, chunk_rows)
    d, i = d[:, 0], i[:, 0]
    hit = np.flatnonzero(d <= threshold)
    return privacy.Copies(threshold, int(hit.size), hit, i[hit], d[hit])


def _take(x, rows):
    return x.take(rows) if isinstance(x, ZarrCohort) else x[rows]


def privacy_loss(train, test, synthetic, tie: str = "strict", seed: int = 0, subsamples: int = 1, *,
                 chunk_rows: int = DEFAULT_CHUNK_ROWS, client=None) -> float:
    """AATS(test, synthetic) - AATS(train, synthetic) on a Dask cluster; equals :func:`metrics.privacy_loss`.

    The larger of train and test is subsampled to the smaller's size with the
    same seeded draws as the single-process function (``subsamples`` of them,
    averaged). Any set may be a VCF Zarr store.
    """
    from .models._base import check_int

    subsamples = check_int(subsamples, "subsamples")
    with _using(client) as c:
        wt, ws = _sources(c, train, synthetic, ("training", "synthetic"), chunk_rows)
        wt, wv = _sources(c, wt if isinstance(wt, ZarrCohort) else train, test, ("training", "test"), chunk_rows)
        n_train, n_test = wt.shape[0], wv.shape[0]
        sets = {"train": wt, "test": wv}
        return privacy._mean_over_subsamples(
            n_train, n_test, seed, subsamples,
            lambda key, rows: aats(sets[key] if rows is None else _take(sets[key], rows), ws, tie,
                                   chunk_rows=chunk_rows, client=c).aats)


def membership_inference(train, holdout, synthetic, *, chunk_rows: int = DEFAULT_CHUNK_ROWS, client=None):
    """Distance-to-synthetic membership inference on a Dask cluster; equal to
    :func:`genofast.metrics.membership_inference`.

    Only the two nearest-distance passes are distributed; the AUC over their
    (m + n) distances is computed here, the same way as in one process. Any set may be a VCF Zarr store.
    """
    _blocks(0, chunk_rows)
    with _using(client) as c:
        keep: list = []  # the stores' blocks, read once
        wm, ws = _sources(c, train, synthetic, ("training", "synthetic"), chunk_rows, keep=keep)
        _, wn = _sources(c, wm if isinstance(wm, ZarrCohort) else train, holdout, ("training", "holdout"),
                         chunk_rows, keep=keep)
        if wm.shape[0] == 0 or wn.shape[0] == 0:
            raise ValueError("membership inference needs at least one member and one non-member")
        dm = _nearest(c, wm, ws, 1, False, chunk_rows)[0][:, 0]
        dn = _nearest(c, wn, ws, 1, False, chunk_rows)[0][:, 0]
    return privacy.MembershipInference(privacy.distance_auc(dm, dn), dm, dn)
