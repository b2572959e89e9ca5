"""The convolutional variational autoencoder of Yelmen et al. 2023 (Materials and methods, S1 Fig).

Encoder ~ the WGAN critic and decoder ~ the WGAN generator
(:mod:`genofast.models._conv`), without noise channels and with batch norm in
both. The encoder's last layer gives the mean and the log-variance of the
latent Gaussian (log-variance rather than the paper's standard deviation, so
that any real output is valid); loss = binary cross-entropy of the
reconstruction summed over SNPs + KL(q(z|x) || N(0, I)), averaged over the
batch; Adam with learning rate 1e-3. New haplotypes: z ~ N(0, I) through the
decoder, then each allele drawn from the decoder's P(allele 1)
(``output="bernoulli"``, the model's own likelihood) or that probability
rounded (``output="round"``). The paper does not say which; on yelmen805
(32 epochs, kl_weight 0.5) rounding gave near-modal haplotypes (AF r 0.89,
rare alleles lost) where drawing gave AF r 0.98.
Conditional: the one-hot label enters the encoder and the decoder.

``frequency_weight`` and ``calibrate`` (not in the paper; see
:mod:`genofast.models._torch`): the allele-frequency term on haplotypes
decoded from prior draws, and the sampler's calibrated per-SNP offsets.

``kl_warmup`` (epochs, default 0: off, as in the paper) raises the KL weight
linearly to ``kl_weight`` over the first epochs (Bowman et al. 2016), so the
decoder learns to use the latent code before the KL term pulls it toward the
prior. On yelmen805 (32 epochs, kl_weight 0.5, one seed) a 16-epoch warm-up
took the kept model's LD r from 0.735 to 0.769 and 3-point r from 0.608 to
0.679. Starting the decoder at the allele log-odds, as the WGAN's generator
does, is off by default: on yelmen805 the decoder then explained the data by
its per-SNP offsets alone and never used the latent code (LD r about 0 after
30 epochs).

For long regions (not in the paper): ``log_odds_init`` starts the decoder's
per-SNP offsets at the allele log-odds, and ``encoder_dense=H`` /
``decoder_dense=H`` add dense branches of one hidden layer (alleles to the
latent mean and log-variance; latent vector to every SNP's logit, as
``WGAN(generator_dense=H)``). On a simulated 10,000-SNP region (batches of
16) the convolutional VAE from zero offsets spent its first 400 updates
learning the allele frequencies: its reconstruction loss (3,460 nats per
haplotype) was still above what independent SNPs at the data's frequencies
cost (2,846). Started at the log-odds it sat at that baseline, unable to
use the latent code even with no KL term (2,840 after 300 updates); with the
dense branches as well it fell to 2,289 (no KL term) or 2,376 + KL 25
(weight 1) after 300 updates. docs/generators.md has what this does to the samples.
"""

from __future__ import annotations

from ._base import check_bool, check_float, check_int
from ._torch import TorchGenerator
from ._torch_ops import check_output, draw_alleles, set_log_odds, torch_module

DEFAULTS = dict(latent=32, width=64, min_width=8, batch_size=64, lr=1e-3, kl_weight=1.0, kl_warmup=0,
                output="bernoulli", frequency_weight=0.0, calibrate=False, encoder_dense=0, decoder_dense=0,
                log_odds_init=False)


class VAE(TorchGenerator):
    """Convolutional VAE over haplotypes (see the module docstring)."""

    kind = "vae"
    DEFAULTS = DEFAULTS

    def _check_config(self, cfg):
        for k in ("latent", "width", "min_width", "batch_size"):
            cfg[k] = check_int(cfg[k], k)
        for k in ("encoder_dense", "decoder_dense"):
            cfg[k] = check_int(cfg[k], k, 0)
        check_bool(cfg["log_odds_init"], "log_odds_init")
        cfg["lr"] = check_float(cfg["lr"], "lr", low_open=True)
        cfg["kl_weight"] = check_float(cfg["kl_weight"], "kl_weight")
        cfg["kl_warmup"] = check_int(cfg["kl_warmup"], "kl_warmup", 0)
        check_output(cfg["output"])
        if cfg["calibrate"] and cfg["output"] != "bernoulli":
            raise ValueError("calibrate needs output='bernoulli' (alleles drawn from P(allele 1))")
        return cfg

    def _build(self):
        from ._conv import Critic, Generator  # torch loads only when a network is built

        cfg, c = self.config, self.n_classes
        enc = Critic(self.n_snps, cfg["width"], cfg["min_width"], c, n_out=2 * cfg["latent"], norm="batch",
                     dense=cfg["encoder_dense"])
        dec = Generator(self.n_snps, cfg["latent"], cfg["width"], cfg["min_width"], c, n_noise=0,
                        dense=cfg["decoder_dense"])
        return {"encoder": enc.to(self.device), "decoder": dec.to(self.device)}

    def _data_init(self, alleles):
        if self.config["log_odds_init"]:
            set_log_odds(self.nets["decoder"].bias, alleles)

    def _optimizers(self):
        torch = torch_module()
        params = [*self.nets["encoder"].parameters(), *self.nets["decoder"].parameters()]
        return {"vae": torch.optim.Adam(params, self.config["lr"])}

    def kl_weight(self) -> float:
        """The KL weight in the current epoch: ``kl_weight``, ramped up over the first ``kl_warmup`` epochs."""
        warmup = self.config["kl_warmup"]
        return self.config["kl_weight"] * (min(1.0, (self.epoch + 1) / warmup) if warmup else 1.0)

    def loss(self, x, c, gen, rows=None):
        """Negative ELBO per haplotype: reconstruction log loss (summed over SNPs) + KL weight * KL.

        ``rows`` (distributed training): this process's rows of the batch ``x``;
        the loss is then their part of the whole batch's (divided by its size),
        the reparameterisation noise drawn for the whole batch.
        """
        torch = torch_module()
        n, group = x.shape[0], self._group
        if rows is not None:
            x, c = x[rows], None if c is None else c[rows]
        mean, log_var = self.nets["encoder"](x, c).chunk(2, dim=1)
        noise = torch.randn((n,) + mean.shape[1:], generator=gen, device=self.device)
        z = mean + (0.5 * log_var).exp() * (noise if rows is None else noise[rows])
        logits = self.nets["decoder"](z, c)
        rec = torch.nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="sum") / n
        kl = 0.5 * group.whole_mean((mean ** 2 + log_var.exp() - 1 - log_var).sum(1), n)
        return rec + self.kl_weight() * kl

    def _prior_frequency_loss(self, c, gen, n, rows):
        """The allele-frequency term (``frequency_weight``) on P(allele 1) decoded from prior draws, which is
        what generates: the reconstruction fits the frequencies of posterior codes only."""
        if not self.config["frequency_weight"]:
            return 0
        torch = torch_module()
        z = torch.randn(n, self.config["latent"], generator=gen, device=self.device)[rows]
        c = None if c is None else c[rows]
        return self._frequency_loss(torch.sigmoid(self.nets["decoder"](z, c)), c, n)

    def _step(self, x, c, gen):
        opt = self.optimizers["vae"]
        opt.zero_grad()
        rows = self._group.rows(x.shape[0])
        (self.loss(x, c, gen, rows) + self._prior_frequency_loss(c, gen, x.shape[0], rows)).backward()
        self._group.sum_grads(opt)
        opt.step()

    def _sample_logits(self, n, c, gen):
        z = torch_module().randn(n, self.config["latent"], generator=gen, device=self.device)
        return self.nets["decoder"](z, c)

    def _generate(self, n, c, gen):
        p = torch_module().sigmoid(self._sample_logits(n, c, gen) + self._offset(c, n))
        return draw_alleles(p, self.config["output"], gen)
