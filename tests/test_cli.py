import re

import numpy as np
import pytest
from typer.testing import CliRunner

from genofast import HaplotypeMatrix, io
from genofast.cli import app

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def tiny(tmp_path, rng):
    types = rng.integers(0, 2, (3, 40), dtype=np.uint8)
    h = HaplotypeMatrix.from_numpy(types[rng.integers(0, 3, 120)] ^ (rng.random((120, 40)) < 0.03))
    io.write_hapt(tmp_path / "train.hapt", h)
    return tmp_path


def test_help_on_every_command():
    for cmd in ("demo", "simulate", "train", "generate", "evaluate", "impute", "info"):
        r = run(cmd, "--help")
        assert r.exit_code == 0 and "--help" in r.output
        assert "``" not in r.output  # docstring markup rendered, not shown


def test_help_reflows_docstring_paragraphs(monkeypatch):
    """A command's description is reflowed to the terminal: with the docstring's own line breaks kept, the
    command list showed impute's summary over five ragged lines."""
    monkeypatch.setenv("COLUMNS", "200")
    r = run("impute", "--help")
    lines = [line.strip(" │") for line in r.output.splitlines()]
    assert any("genofast impute unet DATA --out OUT.vcf.gz) or a trained U-Net checkpoint" in line for line in lines)
    r = run("--help")
    assert any(re.match(r"impute +Fill missing calls with a U-Net \(genotypes\), an RBM \(haplotypes\) or boosting "
                        r"\(trios\)\.$", line.strip(" │")) for line in r.output.splitlines())


@pytest.mark.parametrize("cmd", ["demo", "simulate", "train", "generate", "evaluate", "impute", "phase", "info"])
def test_help_leaves_room_for_the_descriptions_at_80_columns(monkeypatch, cmd):
    """Option descriptions start by column 48: with --model's eight choices as its type and --no-X columns
    beside the flags, train's started at column 62, 18 characters wide, and its help ran to 175 lines."""
    monkeypatch.setenv("COLUMNS", "80")
    r = run(cmd, "--help")
    assert max(len(line) for line in r.output.splitlines()) <= 80
    row = next(line for line in r.output.splitlines() if "Show this message and exit." in line)
    assert row.index("Show this message") <= 48, row


def test_info(tiny):
    r = run("info", tiny / "train.hapt")
    assert r.exit_code == 0
    assert "CUDA compiled" in r.output and "120 rows x 40 SNPs" in r.output


def test_train_generate_evaluate(tiny):
    for model in ("bernoulli", "markov", "rbm"):
        r = run("train", tiny / "train.hapt", "--out", tiny / f"{model}.safetensors", "--model", model,
                "--epochs", "2", "--k", "5", "--hidden", "8", "--device", "cpu")
        assert r.exit_code == 0, r.output
        assert (tiny / f"{model}.safetensors").exists()
        r = run("generate", tiny / f"{model}.safetensors", "--out", tiny / f"{model}.hapt", "-n", "60", "--seed", "3")
        assert r.exit_code == 0, r.output
        assert io.read_hapt(tiny / f"{model}.hapt").shape == (60, 40)
    r = run("evaluate", tiny / "train.hapt", tiny / "rbm.hapt", tiny / "bernoulli.hapt", "--out",
            tiny / "report.html", "--no-classifiers")
    assert r.exit_code == 0, r.output
    assert "AATS" in r.output and (tiny / "report.html").exists()


@pytest.mark.parametrize("model", ["rbm", "gan", "wgan", "vae", "gmmn"])
def test_conditional_models_train_and_generate_by_label(tiny, model):
    h = io.read_hapt(tiny / "train.hapt")
    ids = [f"s{i // 2}_{'AB'[i % 2]}" for i in range(h.n_haplotypes)]
    io.write_hapt(tiny / "ids.hapt", HaplotypeMatrix.from_numpy(h.to_numpy(), ids=np.array(ids)))
    (tiny / "labels.tsv").write_text("sample\tsuper_pop\n" + "".join(f"s{i}\t{'XY'[i % 2]}\n" for i in range(60)))
    ckpt = tiny / f"{model}.safetensors"
    r = run("train", tiny / "ids.hapt", "--out", ckpt, "--model", model, "--epochs", "1", "--eval-every", "0",
            "--labels", tiny / "labels.tsv", "--device", "cpu")
    assert r.exit_code == 0, r.output
    r = run("generate", ckpt, "--out", tiny / "x.hapt", "-n", "10", "--label", "X", "--allow-copies")
    assert r.exit_code == 0, r.output
    out = io.read_hapt(tiny / "x.hapt")
    assert out.shape == (10, 40) and all(i.endswith(".X") for i in out.ids)
    r = run("generate", ckpt, "--out", tiny / "z.hapt", "-n", "10", "--label", "Z")
    assert r.exit_code != 0 and "Z" in r.output
    r = run("train", tiny / "ids.hapt", "--out", tiny / "m.safetensors", "--model", "markov",
            "--labels", tiny / "labels.tsv")
    assert r.exit_code != 0 and "--labels makes a conditional" in r.output


def test_generate_is_seeded(tiny):
    run("train", tiny / "train.hapt", "--out", tiny / "m.safetensors", "--model", "markov")
    for name in ("a", "b"):
        run("generate", tiny / "m.safetensors", "--out", tiny / f"{name}.npz", "-n", "30", "--seed", "4")
    np.testing.assert_array_equal(io.load(tiny / "a.npz").words, io.load(tiny / "b.npz").words)


def test_impute(tiny, rng):
    run("train", tiny / "train.hapt", "--out", tiny / "rbm.safetensors", "--epochs", "2", "--k", "5", "--hidden",
        "8", "--device", "cpu")
    x = io.read_hapt(tiny / "train.hapt").to_numpy().astype(np.int8)[:10]
    x[:, 5] = -1
    io.save(tiny / "missing.npz", HaplotypeMatrix.from_numpy(x))
    r = run("impute", tiny / "rbm.safetensors", tiny / "missing.npz", "--out", tiny / "imputed.npz", "--sweeps", "10",
            "--burn-in", "2")
    assert r.exit_code == 0, r.output
    out = io.load(tiny / "imputed.npz")
    assert not out.has_missing and out.shape == (10, 40)
    assert "imputed 10 missing alleles" in r.output


def test_simulate(tmp_path):
    r = run("simulate", "--out", tmp_path / "sim", "--haplotypes", "60", "--snps", "200", "--seed", "2")
    assert r.exit_code == 0, r.output
    h = io.read_vcf(tmp_path / "sim" / "simulated.vcf.gz")
    assert h.shape == (60, 200)
    np.testing.assert_array_equal(io.read_hapt(tmp_path / "sim" / "simulated.hapt").to_numpy(), h.to_numpy())
    assert len((tmp_path / "sim" / "populations.txt").read_text().splitlines()) == 60


@pytest.fixture
def held_out(tiny):
    """``tiny`` split into fit.hapt (90 haplotypes) and held.hapt (30)."""
    h = io.read_hapt(tiny / "train.hapt")
    io.write_hapt(tiny / "fit.hapt", h[:90])
    io.write_hapt(tiny / "held.hapt", h[90:])
    return tiny


def test_train_with_holdout_reports_privacy_loss(held_out):
    from genofast.models import RBM

    tiny, h = held_out, io.read_hapt(held_out / "train.hapt")
    ckpt = tiny / "m.safetensors"
    r = run("train", tiny / "fit.hapt", "--out", ckpt, "--holdout", tiny / "held.hapt", "--epochs", "2",
            "--eval-every", "1", "--k", "5", "--hidden", "8", "--device", "cpu")
    assert r.exit_code == 0, r.output
    m = RBM.load(ckpt)
    row = next(row for row in m.trace if row["epoch"] == m.best_epoch)
    assert len(m.trace) == 2 and all("privacy_loss" in row for row in m.trace)
    flat = " ".join(r.output.split())
    assert f"kept epoch {m.best_epoch} of 2: AATS {row['aats']:.3f}" in flat
    assert f"privacy loss {row['privacy_loss']:.3f}" in flat
    assert "can memorise" not in flat
    # held-out haplotypes equal to training ones are counted (three types on 40 SNPs: some are), or refused when
    # all of them are
    rows = h.to_numpy()
    trained = {r.tobytes() for r in rows[:90]}
    copies = sum(r.tobytes() in trained for r in rows[90:])
    assert 0 < copies < 30 and f"note: {copies} of the 30 --holdout haplotypes equal training haplotypes" in flat
    r = run("train", tiny / "fit.hapt", "--out", tiny / "x.safetensors", "--holdout", tiny / "fit.hapt",
            "--epochs", "1", "--eval-every", "1")
    assert r.exit_code == 1 and "all 90 held-out haplotypes are also training haplotypes" in r.output
    # without a held-out set the summary says how to get the figure, and a small cohort gets a note
    r = run("train", tiny / "fit.hapt", "--out", tiny / "n.safetensors", "--epochs", "1", "--eval-every", "1",
            "--k", "5", "--hidden", "8", "--device", "cpu")
    flat = " ".join(r.output.split())
    assert r.exit_code == 0 and "(privacy loss: train with --holdout)" in flat
    assert "note: 90 training haplotypes: on cohorts this small the defaults can memorise" in flat
    from genofast.cli.models import SMALL_COHORT

    big = HaplotypeMatrix.from_numpy(np.tile(h.to_numpy(), (-(-SMALL_COHORT // 120), 1))[:SMALL_COHORT])
    io.write_hapt(tiny / "big.hapt", big)
    r = run("train", tiny / "big.hapt", "--out", tiny / "b.safetensors", "--epochs", "1", "--eval-every", "1",
            "--k", "2", "--hidden", "4", "--device", "cpu")
    assert r.exit_code == 0 and "can memorise" not in r.output


def test_evaluate_draws_training_traces(held_out):
    tiny = held_out
    ckpt = tiny / "rbm.safetensors"
    assert run("train", tiny / "fit.hapt", "--out", ckpt, "--holdout", tiny / "held.hapt", "--epochs", "2",
               "--eval-every", "1", "--k", "5", "--hidden", "8").exit_code == 0
    assert run("generate", ckpt, "--out", tiny / "syn.hapt", "-n", "90", "--allow-copies").exit_code == 0
    out = tiny / "r.html"
    r = run("evaluate", tiny / "fit.hapt", tiny / "syn.hapt", "--out", out, "--no-classifiers", "--trace", ckpt)
    assert r.exit_code == 0, r.output
    page = out.read_text()
    assert 'id="training"' in page and "kept epoch" in page
    run("train", tiny / "fit.hapt", "--out", tiny / "markov.safetensors", "--model", "markov")
    r = run("evaluate", tiny / "fit.hapt", tiny / "syn.hapt", "--out", out, "--trace", tiny / "markov.safetensors")
    assert r.exit_code == 1 and "holds no training trace" in " ".join(r.output.split())


@pytest.mark.parametrize("args, message", [
    (["--model", "markov"], "--holdout is scored at the evaluations of an rbm"),
    (["--eval-every", "0"], "--eval-every 0 turns them off"),
    (["--holdout", "missing.hapt"], "no such file"),
    (["--holdout", "narrow.hapt"], "--holdout needs every SNP of the training data"),
])
def test_train_refuses_bad_holdout(tiny, monkeypatch, args, message):
    monkeypatch.chdir(tiny)
    io.write_hapt(tiny / "held.hapt", io.read_hapt(tiny / "train.hapt")[:10])
    io.write_hapt(tiny / "narrow.hapt", io.read_hapt(tiny / "train.hapt")[:10, :30])
    r = run("train", "train.hapt", "--out", "m.safetensors", "--holdout", "held.hapt", "--epochs", "1", *args)
    assert r.exit_code == 1 and message in " ".join(r.output.split()), r.output
    assert not (tiny / "m.safetensors").exists()


def test_train_select_weighs_the_choice_of_epoch(held_out):
    from genofast.models import RBM
    from genofast.models._selection import best, check_weights, score

    tiny = held_out
    ckpt = tiny / "m.safetensors"
    r = run("train", tiny / "fit.hapt", "--out", ckpt, "--holdout", tiny / "held.hapt", "--epochs", "4",
            "--eval-every", "1", "--k", "5", "--hidden", "8", "--select", "privacy_loss=5", "--select", "ld=0")
    assert r.exit_code == 0, r.output
    m = RBM.load(ckpt)
    weights = check_weights({"privacy_loss": 5.0, "ld": 0.0})
    assert m.best_epoch == best(m.trace, weights)["epoch"]
    assert all(row["score"] == pytest.approx(score(row, weights)) for row in m.trace)


@pytest.mark.parametrize("args, message", [
    (["--select", "privacy_loss=1"], "--select privacy_loss needs --holdout"),
    (["--select", "ld"], "give NAME=W"),
    (["--select", "ld=x"], "the weight is not a number"),
    (["--select", "ld=1", "--select", "ld=2"], "--select ld is given twice"),
    (["--select", "aats=1"], "--select: unknown selection weights ['aats']"),
    (["--select", "ld=nan"], "'ld' must be a finite number >= 0"),
    (["--select", "ld=1", "--model", "markov"], "--select weighs the evaluations of an rbm"),
    (["--select", "ld=1", "--eval-every", "0"], "--eval-every 0 turns them off"),
])
def test_train_refuses_bad_select(tiny, monkeypatch, args, message):
    monkeypatch.chdir(tiny)
    r = run("train", "train.hapt", "--out", "m.safetensors", "--epochs", "1", *args)
    assert r.exit_code == 1 and message in " ".join(r.output.split()), r.output
    assert not (tiny / "m.safetensors").exists()


def test_train_warns_of_memorisation(capsys):
    from types import SimpleNamespace

    from genofast.cli import models

    row = dict(epoch=10, aats=0.54, aa_truth=0.86, aa_syn=0.23, target_truth=0.46, target_syn=0.5, af_r=0.99,
               ld_r=0.2, three_point_r=0.1)
    for loss, warned in ((0.02, False), (models.PRIVACY_LOSS_WARNING + 0.01, True)):
        models._kept(SimpleNamespace(trace=[dict(row, privacy_loss=loss)], best_epoch=10, epoch=20))
        out = " ".join(capsys.readouterr().out.split())
        assert "kept epoch 10 of 20: AATS 0.540 (AA_truth 0.860, AA_syn 0.230" in out
        assert f"privacy loss {loss:.3f}" in out and ("has memorised its training individuals" in out) == warned
    models._kept(SimpleNamespace(trace=[], best_epoch=None, epoch=20))  # trained without evaluations: nothing
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    "args, message",
    [
        (["info", "missing.vcf"], "no such file: missing.vcf"),
        (["train", "missing.hapt", "--out", "m.safetensors"], "no such file"),
        (["generate", "train.hapt", "--out", "x.hapt"], "not a safetensors checkpoint"),
        (["train", "train.hapt", "--out", "m.safetensors", "--model", "rbm", "--units", "tanh"], "--units must be"),
        (["info", "data.txt"], "unknown file type"),
    ],
)
def test_errors_are_one_line_without_traceback(tiny, monkeypatch, args, message):
    monkeypatch.chdir(tiny)
    (tiny / "data.txt").write_text("x")
    r = run(*args)
    assert r.exit_code == 1
    assert message in r.output
    assert "Traceback" not in r.output


@pytest.mark.skipif(__import__("shutil").which("beagle") is None, reason="beagle is not installed")
def test_phase_writes_haplotypes_that_sum_to_the_genotypes(tmp_path):
    from genofast.simulate import simulate

    g = simulate(n_haplotypes=120, n_snps=200, seed=2).haplotypes.to_genotypes()
    io.write(tmp_path / "g.bed", g)
    r = run("phase", tmp_path / "g.bed", "--out", tmp_path / "h.vcf.gz", "--threads", "1")
    assert r.exit_code == 0, r.output
    h = io.read(tmp_path / "h.vcf.gz")
    assert isinstance(h, HaplotypeMatrix) and "phased 60 samples x 200 SNPs into 120 haplotypes" in r.output
    np.testing.assert_array_equal(h.to_genotypes().to_numpy(), g.to_numpy())


def test_phase_checks_before_beagle_runs(tiny, tmp_path, monkeypatch):
    from genofast.impute import beagle

    g = HaplotypeMatrix.from_numpy(np.zeros((4, 5), np.uint8)).to_genotypes()
    io.write(tmp_path / "g.bed", g)
    r = run("phase", tmp_path / "g.bed", "--out", tmp_path / "h.bed")
    assert r.exit_code == 1 and "PLINK .bed holds unphased genotypes" in r.output
    monkeypatch.setattr(beagle.shutil, "which", lambda name: None)
    r = run("phase", tmp_path / "g.bed", "--out", tmp_path / "h.vcf.gz")
    assert r.exit_code == 1 and "the beagle command is not installed" in r.output
    monkeypatch.setattr(beagle, "beagle_command", lambda jar=None: ["false"])
    r = run("phase", tiny / "train.hapt", "--out", tmp_path / "h.vcf.gz")
    assert r.exit_code == 1 and "already phased haplotypes; nothing to phase" in r.output
    r = run("phase", tmp_path / "g.bed", "--out", tmp_path / "h.vcf.gz")  # Beagle "fails": exit 1, no log
    assert r.exit_code == 1 and "Beagle failed (exit 1)" in r.output and "Traceback" not in r.output
    assert not (tmp_path / "h.vcf.gz").exists()


def test_evaluate_compares_unphased_genotypes_with_paired_synthetic_haplotypes(tmp_path, rng):
    from genofast import metrics

    real = HaplotypeMatrix.from_numpy(rng.integers(0, 2, (80, 30), dtype=np.uint8))
    syn = HaplotypeMatrix.from_numpy(rng.integers(0, 2, (60, 30), dtype=np.uint8))
    io.write(tmp_path / "real.bed", real.to_genotypes())  # PLINK: unphased
    io.write(tmp_path / "syn.hapt", syn)
    r = run("evaluate", tmp_path / "real.bed", tmp_path / "syn.hapt", "--out", tmp_path / "r.html",
            "--no-classifiers")
    assert r.exit_code == 0, r.output
    text = " ".join(r.output.split())
    assert "holds unphased genotypes: every set is compared as genotypes" in text
    assert "paired into 30 individuals" in text
    want = metrics.aats(real.to_genotypes(), syn.to_genotypes()).aats
    assert re.search(rf"syn\s+{want:.3f}\s", r.output)


def test_training_on_unphased_data_says_where_and_what_to_do(tmp_path):
    from genofast import GenotypeMatrix

    lines = ["##fileformat=VCFv4.2", "##contig=<ID=1>",
             "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\tS2",
             "1\t10\t.\tA\tG\t.\tPASS\t.\tGT\t0|1\t1/1",  # homozygous '/' is as good as phased
             "1\t20\t.\tC\tT\t.\tPASS\t.\tGT\t0|0\t0/1"]
    (tmp_path / "u.vcf").write_text("\n".join(lines) + "\n")
    r = run("train", tmp_path / "u.vcf", "--out", tmp_path / "m.st", "--epochs", "1")
    assert r.exit_code == 1 and "Traceback" not in r.output
    text = " ".join(r.output.split())
    assert "line 5: site 1:20, sample S2: unphased genotype" in text
    assert f"phase them first: genofast phase {tmp_path / 'u.vcf'} --out phased.vcf.gz" in text.replace("\n", "")
    io.write_plink(tmp_path / "g.bed", GenotypeMatrix.from_numpy(np.array([[0, 1], [2, 1]], dtype=np.int8)))
    r = run("train", tmp_path / "g.bed", "--out", tmp_path / "m.st", "--epochs", "1")
    assert r.exit_code == 1 and "phase them first: genofast phase" in " ".join(r.output.split())
    assert not (tmp_path / "m.st").exists()


def test_demo_quick(tmp_path):
    r = run("demo", "--quick", "--out", tmp_path / "demo", "--seed", "1", "--device", "cpu")
    assert r.exit_code == 0, r.output
    page = (tmp_path / "demo" / "report.html").read_text()
    assert "RBM" in page and "Bernoulli" in page and 'id="training"' in page
    for model in ("RBM", "Bernoulli", "Markov", "held-out", "(480)"):  # names wrap on a narrow terminal
        assert model in r.output
    # the RBM's trace holds the privacy loss against the held-out half, which the report draws
    from genofast.models import RBM

    trace = RBM.load(tmp_path / "demo" / "rbm.safetensors").trace
    assert trace and all(-1 <= row["privacy_loss"] <= 1 for row in trace)


@pytest.mark.parametrize("width", [80, 140])
def test_summary_fits_the_terminal_and_never_cuts_a_number(monkeypatch, width):
    from rich.console import Console

    from genofast.cli import _common

    console = Console(width=width, record=True, soft_wrap=True)
    monkeypatch.setattr(_common, "console", console)
    row = {"AATS": 0.5137, "AA_truth": 1.0, "AA_syn": 0.0271, "privacy loss": -0.0274, "AF r": 0.9951,
           "LD decay r": -0.9401, "3-point r": 0.8976, "exact copies": 12}
    long = "synthetic set of the second model"
    _common._summary({"held-out real (120)": {"AATS": 0.49}, "Markov chain (k=3)": row, long: row})
    text = console.export_text()
    assert max(map(len, text.splitlines())) <= width
    for value in ("0.514", "1.000", "0.027", "-0.027", "0.995", "-0.940", "0.898", "12", "0.490"):
        assert re.search(rf"(^|\s){re.escape(value)}(\s|$)", text, re.M), value
    # names up to 20 characters fit on one line at 80 columns (with cell padding they wrapped past 12)
    assert "Markov chain (k=3)" in text and "held-out real (120)" in text
    assert (long in text) == (width > 80)


def test_demo_models_option(tmp_path):
    r = run("demo", "--quick", "--out", tmp_path / "demo", "--models", "markov, Bernoulli,markov", "--device", "cpu")
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in (tmp_path / "demo").glob("synthetic_*")) == ["synthetic_bernoulli.hapt.gz",
                                                                              "synthetic_markov.hapt.gz"]
    page = (tmp_path / "demo" / "report.html").read_text()
    page = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]*", "", page)  # a figure's bytes may spell "RBM" by chance
    assert "Markov chain" in page and "RBM" not in page
    r = run("train", tmp_path / "demo" / "real_train.vcf.gz", "--out", tmp_path / "m.safetensors", "--model",
            "markov", "--distributed")
    assert r.exit_code != 0 and "--distributed trains an RBM" in r.output and not (tmp_path / "m.safetensors").exists()
    r = run("demo", "--quick", "--out", tmp_path / "demo2", "--models", "rbm,hmm")
    assert r.exit_code != 0 and "--models" in r.output and not (tmp_path / "demo2").exists()


# --- hostile input: every failure one line, naming the argument, before any work ---------------------


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from genofast.models import RBM, Bernoulli, MarkovChain

    d = tmp_path_factory.mktemp("trained")
    g = np.random.default_rng(7)
    h = HaplotypeMatrix.from_numpy(g.integers(0, 2, (3, 40), dtype=np.uint8)[g.integers(0, 3, 60)])
    io.write_hapt(d / "train.hapt", h)
    Bernoulli().fit(h).save(d / "bernoulli.safetensors")
    MarkovChain(2).fit(h).save(d / "markov.safetensors")
    RBM(40, 4, training="rdm", k=2, n_chains=8).fit(h, epochs=1, seed=1).save(d / "rbm.safetensors")
    (d / "folder.hapt").mkdir()
    return d


BIG = str(10**11)
HOSTILE = [
    (["generate", "rbm.safetensors", "--out", "o.hapt", "--seed", "-5"], "--seed must be an integer in [0, 2**63)"),
    (["generate", "rbm.safetensors", "--out", "o.hapt", "--seed", str(2**64)], "--seed must be an integer in"),
    (["generate", "bernoulli.safetensors", "--out", "o.hapt", "--seed", "-5"], "--seed must be an integer in"),
    (["train", "train.hapt", "--out", "o.safetensors", "--seed", str(2**64)], "--seed must be an integer in"),
    (["evaluate", "train.hapt", "train.hapt", "--out", "o.html", "--seed", "-1"], "--seed must be an integer in"),
    (["evaluate", "train.hapt", "train.hapt", "--out", "o.html", "--privacy-subsamples", "0"],
     "--privacy-subsamples must be an integer at least 1, got 0"),
    (["impute", "rbm.safetensors", "train.hapt", "--out", "o.npz", "--seed", "-1"], "--seed must be an integer in"),
    (["simulate", "--out", "o", "--seed", "0"], "--seed must be an integer in [1, 4294967295]"),
    (["generate", "bernoulli.safetensors", "--out", "o.hapt", "-n", "0"], "-n must be an integer at least 1"),
    (["generate", "rbm.safetensors", "--out", "o.hapt", "-n", "0"], "-n must be an integer at least 1"),
    (["generate", "bernoulli.safetensors", "--out", "o.hapt", "-n", BIG], "GiB of memory"),
    (["generate", "rbm.safetensors", "--out", "o.hapt", "-n", BIG], "GiB of memory"),
    (["generate", "markov.safetensors", "--out", "o.npz", "-n", BIG], "lower -n"),
    (["generate", "rbm.safetensors", "--out", "o.hapt", "--k", str(10**10)], "would take about"),
    (["generate", "rbm.safetensors", "--out", "o.hapt", "--k", "0"], "--k must be an integer at least 1"),
    (["generate", "rbm.safetensors", "--out", "o.vcf.gz", "-n", "3"], "-n must be even"),
    (["generate", "rbm.safetensors", "--out", "o.txt"], "unknown file type"),
    (["info", "--threads", BIG], "--threads must be an integer in [1, 1024]"),
    (["train", "train.hapt", "--out", "o.safetensors", "--threads", "0"], "--threads must be an integer"),
    (["train", "train.hapt", "--out", "o.safetensors", "--lr", "nan"], "--lr must be a finite number > 0"),
    (["train", "train.hapt", "--out", "o.safetensors", "--lr", "inf"], "--lr must be a finite number > 0"),
    (["train", "train.hapt", "--out", "o.safetensors", "--lr", "-1"], "--lr must be a finite number > 0"),
    (["train", "train.hapt", "--out", "o.safetensors", "--k", "0"], "--k must be"),
    (["train", "train.hapt", "--out", "o.safetensors", "--batch-size", "0"], "--batch-size must be"),
    (["train", "train.hapt", "--out", "o.safetensors", "--hidden", "0", "--local-hidden", "0"], "--hidden must be"),
    (["train", "train.hapt", "--out", "o.safetensors", "--local-hidden", "-1"], "--local-hidden must be"),
    (["train", "train.hapt", "--out", "o.safetensors", "--epochs", "0"], "--epochs must be"),
    (["train", "train.hapt", "--out", "o.safetensors", "--eval-every", "-2"], "--eval-every must be"),
    (["train", "train.hapt", "--out", "o.safetensors", "--training", "sgd"], "--training must be one of"),
    (["train", "train.hapt", "--out", "o.safetensors", "--model", "markov", "--window", "0"], "--window must be"),
    (["train", "train.hapt", "--out", "o.safetensors", "--k", str(10**10)], "would take about"),
    (["train", "train.hapt", "--out", "o.safetensors", "--batch-size", str(10**10)], "GiB of memory"),
    (["simulate", "--out", "o", "--snps", str(10**8)], "GiB of memory"),
    (["simulate", "--out", "o", "--haplotypes", "7"], "--haplotypes must be a multiple of 6"),
    (["impute", "rbm.safetensors", "train.hapt", "--out", "o.npz", "--sweeps", "1"], "--sweeps must be"),
    (["impute", "rbm.safetensors", "train.hapt", "--out", "o.npz", "--sweeps", "5", "--burn-in", "5"],
     "--burn-in (5) must be smaller than --sweeps (5)"),
    (["info", "train.hapt", "--legend", "missing.legend"], "no such file: missing.legend"),
    (["generate", "rbm.safetensors", "--out", "folder.hapt"], "--out folder.hapt is a folder; give a file name"),
    (["train", "train.hapt", "--out", "train.hapt/m.safetensors"], "cannot write in"),
    (["simulate", "--out", "train.hapt"], "--out train.hapt is a file; give a folder"),
    (["train", "train.hapt", "--out", "o.safetensors", "--model", "gan", "--option", "ema=1.5"],
     "--option: ema must be a finite number >= 0 and < 1"),
    (["train", "train.hapt", "--out", "o.safetensors", "--model", "wgan", "--option", "critics=3"],
     "--option: WGAN got unknown options ['critics']"),
    (["train", "train.hapt", "--out", "o.safetensors", "--model", "gmmn", "--option", "kernel"], "give NAME=VALUE"),
    (["train", "train.hapt", "--out", "o.safetensors", "--model", "vae", "--option", "output=round"],
     "the value is not JSON"),
    (["train", "train.hapt", "--out", "o.safetensors", "--option", "ema=0.9"], "--option sets a gan, wgan"),
    (["train", "train.hapt", "--out", "o.safetensors", "--model", "crbm", "--option", "window=0"],
     "--option: window must be an integer at least 1, got 0"),
    (["train", "train.hapt", "--out", "o.safetensors", "--model", "crbm", "--option", "hidden_units=3"],
     "--option: RBM.__init__() got an unexpected keyword argument 'hidden_units'"),
    (["train", "train.hapt", "--out", "o.safetensors", "--model", "crbm", "--option", "device=\"cuda\""],
     "--option: device is not a crbm option (--device sets it)"),
    (["train", "train.hapt", "--out", "o.safetensors", "--model", "crbm", "--resume"], "--resume: a crbm chain"),
    (["train", "train.hapt", "--out", "o.safetensors", "--model", "crbm", "--labels", "labels.tsv"],
     "--labels makes a conditional"),
    (["train", "train.hapt", "--out", "o.safetensors", "--model", "crbm", "--option", "k=" + str(10**9)],
     "would take about"),
]


@pytest.mark.parametrize("args, message", HOSTILE, ids=[" ".join(a[:1] + a[2:])[:60] for a, _ in HOSTILE])
def test_hostile_arguments_fail_in_one_line_before_any_work(trained, monkeypatch, args, message):
    monkeypatch.chdir(trained)
    before = set(trained.rglob("*"))
    r = run(*args)
    assert r.exit_code == 1, r.output
    assert "Traceback" not in r.output
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], r.output
    assert set(trained.rglob("*")) == before  # nothing written


def test_generate_checks_its_output_before_sampling(trained, monkeypatch):
    from genofast.models import RBM

    def fail(*args, **kwargs):
        raise AssertionError("sampled before checking the output")

    monkeypatch.setattr(RBM, "sample", fail)
    for out in ("o.vcf", "o.vcf.gz"):
        r = run("generate", trained / "rbm.safetensors", "--out", trained / out, "-n", "5")
        assert r.exit_code == 1 and "-n must be even" in r.output


def test_train_passes_model_options_and_resume_keeps_them(tiny):
    from genofast.models import load

    ckpt = tiny / "gan.safetensors"
    args = ["train", tiny / "train.hapt", "--out", ckpt, "--model", "gan", "--eval-every", "0", "--device", "cpu",
            "--option", "ema=0.9", "--option", "straight_through=true", "--option", "latent=6"]
    r = run(*args, "--epochs", "1")
    assert r.exit_code == 0, r.output
    m = load(ckpt)
    assert (m.config["ema"], m.config["straight_through"], m.config["latent"]) == (0.9, True, 6)
    assert "generator_ema" in m.nets and m.epoch == 1
    r = run(*args, "--epochs", "2", "--resume")
    assert r.exit_code == 0, r.output
    assert load(ckpt).epoch == 2
    r = run(*args[:-2], "--option", "latent=7", "--epochs", "3", "--resume")
    assert r.exit_code == 1 and "--option latent differs from" in r.output and load(ckpt).epoch == 2


def test_train_crbm_chain_equals_the_python_api(tiny):
    from genofast.models import ConditionalRBMChain, load

    ckpt, out = tiny / "chain.safetensors", tiny / "chain.hapt"
    r = run("train", tiny / "train.hapt", "--out", ckpt, "--model", "crbm", "--option", "window=16",
            "--option", "context=8", "--option", "n_hidden=6", "--option", "k=3", "--epochs", "2", "--eval-every", "1",
            "--seed", "5", "--device", "cpu")
    assert r.exit_code == 0, r.output
    # the output is no terminal: no progress bars, and no empty line left behind by each window's
    assert "" not in r.output.splitlines()
    m = load(ckpt)
    assert isinstance(m, ConditionalRBMChain) and m.bounds == [(0, 16), (16, 32), (32, 40)]
    # the windows' kept measurements, summarised
    kept = [next(r for r in w.trace if r["epoch"] == w.best_epoch) for w in m.models]
    aats = sorted(r["aats"] for r in kept)
    assert (f"over 3 windows, each sampled given real contexts): epoch {np.median([r['epoch'] for r in kept]):g} "
            f"({min(r['epoch'] for r in kept)} to {max(r['epoch'] for r in kept)}), AATS {aats[1]:.3f} "
            f"({aats[0]:.3f} to {aats[2]:.3f})") in " ".join(r.output.split())
    assert [w.config["n_context"] for w in m.models] == [0, 8, 8] and m.models[1].config["k"] == 3
    # the chain's defaults otherwise: lr 3e-3, local units
    assert m.models[1].config["lr"] == 3e-3 and m.models[1].config["local_hidden"] > 0
    r = run("generate", ckpt, "--out", out, "-n", "50", "--seed", "3", "--allow-copies")
    assert r.exit_code == 0, r.output
    h = io.read_hapt(tiny / "train.hapt")
    api = ConditionalRBMChain(40, window=16, context=8, n_hidden=6, k=3).fit(h, 2, 5, eval_every=1)
    expected = api.sample(50, seed=3, allow_copies=True).to_numpy()
    assert (io.read_hapt(out).to_numpy() == expected).all()


def test_train_crbm_defaults_to_the_chains_epochs(tiny, monkeypatch):
    from genofast.models import ConditionalRBMChain

    seen = {}

    def fake_fit(self, haplotypes, epochs, seed, **options):
        seen.update(epochs=epochs, seed=seed, **options)
        return self

    monkeypatch.setattr(ConditionalRBMChain, "fit", fake_fit)
    r = run("train", tiny / "train.hapt", "--out", tiny / "c.safetensors", "--model", "crbm", "--option", "window=20",
            "--device", "cpu")
    assert r.exit_code == 0, r.output
    assert seen["epochs"] == ConditionalRBMChain.FIT_EPOCHS == 16 and seen["eval_every"] == 5


def test_train_stops_on_divergence_and_keeps_the_checkpoint(tiny):
    out = tiny / "rbm.safetensors"
    args = ["train", tiny / "train.hapt", "--out", out, "--epochs", "2", "--k", "2", "--hidden", "4",
            "--training", "pcd", "--device", "cpu"]
    assert run(*args).exit_code == 0
    good = out.read_bytes()
    r = run(*args, "--lr", "1e30")
    assert r.exit_code == 1 and "training diverged in epoch 1" in r.output and "Traceback" not in r.output
    assert out.read_bytes() == good


def test_generate_refuses_a_checkpoint_with_nan_frequencies(tiny):
    from safetensors import safe_open
    from safetensors.numpy import load_file, save_file

    assert run("train", tiny / "train.hapt", "--out", tiny / "b.safetensors", "--model", "bernoulli").exit_code == 0
    with safe_open(str(tiny / "b.safetensors"), framework="numpy") as f:
        meta = f.metadata()
    arrays = load_file(str(tiny / "b.safetensors"))
    arrays["frequencies"] = np.full_like(arrays["frequencies"], np.nan)  # used to sample all-0 haplotypes
    save_file(arrays, str(tiny / "nan.safetensors"), metadata=meta)
    r = run("generate", tiny / "nan.safetensors", "--out", tiny / "o.hapt", "-n", "4")
    assert r.exit_code == 1
    assert f"{tiny / 'nan.safetensors'}: tensor 'frequencies' holds NaN" in r.output
    assert not (tiny / "o.hapt").exists()


# --- evaluate: sets that share a file name -------------------------------------------------------------


def _capture_evaluate(monkeypatch):
    """Replace report.evaluate by a recorder: these tests are about what the CLI hands it."""
    import types

    import genofast.report

    seen = {}

    def fake(real, synthetic, out=None, holdout=None, **options):
        seen.update(real=real, synthetic=synthetic, holdout=holdout, options=options)
        return types.SimpleNamespace(table={name: {"AATS": 0.5} for name in synthetic}, alignment_notes={})

    monkeypatch.setattr(genofast.report, "evaluate", fake)
    return seen


def test_evaluate_keeps_sets_that_share_a_file_name(tiny, monkeypatch, rng):
    sets = {}
    for folder in ("a", "b"):
        sets[folder] = HaplotypeMatrix.from_numpy(rng.integers(0, 2, (30, 40), dtype=np.uint8))
        io.write_hapt(tiny / folder / "syn.hapt", sets[folder])
    seen = _capture_evaluate(monkeypatch)
    r = run("evaluate", tiny / "train.hapt", tiny / "a" / "syn.hapt", tiny / "b" / "syn.hapt", tiny / "a" / "syn.hapt")
    assert r.exit_code == 0, r.output
    assert list(seen["synthetic"]) == ["a/syn", "b/syn", "a/syn#2"]
    np.testing.assert_array_equal(seen["synthetic"]["a/syn"].words, sets["a"].words)
    np.testing.assert_array_equal(seen["synthetic"]["b/syn"].words, sets["b"].words)
    assert "note: synthetic sets share a name" in r.output
    assert "a/syn" in r.output and "b/syn" in r.output  # both rows in the table


# --- info: missingness on the packed words, chromosomes, legends ------------------------------------


def test_info_counts_missing_without_unpacking(tmp_path, rng, monkeypatch):
    from genofast import GenotypeMatrix

    alleles = rng.integers(0, 2, (70, 130)).astype(np.int8)
    alleles[rng.random(alleles.shape) < 0.07] = -1
    dosages = rng.integers(0, 3, (45, 77)).astype(np.int8)
    dosages[rng.random(dosages.shape) < 0.11] = -1
    io.save(tmp_path / "h.npz", HaplotypeMatrix.from_numpy(alleles))
    io.save(tmp_path / "g.npz", GenotypeMatrix.from_numpy(dosages))

    def refuse(self):
        raise AssertionError("info unpacked the whole matrix")

    monkeypatch.setattr(HaplotypeMatrix, "to_numpy", refuse)
    monkeypatch.setattr(GenotypeMatrix, "to_numpy", refuse)
    r = run("info", tmp_path / "h.npz", tmp_path / "g.npz")
    assert r.exit_code == 0, r.output
    assert f"missing {100 * (alleles < 0).mean():.2f}%" in r.output
    assert f"missing {100 * (dosages < 0).mean():.2f}%" in r.output


def test_info_counts_chromosomes(tmp_path, rng):
    from genofast import Variants

    chrom = np.repeat([str(c) for c in range(1, 13)], 5)  # 12 chromosomes, 1..12 in genome order
    pos = np.tile(np.arange(1, 6) * 1000, 12)
    v = Variants(chrom, pos, np.array([f"{c}:{p}" for c, p in zip(chrom, pos)]), np.full(60, "A"), np.full(60, "G"))
    io.save(tmp_path / "h.npz", HaplotypeMatrix.from_numpy(rng.integers(0, 2, (4, 60), dtype=np.uint8), variants=v))
    io.write_hapt(tmp_path / "h.hapt", HaplotypeMatrix.from_numpy(rng.integers(0, 2, (4, 60), dtype=np.uint8)))
    r = run("info", tmp_path / "h.npz", tmp_path / "h.hapt")
    assert r.exit_code == 0, r.output
    assert "12 chromosomes (1, 2, 3, 4, 5, 6, 7, 8, ...)" in r.output
    assert "h.hapt: HaplotypeMatrix, 4 rows x 60 SNPs, missing 0.00%, no SNP positions" in r.output


def test_info_with_legend_on_yelmen805(shared_data):
    d = shared_data / "yelmen805"
    r = run("info", d / "805_SNP_1000G_real.hapt.gz", "--legend", d / "805_SNP.legend")
    assert r.exit_code == 0, r.output
    assert "5008 rows x 805 SNPs, missing 0.00%, 22 chromosomes (1, 2, 3, 4, 5, 6, 7, 8, ...)" in r.output


@pytest.fixture
def legend(tiny):
    chrom = np.repeat(["1", "2", "3", "4"], 10)
    pos = np.tile(np.arange(1, 11) * 25_000, 4)
    rows = [f"{c}:{p}_A_G {p} A G" for c, p in zip(chrom, pos)]
    (tiny / "train.legend").write_text("id position a0 a1\n" + "\n".join(rows) + "\n")
    return tiny / "train.legend", pos


def test_legend_gives_hapt_files_their_positions(tiny, legend, monkeypatch, rng):
    from genofast.models import load

    path, pos = legend
    r = run("train", tiny / "train.hapt", "--out", tiny / "rbm.safetensors", "--legend", path, "--epochs", "1",
            "--k", "2", "--hidden", "4", "--device", "cpu")
    assert r.exit_code == 0, r.output
    np.testing.assert_array_equal(load(tiny / "rbm.safetensors").variants.position, pos)

    io.write_hapt(tiny / "syn.hapt", HaplotypeMatrix.from_numpy(rng.integers(0, 2, (30, 40), dtype=np.uint8)))
    io.write_hapt(tiny / "held.hapt", HaplotypeMatrix.from_numpy(rng.integers(0, 2, (20, 40), dtype=np.uint8)))
    seen = _capture_evaluate(monkeypatch)
    r = run("evaluate", tiny / "train.hapt", tiny / "syn.hapt", "--holdout", tiny / "held.hapt", "--legend", path)
    assert r.exit_code == 0, r.output
    for m in (seen["real"], seen["holdout"], seen["synthetic"]["syn"]):
        np.testing.assert_array_equal(m.variants.position, pos)
        assert list(np.unique(m.variants.chrom)) == ["1", "2", "3", "4"]

    r = run("impute", tiny / "rbm.safetensors", tiny / "train.hapt", "--out", tiny / "imputed.npz", "--legend", path,
            "--sweeps", "3", "--burn-in", "1")
    assert r.exit_code == 0, r.output
    np.testing.assert_array_equal(io.load(tiny / "imputed.npz").variants.position, pos)

    r = run("info", tiny / "imputed.npz", "--legend", path)
    assert r.exit_code == 1 and "--legend" in r.output and "applies to .hapt files" in r.output


# --- impute: counting and matching SNPs -----------------------------------------------------------


def test_impute_counts_missing_on_the_mask_and_matches_the_model_snps(tiny, monkeypatch):
    from genofast import Variants

    h = io.read_hapt(tiny / "train.hapt")
    chrom, pos = np.full(40, "5"), np.arange(1, 41) * 100
    v = Variants(chrom, pos, np.array([f"s{i}" for i in range(40)]), np.full(40, "A"), np.full(40, "T"))
    io.save(tiny / "train.npz", HaplotypeMatrix.from_numpy(h.to_numpy(), ids=h.ids, variants=v))
    assert run("train", tiny / "train.npz", "--out", tiny / "rbm.safetensors", "--epochs", "2", "--k", "2",
               "--hidden", "8", "--device", "cpu").exit_code == 0
    # the same SNPs with REF/ALT swapped at the first five: alleles there read the other way round
    x = h.to_numpy().astype(np.int8)[:12]
    x[:, :5] = 1 - x[:, :5]
    x[:, 20] = -1
    x[3, 30] = -1
    swapped = Variants(chrom, pos, v.id, np.where(np.arange(40) < 5, "T", "A"), np.where(np.arange(40) < 5, "A", "T"))
    io.save(tiny / "missing.npz", HaplotypeMatrix.from_numpy(x, variants=swapped))

    unpacked = []
    original = HaplotypeMatrix.to_numpy

    def counting(self):
        unpacked.append(self.shape)
        return original(self)

    monkeypatch.setattr(HaplotypeMatrix, "to_numpy", counting)
    r = run("impute", tiny / "rbm.safetensors", tiny / "missing.npz", "--out", tiny / "imputed.npz", "--sweeps", "4",
            "--burn-in", "1")
    assert r.exit_code == 0, r.output
    assert "imputed 13 missing alleles" in r.output
    assert unpacked.count((12, 40)) == 1  # once for the sampler, not again to count
    assert "5 with REF/ALT swapped (flipped)" in r.output
    monkeypatch.undo()
    out = io.load(tiny / "imputed.npz")
    observed = x >= 0
    observed[:, :5] = False
    # on the model's coding: observed alleles unchanged where not flipped, reversed where flipped
    np.testing.assert_array_equal(out.to_numpy()[observed], x[observed])
    np.testing.assert_array_equal(out.to_numpy()[:, :5], 1 - x[:, :5])
    assert list(out.variants.ref[:5]) == ["A"] * 5


def test_evaluate_passes_population_labels(tmp_path, monkeypatch, rng):
    ids = [f"S{i}_{h}" for i in range(6) for h in "AB"]
    io.write_hapt(tmp_path / "real.hapt", HaplotypeMatrix.from_numpy(rng.integers(0, 2, (12, 20), dtype=np.uint8),
                                                                      ids=ids))
    io.write_hapt(tmp_path / "syn.hapt", HaplotypeMatrix.from_numpy(rng.integers(0, 2, (12, 20), dtype=np.uint8)))
    (tmp_path / "labels.tsv").write_text("sample\tpop\tsuper_pop\n" +
                                         "".join(f"S{i}\tp\t{'AFR' if i < 2 else 'EUR'}\n" for i in range(6)))
    seen = _capture_evaluate(monkeypatch)
    r = run("evaluate", tmp_path / "real.hapt", tmp_path / "syn.hapt", "--labels", tmp_path / "labels.tsv",
            "--out", tmp_path / "r.html")
    assert r.exit_code == 0, r.output
    assert list(seen["options"]["populations"]) == ["AFR"] * 4 + ["EUR"] * 8
    (tmp_path / "labels.tsv").write_text("sample\tpop\tsuper_pop\nS0\tp\tAFR\n")
    r = run("evaluate", tmp_path / "real.hapt", tmp_path / "syn.hapt", "--labels", tmp_path / "labels.tsv",
            "--out", tmp_path / "r.html")
    assert r.exit_code == 1 and "S1" in r.output


def _planted_model(tmp_path, rng):
    """A training set, and a Bernoulli model whose frequencies are 0/1: it samples training row 0 every time."""
    from genofast.models import Bernoulli

    train = HaplotypeMatrix.from_numpy((rng.random((30, 50)) < 0.4).astype(np.uint8))
    io.write_hapt(tmp_path / "train.hapt", train)
    Bernoulli().fit(train[[0]]).save(tmp_path / "copycat.safetensors")
    return tmp_path / "train.hapt", tmp_path / "copycat.safetensors"


def test_generate_refuses_planted_copies_unless_allowed(tmp_path, rng):
    train, model = _planted_model(tmp_path, rng)
    out = tmp_path / "syn.hapt"
    r = run("generate", model, "--out", out, "-n", "6", "--training", train)
    assert r.exit_code == 1 and "6 of 6 synthetic haplotypes are exact copies" in r.output, r.output
    assert not out.exists() and not list(tmp_path.glob(".syn.hapt*"))  # nothing written, not even a temp file
    r = run("generate", model, "--out", out, "-n", "6", "--training", train, "--allow-copies")
    assert r.exit_code == 0 and "warning: 6 of 6" in r.output and out.exists()


def test_generate_refuses_near_copies_within_max_distance(tmp_path, rng):
    train, model = _planted_model(tmp_path, rng)
    t = io.read_hapt(train).to_numpy()
    t[0, :2] ^= 1  # the model's only haplotype is now 2 SNPs from its nearest training row
    io.write_hapt(train, HaplotypeMatrix.from_numpy(t))
    assert run("generate", model, "--out", tmp_path / "a.hapt", "-n", "4", "--training", train).exit_code == 0
    r = run("generate", model, "--out", tmp_path / "b.hapt", "-n", "4", "--training", train, "--max-distance", "2")
    assert r.exit_code == 1 and "within Hamming distance 2" in r.output
    r = run("generate", model, "--out", tmp_path / "c.hapt", "-n", "4", "--max-distance", "2")
    assert r.exit_code == 1 and "needs --training" in r.output


def test_generate_refuses_copies_from_rbm_fingerprints_without_training_data(tmp_path):
    from genofast.models import RBM

    # 4 SNPs: 16 possible haplotypes, all 16 in training, so every sample is a copy
    every = ((np.arange(16)[:, None] >> np.arange(4)) & 1).astype(np.uint8)
    m = RBM(4, 3, k=1, n_chains=4).fit(every, epochs=1, seed=1)
    m.save(tmp_path / "rbm.safetensors")
    r = run("generate", tmp_path / "rbm.safetensors", "--out", tmp_path / "s.npz", "-n", "8")
    assert r.exit_code == 1 and "exact copies" in r.output and not (tmp_path / "s.npz").exists()
    m.fit(every, epochs=2, seed=1, fingerprint=False)
    m.save(tmp_path / "bare.safetensors")
    r = run("generate", tmp_path / "bare.safetensors", "--out", tmp_path / "s.npz", "-n", "8")
    assert r.exit_code == 0 and "not checked" in r.output


def test_train_defaults_are_the_rbm_defaults(tiny):
    from genofast.models import RBM

    r = run("train", tiny / "train.hapt", "--out", tiny / "d.safetensors", "--epochs", "1", "--device", "cpu")
    assert r.exit_code == 0, r.output
    cli = RBM.load(tiny / "d.safetensors").config
    python = RBM(40).config
    assert cli == python


def test_train_passes_rbm_local_units(tiny):
    from genofast.models import RBM

    r = run("train", tiny / "train.hapt", "--out", tiny / "l.safetensors", "--epochs", "1", "--hidden", "3",
            "--local-hidden", "5")
    assert r.exit_code == 0, r.output
    m = RBM.load(tiny / "l.safetensors")
    assert m.config == RBM(40, 3, local_hidden=5).config and m.params["W"].shape == (40, 8)


def test_train_notes_snps_the_automatic_local_units_leave_out(tmp_path, rng):
    # 10,000 SNPs: the automatic 300 local units of 32 SNPs cover 9,600 of them
    io.write_hapt(tmp_path / "wide.hapt", HaplotypeMatrix.from_numpy(rng.integers(0, 2, (8, 10_000), dtype=np.uint8)))
    r = run("train", tmp_path / "wide.hapt", "--out", tmp_path / "w.st", "--epochs", "1", "--eval-every", "0")
    assert r.exit_code == 0, r.output
    assert "cover 96% of the 10,000 SNPs" in " ".join(r.output.split()) and "--model crbm" in r.output
    # asked for by number, or every SNP covered: nothing to say
    r = run("train", tmp_path / "wide.hapt", "--out", tmp_path / "x.st", "--epochs", "1", "--eval-every", "0",
            "--local-hidden", "300")
    assert r.exit_code == 0 and "note:" not in r.output, r.output


def test_train_passes_rbm_local_window(tiny):
    from genofast.models import RBM

    r = run("train", tiny / "train.hapt", "--out", tiny / "w.safetensors", "--epochs", "1", "--local-window", "8")
    assert r.exit_code == 0, r.output
    assert RBM.load(tiny / "w.safetensors").config == RBM(40, local_window=8).config
    r = run("train", tiny / "train.hapt", "--out", tiny / "v.safetensors", "--epochs", "1", "--local-window", "0")
    assert r.exit_code == 1 and "--local-window must be" in r.output and not (tiny / "v.safetensors").exists()


def test_train_passes_rbm_dropout(tiny):
    from genofast.models import RBM

    r = run("train", tiny / "train.hapt", "--out", tiny / "d.safetensors", "--epochs", "1", "--dropout", "0.3")
    assert r.exit_code == 0, r.output
    assert RBM.load(tiny / "d.safetensors").config == RBM(40, dropout=0.3).config
    r = run("train", tiny / "train.hapt", "--out", tiny / "e.safetensors", "--epochs", "1", "--dropout", "1")
    assert r.exit_code != 0 and "--dropout" in r.output and not (tiny / "e.safetensors").exists()
