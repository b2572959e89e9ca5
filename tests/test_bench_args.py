"""The long-region bench refuses a stretch past the region's end, a held-out set that leaves nothing to train, and
a sample too small to score."""

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "crbm_long_region.py"
pytest.importorskip("msprime")


@pytest.mark.parametrize("args, message", [
    (["--first", "4"], "--first 4: the region has 4 windows"),
    (["--first", "-1"], "--first -1: the region has 4 windows"),
    (["--heldout", "42"], "--heldout 42: leave some of the 42 haplotypes to train on"),
    (["--heldout", "41"], "--heldout 41: leave some of the 42 haplotypes to train on"),
    (["--samples", "1"], "--samples 1: sample at least 2 haplotypes"),
])
def test_long_region_bench_refuses_bad_stretches(args, message):
    if not BENCH.exists():
        pytest.skip("bench/ is not beside the tests")
    run = subprocess.run([sys.executable, str(BENCH), "--snps", "256", "--haplotypes", "42", "--window", "64",
                          "--windows", "1", *args], capture_output=True, text=True, timeout=300)
    assert run.returncode == 2, run.stderr
    assert message in run.stderr
