"""Convolutional networks of Yelmen et al. 2023 (Fig 1, S1 Fig): a generator (decoder) that doubles the
sequence length block by block from 4, and a critic (encoder) that halves it back to 4.

Each generic block concatenates extra channels to its input before a
(transposed) convolution of kernel 4 and stride 2: a trainable location-specific
vector (convolutions are shift-invariant, so without it a block cannot tell
where along the genome it is), in the generator two fresh noise channels (the
network chooses the depth at which randomness enters), and, for conditional
models, the one-hot label broadcast along the sequence. A residual block of
kernel-3 convolution follows each generic block. The paper's depth for 10,000
SNPs is smaller than for 65,535; here the depth is the number of doublings
from 4 that covers the SNP count, and the channels halve block by block from
``width`` down to ``min_width``. The critic pads the sequence with zeros to
the generator's length.
"""

from __future__ import annotations

import math

from ._torch_ops import dense_stack, torch_module

nn = torch_module().nn
F = torch_module().nn.functional
SLOPE = 0.01  # leaky ReLU alpha, both papers
START = 4  # length of the generator's first feature map (Fig 1B)


def depth_for(n_snps: int) -> int:
    """Doublings from length 4 to cover ``n_snps``: 8 for 805 SNPs, 12 for 10,000, 14 for 65,535."""
    return max(1, math.ceil(math.log2(max(n_snps, START + 1) / START)))


def channels(depth: int, width: int, min_width: int) -> list[int]:
    """Channels after each generator block (the critic uses them in reverse)."""
    return [max(min_width, width >> (i + 1)) for i in range(depth)]


def _norm(kind: str, c: int):
    return nn.BatchNorm1d(c) if kind == "batch" else nn.InstanceNorm1d(c, affine=True)


def allele_branches(x, c, pack: int, branches):
    """The critics' optional branches over the alleles themselves (``None`` where absent): for each pack of
    ``pack`` haplotypes their alleles, and for conditional models each allele times each label, through each
    branch, summed (0 when there are none)."""
    branches = [b for b in branches if b is not None]
    if not branches:
        return 0
    torch = torch_module()
    alleles = x if c is None else torch.cat([x, (c[:, :, None] * x[:, None, :]).flatten(1)], 1)
    alleles = alleles.reshape(x.shape[0] // pack, -1)
    return sum(branch(alleles) for branch in branches)


def allele_branch_modules(inputs: int, n_out: int, linear: bool, dense: int):
    """The critics' optional branches over their ``inputs`` alleles (``None`` where absent): a linear map that starts
    at zero (the critic starts as without it) and a dense stack of ``dense`` leaky-ReLU units."""
    lin = None
    if linear:
        lin = nn.Linear(inputs, n_out, bias=False)
        nn.init.zeros_(lin.weight)
    return lin, (dense_stack([inputs, dense, n_out], SLOPE) if dense else None)


def latent_branch(n_in: int, hidden: int, n_snps: int):
    """The generators' optional dense branch (``None`` without ``hidden`` units): latent vector (and label) ->
    ``hidden`` leaky-ReLU units -> one logit per SNP, its output layer starting at zero (the generator starts as
    without it)."""
    if not hidden:
        return None
    branch = dense_stack([n_in, hidden, n_snps], SLOPE)
    nn.init.zeros_(branch[2].weight)
    nn.init.zeros_(branch[2].bias)
    return branch


class Residual(nn.Module):
    def __init__(self, c: int, norm: str):
        super().__init__()
        self.conv = nn.Conv1d(c, c, 3, padding=1)
        self.norm = _norm(norm, c)

    def forward(self, x):
        return x + F.leaky_relu(self.norm(self.conv(x)), SLOPE)


class Block(nn.Module):
    """Location (+ noise, + label) channels, a stride-2 convolution (transposed when ``up``), norm, leaky ReLU."""

    def __init__(self, c_in: int, c_out: int, length: int, n_noise: int, n_classes: int, norm: str, up: bool):
        super().__init__()
        self.location = nn.Parameter(torch_module().randn(1, 1, length))
        self.n_noise = n_noise
        conv = nn.ConvTranspose1d if up else nn.Conv1d
        self.conv = conv(c_in + 1 + n_noise + n_classes, c_out, 4, stride=2, padding=1)
        self.norm = _norm(norm, c_out)
        self.residual = Residual(c_out, norm)

    def forward(self, x, c=None, gen=None, rows=None, n=None):
        """``rows`` of a batch of ``n`` (distributed training): the noise is drawn for all ``n`` and cut to them."""
        torch = torch_module()
        b, _, length = x.shape
        extra = [x, self.location.expand(b, 1, length)]
        if self.n_noise:
            noise = torch.randn(b if rows is None else n, self.n_noise, length, generator=gen, device=x.device)
            extra.append(noise if rows is None else noise[rows])
        if c is not None:
            extra.append(c[:, :, None].expand(-1, -1, length))
        return self.residual(F.leaky_relu(self.norm(self.conv(torch.cat(extra, 1))), SLOPE))


class Generator(nn.Module):
    """Latent vector (+ label) -> (width, 4) -> ``depth`` doubling blocks -> sigmoid P(allele 1) per SNP.

    With ``dense`` > 0 a dense branch, one hidden layer of ``dense`` leaky-ReLU
    units from the latent vector (and label) to every SNP's logit, adds its
    output to the convolutional one (its output layer starts at zero): the
    transposed convolutions tie each SNP to its neighbours, and linkage
    between distant SNPs has to come through the first blocks' few positions.
    """

    def __init__(self, n_snps: int, latent: int, width: int, min_width: int, n_classes: int, n_noise: int,
                 norm: str = "batch", dense: int = 0):
        super().__init__()
        self.n_snps, self.width, self.latent_size = n_snps, width, latent
        depth = depth_for(n_snps)
        ch = channels(depth, width, min_width)
        self.input = nn.Linear(latent + n_classes, width * START)
        self.input_norm = nn.BatchNorm1d(width)
        self.blocks = nn.ModuleList(Block(c_in, c_out, START << i, n_noise, n_classes, norm, up=True)
                                    for i, (c_in, c_out) in enumerate(zip([width] + ch[:-1], ch)))
        self.location = nn.Parameter(torch_module().randn(1, 1, START << depth))
        self.output = nn.Conv1d(ch[-1] + 1, 1, 1)
        # one logit offset per SNP, set to the data's log-odds before training (Hinton 2010, sec. 8.1, for
        # RBMs): Adam moves a per-SNP parameter by about lr per step, so learning 805 offsets from zero through
        # the location channel alone takes thousands of generator steps
        self.bias = nn.Parameter(torch_module().zeros(n_snps))
        self.dense = latent_branch(latent + n_classes, dense, n_snps)

    def forward(self, z, c=None, gen=None, rows=None):
        """Logits for latent vectors ``z`` (labels ``c``); with ``rows`` (a slice, distributed training) for
        those rows of ``z`` and ``c`` only, the noise channels still drawn for the whole batch and cut to them,
        so that ``gen`` advances as in one process."""
        torch = torch_module()
        n = z.shape[0]
        if rows is not None:
            z, c = z[rows], None if c is None else c[rows]
        zc = z if c is None else torch.cat([z, c], 1)
        x = F.leaky_relu(self.input_norm(self.input(zc).view(z.shape[0], self.width, START)), SLOPE)
        for block in self.blocks:
            x = block(x, c, gen, rows, n)
        x = self.output(torch.cat([x, self.location.expand(x.shape[0], 1, x.shape[2])], 1))
        logits = x[:, 0, : self.n_snps] + self.bias  # the generated sequence is cropped to the SNP count
        return logits if self.dense is None else logits + self.dense(zc)


class Critic(nn.Module):
    """0/1 (or soft) haplotypes (+ labels) -> halving blocks down to length 4 -> a linear map to ``n_out`` values.

    With ``pack`` > 1 the critic judges ``pack`` haplotypes at once (PacGAN,
    Lin et al. 2018): they are stacked as channels, so a batch must be a
    multiple of ``pack``; one score per pack.

    With ``linear`` a linear map of the input alleles is added to the output:
    the convolutions squeeze the sequence into ``min_width`` channels from the
    first block on, and a critic that cannot score each SNP's frequency lets
    the generator's frequencies wander. For conditional models it also sees
    each allele times each label, i.e. the frequencies per label.

    With ``dense`` > 0 a dense branch over the same inputs, one hidden layer
    of ``dense`` leaky-ReLU units, adds its score too: it judges linkage
    between any SNPs of a pack from the first update on, where the
    convolutional critic learns to tell real haplotypes from the same ones
    with each SNP shuffled independently over hundreds of updates.
    """

    def __init__(self, n_snps: int, width: int, min_width: int, n_classes: int, n_out: int = 1, pack: int = 1,
                 norm: str = "instance", linear: bool = False, dense: int = 0):
        super().__init__()
        depth = depth_for(n_snps)
        self.n_snps, self.pack, self.length = n_snps, pack, START << depth
        ch = channels(depth, width, min_width)[::-1]  # small near the input, wide near the output
        c_first = pack * (1 + n_classes)
        self.blocks = nn.ModuleList(Block(c_in, c_out, self.length >> i, 0, 0, norm, up=False)
                                    for i, (c_in, c_out) in enumerate(zip([c_first] + ch[1:], ch[1:] + [width])))
        self.output = nn.Linear(width * START, n_out)
        self.linear, self.dense = allele_branch_modules(pack * n_snps * (1 + n_classes), n_out, linear, dense)

    def forward(self, x, c=None):
        torch = torch_module()
        b = x.shape[0]
        skip = allele_branches(x, c, self.pack, (self.linear, self.dense))
        x = x[:, None, :]
        if c is not None:
            x = torch.cat([x, c[:, :, None].expand(-1, -1, x.shape[2])], 1)
        x = F.pad(x, (0, self.length - self.n_snps))
        x = x.reshape(b // self.pack, self.pack * x.shape[1], self.length)
        for block in self.blocks:
            x = block(x)
        return self.output(x.flatten(1)) + skip
