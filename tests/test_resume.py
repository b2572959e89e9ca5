"""Kill-and-resume: SIGKILL `genofast train` at random points, resume, and get the uninterrupted result.

Each run checkpoints every epoch (atomically); after every kill the
checkpoint must load (never half-written), and `--resume` continues from it.
The final parameters, optimizer moments, persistent chains and AATS trace
must equal those of one uninterrupted run bit for bit (CPU, one thread).
"""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from genofast import HaplotypeMatrix, io
from genofast.models import RBM

N_KILLS = 6
EPOCHS = 30
# PCD: its persistent chains are the state a resume is most likely to lose
ARGS = ["--epochs", str(EPOCHS), "--eval-every", "4", "--hidden", "24", "--training", "pcd", "--k", "5",
        "--chains", "32", "--batch-size", "16", "--seed", "7", "--device", "cpu", "--threads", "1"]


def _train(data, out, resume: bool):
    cmd = [sys.executable, "-c", "from genofast.cli import app; app()", "train", str(data), "--out", str(out), *ARGS]
    # run outside the source tree, so the installed package is what is tested
    with open(out.parent / "stderr.txt", "wb") as err:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(cmd + (["--resume"] if resume else []), cwd=out.parent, stdout=subprocess.DEVNULL,
                                stderr=err, env={**os.environ, "OMP_NUM_THREADS": "1"})


def _finished(p, out):
    code = p.wait(timeout=300)
    assert code == 0, (out.parent / "stderr.txt").read_text()


def _stamp(path):
    try:
        st = path.stat()
        return st.st_ino, st.st_mtime_ns
    except FileNotFoundError:
        return None


def _wait_for_new_checkpoint(p, out, before, limit=120.0):
    """Wait until the run has written a checkpoint (so it is past start-up and training), or has ended."""
    end = time.monotonic() + limit
    while _stamp(out) == before and p.poll() is None and time.monotonic() < end:
        time.sleep(0.005)


def _state(path):
    m = RBM.load(path)
    arrays = {k: v.numpy() for k, v in m.params.items()}
    for k, (a, b) in m.moments.items():
        arrays[f"m1.{k}"], arrays[f"m2.{k}"] = a.numpy(), b.numpy()
    arrays["chains"] = m.chains.numpy()
    arrays.update({f"offset.{k}": v.numpy() for k, v in m.offsets.items()})
    return m.epoch, m.updates, m.step, json.dumps(m.trace), m.best_epoch, arrays


@pytest.fixture
def data(tmp_path):
    rng = np.random.default_rng(11)
    types = rng.integers(0, 2, (4, 64), dtype=np.uint8)
    h = HaplotypeMatrix.from_numpy(types[rng.integers(0, 4, 320)] ^ (rng.random((320, 64)) < 0.05))
    path = tmp_path / "train.npz"
    io.save(path, h)
    return path


def test_sigkill_at_random_points_then_resume_is_bit_identical(data, tmp_path):
    whole = tmp_path / "whole" / "rbm.safetensors"
    whole.parent.mkdir()
    t0 = time.perf_counter()
    p = _train(data, whole, resume=False)
    _finished(p, whole)
    duration = time.perf_counter() - t0
    expected = _state(whole)

    out = tmp_path / "killed" / "rbm.safetensors"
    out.parent.mkdir()
    rng = np.random.default_rng(2026)  # the kill points are random but repeatable
    kills, epochs_seen = 0, []
    while kills < N_KILLS:
        p = _train(data, out, resume=True)
        # Start-up (importing torch) dwarfs training here, so kill at a random time after the run's first
        # checkpoint of this attempt, when it is training, evaluating or in the middle of writing one.
        _wait_for_new_checkpoint(p, out, _stamp(out))
        time.sleep(rng.uniform(0, 0.4))
        if p.poll() is not None:  # finished before the kill: start over to keep killing mid-run
            _finished(p, out)
            out.unlink()
            continue
        p.send_signal(signal.SIGKILL)
        p.wait()
        kills += 1
        # never half-written: whatever carries the checkpoint's name loads and is checked in full
        if out.exists():
            epochs_seen.append(RBM.load(out).epoch)
        else:
            epochs_seen.append(0)
        # a kill inside a save leaves only a hidden .tmp beside it, never a second visible file
        leftovers = [f.name for f in out.parent.iterdir() if f.name not in (out.name, "stderr.txt")
                     and not (f.name.startswith(f".{out.name}.") and f.name.endswith(".tmp"))]
        assert leftovers == []
    p = _train(data, out, resume=True)
    _finished(p, out)
    got = _state(out)
    assert got[:5] == expected[:5]
    for k, v in expected[5].items():
        assert np.array_equal(got[5][k], v), k
    print(f"{N_KILLS} kills at epochs {epochs_seen}; uninterrupted run {duration:.1f} s")
    # The kills must have landed mid-training at least once, or the test proved nothing about resuming.
    assert sum(0 < e < EPOCHS for e in epochs_seen) >= N_KILLS // 2, epochs_seen
