"""The convolutional Wasserstein GAN with gradient penalty of Yelmen et al. 2023 (Materials and methods, Fig 1).

Generator and critic are the networks of :mod:`genofast.models._conv`
(location and noise channels, residual blocks, depth from the SNP count,
batch norm in the generator, instance norm and packing of 3 haplotypes in the
critic). Loss: critic E[C(fake)] - E[C(real)] + 10 * gradient penalty
(Gulrajani et al. 2017), generator -E[C(fake)]; 10 critic updates per
generator update; Adam with learning rate 5e-4 and betas (0.5, 0.9). The
optional second phase (``fine_tune_epoch``) divides the generator's learning
rate by 10 from that epoch on, as the paper did for 65,535 SNPs.

The generator's output layer is a sigmoid; the critic sees those soft values
during training. Generated haplotypes round it (``output="round"``, the
paper's scripts) or draw each allele from it (``output="bernoulli"``).
Drawing keeps an unfinished generator's allele frequencies (the mean of the
soft values is the first thing the critic matches; the share of values above
0.5 comes only once they saturate, when both rules agree): on the simulated
10,000-SNP region rounding gave low-frequency AF r 0.108 after 12 epochs,
drawing 0.974 after 3 (batch 24).

``straight_through=True`` (not in the paper) shows the critic what the
generator's samples are: one Bernoulli draw per allele, its gradient passed to
the probability unchanged (the straight-through estimator, Bengio et al.
2013). Real haplotypes are 0/1, so a critic shown soft values can score
softness itself, and the generator then pushes its probabilities to 0 or 1
whatever the allele frequency. On 200 independent SNPs (24 epochs, 5 critic
steps, batches of 48) the mean probability ended 0.076 from the data's
frequencies on average with soft values, some probabilities saturated to
exactly 0 or 1 (without packing: 0.046, the logits' spread across samples
growing from 0.4 to 2.2), and 0.017 with draws, the spread staying at 0.3-0.5
(independent SNPs need none). It requires ``output="bernoulli"``: the
generator is then trained as the sampler it is used as.

``critic_linear=True`` (not in the paper) adds a linear map of the alleles
to the critic's score (see :class:`genofast.models._conv.Critic`): on
yelmen805 with draws the generator's allele frequencies then stay put
(AF r of the mean probability 0.986-0.996 over 30 epochs, where without it
it fell from 0.985 to 0.903).

``critic_dense=H`` (not in the paper) adds a dense branch of ``H`` leaky-ReLU
units over the packed alleles to the critic's score. Trained to tell
yelmen805 haplotypes from the same haplotypes with each SNP shuffled
independently (same frequencies, no linkage), the convolutional critic's
held-out Wasserstein estimate was 0.007 after 100 updates and 1.6 after 800;
a dense critic of 256 hidden units reached 4.9 after 100. With the
convolutional critic and its linear term, the generator learnt no linkage
(5 critic steps per generator step, 80 epochs; 1 step, 30 epochs); with
``critic_dense=256`` and 2 critic steps it did (LD r 0.57-0.64 after 30-60
epochs, three runs), then collapsed onto a few haplotypes, unless its
learning rate dropped 10x (``fine_tune_epoch=25``).

``generator_dense=H`` (not in the paper) adds a dense branch of ``H``
leaky-ReLU units from the latent vector to every SNP's logit (see
:class:`genofast.models._conv.Generator`). With the options above on
yelmen805 (60 epochs), ``generator_dense=512`` took AATS from 0.824 to 0.562
(held-out real haplotypes: 0.475), a classifier's real-vs-synthetic accuracy
from 0.965 to 0.655 and low-frequency AF r from 0.726 to 0.967.

``architecture="windowed"`` (not in the paper) replaces both convolutional
networks with the locally connected ones of
:mod:`genofast.models._windowed`: windows of ``window`` SNPs, each with its
own ``window_latent`` latent values (shared with ``reach`` windows on either
side) and ``window_hidden`` hidden units, plus ``global_latent`` latent
values seen by every window; the critic scores each pair of adjacent windows
(``latent``, ``width`` and ``min_width`` size the convolutional networks only).
On the simulated 10,000-SNP region the convolutional WGAN learnt no
distance-decaying linkage in the updates a CPU gives it; the windowed one
does (docs/generators.md).

Batch size and channel widths are not in the paper's text; the defaults here
were chosen to train on a CPU.
"""

from __future__ import annotations

from ._base import check_bool, check_float, check_int
from ._torch import TorchGenerator
from ._torch_ops import check_output, draw_alleles, set_log_odds, straight_through, torch_module

DEFAULTS = dict(latent=64, width=64, min_width=8, batch_size=96, lr=5e-4, betas=(0.5, 0.9), n_critic=10,
                gp_weight=10.0, pack=3, fine_tune_epoch=None, output="round",
                straight_through=False, critic_linear=False, critic_dense=0, generator_dense=0,
                ema=0.0, architecture="convolutional", window=100, window_latent=8, window_hidden=64, reach=1,
                global_latent=0)
ARCHITECTURES = ("convolutional", "windowed")


def gradient_penalty(critic, real, fake, eps, c=None, pack: int = 1, mean=None):
    """mean over packs of (||grad_x C(x_hat)||_2 - 1)^2 at x_hat = eps * real + (1 - eps) * fake.

    ``eps`` holds one mixing weight per haplotype (shape n x 1). With packing,
    the critic's input for one score is ``pack`` haplotypes, so the norm runs
    over all of them. ``mean``: how the packs' values are averaged (default
    their mean; distributed training: this share's part of the whole batch's).
    """
    torch = torch_module()
    x = (eps * real + (1 - eps) * fake).requires_grad_(True)
    score = critic(x, c)
    (grad,) = torch.autograd.grad(score.sum(), x, create_graph=True)
    norms = grad.reshape(x.shape[0] // pack, -1).norm(dim=1)
    return ((norms - 1) ** 2).mean() if mean is None else mean((norms - 1) ** 2)


class WGAN(TorchGenerator):
    """Convolutional WGAN-GP over haplotypes (see the module docstring)."""

    kind = "wgan"
    DEFAULTS = DEFAULTS

    def _check_config(self, cfg):
        for k in ("latent", "width", "min_width", "batch_size", "n_critic", "pack"):
            cfg[k] = check_int(cfg[k], k)
        for k in ("critic_dense", "generator_dense", "reach", "global_latent"):
            cfg[k] = check_int(cfg[k], k, 0)
        for k in ("window", "window_latent", "window_hidden"):
            cfg[k] = check_int(cfg[k], k)
        if cfg["architecture"] not in ARCHITECTURES:
            raise ValueError(f"architecture must be one of {ARCHITECTURES}, got {cfg['architecture']!r}")
        cfg["lr"] = check_float(cfg["lr"], "lr", low_open=True)
        cfg["gp_weight"] = check_float(cfg["gp_weight"], "gp_weight")
        cfg["betas"] = [check_float(b, "betas", high=1.0, high_open=True) for b in cfg["betas"]]
        if len(cfg["betas"]) != 2:
            raise ValueError(f"betas must be two numbers, got {cfg['betas']!r}")
        check_output(cfg["output"])
        for k in ("straight_through", "critic_linear"):
            check_bool(cfg[k], k)
        if cfg["straight_through"] and cfg["output"] != "bernoulli":
            raise ValueError("straight_through=True trains the generator as a Bernoulli sampler: it needs "
                             f"output='bernoulli', got {cfg['output']!r}")
        self.batch_multiple = cfg["pack"]
        return cfg

    def _build(self):
        cfg, c = self.config, self.n_classes
        if cfg["architecture"] == "windowed":
            from ._windowed import WindowedCritic, WindowedGenerator

            g = WindowedGenerator(self.n_snps, cfg["window"], cfg["window_latent"], cfg["window_hidden"],
                                  cfg["reach"], cfg["global_latent"], c, dense=cfg["generator_dense"])
            d = WindowedCritic(self.n_snps, cfg["window"], cfg["window_hidden"], c, pack=cfg["pack"],
                               linear=cfg["critic_linear"], dense=cfg["critic_dense"])
            return {"generator": g.to(self.device), "critic": d.to(self.device)}
        from ._conv import Critic, Generator  # torch loads only when a network is built

        g = Generator(self.n_snps, cfg["latent"], cfg["width"], cfg["min_width"], c, n_noise=2,
                      dense=cfg["generator_dense"])
        d = Critic(self.n_snps, cfg["width"], cfg["min_width"], c, pack=cfg["pack"], linear=cfg["critic_linear"],
                   dense=cfg["critic_dense"])
        return {"generator": g.to(self.device), "critic": d.to(self.device)}

    def _data_init(self, alleles):
        set_log_odds(self.nets["generator"].bias, alleles)

    def _optimizers(self):
        torch = torch_module()
        cfg = self.config
        return {k: torch.optim.Adam(self.nets[k].parameters(), cfg["lr"], betas=tuple(cfg["betas"]))
                for k in ("generator", "critic")}

    def _epoch_start(self, seed):
        self._generator_lr()

    def _fake(self, n, c, gen, rows=None):
        """Soft haplotypes for ``n`` latent draws with labels ``c`` (n rows or None); ``rows``: only those rows
        (distributed training), every random draw still made for all ``n``."""
        torch = torch_module()
        g = self.nets["generator"]
        z = torch.randn(n, g.latent_size, generator=gen, device=self.device)
        return torch.sigmoid(g(z, c, gen, rows))

    def _shown(self, p, gen, n, rows=None):
        """What the critic sees of generated probabilities ``p`` (``rows`` of a batch of ``n``): ``p`` itself, or with
        ``straight_through`` one 0/1 draw per allele whose gradient is ``p``'s (uniforms drawn for the whole
        batch and cut to ``rows``, as the noise is)."""
        return straight_through(p, gen, n, rows) if self.config["straight_through"] else p

    def _step(self, x, c, gen):
        torch = torch_module()
        cfg, critic, group = self.config, self.nets["critic"], self._group
        n = x.shape[0]
        opt = self.optimizers["critic"]
        # this process's share, in whole packs; random draws are the whole batch's, cut to it
        rows, packs = group.rows(n, cfg["pack"]), n // cfg["pack"]

        def mean(scores):  # over the whole batch's packs
            return group.whole_mean(scores, packs)

        with torch.no_grad():
            fake = self._shown(self._fake(n, c, gen, rows), gen, n, rows)
        eps = torch.rand(n, 1, generator=gen, device=self.device)[rows]
        xs, cs = x[rows], None if c is None else c[rows]
        opt.zero_grad()
        gp = gradient_penalty(critic, xs, fake, eps, cs, cfg["pack"], mean)
        (mean(critic(fake, cs)) - mean(critic(xs, cs)) + cfg["gp_weight"] * gp).backward()
        group.sum_grads(opt)
        opt.step()
        if (self.updates + 1) % cfg["n_critic"]:
            return
        critic.requires_grad_(False)
        self.optimizers["generator"].zero_grad()
        (-mean(critic(self._shown(self._fake(n, c, gen, rows), gen, n, rows), cs))).backward()
        group.sum_grads(self.optimizers["generator"])
        self.optimizers["generator"].step()
        critic.requires_grad_(True)

    def _generate(self, n, c, gen):
        return draw_alleles(self._fake(n, c, gen), self.config["output"], gen)

    def _score(self, x, c):
        """One critic score per haplotype: each is packed with copies of itself."""
        p = self.config["pack"]
        x = x.repeat_interleave(p, 0)
        return self.nets["critic"](x, None if c is None else c.repeat_interleave(p, 0))

    def critic_scores(self, haplotypes, labels=None):
        """Critic scores of haplotypes (higher = judged more real), for membership attacks (seed 003)."""
        from .gan import discriminator_scores

        return discriminator_scores(self, haplotypes, labels)
