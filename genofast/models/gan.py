"""The dense GAN of Yelmen et al. 2021 ("Creating artificial human genomes using generative neural networks").

Generator: latent vector of 600 standard normals -> SNPs/1.2 -> SNPs/1.1 ->
SNPs (tanh); discriminator: SNPs -> SNPs/2 -> SNPs/3 -> 1 (sigmoid); hidden
layers leaky ReLU (alpha 0.01) with L2 weight regularisation 1e-4; Adam, with
learning rates 8e-4 (discriminator) and 1e-4 (generator through the frozen
discriminator); batches of 32. Real labels are smoothed by uniform noise of
width 0.1; the text says the noise is *added* to the label 1, which would put
binary cross-entropy targets above 1, so it is subtracted here (one-sided label
smoothing, targets in [0.9, 1]). Outputs are rounded to 0/1 (numpy.rint in
the paper; a tanh output above 0.5 becomes 1).

``straight_through=True`` (not in the paper) makes the generator a Bernoulli
sampler: a sigmoid output gives P(allele 1), its last layer's biases start at
the training data's allele log-odds, the discriminator sees one 0/1 draw per
allele with the gradient passed straight through to the probability (as
:class:`~genofast.models.WGAN` can), and generated alleles are drawn from it.
Shown the tanh outputs instead, the discriminator can tell them from 0/1 real
alleles by their softness alone, and the generator's frequencies wander.

``ema`` (not in the paper; see :mod:`genofast.models._torch`) generates from
a moving average of the generator's weights. On yelmen805 with
straight-through draws (60 epochs, generator lr 5e-4) the iterates' allele
frequencies swung from one evaluation to the next (AF r 0.74-0.94); the
average of the same run (``ema=0.999``) kept AF r 0.995, low-frequency AF r
0.964, and a classifier told it from real haplotypes less often (MLP
accuracy 0.65 against 0.92). Two other seeds still ended at AF r 0.946-0.950
(MLP 0.71-0.77).

``frequency_weight`` and ``calibrate`` (not in the paper; see
:mod:`genofast.models._torch`; both need straight-through draws) hold the
allele frequencies: the first adds to the generator's loss a pull of its
iterates' mean P(allele 1), tracked over the last hundred batches, toward the
training frequencies; the second fits per-SNP logit offsets of the sampler so
that its mean P(allele 1) over 4,096 latent draws equals them, at every
evaluation and at the end of training. On seed 2 above the frequency term
kept the iterates near their frequencies throughout (AF r 0.986-0.992 from
epoch 10) but the averaged weights still under-drew rare alleles (by 0.018 on
average below frequency 0.2, low-frequency AF r 0.900); calibrated, the same
model drew AF r 0.998, low-frequency AF r 0.987.

Conditional generation: a one-hot label vector is appended to the latent
vector and to the discriminator's input.
"""

from __future__ import annotations

from ._base import check_bool, check_float, check_int
from ._torch import TorchGenerator
from ._torch_ops import dense_stack, draw_alleles, set_log_odds, straight_through, torch_module

DEFAULTS = dict(latent=600, lr_discriminator=8e-4, lr_generator=1e-4, batch_size=32, l2=1e-4, smoothing=0.1,
                straight_through=False, ema=0.0, frequency_weight=0.0, calibrate=False)


class GAN(TorchGenerator):
    """Dense generative adversarial network of Yelmen et al. 2021 (see the module docstring)."""

    kind = "gan"
    DEFAULTS = DEFAULTS

    def _check_config(self, cfg):
        for k in ("latent", "batch_size"):
            cfg[k] = check_int(cfg[k], k)
        for k in ("lr_discriminator", "lr_generator"):
            cfg[k] = check_float(cfg[k], k, low_open=True)
        cfg["l2"] = check_float(cfg["l2"], "l2")
        cfg["smoothing"] = check_float(cfg["smoothing"], "smoothing", high=1.0)
        check_bool(cfg["straight_through"], "straight_through")
        for k in ("frequency_weight", "calibrate"):
            if cfg[k] and not cfg["straight_through"]:
                raise ValueError(f"{k} needs straight_through=True (a generator of P(allele 1))")
        return cfg

    def _build(self):
        n, c, k = self.n_snps, self.n_classes, self.config["latent"]
        g = dense_stack([k + c, max(1, round(n / 1.2)), max(1, round(n / 1.1)), n])
        d = dense_stack([n + c, max(1, round(n / 2)), max(1, round(n / 3)), 1])
        return {"generator": g.to(self.device), "discriminator": d.to(self.device)}

    def _data_init(self, alleles):
        if self.config["straight_through"]:
            set_log_odds(self.nets["generator"][-1].bias, alleles)

    def _optimizers(self):
        torch = torch_module()
        # Keras' Adam (the paper's) uses epsilon 1e-7
        return {"generator": torch.optim.Adam(self.nets["generator"].parameters(), self.config["lr_generator"],
                                              eps=1e-7),
                "discriminator": torch.optim.Adam(self.nets["discriminator"].parameters(),
                                                  self.config["lr_discriminator"], eps=1e-7)}

    def _l2(self, net):
        """Keras kernel_regularizer=l2(l2) on the hidden layers: l2 * sum of squared weights, added to the loss."""
        layers = [m for m in net if hasattr(m, "weight")][:-1]
        return self.config["l2"] * sum((m.weight ** 2).sum() for m in layers)

    def _fake(self, n, c, gen, rows=None):
        """Generated rows (tanh outputs, or P(allele 1) with ``straight_through``) for ``n`` latent draws with
        labels ``c`` (n rows or None); ``rows``: only those rows (distributed training), the latent vectors still
        drawn for all ``n``."""
        out = self._sample_logits(n, c, gen, rows)
        return out.sigmoid() if self.config["straight_through"] else out.tanh()

    def _shown(self, fake, gen, n, rows=None):
        """What the discriminator sees of generated rows: themselves, or one straight-through draw per allele."""
        return straight_through(fake, gen, n, rows) if self.config["straight_through"] else fake

    def _logits(self, x, c):
        torch = torch_module()
        return self.nets["discriminator"](x if c is None else torch.cat([x, c], 1))

    def _bce(self, logits, target, n):
        """Binary cross-entropy averaged over the whole batch of ``n`` rows (this process's part of it)."""
        bce = torch_module().nn.functional.binary_cross_entropy_with_logits
        if self._group.size == 1:
            return bce(logits, target)
        return bce(logits, target, reduction="sum") / n

    def _step(self, x, c, gen):
        torch = torch_module()
        group = self._group
        d, opt_d, opt_g = self.nets["discriminator"], self.optimizers["discriminator"], self.optimizers["generator"]
        n = x.shape[0]
        rows = group.rows(n)  # this process's share; random draws are the whole batch's, cut to it
        with torch.no_grad():
            fake = self._shown(self._fake(n, c, gen, rows), gen, n, rows)
        smooth = 1 - self.config["smoothing"] * torch.rand(n, 1, generator=gen, device=self.device)[rows]
        xs, cs = x[rows], None if c is None else c[rows]
        # the weight penalty enters the gradient once: in process 0's loss
        l2 = self._l2 if group.rank == 0 else (lambda net: 0)
        # as in the paper's Keras loop: one discriminator update on the real batch, one on a generated batch
        for batch, target in ((xs, smooth), (fake, torch.zeros(xs.shape[0], 1, device=self.device))):
            opt_d.zero_grad()
            (self._bce(self._logits(batch, cs), target, n) + l2(d)).backward()
            group.sum_grads(opt_d)
            opt_d.step()
        d.requires_grad_(False)
        opt_g.zero_grad()
        p = self._fake(n, c, gen, rows)
        out = self._logits(self._shown(p, gen, n, rows), cs)
        (self._bce(out, torch.ones_like(out), n) + l2(self.nets["generator"])
         + self._frequency_loss(p, cs, n)).backward()
        group.sum_grads(opt_g)
        opt_g.step()
        d.requires_grad_(True)

    def _sample_logits(self, n, c, gen, rows=None):
        """The generator's output layer for ``n`` latent draws (``rows`` of them, see :meth:`_fake`)."""
        torch = torch_module()
        z = torch.randn(n, self.config["latent"], generator=gen, device=self.device)
        if rows is not None:
            z, c = z[rows], None if c is None else c[rows]
        return self.nets["generator"](z if c is None else torch.cat([z, c], 1))

    def _generate(self, n, c, gen):
        if not self.config["straight_through"]:
            return draw_alleles(self._fake(n, c, gen), "round", gen)
        return draw_alleles((self._sample_logits(n, c, gen) + self._offset(c, n)).sigmoid(), "bernoulli", gen)

    _score = _logits

    def critic_scores(self, haplotypes, labels=None):
        """Discriminator logits of haplotypes (higher = judged more real), for membership attacks."""
        return discriminator_scores(self, haplotypes, labels)


def discriminator_scores(model, haplotypes, labels=None, chunk: int = 1000):
    """Scores of a model's critic or discriminator on 0/1 haplotypes, as a numpy array (one per row)."""
    import numpy as np

    from ._base import as_alleles

    torch = torch_module()
    a = as_alleles(haplotypes)
    if a.shape[1] != model.n_snps:
        raise ValueError(f"model has {model.n_snps} SNPs, data have {a.shape[1]}")
    cond = model._label_indices(labels, a.shape[0])
    model._train_mode(False)
    out = []
    with torch.no_grad():
        for s in range(0, a.shape[0], chunk):
            x = torch.tensor(a[s : s + chunk], dtype=torch.float32, device=model.device)
            c = None if cond is None else model._onehot(cond[s : s + chunk])
            out.append(model._score(x, c).reshape(-1).cpu().numpy())
    return np.concatenate(out) if out else np.zeros(0)
