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


@pytest.mark.parametrize(
    "args, message",
    [
        (["info", "missing.vcf"], "no such file: missing.vcf"),
        (["train", "missing.hapt", "--out", "m.safetensors"], "no such file"),
        (["generate", "train.hapt", "--out", "x.hapt"], "not a safetensors checkpoint"),
        (["train", "train.hapt", "--out", "m.safetensors", "--model", "rbm", "--units", "tanh"], "hidden must be"),
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


def test_demo_quick(tmp_path):
    r = run("demo", "--quick", "--out", tmp_path / "demo", "--seed", "1", "--device", "cpu")
    assert r.exit_code == 0, r.output
    page = (tmp_path / "demo" / "report.html").read_text()
    assert "RBM" in page and "Bernoulli" in page
    for model in ("RBM", "Bernoulli", "Markov"):
        assert model in r.output
