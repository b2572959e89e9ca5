"""EIGENSTRAT filesets: read against hand-written files and against the PLINK twin of a real data set."""

import gzip

import numpy as np
import pytest

from genofast import io
from genofast.io import FormatError, read_eigenstrat


def write_fileset(tmp_path, dosages, name="x.geno", snp_rows=None, ind_rows=None, compress=False):
    """A text EIGENSTRAT fileset of ``dosages`` (individuals x SNPs, -1 missing): .geno lines are SNPs."""
    n, s = dosages.shape
    text = "".join("".join("9" if v < 0 else str(v) for v in dosages[:, j]) + "\n" for j in range(s))
    geno = tmp_path / name
    geno.write_bytes(gzip.compress(text.encode()) if compress else text.encode())
    stem = name.split(".")[0]
    snp_rows = snp_rows or [f"rs{j}\t{1 + j // 60}\t0.0\t{1000 + 10 * j}\tA\tG" for j in range(s)]
    ind_rows = ind_rows or [f"S{i} U pop{i % 3}" for i in range(n)]
    (tmp_path / f"{stem}.snp").write_text("\n".join(snp_rows) + "\n")
    (tmp_path / f"{stem}.ind").write_text("\n".join(ind_rows) + "\n")
    return geno


@pytest.mark.parametrize("name, compress", [("x.geno", False), ("x.eigenstratgeno.gz", True), ("x.geno.gz", True)])
def test_reads_dosages_of_the_column_5_allele(tmp_path, rng, name, compress, monkeypatch):
    from genofast.io import eigenstrat

    monkeypatch.setattr(eigenstrat, "_BLOCK_SNPS", 32)  # several blocks, a partial last one
    d = rng.integers(0, 3, (7, 100)).astype(np.int8)
    d[rng.random(d.shape) < 0.05] = -1
    g = io.read(write_fileset(tmp_path, d, name, compress=compress))
    np.testing.assert_array_equal(g.to_numpy(), d)
    assert list(g.ids) == [f"S{i}" for i in range(7)]
    v = g.variants
    assert (v.alt == "A").all() and (v.ref == "G").all()  # the counted allele (column 5) is alt
    np.testing.assert_array_equal(v.position, 1000 + 10 * np.arange(100))
    assert list(v.chrom[[0, 59, 60]]) == ["1", "1", "2"] and v.id[3] == "rs3"


def test_equals_the_plink_twin_of_human_origins(shared_data):
    base = shared_data / "humanorigins249" / "HumanOrigins249_tiny"
    if not (base.with_suffix(".bed")).exists():
        pytest.skip("humanorigins249 not present")
    e = read_eigenstrat(f"{base}.eigenstratgeno.gz")
    p = io.read_plink(f"{base}.bed")
    assert e.shape == (249, 9259) and e.n_missing == 8332  # the README's count
    np.testing.assert_array_equal(e.words, p.words)
    np.testing.assert_array_equal(e.ids, p.ids)
    for f in ("chrom", "position", "id", "ref", "alt"):
        np.testing.assert_array_equal(np.asarray(getattr(e.variants, f)), np.asarray(getattr(p.variants, f)))


def test_bad_input_names_file_line_and_individual(tmp_path, rng):
    d = rng.integers(0, 3, (4, 5)).astype(np.int8)
    geno = write_fileset(tmp_path, d)
    lines = geno.read_text().splitlines()

    def rewrite(new_lines):
        geno.write_text("\n".join(new_lines) + "\n")

    rewrite(lines[:2] + [lines[2][:3]] + lines[3:])
    with pytest.raises(FormatError, match=r"x.geno, line 3: 3 calls, expected 4"):
        read_eigenstrat(geno)
    rewrite(lines[:3] + [lines[3][:2] + "x" + lines[3][3:]] + lines[4:])
    with pytest.raises(FormatError, match=r"line 4: individual S2 \(column 3\): call 'x' is not 0, 1, 2 or 9"):
        read_eigenstrat(geno)
    rewrite(lines + ["0000"])
    with pytest.raises(FormatError, match="line 6: more SNP lines than the 5 SNPs of x.snp"):
        read_eigenstrat(geno)
    rewrite(lines[:4])
    with pytest.raises(FormatError, match="4 SNP lines, but x.snp lists 5 SNPs"):
        read_eigenstrat(geno)
    geno.write_bytes(b"GENO 4 5 abc def" + bytes(48))
    with pytest.raises(FormatError, match="packed \\(binary\\) EIGENSTRAT is not supported"):
        read_eigenstrat(geno)
    rewrite(lines)
    (tmp_path / "x.snp").write_text("rs0 1 0.0 1000\n")
    with pytest.raises(FormatError, match="x.snp, line 1: expected 6 columns, got 4"):
        read_eigenstrat(geno)
    write_fileset(tmp_path, d, snp_rows=[f"rs{j} 1 0.0 pos{j} A G" for j in range(5)])
    with pytest.raises(FormatError, match="positions"):
        read_eigenstrat(geno)
    write_fileset(tmp_path, d, ind_rows=["S0 U a", "S1 U a", "S0 U b", "S3 U b"])
    with pytest.raises(ValueError, match="S0"):
        read_eigenstrat(geno)
    (tmp_path / "x.ind").unlink()
    with pytest.raises(FileNotFoundError, match="x.ind"):
        read_eigenstrat(geno)
    with pytest.raises(ValueError, match="ends with .geno"):
        read_eigenstrat(tmp_path / "x.txt")


def test_written_formats_refuse_eigenstrat(tmp_path, rng):
    g = io.read(write_fileset(tmp_path, rng.integers(0, 3, (3, 4)).astype(np.int8)))
    with pytest.raises(ValueError, match="reads EIGENSTRAT but does not write it"):
        io.write(tmp_path / "out.geno", g)
    assert not (tmp_path / "out.geno").exists()
    assert io._kind(tmp_path / "in.eigenstratgeno.gz") == "eigenstrat"


def test_cli_reads_eigenstrat_and_refuses_it_as_output_before_the_work(tmp_path, rng):
    from typer.testing import CliRunner

    from genofast.cli import app

    d = rng.integers(0, 3, (6, 40)).astype(np.int8)
    d[0, 3] = -1
    geno = write_fileset(tmp_path, d)
    r = CliRunner().invoke(app, ["info", str(geno)])
    assert r.exit_code == 0 and "GenotypeMatrix, 6 rows x 40 SNPs" in r.output
    r = CliRunner().invoke(app, ["impute", "unet", str(geno), "--out", str(tmp_path / "y.geno"), "--epochs", "1"])
    assert r.exit_code != 0 and "does not write it" in r.output
    assert "training" not in r.output
