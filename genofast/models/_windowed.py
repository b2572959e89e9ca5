"""Windowed (locally connected) generator and critic for the WGAN on long regions (not in the paper).

The SNPs are cut into windows of ``window`` SNPs. The generator gives each
window its own latent vector and one hidden layer of its own weights, fed
with the latent vectors of the ``reach`` windows on either side too, so that
neighbouring windows share randomness and linkage decays with distance; a
``global_latent`` part of the latent vector reaches every window (what a
haplotype's lineage sets along the whole region). The critic scores every
pair of adjacent windows (2 x ``window`` SNPs, so each window boundary lies
inside one) with one hidden layer of its own weights and sums the scores.

Why: on the simulated 10,000-SNP region the convolutional generator costs
214 ms per forward pass of 24 haplotypes on one CPU thread (its last
blocks run at 8,192 and 16,384 positions), about 45 generator updates a
minute, and learnt no distance-decaying linkage within the time a CPU gives;
these networks are a few batched matrix products per window (about 1,200
critic updates a minute there, batches of 64) and learn it within minutes
(docs/generators.md).
"""

from __future__ import annotations

import math

from ._conv import SLOPE, allele_branch_modules, allele_branches, latent_branch
from ._torch_ops import torch_module

nn = torch_module().nn
F = torch_module().nn.functional


def _banded(v, reach: int):
    """(b, W, k) -> (b, W, (2 reach + 1) k): each window's vector beside those of its ``reach`` neighbours on either
    side (zeros past the ends)."""
    torch = torch_module()
    p = F.pad(v, (0, 0, reach, reach))
    return torch.cat([p[:, i:i + v.shape[1]] for i in range(2 * reach + 1)], 2)


def _local(u, weight, bias):
    """One hidden layer per window: (b, W, i) x (W, i, h) -> leaky ReLU (b, W, h)."""
    return F.leaky_relu(torch_module().einsum("bwi,wih->bwh", u, weight) + bias, SLOPE)


class WindowedGenerator(nn.Module):
    """Latent vector (``n_windows`` x ``latent`` + ``global_latent``, + label) -> P(allele 1) logits per SNP."""

    def __init__(self, n_snps: int, window: int, latent: int, hidden: int, reach: int, global_latent: int,
                 n_classes: int, dense: int = 0):
        super().__init__()
        torch = torch_module()
        self.n_snps, self.latent, self.reach = n_snps, latent, reach
        self.n_windows = math.ceil(n_snps / window)
        self.latent_size = self.n_windows * latent + global_latent
        fan_in = (2 * reach + 1) * latent + global_latent + n_classes
        self.hidden_weight = nn.Parameter(torch.randn(self.n_windows, fan_in, hidden) / math.sqrt(fan_in))
        self.hidden_bias = nn.Parameter(torch.zeros(self.n_windows, hidden))
        # the output starts at zero: the generator starts as independent SNPs at the offsets (the log-odds)
        self.output_weight = nn.Parameter(torch.zeros(self.n_windows, hidden, window))
        self.bias = nn.Parameter(torch.zeros(n_snps))
        self.dense = latent_branch(self.latent_size + n_classes, dense, n_snps)

    def forward(self, z, c=None, gen=None, rows=None):
        """Logits for latent vectors ``z`` (labels ``c``); ``rows``: those rows only (distributed training)."""
        torch = torch_module()
        if rows is not None:
            z, c = z[rows], None if c is None else c[rows]
        b, w = z.shape[0], self.n_windows
        u = _banded(z[:, : w * self.latent].reshape(b, w, self.latent), self.reach)
        shared = [z[:, w * self.latent:]] + ([] if c is None else [c])
        shared = torch.cat(shared, 1)
        if shared.shape[1]:
            u = torch.cat([u, shared[:, None, :].expand(b, w, shared.shape[1])], 2)
        h = _local(u, self.hidden_weight, self.hidden_bias)
        logits = torch.einsum("bwh,whs->bws", h, self.output_weight).reshape(b, -1)[:, : self.n_snps] + self.bias
        if self.dense is not None:
            logits = logits + self.dense(z if c is None else torch.cat([z, c], 1))
        return logits


class WindowedCritic(nn.Module):
    """0/1 (or soft) haplotypes (+ labels), ``pack`` at a time -> one score: a hidden layer per pair of adjacent
    windows, summed, plus the optional linear and dense branches of :class:`genofast.models._conv.Critic`."""

    def __init__(self, n_snps: int, window: int, hidden: int, n_classes: int, pack: int = 1, linear: bool = False,
                 dense: int = 0):
        super().__init__()
        torch = torch_module()
        self.n_snps, self.window, self.pack = n_snps, window, pack
        self.n_windows = math.ceil(n_snps / window)
        fan_in = pack * (2 * window + n_classes)
        self.hidden_weight = nn.Parameter(torch.randn(self.n_windows, fan_in, hidden) / math.sqrt(fan_in))
        self.hidden_bias = nn.Parameter(torch.zeros(self.n_windows, hidden))
        self.output_weight = nn.Parameter(torch.randn(self.n_windows, hidden) / math.sqrt(hidden))
        self.output_bias = nn.Parameter(torch.zeros(1))
        self.linear, self.dense = allele_branch_modules(pack * n_snps * (1 + n_classes), 1, linear, dense)

    def forward(self, x, c=None):
        torch = torch_module()
        b, s, w = x.shape[0] // self.pack, self.window, self.n_windows
        # the last window pairs with zeros past the end
        u = F.pad(x, (0, (w + 1) * s - self.n_snps)).unfold(1, 2 * s, s)  # (b * pack, W, 2s)
        if c is not None:
            u = torch.cat([u, c[:, None, :].expand(-1, w, -1)], 2)
        u = u.reshape(b, self.pack, w, -1).transpose(1, 2).reshape(b, w, -1)
        h = _local(u, self.hidden_weight, self.hidden_bias)
        score = (h * self.output_weight).sum((1, 2))[:, None] + self.output_bias
        return score + allele_branches(x, c, self.pack, (self.linear, self.dense))
