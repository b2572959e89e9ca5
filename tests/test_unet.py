"""The iterative U-Net imputer: network shapes, the loop's invariants, the summed loss, training and checkpoints."""

import re

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from genofast.impute import UNetImputer, mask_calls  # noqa: E402
from genofast.impute._unet_net import UNet1D  # noqa: E402
from genofast.impute.unet import windows  # noqa: E402
from genofast.io._files import FormatError  # noqa: E402
from genofast.matrix import GenotypeMatrix  # noqa: E402
from genofast.simulate import simulate  # noqa: E402
from reference import assert_refused, edit_config, rewrite_checkpoint, set_value  # noqa: E402

SMALL = dict(filters=4, dense=16, batch_size=16, lr=3e-3, window=None)


@pytest.fixture(scope="module")
def cohort():
    """120 simulated diploids x 200 SNPs with linkage, 1% of calls missing."""
    torch.set_num_threads(1)
    h = simulate(720, 200, seed=3).haplotypes.to_numpy()[:240]
    d = (h[0::2] + h[1::2]).astype(np.int8)
    d[np.random.default_rng(0).random(d.shape) < 0.01] = -1
    return GenotypeMatrix.from_numpy(d)


@pytest.mark.parametrize("n", [1, 5, 8, 33, 101])
def test_unet_shapes_for_any_snp_count(n):
    net = UNet1D(n)
    for train in (True, False):
        net.train(train)
        out = net(torch.zeros(3, 2, n), torch.Generator().manual_seed(0))
        assert out.shape == (3, n)


def test_windows_cover_every_snp_once():
    for n, w, o in [(100, None, 0), (100, 100, 10), (1000, 300, 50), (1001, 256, 0), (57, 20, 19)]:
        ws = windows(n, w, o)
        owner = np.zeros(n, int)
        for s, e, cs, ce in ws:
            assert 0 <= s <= cs < ce <= e <= n
            assert w is None or e - s == min(w, n)
            owner[cs:ce] += 1
        assert (owner == 1).all()
        assert all(a[1] >= b[0] for a, b in zip(ws, ws[1:]))  # consecutive windows overlap or touch


class _Stub(torch.nn.Module):
    """A 'network' whose logits are 3 x allele - 1.5 (allele -1 where hidden): outputs the hand computation can
    follow."""

    def __init__(self):
        super().__init__()
        self.p = torch.nn.Parameter(torch.zeros(1))

    def forward(self, x, gen=None):
        return 3 * x[:, 0] - 1.5 + 0 * self.p

    def weights(self):
        return []


def test_summed_loss_equals_hand_computation():
    d = torch.tensor([[0, 1, 2, -1], [2, 2, 1, 0]], dtype=torch.int8)
    m = UNetImputer(4, window=None, mask_fraction=0.0, l2=0.0, iterations=3)
    m._net = _Stub()
    m._opt = torch.optim.SGD(m._net.parameters(), lr=0.0)
    # no call hidden, so the pair is (g/2, g/2) at homozygous calls and (1, 0) or (0, 1) at heterozygous ones;
    # logits 1.5 for allele 1 and -1.5 for allele 0; the genotype probability of the truth is then
    # s^2 at a homozygous call (both haplotypes right with probability s = sigmoid(1.5)) and s^2 + (1 - s)^2 at a
    # heterozygous one (both right, or both wrong), and it is the same every iteration
    s = 1 / (1 + np.exp(-1.5))
    per_call = {0: -np.log(s ** 2), 2: -np.log(s ** 2), 1: -np.log(s ** 2 + (1 - s) ** 2)}
    known = [0, 1, 2, 2, 2, 1, 0]
    one = np.mean([per_call[k] for k in known])
    got = m._train_batch(d, 3, torch.Generator().manual_seed(0), (0,))
    assert got == pytest.approx(3 * one, rel=1e-5)


def _trained(cohort, **options):
    m = UNetImputer(cohort.n_snps, **{**SMALL, "iterations": 2, "validation": 0.2, **options})
    return m.fit(cohort, epochs=2, seed=5, eval_every=1)


def test_loop_invariants(cohort):
    m = _trained(cohort)
    masked, _ = mask_calls(cohort, 0.3, seed=1)
    d = masked.to_numpy()
    observed = d >= 0
    steps = list(m.iterate(masked, seed=2, iterations=4))
    assert len(steps) == 4
    for a, b, p in steps:
        np.testing.assert_array_equal((a.astype(int) + b)[observed], d[observed])
        np.testing.assert_allclose(p.sum(-1), 1, atol=1e-5)
    out = m.impute(masked, seed=2)
    np.testing.assert_allclose(out.probabilities.sum(-1), 1, atol=1e-5)
    np.testing.assert_array_equal(out.calls[observed], d[observed])  # observed calls untouched
    assert set(np.unique(out.calls)) <= {0, 1, 2}
    last = m.iterate(masked, seed=2, iterations=m.chosen[0])
    *_, (_, _, p_last) = last
    np.testing.assert_allclose(out.probabilities[~observed], p_last[~observed], atol=1e-6)


def test_learns_linkage_beyond_the_most_frequent_genotype(cohort):
    m = UNetImputer(cohort.n_snps, lr=3e-3, batch_size=8, window=None, iterations=1, validation=0.0)
    train = GenotypeMatrix.from_numpy(cohort.to_numpy()[:96])
    m.fit(train, epochs=40, seed=1)
    test = cohort.to_numpy()[96:]
    masked, mask = mask_calls(GenotypeMatrix.from_numpy(test), 0.2, seed=4)
    mask &= test >= 0
    calls = m.impute(masked).calls
    ours = (calls[mask] == test[mask]).mean()
    # independent baseline: the most frequent training genotype at each SNP
    d = train.to_numpy()
    mode = np.array([np.bincount(c[c >= 0], minlength=3).argmax() for c in d.T])
    baseline = (np.broadcast_to(mode, test.shape)[mask] == test[mask]).mean()
    assert ours > baseline + 0.015, (ours, baseline)


def test_same_seed_same_model_and_checkpoint_round_trip(cohort, tmp_path):
    ck = tmp_path / "u.safetensors"
    a = UNetImputer(cohort.n_snps, **{**SMALL, "iterations": 2, "validation": 0.2})
    a.fit(cohort, epochs=2, seed=5, eval_every=1, checkpoint=ck)
    b = _trained(cohort)
    for x, y in zip(a.nets[0].state_dict().values(), b.nets[0].state_dict().values()):
        torch.testing.assert_close(x, y, rtol=0, atol=0)
    assert a.trace == b.trace and a.chosen == b.chosen
    loaded = UNetImputer.load(ck)
    assert loaded.trained and loaded.trace == a.trace
    np.testing.assert_array_equal(loaded.impute(cohort, seed=1).probabilities, a.impute(cohort, seed=1).probabilities)


def _interrupted(cohort, ck):
    """Train with a checkpoint, stopped (KeyboardInterrupt) right after the 4th save: the second unit (window 0, 1
    iteration) has then trained 1 of its 3 epochs."""
    saves = []
    original = UNetImputer.save

    def save_then_stop(self, path):
        original(self, path)
        saves.append(1)
        if len(saves) == 4:
            raise KeyboardInterrupt

    UNetImputer.save = save_then_stop
    try:
        with pytest.raises(KeyboardInterrupt):
            UNetImputer(cohort.n_snps, **{**SMALL, "iterations": (2, 1), "validation": 0.2}).fit(
                cohort, epochs=3, seed=7, eval_every=1, checkpoint=ck)
    finally:
        UNetImputer.save = original
    return ck


def test_resume_mid_unit_repeats_the_uninterrupted_run(cohort, tmp_path):
    full = UNetImputer(cohort.n_snps, **{**SMALL, "iterations": (2, 1), "validation": 0.2})
    full.fit(cohort, epochs=3, seed=7, eval_every=1)
    resumed = UNetImputer.load(_interrupted(cohort, tmp_path / "u.safetensors"))
    assert (resumed.unit, resumed.epoch) == (1, 1)
    resumed.fit(cohort, epochs=3, seed=7, eval_every=1)
    assert resumed.trace == full.trace and resumed.chosen == full.chosen
    for x, y in zip(resumed.nets[0].state_dict().values(), full.nets[0].state_dict().values()):
        torch.testing.assert_close(x, y, rtol=0, atol=0)


@pytest.fixture(scope="module")
def mid_unit(cohort, tmp_path_factory):
    """A checkpoint written part-way through a unit: a finished variant, the current net, its optimizer, its best."""
    return _interrupted(cohort, tmp_path_factory.mktemp("unet") / "u.safetensors")


def _nan_in(prefix):
    """NaN in the first tensor under ``prefix`` (the networks' tensor names depend on their layers)."""
    def change(arrays):
        arrays[min(k for k in arrays if k.startswith(prefix))].flat[0] = np.nan
    return change


@pytest.mark.parametrize("change, config, message", [
    (_nan_in("var2."), None, r"'var2\..*' holds NaN"),
    (_nan_in("cur."), None, r"'cur\..*' holds NaN"),
    (_nan_in("best."), None, r"'best\..*' holds NaN"),
    (lambda a: a.pop("opt.0.exp_avg_sq"), None, "'opt.0.exp_avg_sq' is missing"),
    (set_value("opt.1.exp_avg", np.nan), None, "'opt.1.exp_avg' holds NaN"),
    (None, edit_config(lambda c: c["state"].update(unit=99)), "unit must be an integer"),
    (None, edit_config(lambda c: c["state"].update(chosen=[None, None])), "2 windows recorded, the config makes 1"),
    (None, lambda c: {k: v for k, v in c.items() if k != "state"}, "lacks the training 'state'"),
])
def test_checkpoints_are_validated_on_load(mid_unit, change, config, message):
    assert UNetImputer.load(mid_unit).unit < 2  # the intact checkpoint is mid-training and loads
    assert_refused(rewrite_checkpoint(mid_unit, mid_unit.parent / "bad.safetensors", change, config),
                   (UNetImputer.load,), message)


def test_fit_seconds_scales_one_timed_batch_to_what_is_left(cohort, monkeypatch):
    """Hand-computed with a clock that advances 1 s per reading: 50 samples leave 45 to train on (10% held out),
    4 batches of 10; two windows of 20 SNPs (30 SNPs, window 20, overlap 4); units at 3 and 1 iterations. The
    timed batch (10 x 20 x 3 cells) took 1 s, so 2 epochs of everything cost 10 x 4 x 20 x (3+1+3+1) x 2 / 600."""
    import types

    import genofast.impute.unet as unet

    ticks = iter(range(1000))
    monkeypatch.setattr(unet, "_time", types.SimpleNamespace(perf_counter=lambda: next(ticks)))
    m = UNetImputer(30, **{**SMALL, "batch_size": 10, "window": 20, "overlap": 4, "iterations": (3, 1),
                           "validation": 0.1})
    assert [w[:2] for w in m.windows] == [(0, 20), (10, 30)]
    assert m.fit_seconds(50, 2) == pytest.approx(10 * 4 * 20 * 8 * 2 / 600)
    m.unit, m.epoch = 1, 1  # resumed in window 0's 1-iteration unit after one of its epochs
    assert m.fit_seconds(50, 2) == pytest.approx(10 * 4 * 20 * (1 * 1 + 3 * 2 + 1 * 2) / 600)
    m.unit = len(m.units)
    assert m.fit_seconds(50, 2) == 0.0


def test_fit_seconds_changes_neither_the_run_nor_the_rng(cohort):
    torch.manual_seed(11)
    m = UNetImputer(cohort.n_snps, **{**SMALL, "iterations": 2, "validation": 0.2})
    assert m.fit_seconds(cohort.n_samples, 2) > 0
    after = torch.rand(4)
    torch.manual_seed(11)
    np.testing.assert_array_equal(after, torch.rand(4))
    m.fit(cohort, epochs=2, seed=5, eval_every=1)
    ref = _trained(cohort)
    for x, y in zip(m.nets[0].state_dict().values(), ref.nets[0].state_dict().values()):
        torch.testing.assert_close(x, y, rtol=0, atol=0)
    assert m.trace == ref.trace
    with pytest.raises(ValueError, match="n_samples"):
        m.fit_seconds(0, 2)


def test_keeps_the_variant_with_the_better_validation(cohort):
    m = _trained(cohort, iterations=(3, 1))
    last = {}
    for r in m.trace:
        if "concordance" in r:
            last[r["iterations"]] = max(last.get(r["iterations"], -1), r["concordance"])
    best = max(sorted(last), key=lambda k: last[k])
    assert m.chosen == [best]


def test_windows_are_stitched(cohort):
    m = UNetImputer(cohort.n_snps, **{**SMALL, "window": 80, "overlap": 20, "iterations": 1, "validation": 0.0})
    m.fit(cohort, epochs=1, seed=1)
    assert len(m.windows) == 3 and m.trained
    masked, mask = mask_calls(cohort, 0.2, seed=1)
    out = m.impute(masked, seed=0)
    # each SNP's probabilities come from the window whose core holds it
    for w, (s, e, cs, ce) in enumerate(m.windows):
        g = torch.as_tensor(masked.to_numpy()[:, s:e])
        p = m._impute_window(m.nets[w], g, 1, 0, w).numpy()
        hidden = mask[:, cs:ce]
        np.testing.assert_allclose(out.probabilities[:, cs:ce][hidden], p[:, cs - s: ce - s][hidden], atol=1e-6)


def test_bad_input(cohort, tmp_path):
    d = cohort.to_numpy().copy()
    d[3] = -1
    m = UNetImputer(cohort.n_snps, **SMALL)
    with pytest.raises(ValueError, match="no observed call.*row 3"):
        m.fit(GenotypeMatrix.from_numpy(d), epochs=1)
    with pytest.raises(ValueError, match="has 200 SNPs, the training genotypes 199"):
        m.fit(GenotypeMatrix.from_numpy(cohort.to_numpy()[:, :199]), epochs=1)
    with pytest.raises(RuntimeError, match="not trained"):
        m.impute(cohort)
    with pytest.raises(ValueError, match="validation"):
        UNetImputer(cohort.n_snps, **{**SMALL, "iterations": (2, 1), "validation": 0.0}).fit(cohort, epochs=1)
    with pytest.raises(TypeError, match="unknown options"):
        UNetImputer(10, learning_rate=1)
    with pytest.raises(ValueError, match="genotype dosage"):
        m.fit(np.full((4, 200), 3), epochs=1)
    (tmp_path / "x.safetensors").write_bytes(b"not a checkpoint")
    with pytest.raises(FormatError):
        UNetImputer.load(tmp_path / "x.safetensors")


def test_cli_trains_imputes_and_writes_gt_ds_gp(cohort, tmp_path):
    cyvcf2 = pytest.importorskip("cyvcf2")
    from typer.testing import CliRunner

    from genofast import io
    from genofast.cli import app

    def run(*args):
        return CliRunner().invoke(app, [str(a) for a in args])

    masked, _ = mask_calls(cohort, 0.1, seed=1)
    io.write_vcf(tmp_path / "in.vcf.gz", masked)
    r = run("impute", "unet", tmp_path / "in.vcf.gz", "--out", tmp_path / "out.vcf.gz", "--checkpoint",
            tmp_path / "u.safetensors", "--epochs", "1", "--iterations", "1", "--lr", "1e-3")
    assert r.exit_code == 0, r.output
    assert "imputed" in r.output
    d = masked.to_numpy()
    gt, ds, gp = [], [], []
    for v in cyvcf2.VCF(str(tmp_path / "out.vcf.gz")):
        gt.append([a + b for a, b, *_ in v.genotypes])
        ds.append(v.format("DS")[:, 0])
        gp.append(v.format("GP"))
    gt, ds, gp = np.array(gt).T, np.array(ds).T, np.transpose(np.array(gp), (1, 0, 2))
    observed = d >= 0
    np.testing.assert_array_equal(gt[observed], d[observed])  # observed calls untouched
    assert (gt >= 0).all()  # every call filled
    np.testing.assert_allclose(gp.sum(-1), 1, atol=2e-3)
    np.testing.assert_allclose(ds, gp[..., 1] + 2 * gp[..., 2], atol=2e-3)
    np.testing.assert_array_equal(gt, gp.argmax(-1))
    # the summary line: the median of the VCF's DR2 field over the sites with imputed calls
    dr2 = [v.INFO.get("DR2") for v in cyvcf2.VCF(str(tmp_path / "out.vcf.gz")) if v.INFO.get("IMP")]
    dr2 = np.array([x for x in dr2 if x is not None])
    said = re.search(r"DR2 over the (\d+) sites with imputed calls: median ([0-9.]+), (\d+)% at 0.8", r.output)
    assert said and int(said[1]) == len(dr2)
    assert float(said[2]) == pytest.approx(np.median(dr2), abs=1e-3)  # the VCF's field has 3 decimals
    assert int(said[3]) == pytest.approx(100 * np.mean(dr2 >= 0.8), abs=1)
    # the checkpoint imputes new samples; a SNP set it was not trained on is refused
    r = run("impute", tmp_path / "u.safetensors", tmp_path / "in.vcf.gz", "--out", tmp_path / "again.npz")
    assert r.exit_code == 0, r.output
    io.write_vcf(tmp_path / "short.vcf.gz", GenotypeMatrix.from_numpy(d[:, :150]))
    r = run("impute", tmp_path / "u.safetensors", tmp_path / "short.vcf.gz", "--out", tmp_path / "x.vcf.gz")
    assert r.exit_code == 1 and "200 SNPs" in r.output
    r = run("impute", "unet", tmp_path / "in.vcf.gz", "--out", tmp_path / "x.vcf.gz", "--iterations", "ten")
    assert r.exit_code == 1 and "--iterations" in r.output
    assert not (tmp_path / "x.vcf.gz").exists()


def test_cli_refuses_multiallelic_sites(tmp_path):
    from typer.testing import CliRunner

    from genofast.cli import app

    lines = ["##fileformat=VCFv4.2", "##contig=<ID=1>", '##FORMAT=<ID=GT,Number=1,Type=String,Description="GT">',
             "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\ts1\ts2",
             "1\t100\t.\tA\tC\t.\tPASS\t.\tGT\t0/1\t0/0", "1\t150\t.\tA\tC,G\t.\tPASS\t.\tGT\t0/2\t1/1"]
    (tmp_path / "m.vcf").write_text("\n".join(lines) + "\n")
    r = CliRunner().invoke(app, ["impute", "unet", str(tmp_path / "m.vcf"), "--out", str(tmp_path / "o.vcf.gz")])
    assert r.exit_code == 1 and "multi-allelic" in r.output and "line 6" in r.output


@pytest.mark.cuda
def test_cuda_imputation_matches_cpu(cohort, tmp_path):
    """The same trained weights on both devices: the phasing kernels draw the same splits (Philox), so only float
    rounding in the network separates the two."""
    m = _trained(cohort, iterations=1)  # one iteration: no rounding difference can change a later input
    m.save(tmp_path / "u.safetensors")
    gpu = UNetImputer.load(tmp_path / "u.safetensors", device="cuda")
    masked, mask = mask_calls(cohort, 0.2, seed=3)
    cpu_p = m.impute(masked, seed=4).probabilities
    gpu_p = gpu.impute(masked, seed=4).probabilities
    np.testing.assert_allclose(gpu_p, cpu_p, atol=1e-3)
    assert (gpu_p.argmax(-1) == cpu_p.argmax(-1)).mean() > 0.999
    # and training runs there, deterministically
    a = UNetImputer(cohort.n_snps, device="cuda", **{**SMALL, "iterations": 2, "validation": 0.2})
    b = UNetImputer(cohort.n_snps, device="cuda", **{**SMALL, "iterations": 2, "validation": 0.2})
    a.fit(cohort, epochs=1, seed=1)
    b.fit(cohort, epochs=1, seed=1)
    assert a.trace == b.trace


def test_cli_refuses_a_legend_that_applies_to_nothing(cohort, tmp_path):
    from typer.testing import CliRunner

    from genofast import io
    from genofast.cli import app

    io.write_vcf(tmp_path / "in.vcf.gz", cohort)
    (tmp_path / "x.legend").write_text("id position a0 a1\n")
    r = CliRunner().invoke(app, ["impute", "unet", str(tmp_path / "in.vcf.gz"), "--out", str(tmp_path / "o.vcf.gz"),
                                 "--legend", str(tmp_path / "x.legend")])
    assert r.exit_code == 1 and "applies to .hapt files" in r.output
