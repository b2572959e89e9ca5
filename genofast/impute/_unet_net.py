"""The 1-D U-Net of the imputation thesis (seed 000, Table 1), as a torch module.

Layers, numbered as in Table 1: an encoder of four 8-filter convolutions
(kernel 5, ELU, batch norm after the 2nd and 3rd), a max-pool (size 5,
stride 2), a fifth convolution, then dense layers 75 -> 75 -> 2 -> 75 -> 75
with 1% dropout, a dense layer back to (pooled length x 8), and a decoder
that upsamples by 2 to the SNP count and ends in a 1x1 convolution to one
logit per SNP. The two skip concatenations that make it a U-Net join the
decoder's pooled-length features with the encoder's pooled-length features
(Table 1's 19+7) and the upsampled features with the encoder's full-length
features (Table 1 names layer 8 there, the flattened 7; the only full-length
tensor with matching shape is the encoder's output before pooling, which is
what is joined here).

Choices where the table is silent: the max-pool is padded by 2 so that odd
SNP counts pool to ceil(n/2) and upsample back to at least n (cropped to n);
the Gaussian noise of std ``noise_std`` is added to the 2-unit bottleneck
during training, as in GenoCAE, whose training options the thesis kept;
dropout and noise draw from a caller's ``torch.Generator`` so that training
is reproducible without global RNG state.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


def _conv(c_in: int, c_out: int, kernel: int) -> nn.Conv1d:
    return nn.Conv1d(c_in, c_out, kernel, padding=kernel // 2)


class UNet1D(nn.Module):
    """Input (batch, 2, SNPs): allele (0/1, -1 where missing) and observed flag; output logits (batch, SNPs)."""

    def __init__(self, n_snps: int, filters: int = 8, kernel: int = 5, dense: int = 75, bottleneck: int = 2,
                 dropout: float = 0.01, noise_std: float = 0.0032):
        super().__init__()
        f = filters
        self.n_snps, self.pooled = n_snps, (n_snps + 1) // 2
        self.filters, self.dropout, self.noise_std = f, dropout, noise_std
        self.enc = nn.ModuleList([_conv(2, f, kernel), _conv(f, f, kernel), _conv(f, f, kernel)])
        self.enc_bn = nn.ModuleList([nn.BatchNorm1d(f), nn.BatchNorm1d(f)])
        self.enc_pooled = _conv(f, f, kernel)  # layer 7
        self.d10 = nn.Linear(self.pooled * f, dense)
        self.d12 = nn.Linear(dense, dense)
        self.d13 = nn.Linear(dense, bottleneck)
        self.d14 = nn.Linear(bottleneck, dense)
        self.d16 = nn.Linear(dense, dense)
        self.d18 = nn.Linear(dense, self.pooled * f)
        self.dec_pooled = _conv(2 * f, f, kernel)  # layer 21, after the 19+7 concatenation
        self.dec = nn.ModuleList([_conv(2 * f, f, kernel), _conv(f, f, kernel), _conv(f, f, kernel)])
        self.dec_bn = nn.ModuleList([nn.BatchNorm1d(f), nn.BatchNorm1d(f)])
        self.out = nn.Conv1d(f, 1, 1)

    def weights(self):
        """The kernels the L2 penalty applies to (not biases or batch-norm scales), as Keras regularizers do."""
        return [m.weight for m in self.modules() if isinstance(m, (nn.Conv1d, nn.Linear))]

    def _drop(self, x, gen):
        if not self.training or self.dropout == 0:
            return x
        keep = torch.rand(x.shape, generator=gen, device=x.device) >= self.dropout
        return x * keep / (1 - self.dropout)

    def forward(self, x, gen: torch.Generator | None = None):
        b = x.shape[0]
        h = F.elu(self.enc[0](x))
        h = self.enc_bn[0](F.elu(self.enc[1](h)))
        full = self.enc_bn[1](F.elu(self.enc[2](h)))  # layer 5: the full-length skip
        pooled = F.elu(self.enc_pooled(F.max_pool1d(full, 5, 2, padding=2)))  # layers 6-7
        z = self.d10(self._drop(pooled.flatten(1), gen))
        z = F.elu(self.d12(self._drop(z, gen)))
        z = self.d13(z)
        if self.training and self.noise_std > 0:
            z = z + self.noise_std * torch.randn(z.shape, generator=gen, device=z.device)
        z = F.elu(self.d14(z))
        z = F.elu(self.d16(self._drop(z, gen)))
        z = self.d18(self._drop(z, gen)).view(b, self.filters, self.pooled)  # layers 18-19
        h = F.elu(self.dec_pooled(torch.cat([z, pooled], 1)))  # layers 20-21
        h = h.repeat_interleave(2, dim=2)[:, :, : self.n_snps]  # layer 23, cropped to the SNP count
        h = self.dec_bn[0](F.elu(self.dec[0](torch.cat([h, full], 1))))  # layers 25-27
        h = self.dec_bn[1](F.elu(self.dec[1](h)))  # layers 28-29
        return self.out(self.dec[2](h)).squeeze(1)  # layers 30-32
