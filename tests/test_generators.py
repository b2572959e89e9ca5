"""Neural generators (GAN, WGAN, VAE, GMMN): building blocks against hand computations, and the model contract."""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from genofast.metrics.membership import attack_accuracy, black_box, white_box  # noqa: E402
from genofast.models import GAN, GMMN, VAE, WGAN, CopiesError, fingerprints, load  # noqa: E402
from genofast.models._torch_ops import CALIBRATION_DRAWS, calibrated_offsets  # noqa: E402
from genofast.models._conv import Critic, Generator, depth_for  # noqa: E402
from genofast.models._windowed import WindowedCritic, WindowedGenerator  # noqa: E402
from genofast.models.gmmn import mmd2, quantise, random_features  # noqa: E402
from genofast.models.wgan import gradient_penalty  # noqa: E402
from reference import assert_refused, edit_config, rewrite_checkpoint, set_value  # noqa: E402

torch.set_num_threads(1)
N_SNPS = 20
# tiny networks: the contract, not the quality, is under test
TINY = {
    GAN: dict(latent=8, batch_size=10),
    WGAN: dict(latent=4, width=8, min_width=4, batch_size=12, n_critic=2),
    VAE: dict(latent=3, width=8, min_width=4, batch_size=10),
    GMMN: dict(hidden=16, features=64, batch_size=20, restart_every=1),
}
FAMILIES = list(TINY)


def tiny(cls, classes=None, **kw):
    return cls(N_SNPS, classes, **{**TINY[cls], **kw})


@pytest.fixture
def haplotypes(rng):
    return (rng.random((60, N_SNPS)) < np.linspace(0.1, 0.9, N_SNPS)).astype(np.uint8)


def state(model):
    return {k: v.clone() for k, v in model._state_copy().items()}


def same_state(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


# --- building blocks against hand computations ---------------------------------------------


def test_quantiser_forward_is_a_hard_threshold_and_backward_the_shifted_tanh():
    x = torch.tensor([-2.0, -0.1, 0.0, 0.3, 1.5], requires_grad=True)
    y = quantise(x)
    assert y.tolist() == [0.0, 0.0, 0.0, 1.0, 1.0]
    (y * torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0])).sum().backward()
    # d/dx (tanh(x) + 1) / 2 = (1 - tanh(x)^2) / 2, times the upstream gradient
    want = [g * (1 - math.tanh(v) ** 2) / 2 for g, v in zip([1, 2, 3, 4, 5], [-2.0, -0.1, 0.0, 0.3, 1.5])]
    assert x.grad.tolist() == pytest.approx(want, rel=1e-6)


def test_mmd_with_random_features_matches_the_kernel_form(rng):
    x = torch.tensor(rng.integers(0, 2, (7, 5)), dtype=torch.float64)
    y = torch.tensor(rng.integers(0, 2, (4, 5)), dtype=torch.float64)
    w = torch.tensor(rng.normal(size=(5, 11)))
    phi = lambda a: np.maximum(a @ w.numpy(), 0) / math.sqrt(11)  # noqa: E731
    assert random_features(x, w).numpy() == pytest.approx(phi(x.numpy()))
    # biased MMD^2 = mean k(x,x') - 2 mean k(x,y) + mean k(y,y') with k(a,b) = phi(a).phi(b)
    k = lambda a, b: phi(a.numpy()) @ phi(b.numpy()).T  # noqa: E731
    want = k(x, x).mean() - 2 * k(x, y).mean() + k(y, y).mean()
    sketch = random_features(x, w).mean(0)
    assert float(mmd2(sketch, random_features(y, w))) == pytest.approx(want, rel=1e-9)


def test_gaussian_random_features_approximate_the_mixture_of_hamming_kernels(rng):
    a = torch.tensor(rng.integers(0, 2, (6, N_SNPS)), dtype=torch.float32)
    m = GMMN(N_SNPS, hidden=16, features=40000, kernel=[2.0, 8.0])
    m._prepare(a, None)
    m._epoch_start(seed=0)
    phi = random_features(a, m._projection, m._phase).double().numpy()
    d = np.abs(a.numpy()[:, None] - a.numpy()[None]).sum(2)  # Hamming distances
    want = 0.5 * np.exp(-d / 2) + 0.5 * np.exp(-d / 8)  # features split evenly between the two bandwidths
    assert phi @ phi.T == pytest.approx(want, abs=0.03)
    assert np.diag(phi @ phi.T) == pytest.approx(1, abs=0.03)
    for bad in ("rbf", [], [0.0], [-1.0], ["x"]):
        with pytest.raises(ValueError, match="kernel"):
            GMMN(N_SNPS, kernel=bad)


def test_ema_generator_is_the_average_of_the_iterates_and_generates(haplotypes):
    m = tiny(GAN, ema=0.8)
    seen, step = [], m._step

    def recording_step(x, c, gen):
        if not seen:
            seen.append([p.detach().clone() for p in m.nets["generator"].parameters()])
        step(x, c, gen)
        seen.append([p.detach().clone() for p in m.nets["generator"].parameters()])

    m._step = recording_step
    m.fit(haplotypes, epochs=2, seed=1)
    assert len(seen) == 1 + m.updates == 13
    avg = [p.double().numpy() for p in seen[0]]
    for t, params in enumerate(seen[1:]):
        decay = min(0.8, (1 + t) / (10 + t))
        avg = [decay * a + (1 - decay) * p.double().numpy() for a, p in zip(avg, params)]
    got = [p.double().numpy() for p in m.nets["generator_ema"].parameters()]
    assert all(g == pytest.approx(a, abs=1e-6) for g, a in zip(got, avg))
    assert not np.allclose(got[0], seen[-1][0].numpy())
    # samples come from the average: a plain GAN holding the averaged weights draws the same haplotypes
    plain = tiny(GAN)
    plain.nets["generator"].load_state_dict(m.nets["generator_ema"].state_dict())
    assert np.array_equal(plain.sample(9, seed=2).to_numpy(), m.sample(9, seed=2, allow_copies=True).to_numpy())
    for bad in (-0.1, 1.0, "x", float("nan")):
        with pytest.raises(ValueError, match="ema"):
            tiny(GAN, ema=bad)


def test_frequency_term_tracks_generated_means_per_label_and_pulls_toward_the_training_frequencies(rng, haplotypes):
    labels = np.repeat(["A", "B"], 30)
    m = tiny(GAN, ["A", "B"], straight_through=True, frequency_weight=3.0)
    m.fit(haplotypes, epochs=0, seed=1, labels=labels)  # builds the tracker; no update
    target = np.stack([haplotypes[:30].mean(0), haplotypes[30:].mean(0)])
    track = m.nets["frequencies"]
    assert track.target.double().numpy() == pytest.approx(target, abs=1e-6)
    assert torch.equal(track.mean, track.target)
    before = track.mean.double().numpy().copy()
    p = torch.tensor(rng.random((5, N_SNPS)), dtype=torch.float32, requires_grad=True)
    idx = np.array([0, 0, 0, 0, 0])  # label B absent from the batch: its mean stays
    loss = m._frequency_loss(p, m._onehot(idx), n=5)
    mean = before.copy()
    mean[0] = 0.99 * before[0] + 0.01 * p.detach().double().numpy().mean(0)
    assert track.mean.double().numpy() == pytest.approx(mean, abs=1e-6)
    gap = (mean[idx] - target[idx]) / np.maximum(target[idx] * (1 - target[idx]), 1e-3)
    assert float(loss.detach()) == pytest.approx(3.0 * (gap * p.detach().double().numpy()).sum() / 5, abs=2e-6)
    loss.backward()
    assert p.grad.double().numpy() == pytest.approx(3.0 * gap / 5, abs=1e-6)
    # against a frozen random discriminator the generator's frequencies drift far; the term holds them
    off = {}
    for w in (0.0, 10.0):
        g = tiny(GAN, straight_through=True, frequency_weight=w, lr_discriminator=1e-9, lr_generator=3e-3)
        g.fit(haplotypes, epochs=30, seed=2)
        off[w] = np.abs(g.sample(2000, seed=3, allow_copies=True).to_numpy().mean(0) - haplotypes.mean(0)).mean()
    assert off[10.0] < 0.06 and off[0.0] > 0.3
    for bad in (-1.0, "x", float("nan")):
        with pytest.raises(ValueError, match="frequency_weight"):
            tiny(GAN, straight_through=True, frequency_weight=bad)
    with pytest.raises(ValueError, match="frequency_weight needs straight_through"):
        tiny(GAN, frequency_weight=1.0)


def test_calibrated_offsets_match_the_target_means(rng):
    logits = torch.tensor(rng.normal(0, 3, (500, 6)))
    target = torch.tensor([0.0, 0.01, 0.2, 0.5, 0.93, 1.0], dtype=torch.float64)
    d = calibrated_offsets(logits, target).numpy()
    assert np.array_equal(calibrated_offsets(logits, target, block=4).numpy(), d)  # blocks of columns alike
    means = (1 / (1 + np.exp(-(logits.numpy() + d)))).mean(0)
    assert means[1:5] == pytest.approx(target.numpy()[1:5], abs=1e-9)
    assert means[0] < 1e-6 and means[5] > 1 - 1e-6  # monomorphic: pushed to the bound


@pytest.mark.parametrize("cls, options", [(GAN, {"straight_through": True}), (VAE, {})])
def test_calibrated_sampler_draws_the_training_frequencies_per_label(cls, options, rng):
    a = (rng.random((120, N_SNPS)) < np.linspace(0.02, 0.9, N_SNPS)).astype(np.uint8)
    a[60:, :5] = 0  # label B never carries the first five alleles
    labels = np.repeat(["A", "B"], 60)
    m = tiny(cls, ["A", "B"], calibrate=True, **options).fit(a, epochs=2, seed=1, labels=labels)
    plain = tiny(cls, ["A", "B"], **options).fit(a, epochs=2, seed=1, labels=labels)
    assert same_state({k: v for k, v in state(m).items() if not k.startswith("frequencies.")}, state(plain))
    for lab, rows in (("A", slice(0, 60)), ("B", slice(60, None))):
        want = a[rows].mean(0)
        got = m.sample(6000, seed=2, labels=lab, allow_copies=True).to_numpy().mean(0)
        before = plain.sample(6000, seed=2, labels=lab, allow_copies=True).to_numpy().mean(0)
        assert np.abs(got - want).max() < 0.03 < np.abs(before - want).max()
    # the offsets are those of CALIBRATION_DRAWS latent draws keyed by the seed and the epoch
    logits = m._sample_logits(CALIBRATION_DRAWS, m._onehot(np.zeros(CALIBRATION_DRAWS, int)),
                              m._torch_generator(1, 5, 2))
    want = calibrated_offsets(logits.detach(), torch.tensor(a[:60].mean(0), dtype=torch.float32))
    assert torch.equal(m.nets["frequencies"].offset[0], want)
    # a run that ends before its first evaluation is calibrated at its last epoch
    short = tiny(cls, ["A", "B"], calibrate=True, **options).fit(a, epochs=1, seed=1, labels=labels, eval_every=5)
    assert short.trace == [] and bool((short.nets["frequencies"].offset != 0).all())
    with pytest.raises(ValueError, match="calibrate"):
        tiny(cls, calibrate="yes", **options)
    with pytest.raises(ValueError, match="calibrate needs"):
        tiny(cls, calibrate=True, **{GAN: {}, VAE: {"output": "round"}}[cls])


def test_gradient_penalty_of_a_linear_critic_is_the_weight_norm_penalty(rng):
    w = torch.tensor(rng.normal(size=6))
    critic = lambda x, c=None: x.reshape(x.shape[0] // 2, -1) @ torch.cat([w, w])  # noqa: E731  packs of 2
    real, fake = torch.tensor(rng.random((4, 6))), torch.tensor(rng.random((4, 6)))
    eps = torch.tensor(rng.random((4, 1)))
    gp = gradient_penalty(critic, real, fake, eps, pack=2).detach()
    norm = math.sqrt(2 * float((w ** 2).sum()))  # gradient of one pack score: w for each of its 2 haplotypes
    assert gp.item() == pytest.approx((norm - 1) ** 2, rel=1e-9)


def test_gradient_penalty_uses_the_interpolate(rng):
    critic = lambda x, c=None: 0.5 * (x.reshape(x.shape[0] // 3, -1) ** 2).sum(1)  # noqa: E731  gradient = x_hat
    real, fake = rng.random((6, 4)), rng.random((6, 4))
    eps = rng.random((6, 1))
    gp = gradient_penalty(critic, *(torch.tensor(a) for a in (real, fake, eps)), pack=3).detach()
    x_hat = (eps * real + (1 - eps) * fake).reshape(2, -1)
    assert gp.item() == pytest.approx(np.mean((np.linalg.norm(x_hat, axis=1) - 1) ** 2), rel=1e-9)


def test_convolutional_depth_follows_the_snp_count():
    assert [depth_for(n) for n in (805, 10_000, 65_535)] == [8, 12, 14]
    g = Generator(805, latent=4, width=16, min_width=4, n_classes=0, n_noise=2)
    gen = torch.Generator().manual_seed(0)
    out = g(torch.randn(6, 4), None, gen)
    assert out.shape == (6, 805)
    critic = Critic(805, width=16, min_width=4, n_classes=2, pack=3)
    c = torch.nn.functional.one_hot(torch.tensor([0, 1, 1, 0, 0, 1]), 2).float()
    assert critic(torch.sigmoid(out), c).shape == (2, 1)  # one score per pack of 3


@pytest.mark.parametrize("output", ["bernoulli", "round"])
def test_wgan_draws_or_rounds_the_generators_probabilities(haplotypes, output):
    m = tiny(WGAN, output=output).fit(haplotypes, epochs=1, seed=0)
    m._train_mode(False)
    with torch.no_grad():
        p = m._fake(4000, None, m._torch_generator(9)).numpy()
        x = m._generate(4000, None, m._torch_generator(9)).numpy()
    if output == "round":
        assert np.array_equal(x > 0.5, p > 0.5)
    else:  # the same latent draws, then one Bernoulli draw per allele: frequencies follow the mean probability
        assert set(np.unique(x)) <= {0.0, 1.0}
        assert np.abs(x.mean(0) - p.mean(0)).max() < 0.03
    with pytest.raises(ValueError, match="output"):
        tiny(WGAN, output="mean")


def test_wgan_straight_through_shows_the_critic_draws_with_the_probabilities_gradient(haplotypes):
    m = tiny(WGAN, straight_through=True, output="bernoulli").fit(haplotypes, epochs=1, seed=0)
    p = torch.rand(3000, N_SNPS).requires_grad_(True)
    x = m._shown(p, m._torch_generator(9), 3000)
    want = torch.rand(3000, N_SNPS, generator=m._torch_generator(9)) < p.detach()  # the same uniforms
    assert torch.equal(x.detach(), want.float())
    w = torch.randn(N_SNPS)
    (grad,) = torch.autograd.grad((x * w).sum(), p)  # a linear critic's gradient reaches p unchanged
    assert torch.equal(grad, w.expand(3000, -1))
    rows = slice(1000, 2000)  # a share of the batch (distributed training) gets the whole batch's draws
    assert torch.equal(m._shown(p[rows], m._torch_generator(9), 3000, rows).detach(), want[rows].float())
    soft = tiny(WGAN).fit(haplotypes, epochs=1, seed=0)
    assert soft._shown(p, m._torch_generator(9), 3000) is p  # the paper's: the critic sees probabilities
    with pytest.raises(ValueError, match="output='bernoulli'"):
        tiny(WGAN, straight_through=True)
    for option in ("straight_through", "critic_linear"):
        with pytest.raises(ValueError, match=option):
            tiny(WGAN, **{option: "yes"})


def test_gan_straight_through_starts_at_the_log_odds_and_trains_and_samples_draws(haplotypes):
    m = tiny(GAN, straight_through=True).fit(haplotypes, epochs=0, seed=0)
    f = np.clip(haplotypes.mean(0), 1e-3, 1 - 1e-3)
    np.testing.assert_allclose(m.nets["generator"][-1].bias.detach().numpy(), np.log(f / (1 - f)), rtol=1e-6)
    assert tiny(GAN).fit(haplotypes, epochs=0, seed=0).nets["generator"][-1].bias.abs().max() < 1  # paper's: as built
    m._train_mode(False)
    with torch.no_grad():
        p = m._fake(4000, None, m._torch_generator(9))
        x = m._generate(4000, None, m._torch_generator(9))
    assert 0 < float(p.min()) and float(p.max()) < 1  # P(allele 1), not tanh
    # the same latent draws, then one Bernoulli draw per allele
    assert set(np.unique(x.numpy())) <= {0.0, 1.0}
    assert np.abs(x.numpy().mean(0) - p.numpy().mean(0)).max() < 0.03
    q = torch.rand(50, N_SNPS).requires_grad_(True)
    shown = m._shown(q, m._torch_generator(9), 50)
    assert torch.equal(shown.detach(), (torch.rand(50, N_SNPS, generator=m._torch_generator(9)) < q).float())
    assert tiny(GAN)._shown(q, None, 50) is q  # the paper's: the discriminator sees the outputs
    m.fit(haplotypes, epochs=1, seed=0)  # trains, and resumes bit for bit
    again = tiny(GAN, straight_through=True).fit(haplotypes, epochs=1, seed=0)
    assert same_state(state(m), state(again))
    with pytest.raises(ValueError, match="straight_through"):
        tiny(GAN, straight_through=1)


def test_critic_linear_adds_a_linear_score_of_the_alleles_and_per_label_alleles(rng):
    torch.manual_seed(0)
    plain = Critic(20, width=8, min_width=4, n_classes=2, pack=3)
    torch.manual_seed(0)
    critic = Critic(20, width=8, min_width=4, n_classes=2, pack=3, linear=True)
    x = torch.tensor(rng.random((6, 20)) < 0.4, dtype=torch.float32)
    c = torch.nn.functional.one_hot(torch.tensor([0, 1, 1, 0, 0, 1]), 2).float()
    with torch.no_grad():
        assert torch.equal(critic(x, c), plain(x, c))  # the linear part starts at zero
        w = torch.randn(3, 1 + 2, 20)  # per packed haplotype: alleles, alleles with label 0, alleles with label 1
        critic.linear.weight.copy_(torch.cat([w[i].reshape(-1) for i in range(3)])[None])
        want = torch.zeros(2, 1)
        for pack in range(2):
            for i in range(3):
                row, label = x[3 * pack + i], int(c[3 * pack + i].argmax())
                want[pack] += (w[i, 0] * row).sum() + (w[i, 1 + label] * row).sum()
        torch.testing.assert_close(critic(x, c) - plain(x, c), want)
    m = tiny(WGAN, critic_linear=True).fit(np.zeros((24, N_SNPS), np.uint8), epochs=1, seed=0)
    assert m.nets["critic"].linear.weight.shape == (1, 3 * N_SNPS)


def test_critic_dense_adds_a_one_hidden_layer_score_of_the_packed_alleles(rng):
    torch.manual_seed(0)
    plain = Critic(20, width=8, min_width=4, n_classes=2, pack=3, linear=True)
    torch.manual_seed(0)
    critic = Critic(20, width=8, min_width=4, n_classes=2, pack=3, linear=True, dense=5)
    x = torch.tensor(rng.random((6, 20)) < 0.4, dtype=torch.float32)
    c = torch.nn.functional.one_hot(torch.tensor([0, 1, 1, 0, 0, 1]), 2).float()
    with torch.no_grad():
        critic.linear.weight.normal_()
        plain.linear.weight.copy_(critic.linear.weight)
        w1, b1 = critic.dense[0].weight.numpy(), critic.dense[0].bias.numpy()
        w2, b2 = critic.dense[2].weight.numpy(), critic.dense[2].bias.numpy()
        want = np.zeros((2, 1), np.float32)
        for pack in range(2):  # per pack: each haplotype's alleles, then its alleles per label
            v = np.concatenate([np.concatenate([x[i].numpy(), np.kron(c[i].numpy(), x[i].numpy())])
                                for i in range(3 * pack, 3 * pack + 3)])
            h = v @ w1.T + b1
            want[pack] = np.where(h > 0, h, 0.01 * h) @ w2.T + b2
        np.testing.assert_allclose((critic(x, c) - plain(x, c)).numpy(), want, rtol=1e-4, atol=1e-5)
    m = tiny(WGAN, critic_dense=7).fit(np.zeros((24, N_SNPS), np.uint8), epochs=1, seed=0)
    assert m.nets["critic"].dense[0].weight.shape == (7, 3 * N_SNPS)
    for bad in (-1, 1.5, "8"):
        with pytest.raises(ValueError, match="critic_dense"):
            tiny(WGAN, critic_dense=bad)


def test_generator_dense_adds_a_one_hidden_layer_map_of_latent_and_label_to_the_logits(rng):
    torch.manual_seed(0)
    plain = Generator(20, latent=4, width=8, min_width=4, n_classes=2, n_noise=2)
    torch.manual_seed(0)
    g = Generator(20, latent=4, width=8, min_width=4, n_classes=2, n_noise=2, dense=5)
    plain.eval(), g.eval()  # batch norm from running statistics: both see the same inputs
    z = torch.tensor(rng.normal(size=(6, 4)), dtype=torch.float32)
    c = torch.nn.functional.one_hot(torch.tensor([0, 1, 1, 0, 0, 1]), 2).float()
    with torch.no_grad():
        assert torch.equal(g(z, c, torch.Generator().manual_seed(1)), plain(z, c, torch.Generator().manual_seed(1)))
        for p in g.dense.parameters():  # the output layer starts at zero; give it weights to check the branch
            p.normal_()
        w1, b1 = g.dense[0].weight.numpy(), g.dense[0].bias.numpy()
        w2, b2 = g.dense[2].weight.numpy(), g.dense[2].bias.numpy()
        h = np.concatenate([z.numpy(), c.numpy()], 1) @ w1.T + b1
        want = np.where(h > 0, h, 0.01 * h) @ w2.T + b2
        got = g(z, c, torch.Generator().manual_seed(1)) - plain(z, c, torch.Generator().manual_seed(1))
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-4, atol=1e-4)
    m = tiny(WGAN, generator_dense=7).fit(np.zeros((24, N_SNPS), np.uint8), epochs=1, seed=0)
    assert m.nets["generator"].dense[2].weight.shape == (N_SNPS, 7)
    for bad in (-1, 1.5, "8"):
        with pytest.raises(ValueError, match="generator_dense"):
            tiny(WGAN, generator_dense=bad)


def leaky(v):
    return np.where(v > 0, v, 0.01 * v)


def test_windowed_generator_is_a_hidden_layer_per_window_over_its_neighbours_latents(rng):
    # 23 SNPs in windows of 5: 5 windows, the last cropped to 3 SNPs; reach 1, 2 global latent values, 2 labels
    g = WindowedGenerator(23, window=5, latent=3, hidden=4, reach=1, global_latent=2, n_classes=2)
    assert g.n_windows == 5 and g.latent_size == 5 * 3 + 2
    z = torch.tensor(rng.normal(size=(6, 17)), dtype=torch.float32)
    c = torch.nn.functional.one_hot(torch.tensor([0, 1, 1, 0, 0, 1]), 2).float()
    with torch.no_grad():
        for p in (g.hidden_bias, g.output_weight, g.bias):  # the output starts at zero; give it weights
            p.normal_()
        got = g(z, c).numpy()
    A, a, B, bias = (t.detach().numpy() for t in (g.hidden_weight, g.hidden_bias, g.output_weight, g.bias))
    zn, cn = z.numpy(), c.numpy()
    want = np.zeros((6, 25), np.float32)
    for i in range(6):
        local = np.concatenate([np.zeros(3), zn[i, :15], np.zeros(3)]).reshape(7, 3)
        for w in range(5):
            u = np.concatenate([local[w], local[w + 1], local[w + 2], zn[i, 15:], cn[i]])
            want[i, 5 * w: 5 * w + 5] = leaky(u @ A[w] + a[w]) @ B[w]
    np.testing.assert_allclose(got, want[:, :23] + bias, rtol=1e-4, atol=1e-5)
    # a window's logits do not move with the latent values of windows beyond its reach
    z2 = z.clone()
    z2[:, 12:15] += 1.0  # window 4's own values: windows 3 and 4 see them, 0-2 do not
    with torch.no_grad():
        moved = (g(z2, c) - g(z, c)).abs().amax(0).numpy()
    assert np.all(moved[:15] == 0) and np.all(moved[15:] > 0)


def test_windowed_critic_sums_a_hidden_layer_per_pair_of_adjacent_windows(rng):
    critic = WindowedCritic(11, window=4, hidden=3, n_classes=2, pack=3, linear=True)
    x = torch.tensor(rng.random((6, 11)) < 0.4, dtype=torch.float32)
    c = torch.nn.functional.one_hot(torch.tensor([0, 1, 1, 0, 0, 1]), 2).float()
    with torch.no_grad():
        critic.hidden_bias.normal_(), critic.output_bias.normal_()
        plain = critic(x, c).numpy()
        critic.linear.weight.normal_()
        with_linear = critic(x, c).numpy()
    A, a, v, b0 = (t.detach().numpy() for t in (critic.hidden_weight, critic.hidden_bias, critic.output_weight,
                                                critic.output_bias))
    xn, cn = x.numpy(), c.numpy()
    padded = np.concatenate([xn, np.zeros((6, 5), np.float32)], 1)  # 3 windows of 4, the last pairs with zeros
    want = np.zeros((2, 1), np.float32)
    for pack in range(2):
        rows = range(3 * pack, 3 * pack + 3)
        for w in range(3):
            u = np.concatenate([np.concatenate([padded[i, 4 * w: 4 * w + 8], cn[i]]) for i in rows])
            want[pack] += leaky(u @ A[w] + a[w]) @ v[w]
    np.testing.assert_allclose(plain, want + b0, rtol=1e-4, atol=1e-5)
    wl = critic.linear.weight.detach().numpy().reshape(3, 3, 11)  # per haplotype: alleles, alleles per label
    extra = [sum((wl[j, 0] + wl[j, 1 + int(cn[i].argmax())]) @ xn[i] for j, i in enumerate(range(3 * p, 3 * p + 3)))
             for p in range(2)]
    np.testing.assert_allclose(with_linear - plain, np.array(extra)[:, None], rtol=1e-4, atol=1e-5)


def test_windowed_wgan_trains_samples_and_refuses_bad_options(haplotypes):
    opts = dict(architecture="windowed", window=6, window_latent=2, window_hidden=5, global_latent=1)
    m = tiny(WGAN, **opts).fit(haplotypes, epochs=2, seed=0)
    assert isinstance(m.nets["generator"], WindowedGenerator) and isinstance(m.nets["critic"], WindowedCritic)
    assert m.nets["generator"].latent_size == 4 * 2 + 1
    # the generator starts at the training log-odds: its output layer is zero, its offsets the data's
    fresh = tiny(WGAN, **opts).fit(haplotypes, epochs=0, seed=0)
    with torch.no_grad():
        first = torch.sigmoid(fresh.nets["generator"](torch.randn(3, 9))).numpy()
    np.testing.assert_allclose(first, np.broadcast_to(np.clip(haplotypes.mean(0), 1e-3, 1 - 1e-3), (3, N_SNPS)),
                               rtol=1e-5)
    for bad, match in ((dict(architecture="dense"), "architecture"), (dict(window=0), "window"),
                       (dict(reach=-1), "reach"), (dict(window_hidden=2.5), "window_hidden")):
        with pytest.raises(ValueError, match=match):
            tiny(WGAN, **bad)


def test_vae_kl_warmup_ramps_the_kl_term_by_epoch(haplotypes):
    m = tiny(VAE, kl_weight=0.8, kl_warmup=4).fit(haplotypes, epochs=1, seed=0, eval_every=None)
    m._train_mode(False)
    x = torch.tensor(haplotypes, dtype=torch.float32)

    def loss(epoch=None, **config):
        saved = dict(m.config)
        m.config.update(config)
        m.epoch = m.epoch if epoch is None else epoch
        try:
            with torch.no_grad():
                return float(m.loss(x, None, m._torch_generator(9)))
        finally:
            m.config.clear()
            m.config.update(saved)

    rec = loss(kl_weight=0.0)
    kl = loss(kl_weight=1.0, kl_warmup=0) - rec
    assert kl > 0
    for epoch, weight in ((0, 0.2), (1, 0.4), (2, 0.6), (3, 0.8), (7, 0.8)):  # 0.8 * min(1, (epoch + 1) / 4)
        m.epoch = epoch
        assert m.kl_weight() == pytest.approx(weight)
        assert loss(epoch) == pytest.approx(rec + weight * kl, rel=1e-5)
    assert tiny(VAE).kl_weight() == 1.0  # off by default: the paper's loss
    for bad in (-1, 1.5):
        with pytest.raises(ValueError, match="kl_warmup"):
            tiny(VAE, kl_warmup=bad)


def test_vae_dense_branches_and_log_odds_start(haplotypes):
    m = tiny(VAE, encoder_dense=6, decoder_dense=5, log_odds_init=True).fit(haplotypes, epochs=0, seed=0)
    f = np.clip(haplotypes.mean(0), 1e-3, 1 - 1e-3)
    np.testing.assert_allclose(m.nets["decoder"].bias.detach().numpy(), np.log(f / (1 - f)), rtol=1e-6)
    assert tiny(VAE).fit(haplotypes, epochs=0, seed=0).nets["decoder"].bias.abs().max() == 0  # off: starts at 0
    # one hidden layer each: alleles -> 6 -> (mean, log-variance); latent -> 5 -> one logit per SNP
    enc, dec = m.nets["encoder"].dense, m.nets["decoder"].dense
    assert [tuple(layer.weight.shape) for layer in (enc[0], enc[2])] == [(6, N_SNPS), (2 * 3, 6)]
    assert [tuple(layer.weight.shape) for layer in (dec[0], dec[2])] == [(5, 3), (N_SNPS, 5)]
    assert tiny(VAE).nets["encoder"].dense is None and tiny(VAE).nets["decoder"].dense is None
    # the encoder's output is the convolutional one plus the dense branch's
    m._train_mode(False)
    x = torch.tensor(haplotypes[:10], dtype=torch.float32)
    with torch.no_grad():
        both = m.nets["encoder"](x)
        conv = both - enc(x)
        enc[2].weight.zero_()
        enc[2].bias.zero_()
        assert torch.allclose(m.nets["encoder"](x), conv, atol=1e-6)
    for bad in (dict(encoder_dense=-1), dict(decoder_dense=1.5), dict(log_odds_init=1)):
        with pytest.raises(ValueError, match=next(iter(bad))):
            tiny(VAE, **bad)


# --- the model contract --------------------------------------------------------------------


@pytest.mark.parametrize("cls", FAMILIES)
def test_shapes_seeds_and_alleles(cls, haplotypes):
    m = tiny(cls).fit(haplotypes, epochs=2, seed=3)
    s = m.sample(7, seed=1, allow_copies=True)
    assert s.shape == (7, N_SNPS) and set(np.unique(s.to_numpy())) <= {0, 1}
    assert list(s.ids) == [f"{cls.kind}{i}" for i in range(7)]
    assert np.array_equal(s.to_numpy(), m.sample(7, seed=1, allow_copies=True).to_numpy())
    again = tiny(cls).fit(haplotypes, epochs=2, seed=3)
    assert same_state(state(m), state(again))
    other = tiny(cls).fit(haplotypes, epochs=2, seed=4)
    assert not same_state(state(m), state(other))


def same_trace(a, b):
    """Trace rows equal, NaN (an undefined correlation) equal to NaN."""
    from genofast.models._selection import trace_to_json

    return trace_to_json(a) == trace_to_json(b)


@pytest.mark.parametrize("cls, options", [(cls, {}) for cls in FAMILIES] + [
    (GAN, {"ema": 0.9, "straight_through": True, "frequency_weight": 2.0, "calibrate": True}),
    (WGAN, {"ema": 0.9, "generator_dense": 5, "fine_tune_epoch": 3}),
    (WGAN, {"architecture": "windowed", "window": 7, "window_latent": 2, "window_hidden": 4, "global_latent": 2,
            "critic_linear": True, "straight_through": True, "output": "bernoulli"}),
    (GMMN, {"ema": 0.9, "kernel": [4.0, 16.0], "fine_tune_epoch": 3}),
    (VAE, {"frequency_weight": 2.0, "calibrate": True}),
    (VAE, {"encoder_dense": 6, "decoder_dense": 5, "log_odds_init": True})])
def test_resume_is_bit_identical_and_save_load_round_trips(cls, options, haplotypes, tmp_path):
    labels = np.repeat(["A", "B"], 30)
    path = tmp_path / "m.safetensors"
    whole = tiny(cls, ["A", "B"], **options).fit(haplotypes, epochs=4, seed=2, labels=labels, eval_every=2,
                                                 n_eval=30)
    part = tiny(cls, ["A", "B"], **options).fit(haplotypes, epochs=2, seed=2, labels=labels, eval_every=2,
                                                n_eval=30, checkpoint=path)
    resumed = load(path)
    assert type(resumed) is cls and resumed.epoch == 2 and same_trace(resumed.trace, part.trace)
    resumed.fit(haplotypes, epochs=4, seed=2, labels=labels, eval_every=2, n_eval=30)
    assert same_state(state(whole), state(resumed))
    assert same_trace(resumed.trace, whole.trace) and resumed.best_epoch == whole.best_epoch
    whole.save(path)
    back = cls.load(path)
    assert same_state(state(whole), state(back)) and back.config == whole.config
    assert np.array_equal(back.fingerprints, whole.fingerprints)
    a, b = (m.sample(9, seed=5, labels="B", allow_copies=True) for m in (whole, back))
    assert np.array_equal(a.to_numpy(), b.to_numpy()) and list(a.ids) == [f"{cls.kind}{i}.B" for i in range(9)]


@pytest.fixture(scope="module")
def saved_gan(tmp_path_factory):
    data = (np.random.default_rng(4).random((60, N_SNPS)) < 0.4).astype(np.uint8)
    path = tmp_path_factory.mktemp("gan") / "good.safetensors"
    tiny(GAN).fit(data, epochs=2, seed=1, eval_every=1, n_eval=30).save(path)
    return path


@pytest.mark.parametrize("change, config, message", [
    (set_value("net.generator.0.weight", np.nan), None, "'net.generator.0.weight' holds NaN"),
    (set_value("best.discriminator.0.bias", np.inf), None, "'best.discriminator.0.bias' holds NaN or infinite"),
    (lambda a: a.update({"net.generator.4.bias": a["net.generator.4.bias"][:-1]}), None,
     "'net.generator.4.bias' has shape"),
    (lambda a: a.pop("opt.generator.0.exp_avg"), None, "'opt.generator.0.exp_avg' is missing"),
    (lambda a: a.pop("best.generator.0.weight"), None, "'best.generator.0.weight' is missing"),
    (None, edit_config(lambda c: c.update(n_snps=N_SNPS + 1)), "has shape"),  # config and tensors disagree
    (None, edit_config(lambda c: c["config"].update(colour="red")), "bad config: .*colour"),
    (None, edit_config(lambda c: c.pop("state")), "lacks the training 'state'"),
    (None, edit_config(lambda c: c["state"].update(epoch=-1)), "epoch must be an integer"),
    (None, edit_config(lambda c: c["state"].update(updates="many")), "updates must be an integer"),
    (None, edit_config(lambda c: c["state"].update(best_epoch=7)), "best_epoch 7 is not in the trace"),
    (None, edit_config(lambda c: c["state"]["trace"][0].pop("score")), "lacks 'score'"),
    (None, edit_config(lambda c: c["state"]["param_groups"].pop("generator")), "config lacks 'generator'"),
    (set_value("opt.generator.0.exp_avg", np.nan), None, "'opt.generator.0.exp_avg' holds NaN"),
    (set_value("opt.discriminator.1.exp_avg_sq", -1.0), None, "'opt.discriminator.1.exp_avg_sq' has values below 0"),
    (set_value("opt.generator.2.step", -3.0), None, "'opt.generator.2.step' has values below 0"),
    (lambda a: a.update({"opt.generator.2.step": np.zeros(3, np.float32)}), None, "'opt.generator.2.step' has shape"),
    (lambda a: a.update({"opt.generator.0.exp_avg": a["opt.generator.0.exp_avg"][:1]}), None,
     "'opt.generator.0.exp_avg' has shape"),
    (lambda a: a.update({"opt.generator.99.exp_avg": np.zeros(1, np.float32)}), None,
     "'opt.generator.99.exp_avg' names no state of the optimizer's 6 parameters"),
    (lambda a: a.update({"opt.generator.0.velocity": np.zeros(1, np.float32)}), None,
     "'opt.generator.0.velocity' is not part of Adam's state"),
])
def test_generator_checkpoints_are_validated_on_load(saved_gan, change, config, message):
    assert_refused(rewrite_checkpoint(saved_gan, saved_gan.parent / "bad.safetensors", change, config),
                   (GAN.load, load), message)
    GAN.load(saved_gan)  # the untouched checkpoint loads


@pytest.mark.parametrize("cls", FAMILIES)
def test_holdout_adds_privacy_loss_to_the_trace(cls, haplotypes, rng, tmp_path):
    held = (rng.random((30, N_SNPS)) < np.linspace(0.1, 0.9, N_SNPS)).astype(np.uint8)
    path = tmp_path / "m.safetensors"
    m = tiny(cls).fit(haplotypes, epochs=2, seed=2, eval_every=1, n_eval=30, holdout=held, checkpoint=path)
    assert [r["epoch"] for r in m.trace] == [1, 2] and all(-1 <= r["privacy_loss"] <= 1 for r in m.trace)
    assert same_trace(load(path).trace, m.trace)
    with pytest.raises(ValueError, match="held-out haplotypes have 3 SNPs"):
        tiny(cls).fit(haplotypes, epochs=1, eval_every=1, holdout=held[:, :3])


@pytest.mark.parametrize("cls", [WGAN, GMMN])
def test_second_phase_divides_the_generator_learning_rate_by_ten(cls, haplotypes):
    def lrs(m):
        return {k: [g["lr"] for g in o.param_groups] for k, o in m.optimizers.items()}

    plain = tiny(cls).fit(haplotypes, epochs=2, seed=1)
    m = tiny(cls, fine_tune_epoch=1).fit(haplotypes, epochs=2, seed=1)
    lr = m.config["lr"]
    assert lrs(plain)["generator"] == [lr] and lrs(m)["generator"] == [pytest.approx(lr / 10)]
    if cls is WGAN:
        assert lrs(m)["critic"] == [lr]  # the critic keeps its rate
    # the first epoch is the same, the second is not
    first = tiny(cls, fine_tune_epoch=1).fit(haplotypes, epochs=1, seed=1)
    assert same_state(state(first), state(tiny(cls).fit(haplotypes, epochs=1, seed=1)))
    assert not same_state(state(m), state(plain))
    with pytest.raises(ValueError, match="fine_tune_epoch"):
        tiny(cls, fine_tune_epoch=-1)


@pytest.mark.parametrize("cls", FAMILIES)
def test_model_selection_keeps_the_best_scored_epoch(cls, haplotypes):
    m = tiny(cls).fit(haplotypes, epochs=3, seed=0, eval_every=1, n_eval=40)
    assert [e["epoch"] for e in m.trace] == [1, 2, 3]
    for e in m.trace:
        assert e["aats"] == pytest.approx((e["aa_truth"] + e["aa_syn"]) / 2)
        bad = lambda r: 1 - r if math.isfinite(r) else 2.0  # noqa: E731  (an undefined r as bad as it gets)
        want = (abs(e["aa_truth"] - e["target_truth"]) + abs(e["aa_syn"] - e["target_syn"]) + bad(e["af_r"])
                + bad(e["ld_r"]) + bad(e["three_point_r"]) + e["pca_wasserstein"])
        assert "classifier_delta" not in e  # classifiers only when asked for
        assert e["score"] == pytest.approx(want) and e["pca_wasserstein"] >= 0
    assert m.best_epoch == min(m.trace, key=lambda e: e["score"])["epoch"]
    assert same_state(state(m), m.best_state)


def test_selection_can_weigh_real_vs_synthetic_classifiers(haplotypes):
    m = tiny(GMMN).fit(haplotypes, epochs=2, seed=0, eval_every=1, n_eval=40, select={"classifier": 2.0})
    plain = tiny(GMMN).fit(haplotypes, epochs=2, seed=0, eval_every=1, n_eval=40)
    for e, p in zip(m.trace, plain.trace):
        assert 0 <= e["classifier_delta"] <= 0.5
        assert e["score"] == pytest.approx(p["score"] + 2.0 * e["classifier_delta"])


def test_conditional_sampling_honours_labels(rng):
    # two populations with opposite allele frequencies: each label's samples must follow its own
    a = np.concatenate([rng.random((100, N_SNPS)) < 0.1, rng.random((100, N_SNPS)) < 0.9]).astype(np.uint8)
    labels = np.repeat(["low", "high"], 100)
    m = GMMN(N_SNPS, ["low", "high"], hidden=32, features=200, batch_size=50, lr=1e-2, restart_every=2)
    m.fit(a, epochs=15, seed=0, labels=labels)
    low = m.sample(200, seed=1, labels="low", allow_copies=True).to_numpy().mean()
    high = m.sample(200, seed=1, labels="high", allow_copies=True).to_numpy().mean()
    assert low < 0.3 and high > 0.7
    mixed = m.sample(4, seed=1, labels=["low", "high", "high", "low"], allow_copies=True)
    assert list(mixed.ids) == ["gmmn0.low", "gmmn1.high", "gmmn2.high", "gmmn3.low"]


@pytest.mark.parametrize("cls", FAMILIES)
def test_bad_input_raises_clear_errors(cls, haplotypes):
    m = tiny(cls, ["A", "B"])
    labels = np.repeat(["A", "B"], 30)
    with pytest.raises(ValueError, match="model has 20 SNPs, data have 19"):
        m.fit(haplotypes[:, :19], epochs=1, labels=labels)
    with pytest.raises(ValueError, match="unknown label"):
        m.fit(haplotypes, epochs=1, labels=np.repeat(["A", "C"], 30))
    with pytest.raises(ValueError, match="give labels"):
        m.fit(haplotypes, epochs=1)
    nan = haplotypes.astype(float)
    nan[3, 4] = np.nan
    with pytest.raises(ValueError, match="only 0 and 1"):
        m.fit(nan, epochs=1, labels=labels)
    with pytest.raises(ValueError, match="unknown label"):
        m.sample(3, labels="EUR")
    with pytest.raises(ValueError, match="not conditional"):
        tiny(cls).sample(3, labels="A")
    with pytest.raises(TypeError, match="unknown options"):
        cls(N_SNPS, learning_rate=1)


def test_sample_refuses_copies_of_training_haplotypes(haplotypes):
    m = tiny(GMMN).fit(haplotypes, epochs=1, seed=0)
    m.fingerprints = fingerprints(m.sample(5, seed=1, allow_copies=True))  # pretend those were trained on
    with pytest.raises(CopiesError, match="5 of 5"):
        m.sample(5, seed=1)


# --- membership attacks --------------------------------------------------------------------


def test_attack_accuracy_counts_members_among_the_top_scores():
    scores = [0.9, 0.1, 0.8, 0.8, 0.3, 0.7, 0.2, 0.6, 0.5, 0.4]
    member = [1, 0, 0, 1, 1, 1, 0, 0, 0, 1]
    r = attack_accuracy(scores, member, fractions=(0.1, 0.3, 0.5))
    # ranked: 0.9(m) 0.8(n, earlier row) 0.8(m) 0.7(m) 0.6(n) ...
    assert r.accuracy == {0.1: 1.0, 0.3: pytest.approx(2 / 3), 0.5: pytest.approx(3 / 5)}
    assert r.chance == 0.5
    with pytest.raises(ValueError, match="scores for"):
        attack_accuracy([1.0], [1, 0])


def test_white_and_black_box_attacks_run_on_critics(haplotypes):
    m = tiny(WGAN).fit(haplotypes[:30], epochs=2, seed=0)
    member = np.r_[np.ones(30, bool), np.zeros(30, bool)]
    wb = white_box(m, haplotypes, member)
    assert wb.scores.shape == (60,) and np.array_equal(wb.scores, m.critic_scores(haplotypes))
    syn = m.sample(30, seed=1, allow_copies=True)
    bb = black_box(lambda: tiny(GAN), syn, haplotypes, member, epochs=2)
    assert set(bb.accuracy) == {0.01, 0.1, 0.25, 0.5} and bb.chance == 0.5
