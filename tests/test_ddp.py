"""Data-parallel RBM training (``fit(distributed=True)``) under torchrun against one process."""

import os
import subprocess
import sys

import numpy as np
import pytest

from genofast.models import RBM

torch = pytest.importorskip("torch")
pytest.importorskip("torch.distributed")

SCRIPT = """
import os, sys, numpy as np, torch.distributed as dist
from genofast.models import RBM
data, out, options = np.load(sys.argv[1])["a"], sys.argv[2], eval(sys.argv[3])
m = RBM(data.shape[1], 24, **options).fit(data, epochs=4, seed=5, eval_every=2, n_eval=40, distributed=True)
assert not dist.is_initialized()  # fit started the group from torchrun's environment, and ended it
rank = int(os.environ["RANK"])
if rank == 0:
    m.save(out)
np.save(out + f".rank{rank}.npy", m.params["W"].numpy())
"""


def _haplotypes():
    # two blocks of linked SNPs plus noise: something for the hidden units to learn
    rng = np.random.default_rng(2)
    base = rng.integers(0, 2, (96, 2))
    a = np.repeat(base, 15, axis=1)
    return (a ^ (rng.random(a.shape) < 0.1)).astype(np.uint8)


@pytest.mark.parametrize("options", [dict(hidden="relu", training="rdm", k=5, n_chains=33, batch_size=17),
                                     dict(hidden="bernoulli", training="cd", k=3, batch_size=16, centered=False)])
def test_torchrun_matches_one_process(tmp_path, options):
    a = _haplotypes()
    np.savez(tmp_path / "data.npz", a=a)
    (tmp_path / "train.py").write_text(SCRIPT)
    out = str(tmp_path / "ddp.safetensors")
    env = dict(os.environ, OMP_NUM_THREADS="1")
    # outside the project root, so the installed package is imported however it was installed
    run = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
                          "train.py", "data.npz", out, repr(options)], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    one = RBM(a.shape[1], 24, **options).fit(a, epochs=4, seed=5, eval_every=2, n_eval=40)
    two = RBM.load(out)
    # both processes hold the same parameters, equal to one process's up to float summation order
    np.testing.assert_array_equal(np.load(out + ".rank0.npy"), np.load(out + ".rank1.npy"))
    for k, v in one.params.items():
        np.testing.assert_allclose(two.params[k].numpy(), v.numpy(), rtol=0, atol=2e-5, err_msg=k)
    assert two.updates == one.updates and two.best_epoch == one.best_epoch
    assert [r["epoch"] for r in two.trace] == [r["epoch"] for r in one.trace]


def test_distributed_needs_a_group_and_fresh_chains():
    a = _haplotypes()
    with pytest.raises(RuntimeError, match="torchrun"):
        env = os.environ.pop("WORLD_SIZE", None)
        try:
            RBM(a.shape[1], 8).fit(a, epochs=1, distributed=True)
        finally:
            if env is not None:
                os.environ["WORLD_SIZE"] = env
    with pytest.raises(ValueError, match="PCD"):
        RBM(a.shape[1], 8, training="pcd").fit(a, epochs=1, distributed=True)


def test_cli_trains_under_torchrun(tmp_path):
    from genofast import HaplotypeMatrix, io

    io.write_hapt(tmp_path / "train.hapt", HaplotypeMatrix.from_numpy(_haplotypes()))
    args = ["train", "train.hapt", "--epochs", "2", "--hidden", "12", "--k", "3", "--chains", "20",
            "--batch-size", "24", "--eval-every", "0", "--seed", "3"]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    for launcher, out in (([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
                            "-m", "genofast.cli"], "two.safetensors"),
                          ([sys.executable, "-m", "genofast.cli"], "one.safetensors")):
        run = subprocess.run(launcher + args + ["--out", out] + (["--distributed"] if "two" in out else []),
                             cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stderr[-3000:]
    one, two = RBM.load(tmp_path / "one.safetensors"), RBM.load(tmp_path / "two.safetensors")
    for k, v in one.params.items():
        np.testing.assert_allclose(two.params[k].numpy(), v.numpy(), rtol=0, atol=2e-5, err_msg=k)
    assert two.updates == one.updates == 2 * 4
