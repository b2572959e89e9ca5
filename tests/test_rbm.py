import inspect
import itertools
import math
import sys

import numpy as np
import pytest
import scipy.stats as st
import torch

from genofast import HaplotypeMatrix, Variants, kernels
from genofast.io._files import FormatError
from genofast.models import RBM, ConditionalRBMChain, CopiesError
from genofast.models import load as load_model
from reference import assert_refused, rewrite_checkpoint, set_value

ALL_V = torch.tensor(list(itertools.product([0, 1], repeat=6)), dtype=torch.float32)


def tiny(hidden, seed=0):
    # fully connected units only, no dropout: the exact formulas below are those of a plain RBM
    m = RBM(6, 3, hidden, training="pcd", k=1, n_chains=10, local_hidden=0, dropout=0.0)
    g = torch.Generator().manual_seed(seed)
    m.params["W"] = torch.randn(6, 3, generator=g) * 0.8
    m.params["a"] = torch.randn(6, generator=g) * 0.5
    m.params["b"] = torch.randn(3, generator=g) * 0.5
    return m


def exact_hidden_mean(m, v):
    x = (v @ m.params["W"] + m.params["b"]).double()
    if m.config["hidden"] == "bernoulli":
        return torch.sigmoid(x)
    return x + torch.exp(-x * x / 2) / math.sqrt(2 * math.pi) / torch.special.ndtr(x)


def test_unit_sampling_laws():
    x = np.linspace(-5, 5, 11).astype(np.float32)
    pre = np.tile(x, (40000, 1))
    s, mean, packed = kernels.rbm_units(pre, np.zeros(11, np.float32), "bernoulli", 3, 0, mean=True, pack=True)
    np.testing.assert_allclose(mean[0], 1 / (1 + np.exp(-x)), rtol=1e-6)
    np.testing.assert_allclose(s.mean(0), 1 / (1 + np.exp(-x)), atol=0.01)
    np.testing.assert_array_equal(packed, kernels.pack_haplotypes(s.astype(np.uint8)))
    s, mean, _ = kernels.rbm_units(pre, np.zeros(11, np.float32), "relu", 3, 0, mean=True)
    for i, xi in enumerate(x):
        law = st.truncnorm(-xi, np.inf, loc=xi)
        assert mean[0, i] == pytest.approx(law.mean(), rel=1e-5)
        assert s[:, i].mean() == pytest.approx(law.mean(), abs=4 * law.std() / 200 + 1e-3)
        assert s[:, i].min() >= 0


@pytest.mark.parametrize("x", [-60, -36, -34.5, -12, -7.5, -7.0, -2, 0, 3, 7.5, 40])
def test_rectified_units_follow_the_truncated_normal_into_its_tails(x):
    # every branch of the draw: the exponential law past -35, the continued fraction past |x| = 7.07, Hart's
    # rational approximation below it, and the quantile's tails and centre
    s, mean, _ = kernels.rbm_units(np.full((20000, 1), x, np.float32), np.zeros(1, np.float32), "relu", 5, 1,
                                   mean=True)
    law = st.truncnorm(-x, np.inf, loc=x)
    assert mean[0, 0] == pytest.approx(law.mean(), rel=1e-5)
    assert st.kstest(s[:, 0], law.cdf).pvalue > 1e-3
    assert s.min() >= 0


def test_units_draw_the_same_bits_on_every_simd_level(simd):
    # 203 x 333 units: groups of four straddle rows, a vector path's runs end inside a block; some units far in
    # either tail, and row blocks starting mid-group
    rng = np.random.default_rng(1)
    pre = np.concatenate([rng.normal(0, 6, (200, 333)), rng.normal(0, 60, (3, 333))]).astype(np.float32)
    pre[0, :6] = [-36, -35.5, -1e6, 1e6, 7.0, -7.1]
    b = rng.normal(size=333).astype(np.float32)
    got = {(kind, r0): kernels.rbm_units(pre[r0:], b, kind, 7, 3, mean=True, first_row=r0)[:2]
           for kind in ("bernoulli", "relu") for r0 in (0, 5)}
    kernels.set_simd("scalar")  # the simd fixture restores the level
    for (kind, r0), (sample, mean) in got.items():
        ref_sample, ref_mean, _ = kernels.rbm_units(pre[r0:], b, kind, 7, 3, mean=True, first_row=r0)
        np.testing.assert_array_equal(sample, ref_sample)
        np.testing.assert_array_equal(mean, ref_mean)


@pytest.mark.parametrize("kind", ["bernoulli", "relu"])
@pytest.mark.parametrize("m", [3, 17])
def test_vector_paths_draw_what_the_unit_by_unit_loop_draws(simd, kind, m):
    # A row drawn alone is too short for a vector run of 16 units, so it is drawn unit by unit (17 wide: but for
    # rows starting on a group of four, whose first 16 units are one run inside the row); the whole matrix goes
    # through the vector path of each SIMD level, its runs straddling rows (and, 17 wide, some inside one).
    # Tails included: sd 60 rows, and ±36, ±1e6.
    rng = np.random.default_rng(2)
    pre = np.concatenate([rng.normal(0, 6, (60, m)), rng.normal(0, 60, (20, m))]).astype(np.float32)
    pre[0, :3], pre[1, :3] = [-36, -35.5, -1e6], [1e6, 7.0, -7.1]
    b = rng.normal(size=m).astype(np.float32)
    whole, whole_mean, _ = kernels.rbm_units(pre, b, kind, 4, 8, mean=True)
    for r in range(len(pre)):
        row, row_mean, _ = kernels.rbm_units(pre[r:r + 1], b, kind, 4, 8, mean=True, first_row=r)
        np.testing.assert_array_equal(row[0], whole[r])
        np.testing.assert_array_equal(row_mean[0], whole_mean[r])


def test_units_are_seeded_by_seed_and_step():
    pre = np.zeros((50, 70), np.float32)
    b = np.zeros(70, np.float32)
    a1 = kernels.rbm_units(pre, b, "bernoulli", 5, 2)[0]
    assert (a1 == kernels.rbm_units(pre, b, "bernoulli", 5, 2)[0]).all()
    assert (a1 != kernels.rbm_units(pre, b, "bernoulli", 5, 3)[0]).any()
    assert (a1 != kernels.rbm_units(pre, b, "bernoulli", 6, 2)[0]).any()


@pytest.mark.parametrize("kind", ["bernoulli", "relu"])
@pytest.mark.parametrize("rows", [(0, 7), (1, 4), (3, 13), (12, 13)])
@pytest.mark.parametrize("m", [7, 37])
def test_row_blocks_draw_what_the_whole_matrix_draws(kind, rows, m):
    # 13 x m units: row blocks start and end inside Philox groups of four elements (and, 37 wide, inside the
    # vector path's runs of four groups)
    rng = np.random.default_rng(0)
    pre, b = rng.normal(size=(13, m)).astype(np.float32), rng.normal(size=m).astype(np.float32)
    whole, whole_mean, _ = kernels.rbm_units(pre, b, kind, 9, 3, mean=True)
    r0, r1 = rows
    part, part_mean, _ = kernels.rbm_units(pre[r0:r1], b, kind, 9, 3, mean=True, first_row=r0)
    np.testing.assert_array_equal(part, whole[r0:r1])
    np.testing.assert_array_equal(part_mean, whole_mean[r0:r1])
    with pytest.raises(ValueError, match="first_row"):
        kernels.rbm_units(pre, b, kind, 9, 3, first_row=-1)


@pytest.mark.parametrize("hidden", ["bernoulli", "relu"])
def test_free_energy_is_exact(hidden):
    m = tiny(hidden)
    f = m.free_energy(ALL_V).double()
    if hidden == "bernoulli":  # brute force over the 8 hidden states
        H = torch.tensor(list(itertools.product([0, 1], repeat=3)), dtype=torch.float64)
        W, a, b = (m.params[k].double() for k in "Wab")
        e = -(ALL_V.double() @ a)[:, None] - (H @ b)[None, :] - (ALL_V.double() @ W @ H.T)
        ref = -torch.logsumexp(-e, dim=1)
    else:  # numerical integral over each hidden unit
        x = (ALL_V @ m.params["W"] + m.params["b"]).double().numpy()
        h = np.linspace(0, 40, 400001)
        logint = np.array([[np.log(np.trapezoid(np.exp(h * xj - h * h / 2), h)) for xj in row] for row in x])
        ref = -(ALL_V.double() @ m.params["a"].double()) - torch.tensor(logint.sum(1))
    np.testing.assert_allclose(f.numpy(), ref.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("hidden", ["bernoulli", "relu"])
def test_gradient_statistics_equal_exact_log_likelihood_gradient(hidden):
    """Data minus model statistics, with exact expectations, is the autograd gradient of the exact LL."""
    m = tiny(hidden, seed=1)
    m.config["centered"] = False  # the centred gradient is another direction (tested in the update test)
    data = ALL_V[torch.tensor([0, 5, 9, 9, 33, 62, 63, 17])]
    params = {k: m.params[k].clone().double().requires_grad_(True) for k in "Wab"}

    def free_energy(v):
        x = v.double() @ params["W"] + params["b"]
        if hidden == "bernoulli":
            hid = torch.nn.functional.softplus(x)
        else:
            hid = x * x / 2 + 0.5 * math.log(2 * math.pi) + torch.special.log_ndtr(x)
        return -(v.double() @ params["a"]) - hid.sum(-1)

    ll = -free_energy(data).mean() - torch.logsumexp(-free_energy(ALL_V), 0)
    ll.backward()
    p = torch.softmax(-m.free_energy(ALL_V).double(), 0).float()
    h0, hall = exact_hidden_mean(m, data).float(), exact_hidden_mean(m, ALL_V).float()
    # model expectations as a weighted "chain" of all states
    g = m.gradients(data, h0, ALL_V * (p[:, None] * len(ALL_V)), hall, None)
    g["b"] = h0.mean(0) - (hall * p[:, None]).sum(0)  # the weights sit on the visible states only
    for k in "Wab":
        np.testing.assert_allclose(g[k].numpy(), params[k].grad.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("hidden", ["bernoulli", "relu"])
def test_long_chains_converge_to_exact_model_statistics(hidden):
    m = tiny(hidden, seed=2)
    p = torch.softmax(-m.free_energy(ALL_V).double(), 0)
    exact_vh = ((ALL_V.double() * p[:, None]).T @ exact_hidden_mean(m, ALL_V)).numpy()
    exact_v = (ALL_V.double() * p[:, None]).sum(0).numpy()
    v = m.gibbs(m._random_visible(20000, 0), 60, seed=4)
    _, hk, _ = m._hidden(v, None, 4, mean=True)
    np.testing.assert_allclose((v.T @ hk / len(v)).numpy(), exact_vh, atol=0.03)
    np.testing.assert_allclose(v.mean(0).numpy(), exact_v, atol=0.02)


@pytest.mark.parametrize("centered", [False, True])
def test_update_equals_analytic_formula(centered):
    m = tiny("bernoulli")
    m.config.update(optimizer="sgd", momentum=0.0, lr=0.1, l2=0.01, centered=centered)
    mu, lam = torch.linspace(0.2, 0.7, 6), torch.tensor([0.3, 0.9, 0.1])
    m.offsets = {"v": mu.clone(), "h": lam.clone()}
    v0 = ALL_V[[1, 2, 3, 60]]
    vk = ALL_V[[7, 8, 40]]
    h0, hk = exact_hidden_mean(m, v0).float(), exact_hidden_mean(m, vk).float()
    W, a, b = (m.params[k].clone() for k in "Wab")
    m._step(m.gradients(v0, h0, vk, hk))
    if not centered:
        mu, lam = torch.zeros(6), torch.zeros(3)
    # Melchior et al. 2016: the centred gradient, and the plain biases absorbing the offsets
    dW = (v0 - mu).T @ (h0 - lam) / 4 - (vk - mu).T @ (hk - lam) / 3 - 0.01 * W
    da = v0.mean(0) - vk.mean(0) - dW @ lam
    db = h0.mean(0) - hk.mean(0) - mu @ dW
    np.testing.assert_allclose(m.params["W"].numpy(), (W + 0.1 * dW).numpy(), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(m.params["a"].numpy(), (a + 0.1 * da).numpy(), atol=1e-6)
    np.testing.assert_allclose(m.params["b"].numpy(), (b + 0.1 * db).numpy(), atol=1e-6)


def exact_ll(m, data):
    f = m.free_energy(ALL_V).double()
    return float((-m.free_energy(data).double()).mean() - torch.logsumexp(-f, 0))


@pytest.mark.parametrize("training", ["cd", "pcd", "rdm"])
def test_training_increases_exact_likelihood(training, rng):
    # correlated 6-SNP haplotypes: two common types plus noise
    base = np.array([[0, 0, 0, 1, 1, 1], [1, 1, 0, 0, 0, 1]], dtype=np.uint8)
    data = base[rng.integers(0, 2, 600)]
    data ^= (rng.random(data.shape) < 0.05).astype(np.uint8)
    m = RBM(6, 4, "bernoulli", training=training, k=5, n_chains=64, lr=0.05, batch_size=32)
    t = torch.tensor(data, dtype=torch.float32)
    before = exact_ll(m, t)
    m.fit(data, epochs=15, seed=3)
    after = exact_ll(m, t)
    assert after > before + 1.0
    # the exact model puts most mass on the two haplotype types
    p = torch.softmax(-m.free_energy(ALL_V).double(), 0)
    idx = [int("".join(map(str, r)), 2) for r in base]
    assert float(p[idx].sum()) > 0.5


def test_seeded_sampling_and_resume(tmp_path, rng):
    data = rng.integers(0, 2, (200, 30), dtype=np.uint8)
    data[:, 1] = data[:, 0]
    full = RBM(30, 8, "relu", k=2, n_chains=16).fit(data, epochs=4, seed=5)
    part = RBM(30, 8, "relu", k=2, n_chains=16).fit(data, epochs=2, seed=5)
    part.save(tmp_path / "rbm.safetensors")
    resumed = RBM.load(tmp_path / "rbm.safetensors").fit(data, epochs=4, seed=5)
    for k in full.params:
        np.testing.assert_array_equal(full.params[k].numpy(), resumed.params[k].numpy())
    s1 = full.sample(20, k=5, seed=9).to_numpy()
    np.testing.assert_array_equal(s1, full.sample(20, k=5, seed=9).to_numpy())
    np.testing.assert_array_equal(s1, load_model(tmp_path / "rbm.safetensors").fit(data, 4, seed=5)
                                  .sample(20, k=5, seed=9).to_numpy())
    assert (s1 != full.sample(20, k=5, seed=10).to_numpy()).any()


def test_model_selection_records_trace(rng):
    data = rng.integers(0, 2, (300, 40), dtype=np.uint8)
    m = RBM(40, 10, "bernoulli", training="rdm", k=5, lr=0.01).fit(data, epochs=4, seed=1, eval_every=2, n_eval=100)
    assert [row["epoch"] for row in m.trace] == [2, 4]
    assert m.best_epoch == min(m.trace, key=lambda row: row["score"])["epoch"]
    assert all(0 <= row["aats"] <= 1 for row in m.trace)


def test_imputation_uses_linkage(rng):
    # four haplotype types: a hidden allele is told by the rest of its haplotype
    types = rng.integers(0, 2, (4, 20), dtype=np.uint8)
    data = types[rng.integers(0, 4, 800)]
    m = RBM(20, 12, "bernoulli", training="cd", k=5, lr=0.05).fit(data, epochs=20, seed=2)
    test = types[rng.integers(0, 4, 200)].astype(np.int8)
    masked = test.copy()
    hide = rng.random(test.shape) < 0.15
    masked[hide] = -1
    prob, calls = m.impute(HaplotypeMatrix.from_numpy(masked), sweeps=60, burn_in=10, seed=1)
    assert (calls.to_numpy()[~hide] == test[~hide]).all()
    accuracy = (calls.to_numpy()[hide] == test[hide]).mean()
    majority = ((data.mean(0) >= 0.5)[None, :].repeat(200, 0)[hide] == test[hide]).mean()
    assert accuracy > 0.95 and accuracy > majority + 0.1
    assert ((prob >= 0) & (prob <= 1)).all()


def test_chain_defaults_reach_every_window_model():
    # the measured long-region settings: 1,024-SNP windows given the previous 256, 100 + auto local units
    # (ceil(12 * SNPs / 32), at most 300), Rdm-20 at lr 3e-3, no dropout; the last window is shorter
    chain = ConditionalRBMChain(2 * 1024 + 100)
    assert chain.bounds == [(0, 1024), (1024, 2048), (2048, 2148)]
    cfgs = [m.config for m in chain.models]
    assert [c["n_context"] for c in cfgs] == [0, 256, 256]
    assert [c["local_hidden"] for c in cfgs] == [300, 300, 38]
    for c in cfgs:
        assert (c["n_hidden"], c["hidden"], c["training"], c["k"], c["lr"], c["dropout"]) == (100, "relu", "rdm", 20,
                                                                                             3e-3, 0.0)
    assert inspect.signature(ConditionalRBMChain.fit).parameters["epochs"].default == 16
    # context=None conditions on the whole previous window, as before the default
    assert [m.config["n_context"] for m in ConditionalRBMChain(30, window=10, context=None).models] == [0, 10, 10]


def test_conditional_chain_carries_linkage_across_windows(tmp_path, rng):
    types = rng.integers(0, 2, (4, 24), dtype=np.uint8)
    data = types[rng.integers(0, 4, 800)]
    chain = ConditionalRBMChain(24, window=8, n_hidden=8, hidden="bernoulli", training="cd", k=3, lr=0.02, decay=0.0)
    assert [m.config["n_context"] for m in chain.models] == [0, 8, 8]
    variants = Variants(np.full(24, "2"), np.arange(1, 25) * 100, np.array([f"v{i}" for i in range(24)]),
                        np.full(24, "A"), np.full(24, "T"))
    chain.fit(HaplotypeMatrix.from_numpy(data, variants=variants), epochs=25, seed=1)
    # the samples are copies of the four types, which are training haplotypes: refused unless allowed
    with pytest.raises(CopiesError, match="ConditionalRBMChain.sample: .* exact copies"):
        chain.sample(400, k=50, seed=3)
    s = chain.sample(400, k=50, seed=3, allow_copies=True).to_numpy()
    assert s.shape == (400, 24)
    # most samples are one of the four haplotype types end to end, across both window boundaries
    whole = (s[:, None, :] == types[None]).all(-1).any(1).mean()
    assert whole > 0.6
    chain.save(tmp_path / "c.safetensors")
    model = load_model(tmp_path / "c.safetensors")
    np.testing.assert_array_equal(model.fingerprints, chain.fingerprints)
    loaded = model.sample(10, k=5, seed=1, allow_copies=True)
    np.testing.assert_array_equal(loaded.to_numpy(), chain.sample(10, k=5, seed=1, allow_copies=True).to_numpy())
    np.testing.assert_array_equal(loaded.variants.position, variants.position)
    assert list(loaded.variants.chrom) == ["2"] * 24


def test_bad_input():
    with pytest.raises(ValueError, match="hidden"):
        RBM(5, 2, "tanh")
    with pytest.raises(ValueError, match="training"):
        RBM(5, 2, training="sgd")
    with pytest.raises(ValueError, match="persistent"):
        RBM(5, 2, training="pcd", n_context=3)
    with pytest.raises(ValueError, match="model has 5 SNPs, data have 4"):
        RBM(5, 2).fit(np.zeros((3, 4)), epochs=1)
    with pytest.raises(ValueError, match="empty cohort"):
        RBM(5, 2).fit(np.zeros((0, 5)), epochs=1)
    with pytest.raises(ValueError, match="needs a context"):
        RBM(5, 2, training="cd", n_context=2).fit(np.zeros((3, 5)), epochs=1)
    with pytest.raises(ValueError, match="only 0 and 1"):
        RBM(2, 2).fit(np.array([[0.5, 1]]), epochs=1)


@pytest.mark.cuda
def test_cuda_units_match_cpu():
    pre = torch.randn(64, 300)
    b = torch.randn(300)
    pre[0, :4] = torch.tensor([-36.0, 1e6, -1e6, 7.5])  # the far branches too
    for kind in ("bernoulli", "relu"):
        # the same IEEE operations on both (csrc/rbm/unit_math.hpp, rbm.cu built without FMA): the same bits
        cs, cm, _ = kernels.rbm_units(pre.numpy(), b.numpy(), kind, 11, 4, mean=True)
        gs, gm, _ = kernels.rbm_units(pre.cuda(), b.cuda(), kind, 11, 4, mean=True)
        np.testing.assert_array_equal(gm.cpu().numpy(), cm)
        np.testing.assert_array_equal(gs.cpu().numpy(), cs)
        gs5, _, _ = kernels.rbm_units(pre[5:].cuda(), b.cuda(), kind, 11, 4, first_row=5)
        np.testing.assert_array_equal(gs5.cpu().numpy(), cs[5:])
    for m in (1, 64, 65, 300):  # a warp packs 64 units: partial last words, rows shorter than a word
        s, _, packed = kernels.rbm_units(pre[:, :m].cuda(), b[:m].cuda(), "bernoulli", 1, 0, pack=True)
        cs, _, cpacked = kernels.rbm_units(pre[:, :m].numpy(), b[:m].numpy(), "bernoulli", 1, 0, pack=True)
        np.testing.assert_array_equal(packed.cpu().numpy().view(np.uint64),
                                      kernels.pack_haplotypes(s.cpu().numpy().astype(np.uint8)))
        np.testing.assert_array_equal(packed.cpu().numpy().view(np.uint64), cpacked)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    data = np.random.default_rng(3).integers(0, 2, (60, 12), dtype=np.uint8)
    m = RBM(12, 5, "relu", training="pcd", k=2, n_chains=8).fit(data, epochs=2, seed=1, eval_every=1, n_eval=30)
    path = tmp_path_factory.mktemp("rbm") / "good.safetensors"
    m.save(path)
    return path


def _config(key, value):
    def edit(c):
        c["config"][key] = value
        return c
    return edit


def _state(key, value):
    def edit(c):
        c["state"][key] = value
        return c
    return edit


@pytest.mark.parametrize("change, config, message", [
    (set_value("W", np.nan), None, "'W' holds NaN"),
    (set_value("b", np.inf), None, "'b' holds NaN or infinite"),
    (set_value("moment1.a", np.nan), None, "'moment1.a' holds NaN"),
    (set_value("moment2.W", -1.0), None, "'moment2.W' has values below 0"),
    (set_value("chains", 3.0), None, "'chains' has values outside"),
    (lambda a: a.update(W=a["W"][:, :4]), None, "'W' has shape"),
    (lambda a: a.update(a=a["a"][:11]), None, "'a' has shape"),
    (lambda a: a.pop("moment2.b"), None, "'moment2.b' is missing"),
    (None, _config("n_hidden", 6), "'W' has shape"),  # config and tensors disagree
    (None, _config("lr", float("nan")), "lr must be a finite number"),
    (None, _config("k", 0), "k must be an integer"),
    (None, _config("hidden", "tanh"), "hidden must be"),
    (None, _config("colour", "red"), "bad config: .*colour"),
    (None, lambda c: {"config": c["config"]}, "lacks the training 'state'"),
    (None, _state("epoch", -1), "epoch must be an integer"),
    (None, _state("best_epoch", 7), "best_epoch 7 is not in the trace"),
    (None, _state("trace", [[1, 0.5]]), "a trace row must be an object"),
    (None, lambda c: c["state"]["trace"][0].update(aats=float("nan")) or c, "trace aats must be a finite number"),
    (None, lambda c: c["state"]["trace"][0].pop("score") and c, "lacks 'score'"),
    (set_value("offset.h", np.nan), None, "'offset.h' holds NaN"),
    (None, lambda c: [c], "config must be a JSON object"),
])
def test_rbm_checkpoints_are_validated_on_load(trained, change, config, message):
    assert_refused(rewrite_checkpoint(trained, trained.parent / "bad.safetensors", change, config),
                   (RBM.load, load_model), message)
    RBM.load(trained)  # the untouched checkpoint loads


def test_unparsable_config_is_a_format_error(trained):
    from safetensors import safe_open
    from safetensors.numpy import load_file, save_file

    with safe_open(str(trained), framework="numpy") as f:
        meta = dict(f.metadata())
    for config, message in (("{truncated", "config is not valid JSON"), (None, "no config")):
        if config is None:
            meta.pop("config")
        else:
            meta["config"] = config
        save_file(load_file(str(trained)), str(trained.parent / "bad.safetensors"), metadata=meta)
        with pytest.raises(FormatError, match=message):
            RBM.load(trained.parent / "bad.safetensors")


def test_chain_checkpoint_keeps_each_windows_selection_trace(tmp_path, rng):
    from genofast.models._selection import trace_to_json

    types = rng.integers(0, 2, (3, 12), dtype=np.uint8)
    data = types[rng.integers(0, 3, 90)] ^ (rng.random((90, 12)) < 0.05)
    chain = ConditionalRBMChain(12, window=6, n_hidden=3, k=2).fit(data, epochs=3, seed=1, eval_every=1, n_eval=20)
    assert [[row["epoch"] for row in m.trace] for m in chain.models] == [[1, 2, 3], [1, 2, 3]]
    chain.save(tmp_path / "c.safetensors")
    back = ConditionalRBMChain.load(tmp_path / "c.safetensors")
    for a, b in zip(chain.models, back.models):
        assert (b.epoch, b.best_epoch) == (a.epoch, a.best_epoch) == (3, a.best_epoch) and a.best_epoch in (1, 2, 3)
        assert trace_to_json(b.trace) == trace_to_json(a.trace)
    assert (back.sample(30, seed=2, allow_copies=True).to_numpy()
            == chain.sample(30, seed=2, allow_copies=True).to_numpy()).all()

    def bad(meta):
        meta["windows"][1]["best_epoch"] = 7
        return meta

    rewrite_checkpoint(tmp_path / "c.safetensors", tmp_path / "bad.safetensors", config=bad)
    with pytest.raises(FormatError, match="bad.safetensors.*window 1: best_epoch 7 is not in the trace"):
        ConditionalRBMChain.load(tmp_path / "bad.safetensors")

    def old(meta):  # written before the windows' training records were kept
        del meta["windows"]
        return meta

    rewrite_checkpoint(tmp_path / "c.safetensors", tmp_path / "old.safetensors", config=old)
    old_chain = ConditionalRBMChain.load(tmp_path / "old.safetensors")
    assert all(m.trace == [] and m.best_epoch is None for m in old_chain.models)


def test_conditional_chain_checkpoints_are_validated_on_load(tmp_path, rng):
    data = rng.integers(0, 2, (40, 10), dtype=np.uint8)
    chain = ConditionalRBMChain(10, window=4, n_hidden=3, training="cd", k=1).fit(data, epochs=1, seed=1)
    chain.save(tmp_path / "c.safetensors")
    cases = [(set_value("1.W", np.nan), None, "'1.W' holds NaN"),
             (lambda a: a.update({"2.A": a["2.A"][:1]}), None, "'2.A' has shape"),
             (None, lambda c: {**c, "models": c["models"][:2]}, "2 window models for 3 windows"),
             (None, lambda c: {**c, "n_snps": 11}, "window model 2 has 2 SNPs and context 4, the windows imply 3"),
             (None, lambda c: {**c, "context": 0}, "context must be an integer")]
    for change, config, message in cases:
        assert_refused(rewrite_checkpoint(tmp_path / "c.safetensors", tmp_path / "bad.safetensors", change, config),
                       (load_model,), message)


def test_checkpoint_of_a_model_beyond_memory_names_the_file(tmp_path, rng):
    RBM(24, 4, local_hidden=9).fit(rng.integers(0, 2, (20, 24), dtype=np.uint8), epochs=1).save(tmp_path / "m.st")
    huge = rewrite_checkpoint(tmp_path / "m.st", tmp_path / "huge.st", config=lambda c: {
        **c, "config": {**c["config"], "local_hidden": 10**40}})
    with pytest.raises(MemoryError, match=r"huge\.st: an RBM of 24 visible x 1000\d+ hidden units needs about"):
        load_model(huge)


@pytest.mark.parametrize("name, value", [
    ("lr", float("nan")), ("lr", float("inf")), ("lr", -1.0), ("lr", 0.0), ("l2", -0.1), ("l2", float("nan")),
    ("momentum", 1.0), ("momentum", float("nan")), ("k", 0), ("n_chains", 0), ("batch_size", 0), ("batch_size", 2.5),
    ("n_context", -1), ("sample_k", -3), ("k", True),
])
def test_hyperparameters_are_validated(name, value):
    with pytest.raises(ValueError, match=f"^{name} must be"):
        RBM(6, 3, training="cd", **{name: value})


def test_hidden_units_beyond_memory_are_refused(monkeypatch):
    import genofast.models._base as base

    monkeypatch.setattr(base, "available_memory", lambda: 2**30)
    RBM(100, 1000)  # 100 x 1000 weights: 2 MB
    with pytest.raises(MemoryError, match=r"RBM of 100 visible x 10000000 hidden units needs about 18\.6 GiB"):
        RBM(100, 10_000_000, local_hidden=0)
    with pytest.raises(MemoryError, match=r"RBM of 100 visible x 10000038 hidden units"):  # + 38 local by default
        RBM(100, 10_000_000)


def test_divergence_stops_training_and_keeps_the_last_good_checkpoint(tmp_path, rng):
    data = rng.integers(0, 2, (64, 16), dtype=np.uint8)
    path = tmp_path / "rbm.safetensors"
    RBM(16, 4, training="pcd", k=1, n_chains=8).fit(data, epochs=1, seed=1, checkpoint=path)
    good = path.read_bytes()
    # a finite but absurd rate: one Adam step moves every weight by ~1e30, the next overflows
    m = RBM(16, 4, training="pcd", k=1, n_chains=8, batch_size=32, lr=1e30)
    with pytest.raises(FloatingPointError, match=r"diverged in epoch 1: parameter '\w+' became NaN"):
        m.fit(data, epochs=3, seed=1, checkpoint=path)
    assert path.read_bytes() == good
    with pytest.raises(ValueError, match="not saved"):
        m.save(path)
    assert path.read_bytes() == good


@pytest.mark.parametrize("seed", [-5, 2**64, 2**63, 0.5, None])
def test_bad_seeds_are_refused_naming_seed(seed, rng):
    m = RBM(8, 3, k=1, n_chains=4)
    data = rng.integers(0, 2, (10, 8), dtype=np.uint8)
    with pytest.raises(ValueError, match="^seed must be an integer in"):
        m.sample(4, seed=seed)
    with pytest.raises(ValueError, match="^seed must be an integer in"):
        m.fit(data, epochs=1, seed=seed)
    with pytest.raises(ValueError, match="^seed must be an integer in"):
        m.impute(HaplotypeMatrix.from_numpy(data), sweeps=3, burn_in=1, seed=seed)
    chain = ConditionalRBMChain(8, window=4, n_hidden=2, training="cd", k=1)
    with pytest.raises(ValueError, match="^seed must be an integer in"):
        chain.sample(4, seed=seed)
    assert m.sample(2, seed=2**63 - 1).shape == (2, 8)


def test_sampling_zero_haplotypes_gives_an_empty_matrix():
    m = RBM(70, 3, k=2)
    s = m.sample(0, seed=1)
    assert s.shape == (0, 70) and s.to_numpy().shape == (0, 70)


def test_sampling_refuses_what_memory_cannot_hold(monkeypatch):
    import genofast.models._base as base

    m = RBM(1000, 50, training="rdm", k=1, local_hidden=0, dropout=0.0)
    monkeypatch.setattr(base, "available_memory", lambda: 2**30)
    assert m.sample(100, seed=1).shape == (100, 1000)
    with pytest.raises(MemoryError, match=r"sampling 1000000 haplotypes x 1000 SNPs needs about 15\.\d GiB"):
        m.sample(1_000_000, seed=1)
    with pytest.raises(ValueError, match="^k must be an integer"):
        m.sample(10, k=0, seed=1)


_MEASURE = """
import numpy as np
def peak():  # VmHWM: this process's peak resident memory (ru_maxrss would carry the forking parent's over exec)
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM:"))
from genofast.models import RBM
m = RBM(2000, 100, k=2, training="rdm")
m.sample(10, seed=1)
before = peak()
m.sample(15000, seed=1)
print(peak() - before, m.sample_bytes(15000))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_sample_memory_estimate_matches_the_measured_peak():
    import subprocess

    out = subprocess.run([sys.executable, "-c", _MEASURE], capture_output=True, text=True, check=True)
    measured, estimate = map(int, out.stdout.split())
    assert measured < 1.25 * estimate
    assert estimate < 2 * measured


def test_sample_time_estimate_is_the_right_order():
    import time

    m = RBM(800, 100, training="rdm", k=20)
    start = time.perf_counter()
    m.sample(2000, seed=1)
    took = time.perf_counter() - start
    estimate = m.sample_seconds(2000)
    # Small timed batches carry fixed overheads, so the estimate errs long; the
    # bounds are loose for a loaded machine but catch a missing factor n or k.
    assert took / 10 < estimate < 100 * took


def test_sample_refuses_exact_copies_of_training_haplotypes(tmp_path):
    from genofast.models import CopiesError

    every = ((np.arange(16)[:, None] >> np.arange(4)) & 1).astype(np.uint8)  # all 16 haplotypes of 4 SNPs
    m = RBM(4, 3, k=1, n_chains=4).fit(every, epochs=1, seed=1)
    with pytest.raises(CopiesError, match=r"8 of 8 synthetic haplotypes are exact copies"):
        m.sample(8, seed=2)
    assert m.sample(8, seed=2, allow_copies=True).n_haplotypes == 8
    m.save(tmp_path / "m.safetensors")  # the fingerprints travel with the checkpoint
    with pytest.raises(CopiesError):
        RBM.load(tmp_path / "m.safetensors").sample(8, seed=2)
    m.fit(every, epochs=2, seed=1, fingerprint=False)
    assert m.sample(8, seed=2).n_haplotypes == 8  # no fingerprints, nothing to check against


def _two_populations(rng):
    """Two labelled groups with opposite allele frequencies: what a label-conditional RBM must tell apart."""
    p = np.stack([rng.uniform(0.05, 0.3, 60), rng.uniform(0.7, 0.95, 60)])
    labels = np.repeat(["A", "B"], 200)
    x = (rng.random((400, 60)) < p[(labels == "B").astype(int)]).astype(np.uint8)
    return x, labels


def test_label_conditional_rbm_samples_each_label_at_its_own_frequencies(rng, tmp_path):
    x, labels = _two_populations(rng)
    m = RBM(60, 16, classes=["A", "B"]).fit(x, epochs=20, seed=1, labels=labels, eval_every=0)
    for lab in "AB":
        s = m.sample(400, seed=2, labels=lab)
        assert all(i.endswith(f".{lab}") for i in s.ids)
        want = x[labels == lab].mean(0)  # the group's own allele frequencies, by numpy
        got = s.to_numpy().mean(0)
        assert np.corrcoef(got, want)[0, 1] > 0.9
        assert abs(got.mean() - want.mean()) < 0.03  # the groups' means are ~0.18 and ~0.82
    mixed = m.sample(4, seed=3, labels=["A", "B", "B", "A"])
    assert list(mixed.ids) == ["rbm0.A", "rbm1.B", "rbm2.B", "rbm3.A"]
    m.save(tmp_path / "c.safetensors")
    back = RBM.load(tmp_path / "c.safetensors")
    assert back.classes == ["A", "B"]
    np.testing.assert_array_equal(back.sample(50, seed=4, labels="B").to_numpy(),
                                  m.sample(50, seed=4, labels="B").to_numpy())


def test_label_conditional_rbm_bad_input(rng):
    x, labels = _two_populations(rng)
    m = RBM(60, 8, classes=["A", "B"])
    with pytest.raises(ValueError, match="give labels"):
        m.fit(x, epochs=1, seed=0)
    with pytest.raises(ValueError, match=r"unknown label\(s\) \['C'\]"):
        m.fit(x, epochs=1, seed=0, labels=np.where(labels == "A", "A", "C"))
    with pytest.raises(ValueError, match="399 labels for 400 haplotypes"):
        m.fit(x, epochs=1, seed=0, labels=labels[:-1])
    m.fit(x, epochs=1, seed=0, labels=labels, eval_every=0)
    with pytest.raises(ValueError, match="unknown label"):
        m.sample(3, labels="EUR")
    with pytest.raises(ValueError, match="conditional"):
        m.impute(HaplotypeMatrix.from_numpy(x[:2]))
    with pytest.raises(ValueError, match="not conditional"):
        RBM(60, 8).fit(x, epochs=1, seed=0, labels=labels)
    with pytest.raises(ValueError, match="distinct"):
        RBM(60, 8, classes=["A", "A"])
    with pytest.raises(ValueError, match="persistent"):
        RBM(60, 8, classes=["A", "B"], training="pcd")
    with pytest.raises(ValueError, match="not label-conditional"):
        ConditionalRBMChain(120, window=60, classes=["A", "B"])


def test_dropout_masks_hidden_units_per_chain(rng, tmp_path):
    # one hidden unit that is always on and turns every visible unit on; dropped, every visible unit is off
    m = RBM(4, 1, "bernoulli", dropout=0.5, local_hidden=0)
    m.params["W"][:] = 30.0
    m.params["a"][:] = -15.0
    m.params["b"][:] = 10.0
    s = m.sample(4000, k=3, seed=1).to_numpy()
    full = (s == 1).all(1)
    assert ((s == 0).all(1) | full).all()  # a chain keeps its mask through its sweeps
    assert abs(full.mean() - 0.5) < 0.03
    m.config["dropout"] = 0.0
    assert (m.sample(200, k=3, seed=1).to_numpy() == 1).all()
    # masks: keyed, drawn for the whole batch and cut to a process's rows
    m.config["dropout"] = 0.3
    whole = m._mask(10, (4, 7, 1))
    np.testing.assert_array_equal(whole.numpy(), np.random.default_rng((4, 7, 1)).random((10, 1)) >= 0.3)
    np.testing.assert_array_equal(m._mask(10, (4, 7, 1), (3, 8)).numpy(), whole[3:8].numpy())


def test_dropout_training_resumes_bit_identically(tmp_path, rng):
    data = rng.integers(0, 2, (200, 30), dtype=np.uint8)
    data[:, 1] = data[:, 0]
    for training in ("rdm", "cd", "pcd"):
        opts = dict(k=2, n_chains=16, training=training, dropout=0.25)
        full = RBM(30, 8, "relu", **opts).fit(data, epochs=4, seed=5)
        part = RBM(30, 8, "relu", **opts).fit(data, epochs=2, seed=5)
        part.save(tmp_path / "rbm.safetensors")
        resumed = RBM.load(tmp_path / "rbm.safetensors").fit(data, epochs=4, seed=5)
        assert resumed.config["dropout"] == 0.25
        for k in full.params:
            np.testing.assert_array_equal(full.params[k].numpy(), resumed.params[k].numpy())
        plain = RBM(30, 8, "relu", **{**opts, "dropout": 0.0}).fit(data, epochs=4, seed=5)
        assert not np.array_equal(plain.params["W"].numpy(), full.params["W"].numpy())
        a, b = (m.sample(20, k=5, seed=9).to_numpy() for m in (full, resumed))
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("bad", [-0.1, 1.0, float("nan"), "0.2"])
def test_bad_dropout_is_refused(bad):
    with pytest.raises(ValueError, match="dropout"):
        RBM(5, 2, dropout=bad)


def test_local_units_see_their_window_only():
    # hand-made layout: 10 SNPs, 3 hidden units, the last 2 local with windows of 4 centred at 2.5 and 7.5
    w, b = RBM._local_scales(10, 3, 2, 4, 5.0)
    want = np.zeros((10, 3), np.float32)
    want[:, 0] = 1.0
    want[0:4, 1] = 5.0
    want[6:10, 2] = 5.0
    np.testing.assert_array_equal(w, want)
    np.testing.assert_array_equal(b, [1.0, 5.0, 5.0])
    # windows near the ends are shifted inside, never cut short; a window wider than the SNPs covers them all
    w, _ = RBM._local_scales(100, 7, 7, 30, 1.0)
    assert ((w > 0).sum(0) == 30).all() and (w[:, 0] > 0)[:30].all() and (w[:, -1] > 0)[-30:].all()
    assert (RBM._local_scales(5, 2, 1, 9, 1.0)[0] > 0).all()
    assert RBM._local_scales(5, 2, 0, 9, 1.0) is None


def test_local_coverage_counts_the_snps_inside_some_window():
    # hand-made: 100 SNPs, 2 windows of 32 centred at 25 and 75 cover SNPs 9-40 and 59-90
    assert RBM(100, 3, local_hidden=2).local_coverage == 0.64
    assert RBM(805).local_coverage == 1.0 and RBM(805, local_hidden=0).local_coverage == 0.0
    # the automatic count stops at 300: 300 windows of 32 SNPs, 66.7 apart, cover 9,600 of 20,000 SNPs
    m = RBM(20_000, 1)
    assert m.config["local_hidden"] == 300 and m.local_coverage == 0.48


def test_local_units_stay_local_and_step_faster(rng):
    data = rng.integers(0, 2, (120, 40), dtype=np.uint8)
    data[:, 1] = data[:, 0]
    m = RBM(40, 4, "relu", k=2, n_chains=16, local_hidden=8, local_window=6, local_lr=4.0).fit(data, epochs=3,
                                                                                                seed=2)
    assert m.params["W"].shape == (40, 12) and m.n_units == 12
    outside = RBM._local_scales(40, 12, 8, 6, 4.0)[0] == 0
    assert outside.sum() == 8 * 34 and (m.params["W"].numpy()[outside] == 0).all()
    # one plain SGD step (no momentum, no centring): each step is lr x gradient x its unit's multiplier, and the
    # visible biases take the local units' rate
    s = RBM(40, 4, "relu", optimizer="sgd", momentum=0.0, centered=False, lr=0.01, local_hidden=8,
            local_window=6, local_lr=4.0)
    before = {k: v.clone() for k, v in s.params.items()}
    g = {k: torch.ones_like(v) for k, v in s.params.items()}
    s._step(g)
    scale_w, scale_b = RBM._local_scales(40, 12, 8, 6, 4.0)
    np.testing.assert_allclose((s.params["W"] - before["W"]).numpy(), 0.01 * scale_w, rtol=1e-6)
    np.testing.assert_allclose((s.params["b"] - before["b"]).numpy(), 0.01 * scale_b, rtol=1e-6)
    np.testing.assert_allclose((s.params["a"] - before["a"]).numpy(), 0.04, rtol=1e-6)


@pytest.mark.parametrize("shape", [(805, 100, 300, 32), (120, 4, 30, 6), (97, 0, 25, 5), (150, 3, 21, 4)])
def test_local_units_products_are_the_dense_products(shape, rng, monkeypatch):
    # the band (models/_local_band.py) against numpy's dense products with W zero outside the windows: chunks
    # of uneven size, windows shifted inside at the ends, no fully connected units
    V, H0, L, window = shape
    assert (RBM(V, H0, local_hidden=L, local_window=window)._band is not None) == (V * L >= RBM.BAND_MIN)
    monkeypatch.setattr(RBM, "BAND_MIN", 0)  # the small models too
    m = RBM(V, H0, local_hidden=L, local_window=window)
    assert m._band is not None
    W = rng.normal(size=(V, H0 + L)).astype(np.float32) * (RBM._local_scales(V, H0 + L, L, window, 1.0)[0] > 0)
    m.params["W"] = torch.from_numpy(W)
    v = rng.integers(0, 2, (9, V)).astype(np.float32)
    h = rng.exponential(size=(9, H0 + L)).astype(np.float32)
    W64, close = W.astype(np.float64), dict(rtol=1e-5, atol=1e-4)  # float32 sums of up to 400 terms
    np.testing.assert_allclose(m._pre_hidden(torch.from_numpy(v)).numpy(), v @ W64, **close)
    np.testing.assert_allclose(m._pre_visible(torch.from_numpy(h)).numpy(), h @ W64.T, **close)
    m.params["W"].mul_(2)  # an in-place step: the cached blocks follow
    np.testing.assert_allclose(m._pre_hidden(torch.from_numpy(v)).numpy(), v @ (2 * W64), **close)
    # windows as wide as the SNPs: the dense columns, no band
    assert RBM(20, 2, local_hidden=6, local_window=20)._band is None and RBM(805, local_hidden=0)._band is None


def test_local_units_covering_everything_at_rate_one_are_global_units(rng, tmp_path):
    data = rng.integers(0, 2, (100, 20), dtype=np.uint8)
    data[:, 3] = data[:, 2]
    plain = RBM(20, 6, "relu", k=2, n_chains=16, local_hidden=0, dropout=0.0).fit(data, epochs=3, seed=4)
    local = RBM(20, 0, "relu", k=2, n_chains=16, local_hidden=6, local_window=20, local_lr=1.0, dropout=0.0).fit(
        data, epochs=3, seed=4)
    for k in plain.params:
        np.testing.assert_array_equal(plain.params[k].numpy(), local.params[k].numpy())
    # and a local model resumes bit for bit from its checkpoint, its layout read back from the config
    opts = dict(k=2, n_chains=16, local_hidden=4, local_window=5)
    full = RBM(20, 2, "relu", **opts).fit(data, epochs=4, seed=4)
    RBM(20, 2, "relu", **opts).fit(data, epochs=2, seed=4).save(tmp_path / "rbm.safetensors")
    resumed = RBM.load(tmp_path / "rbm.safetensors").fit(data, epochs=4, seed=4)
    assert resumed.config["local_hidden"] == 4 and resumed.config["local_lr"] == 10.0
    for k in full.params:
        np.testing.assert_array_equal(full.params[k].numpy(), resumed.params[k].numpy())


@pytest.mark.parametrize("bad", [dict(local_hidden=0, n_hidden=0), dict(local_hidden=-1), dict(local_window=0),
                                 dict(local_lr=0.0), dict(local_lr=float("nan")), dict(local_hidden=1.5)])
def test_bad_local_units_are_refused(bad):
    with pytest.raises(ValueError, match="local"):
        RBM(5, **{"n_hidden": 6, **bad})


def test_seam_couplings_step_at_the_local_rate():
    # hand-made: 3 context SNPs, 4 window SNPs, reach 2: context SNP i lies 3 - i before the seam, window SNP j
    # j + 1 after it, so (i, j) pairs with (3 - i) + j <= 2 step 5 times as far: rows 1-2, columns 0-1
    first, block = RBM._seam_scale(3, 4, 2, 5.0)
    assert first == 1
    np.testing.assert_array_equal(block, [[5.0, 1.0], [5.0, 5.0]])
    first, block = RBM._seam_scale(2, 3, 10, 4.0)  # a reach beyond both sides covers everything
    assert first == 0 and block.shape == (2, 3) and (block == 4.0).all()
    assert RBM._seam_scale(0, 4, 2, 5.0) is None
    # one plain SGD step with unit gradients on a conditional RBM with local units and two labels: each A step is
    # lr x its multiplier; the label rows and a conditional RBM without local units step at the plain rate
    opts = dict(optimizer="sgd", momentum=0.0, centered=False, lr=0.01, n_context=4, classes=["x", "y"])
    want = np.full((6, 8), 0.01)
    for i in range(4):
        for j in range(8):
            if (4 - i) + j <= 3:
                want[i, j] = 0.04
    assert (want == 0.04).sum() == 6
    for local, expect in ((2, want), (0, np.full((6, 8), 0.01))):
        m = RBM(8, 2, "relu", training="cd", local_hidden=local, local_window=3, local_lr=4.0, **opts)
        before = m.params["A"].clone()
        m._step({k: torch.ones_like(v) for k, v in m.params.items()})
        np.testing.assert_allclose((m.params["A"] - before).numpy(), expect, rtol=1e-6)


def test_chain_context_gain_amplifies_sampled_contexts_around_the_training_mean(tmp_path, rng):
    types = rng.integers(0, 2, (4, 18), dtype=np.uint8)
    data = types[rng.integers(0, 4, 300)]
    chain = ConditionalRBMChain(18, window=6, context=4, n_hidden=6, training="cd", k=2, lr=0.05, decay=0.0).fit(
        data, epochs=10, seed=1)
    for t, (s, _) in enumerate(chain.bounds[1:], 1):
        np.testing.assert_allclose(chain.context_means[t], data[:, s - 4 : s].mean(0), rtol=1e-6)
    plain = chain.sample(50, k=3, seed=2, allow_copies=True).to_numpy()
    np.testing.assert_array_equal(chain.sample(50, k=3, seed=2, context_gain=1.0, allow_copies=True).to_numpy(), plain)
    gained = chain.sample(50, k=3, seed=2, context_gain=1.5, allow_copies=True).to_numpy()
    # the same draw window by window: window t given u_bar + 1.5 (u - u_bar), its biases shifted accordingly
    parts = [chain.models[0].sample(50, 3, 2, allow_copies=True).to_numpy()]
    for t, model in enumerate(chain.models[1:], 1):
        u = parts[-1][:, -4:].astype(np.float64)
        u_bar = data[:, chain.bounds[t][0] - 4 : chain.bounds[t][0]].mean(0)
        amplified = u_bar + 1.5 * (u - u_bar)
        shift_v, shift_h = model._shifts(torch.tensor(amplified, dtype=torch.float32))
        A, B = model.params["A"].double().numpy(), model.params["B"].double().numpy()
        np.testing.assert_allclose(shift_v.numpy(), u_bar @ A + 1.5 * (u - u_bar) @ A, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(shift_h.numpy(), u_bar @ B + 1.5 * (u - u_bar) @ B, rtol=1e-4, atol=1e-5)
        parts.append(model.sample(50, 3, 2 + t, context=torch.tensor(amplified, dtype=torch.float32),
                                  allow_copies=True).to_numpy())
    np.testing.assert_array_equal(gained, np.concatenate(parts, axis=1))
    assert not np.array_equal(gained, plain)
    # the means travel with the checkpoint; a checkpoint without them samples at gain 1 and refuses another gain
    chain.save(tmp_path / "c.safetensors")
    loaded = load_model(tmp_path / "c.safetensors")
    np.testing.assert_array_equal(loaded.sample(50, k=3, seed=2, context_gain=1.5, allow_copies=True).to_numpy(),
                                  gained)
    old = rewrite_checkpoint(tmp_path / "c.safetensors", tmp_path / "old.safetensors",
                             lambda a: [a.pop(k) for k in list(a) if k.endswith("context_mean")])
    old = load_model(old)
    np.testing.assert_array_equal(old.sample(50, k=3, seed=2, allow_copies=True).to_numpy(), plain)
    with pytest.raises(ValueError, match="context_gain needs the mean of each window's training contexts"):
        old.sample(50, k=3, seed=2, context_gain=1.5)
    bad = rewrite_checkpoint(tmp_path / "c.safetensors", tmp_path / "bad.safetensors", set_value("2.context_mean", 1.5))
    with pytest.raises(FormatError, match="'2.context_mean'"):
        load_model(bad)
    for gain in (0.0, -1.0, float("nan"), "1.5"):
        with pytest.raises(ValueError, match="context_gain must be"):
            chain.sample(5, k=1, seed=0, context_gain=gain)


def test_dropout_spares_the_local_units():
    m = RBM(30, 5, dropout=0.5, local_hidden=4, local_window=8)
    keep = m._mask(2000, (1, 2, 0)).numpy()
    assert keep.shape == (2000, 9) and keep[:, 5:].all()
    # the fully connected units' draws are those of a model without local units
    np.testing.assert_array_equal(keep[:, :5], RBM(30, 5, dropout=0.5, local_hidden=0)._mask(2000, (1, 2, 0)).numpy())
    assert abs(keep[:, :5].mean() - 0.5) < 0.02


@pytest.mark.parametrize("bad", [0, 10**6 + 1, 2**63, 10**40])
def test_a_stored_sweep_count_out_of_bounds_is_refused(bad, tmp_path):
    # a checkpoint whose sample_k would have sample() run for ever is refused on load, with the file named
    with pytest.raises(ValueError, match="sample_k"):
        RBM(6, 2, sample_k=bad)
    RBM(6, 2).save(tmp_path / "m.safetensors")

    def damage(meta):
        meta["config"]["sample_k"] = bad
        return meta

    rewrite_checkpoint(tmp_path / "m.safetensors", tmp_path / "bad.safetensors", config=damage)
    with pytest.raises(ValueError, match="sample_k") as e:
        RBM.load(tmp_path / "bad.safetensors")
    assert "bad.safetensors" in str(e.value)


def test_a_checkpoint_from_before_dropout_and_local_units_loads_without_them(tmp_path, rng):
    # configs written before those options existed lack their keys: they load as the plain RBM they were,
    # not with today's defaults (dropout 0.3, local units)
    data = rng.integers(0, 2, (40, 12), dtype=np.uint8)
    plain = RBM(12, 3, k=2, n_chains=8, local_hidden=0, dropout=0.0).fit(data, epochs=1, seed=1)
    plain.save(tmp_path / "m.safetensors")

    def old(meta):
        del meta["config"]["dropout"], meta["config"]["local_hidden"]
        return meta

    rewrite_checkpoint(tmp_path / "m.safetensors", tmp_path / "old.safetensors", config=old)
    m = RBM.load(tmp_path / "old.safetensors")
    assert m.config["dropout"] == 0.0 and m.n_units == 3
    assert (m.sample(20, seed=3).to_numpy() == plain.sample(20, seed=3).to_numpy()).all()
    assert RBM(12, 3).config["local_hidden"] == 5 and RBM(12, 3).config["dropout"] == 0.3  # today's defaults
    # and so do a conditional chain's window models
    ConditionalRBMChain(12, window=6, n_hidden=3, k=2, local_hidden=0).save(tmp_path / "chain.safetensors")

    def old_chain(meta):
        for cfg in meta["models"]:
            del cfg["dropout"], cfg["local_hidden"]
        return meta

    rewrite_checkpoint(tmp_path / "chain.safetensors", tmp_path / "old_chain.safetensors", config=old_chain)
    chain = ConditionalRBMChain.load(tmp_path / "old_chain.safetensors")
    assert all(w.config["dropout"] == 0.0 and w.n_units == 3 for w in chain.models)
