"""Generative moment-matching network with random features (Perera et al., seed 002).

Generator: latent vector -> linear -> ReLU -> batch norm -> linear -> binary
quantiser (Table I's best row). The quantiser outputs hard 0/1 alleles, and
its backward pass is that of (tanh(x) + 1) / 2, a scaled and shifted tanh, so
the loss reaches the weights through the threshold. Loss: squared MMD between
the mean random-feature embedding ("sketch") of the real haplotypes,
precomputed, and that of a generated batch, with ReLU random features
phi(x) = ReLU(x W) / sqrt(D) of a frozen Gaussian projection W (SNPs x D);
these approximate the arc-cosine kernel. Every ``restart_every`` epochs W is
drawn afresh and the sketch recomputed ("random features re-start"), which
the paper found essential (classifier delta 0.31 -> 0.06).

Sizes: the paper maps 5,000 latent values through 4,096 hidden units to 5,000
SNPs with D = 50,000 features; here ``latent`` defaults to the SNP count,
``hidden`` to 0.82 x SNPs (4,096 / 5,000) and ``features`` to 10 x SNPs.

``kernel`` (not in the paper): ``"relu"``, the paper's ReLU features, or a
list of bandwidths h, for random Fourier features of the mixture of Gaussian
kernels exp(-d / h) over the Hamming distance d (for 0/1 vectors the squared
Euclidean distance), the features split evenly among the bandwidths:
phi(x) = sqrt(2 / D) cos(x W + b), W's columns N(0, 2 / h), b uniform on
[0, 2 pi) (Rahimi and Recht 2007). The first GMMN (Li et al. 2015) matched
such a mixture; the arc-cosine kernel of ReLU features varies slowly with the
distance between haplotypes. On yelmen805 (80 epochs) ``kernel=[50, 100,
200, 400]`` took the worst real-vs-synthetic classifier's |0.5 - accuracy|
from 0.356 to 0.295, and the conditional model's share of haplotypes
classified as their own label from 69.5-95.5% to 81.0-100% (120 epochs). With
either kernel the generated haplotypes sit closer to each other than to real
ones (AA_syn 0.98-1.00).

``fine_tune_epoch`` (not in the paper; the WGAN's second phase, shared
through :class:`genofast.models._torch.TorchGenerator`): the learning rate
divided by 10 from that epoch on.

Conditional: the paper trains one GMMN per ancestry on that ancestry's
sketch. Here one generator takes the one-hot label as extra input and the loss
sums, over the labels in a batch, the MMD between that label's sketch and its
generated rows, weighted by the label's share of the batch.
"""

from __future__ import annotations

from ._base import check_float, check_int
from ._torch import TorchGenerator
from ._torch_ops import derived_seed, torch_module

DEFAULTS = dict(latent=None, hidden=None, features=None, batch_size=500, lr=1e-3, restart_every=5,
                kernel="relu", ema=0.0, fine_tune_epoch=None)


def _quantiser():
    torch = torch_module()

    class Quantise(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return (x > 0).to(x.dtype)

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 0.5 * (1 - torch.tanh(x) ** 2)

    return Quantise


def quantise(x):
    """1 where x > 0, else 0; gradient of (tanh(x) + 1) / 2 (straight-through binary quantiser)."""
    return _quantiser().apply(x)


def random_features(x, projection, phase=None):
    """phi(x) = ReLU(x W) / sqrt(D), one row per haplotype; with a ``phase`` b, sqrt(2 / D) cos(x W + b)."""
    torch = torch_module()
    if phase is None:
        return torch.relu(x @ projection) / projection.shape[1] ** 0.5
    return torch.cos(x @ projection + phase) * (2 / projection.shape[1]) ** 0.5


def check_kernel(kernel):
    """"relu" or a non-empty list of positive bandwidths."""
    if isinstance(kernel, str):
        if kernel != "relu":
            raise ValueError(f"kernel must be 'relu' or a list of bandwidths, got {kernel!r}")
        return kernel
    if not isinstance(kernel, (list, tuple)) or not kernel:
        raise ValueError(f"kernel must be 'relu' or a non-empty list of bandwidths, got {kernel!r}")
    return [check_float(h, "kernel bandwidth", low_open=True) for h in kernel]


def mmd2(sketch, features, mean=None):
    """Squared MMD with an explicit feature map: ||sketch - mean_i features_i||^2.

    ``mean``: a function giving that mean of ``features`` (distributed training:
    the whole batch's, from this process's rows; default ``features.mean(0)``).
    """
    return ((sketch - (features.mean(0) if mean is None else mean(features))) ** 2).sum()


class GMMN(TorchGenerator):
    """Random-feature GMMN with a binary quantiser (see the module docstring)."""

    kind = "gmmn"
    DEFAULTS = DEFAULTS

    def _check_config(self, cfg):
        for k in ("batch_size", "restart_every"):
            cfg[k] = check_int(cfg[k], k)
        for k in ("latent", "hidden", "features"):
            if cfg[k] is not None:
                cfg[k] = check_int(cfg[k], k)
        cfg["lr"] = check_float(cfg["lr"], "lr", low_open=True)
        cfg["kernel"] = check_kernel(cfg["kernel"])
        return cfg

    def _sizes(self):
        n, cfg = self.n_snps, self.config
        return (cfg["latent"] or n, cfg["hidden"] or max(16, round(0.82 * n)), cfg["features"] or 10 * n)

    def _build(self):
        nn = torch_module().nn
        latent, hidden, _ = self._sizes()
        net = nn.Sequential(nn.Linear(latent + self.n_classes, hidden), nn.ReLU(), nn.BatchNorm1d(hidden),
                            nn.Linear(hidden, self.n_snps))
        self._restart = None
        return {"generator": net.to(self.device)}

    def _optimizers(self):
        torch = torch_module()
        return {"generator": torch.optim.Adam(self.nets["generator"].parameters(), self.config["lr"])}

    def _prepare(self, data, cond):
        self._data, self._cond = data, cond
        self._restart = None  # new data: sketches must be recomputed

    def _epoch_start(self, seed):
        """Set this epoch's learning rate (``fine_tune_epoch``); draw the projection of this restart period (keyed
        by seed and period) and sketch the data with it."""
        self._generator_lr()
        torch = torch_module()
        period = self.epoch // self.config["restart_every"]
        if self._restart == period:
            return
        _, _, d = self._sizes()
        g = torch.Generator(device=self.device).manual_seed(derived_seed(seed, 5, period))
        self._projection = torch.randn(self.n_snps, d, generator=g, device=self.device)
        self._phase = None
        bandwidths = self.config["kernel"]
        if bandwidths != "relu":
            block = torch.arange(d, device=self.device) * len(bandwidths) // d  # each column's bandwidth
            scale = (2 / torch.tensor(bandwidths, device=self.device, dtype=torch.float32)) ** 0.5
            self._projection *= scale[block]
            self._phase = 2 * torch.pi * torch.rand(d, generator=g, device=self.device)
        sketches = []
        with torch.no_grad():
            groups = [None] if self._cond is None else range(self.n_classes)
            for k in groups:
                rows = self._data if k is None else self._data[self._cond[:, k] > 0]
                total = torch.zeros(d, device=self.device)
                for s in range(0, rows.shape[0], 2000):  # in chunks: rows x D floats would not fit for large D
                    total += random_features(rows[s : s + 2000], self._projection, self._phase).sum(0)
                sketches.append(total / max(rows.shape[0], 1))
        self._sketches = torch.stack(sketches)
        self._restart = period

    def _fake(self, n, c, gen, rows=None):
        """Haplotypes for ``n`` latent draws with labels ``c`` (n rows or None); ``rows``: only those rows
        (distributed training), the latent vectors still drawn for all ``n``."""
        torch = torch_module()
        z = torch.randn(n, self._sizes()[0], generator=gen, device=self.device)
        if rows is not None:
            z, c = z[rows], None if c is None else c[rows]
        return quantise(self.nets["generator"](z if c is None else torch.cat([z, c], 1)))

    def _step(self, x, c, gen):
        """One update. Distributed: this process generates its share of the batch; the MMD takes the whole
        batch's mean features (every process computes the whole loss; see ProcessGroup.column_mean)."""
        opt, group = self.optimizers["generator"], self._group
        n = x.shape[0]
        share = group.rows(n)
        opt.zero_grad()
        fake = self._fake(n, c, gen, share)
        phi = random_features(fake, self._projection, self._phase)
        if c is None:
            loss = mmd2(self._sketches[0], phi, lambda f: group.column_mean(f, n))
        else:
            loss = 0
            for k in range(self.n_classes):
                rows = c[:, k] > 0  # the whole batch's rows of label k
                if bool(rows.any()):
                    count = int(rows.sum())
                    loss = loss + rows.float().mean() * mmd2(self._sketches[k], phi[rows[share]],
                                                             lambda f: group.column_mean(f, count))
        loss.backward()
        group.sum_grads(opt)
        opt.step()

    def _generate(self, n, c, gen):
        return self._fake(n, c, gen)
