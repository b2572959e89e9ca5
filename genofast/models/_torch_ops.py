"""Small torch helpers of the neural generators (GAN, WGAN, VAE, GMMN) and the U-Net: device choice, allele
draws (Bernoulli, straight-through), output offsets at the allele log-odds, dense stacks, the calibrated sampler's
bisection and derived seeds. Torch is imported on first use, so importing genofast does not load it."""

from __future__ import annotations

import numpy as np

from ._base import log_odds


def torch_module():
    import torch

    return torch


def resolve_device(device: str) -> str:
    torch = torch_module()
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError("CUDA was requested but torch sees no CUDA device")
    if device != "cpu" and not device.startswith("cuda"):
        raise ValueError(f"device must be 'cpu', 'cuda', 'cuda:N' or 'auto', got {device!r}")
    return device


OUTPUTS = ("round", "bernoulli")  # how WGAN and VAE turn P(allele 1) into generated alleles


def check_output(output: str) -> str:
    if output not in OUTPUTS:
        raise ValueError(f"output must be 'round' or 'bernoulli', got {output!r}")
    return output


def draw_alleles(p, output: str, gen):
    """Generated alleles from probabilities ``p``: one Bernoulli draw each, or ``p`` itself for ``"round"`` (the
    sampler rounds it)."""
    return torch_module().bernoulli(p, generator=gen) if output == "bernoulli" else p


def straight_through(p, gen, n, rows=None):
    """One 0/1 draw per allele of probabilities ``p`` whose gradient is ``p``'s (the straight-through estimator,
    Bengio et al. 2013); ``rows`` of a batch of ``n`` (distributed training): the uniforms are drawn for the
    whole batch and cut to them."""
    torch = torch_module()
    u = torch.rand(n, p.shape[1], generator=gen, device=p.device)
    hard = (u if rows is None else u[rows]) < p.detach()
    return hard.to(p.dtype) + (p - p.detach())  # exactly 0/1 forward (hard + p - p would round)


def set_log_odds(bias, alleles) -> None:
    """Start a generator's per-SNP output offsets ``bias`` at the training data's allele log-odds."""
    torch = torch_module()
    with torch.no_grad():
        bias.copy_(torch.as_tensor(log_odds(alleles), dtype=bias.dtype))


def dense_stack(sizes: list[int], slope: float = 0.01):
    """Linear layers of the given sizes with leaky ReLU between them (none after the last)."""
    nn = torch_module().nn
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.LeakyReLU(slope))
    return nn.Sequential(*layers)


CALIBRATION_DRAWS = 4096  # latent draws per label over which calibrated offsets match the training frequencies


def calibrated_offsets(logits, target, steps: int = 60, block: int = 2048):
    """Per column s, the offset d_s with mean over rows of sigmoid(logits[:, s] + d_s) = target[s] (bisection
    on [-30, 30]; the mean is increasing in d_s), ``block`` columns at a time to bound the work arrays."""
    torch = torch_module()
    out = torch.empty_like(target)
    for start in range(0, target.shape[0], block):
        x, t = logits[:, start : start + block], target[start : start + block]
        low, high = torch.full_like(t, -30.0), torch.full_like(t, 30.0)
        for _ in range(steps):
            mid = (low + high) / 2
            above = torch.sigmoid(x + mid).mean(0) > t
            high, low = torch.where(above, mid, high), torch.where(above, low, mid)
        out[start : start + block] = (low + high) / 2
    return out


def derived_seed(*key) -> int:
    """A 63-bit seed for torch from a tuple of non-negative integers (numpy's SeedSequence mixing)."""
    return int(np.random.SeedSequence([int(k) for k in key]).generate_state(1, np.uint64)[0] >> np.uint64(1))
