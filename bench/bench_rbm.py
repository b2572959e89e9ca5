"""Gibbs sweeps per second: genofast's fused unit kernels vs the same sweep in plain torch.

Both use torch GEMMs; they differ in the elementwise half (bias, activation,
sampling). Sizes: 805 visible x 100 ReLU hidden with 100 chains (Yelmen et
al. 2019 on the 805-SNP set), and 10,000 x 500 with 100 chains; and the
defaults on 805 SNPs (100 fully connected and 300 local units of 32 SNPs,
64 chains), where genofast multiplies the local units' windows only
(models/_local_band.py) and plain torch the dense columns.
"""

import pytest
import torch

from genofast.models import RBM

SIZES = [(805, 100), (10_000, 500), (805, "defaults")]
SWEEPS = 20


def model(n_visible, n_hidden):
    if n_hidden == "defaults":
        m = RBM(n_visible, dropout=0.0)
        scale = m._local_scales(n_visible, m.n_units, m.config["local_hidden"], m.config["local_window"], 1.0)[0]
    else:
        m = RBM(n_visible, n_hidden, "relu", local_hidden=0, dropout=0.0)  # the fully connected sweep
        scale = 1.0
    g = torch.Generator().manual_seed(0)
    # hidden fields of order 1, as in a trained model (and where torch's float
    # ndtr / ndtri stay finite)
    W = torch.randn(n_visible, m.n_units, generator=g) * torch.as_tensor(scale)
    m.params["W"] = W / W.ne(0).sum(0).clamp_min(1).div(2).sqrt()
    return m


def chains(size):
    return 64 if size[1] == "defaults" else 100


def torch_sweeps(W, a, b, v, sweeps, gen):
    """The same sweep written with torch ops: rectified-Gaussian hidden, Bernoulli visible."""
    for _ in range(sweeps):
        x = v @ W + b
        u = torch.rand(x.shape, generator=gen).clamp_min(1e-7)
        h = (x - torch.special.ndtri(u * torch.special.ndtr(x))).clamp_min(0)
        p = torch.sigmoid(h @ W.T + a)
        v = (torch.rand(p.shape, generator=gen) < p).float()
    return v


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}".replace("xdefaults", "-defaults"))
def test_sweeps_genofast(benchmark, size):
    m = model(*size)
    v = m._random_visible(chains(size), 1)
    benchmark.group = f"{SWEEPS} Gibbs sweeps, {size[0]} x {size[1]} ReLU, {chains(size)} chains"
    benchmark.name = "genofast RBM.gibbs"
    out = benchmark(m.gibbs, v, SWEEPS, 3)
    assert out.shape == v.shape


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}".replace("xdefaults", "-defaults"))
def test_sweeps_torch(benchmark, size):
    m = model(*size)
    v = m._random_visible(chains(size), 1)
    benchmark.group = f"{SWEEPS} Gibbs sweeps, {size[0]} x {size[1]} ReLU, {chains(size)} chains"
    benchmark.name = "plain torch"
    gen = torch.Generator().manual_seed(0)
    out = benchmark(torch_sweeps, m.params["W"], m.params["a"], m.params["b"], v, SWEEPS, gen)
    # the two samplers agree in law: visible means after the same sweeps are close
    start = m._random_visible(2000, 5)  # same start: after the same sweeps both laws agree
    ours = m.gibbs(start, SWEEPS, 4).mean(0)
    theirs = torch_sweeps(m.params["W"], m.params["a"], m.params["b"], start, SWEEPS, gen).mean(0)
    assert float((ours - theirs).abs().mean()) < 0.02
    assert out.shape == v.shape
