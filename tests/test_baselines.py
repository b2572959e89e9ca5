import sys

import numpy as np
import pytest

from genofast import HaplotypeMatrix
from genofast.io._files import FormatError
from genofast.models import Bernoulli, MarkovChain
from reference import rewrite_checkpoint


@pytest.fixture
def chain_data(rng):
    # a 2-state Markov chain along the genome with strong persistence
    n, s = 4000, 40
    a = np.zeros((n, s), dtype=np.uint8)
    a[:, 0] = rng.random(n) < 0.3
    for j in range(1, s):
        stay = rng.random(n) < 0.9
        a[:, j] = np.where(stay, a[:, j - 1], 1 - a[:, j - 1])
    return a


def test_bernoulli_matches_frequencies(chain_data, tmp_path):
    m = Bernoulli().fit(HaplotypeMatrix.from_numpy(chain_data))
    s = m.sample(20000, seed=1).to_numpy()
    f, fs = chain_data.mean(0), s.mean(0)
    assert np.abs(f - fs).max() < 4 * np.sqrt(0.25 / 20000)
    # independence: neighbouring SNPs are uncorrelated in the samples
    assert abs(np.corrcoef(s[:, 10], s[:, 11])[0, 1]) < 0.05
    m.save(tmp_path / "b.safetensors")
    np.testing.assert_array_equal(Bernoulli.load(tmp_path / "b.safetensors").sample(50, 3).to_numpy(),
                                  m.sample(50, 3).to_numpy())


@pytest.mark.parametrize("window", [1, 3])
def test_markov_chain_transition_statistics(chain_data, window, tmp_path):
    m = MarkovChain(window=window).fit(chain_data)
    s = m.sample(20000, seed=2).to_numpy()
    np.testing.assert_allclose(s.mean(0), chain_data.mean(0), atol=0.03)
    for j in (5, 20, 39):  # P(a_j = a_{j-1}) is the data's 0.9
        same_data = (chain_data[:, j] == chain_data[:, j - 1]).mean()
        same_syn = (s[:, j] == s[:, j - 1]).mean()
        assert abs(same_data - same_syn) < 0.02
    # the k-step conditional matches: P(a_j = 1 | previous window state) by counting
    j = 25
    state_d = sum(chain_data[:, j - window + t].astype(int) << t for t in range(window))
    state_s = sum(s[:, j - window + t].astype(int) << t for t in range(window))
    for st in range(1 << window):
        if (state_d == st).sum() > 500 and (state_s == st).sum() > 500:
            assert abs(chain_data[state_d == st, j].mean() - s[state_s == st, j].mean()) < 0.05
    h = HaplotypeMatrix.from_numpy(chain_data)
    m.variants = h.variants
    m.save(tmp_path / "m.safetensors")
    back = MarkovChain.load(tmp_path / "m.safetensors")
    assert back.window == window
    np.testing.assert_array_equal(back.sample(3, 1).variants.position, h.variants.position)
    np.testing.assert_array_equal(back.sample(30, 7).to_numpy(), m.sample(30, 7).to_numpy())


def test_seeded_sampling(chain_data):
    m = MarkovChain(2).fit(chain_data)
    np.testing.assert_array_equal(m.sample(10, 5).to_numpy(), m.sample(10, 5).to_numpy())
    assert (m.sample(10, 5).to_numpy() != m.sample(10, 6).to_numpy()).any()


def test_bad_input(tmp_path):
    with pytest.raises(ValueError, match="empty cohort"):
        Bernoulli().fit(np.zeros((0, 5)))
    with pytest.raises(ValueError, match="only 0 and 1"):
        Bernoulli().fit(np.array([[0, 2]]))
    with pytest.raises(ValueError, match="only 0 and 1"):
        Bernoulli().fit(np.array([[0, np.nan]]))
    with pytest.raises(ValueError, match="window"):
        MarkovChain(window=0)
    with pytest.raises(RuntimeError, match="not fitted"):
        Bernoulli().sample(3, 1)
    with pytest.raises(ValueError, match="non-negative"):
        Bernoulli().fit(np.zeros((3, 4))).sample(-1, 1)
    Bernoulli().fit(np.zeros((3, 4))).save(tmp_path / "b.safetensors")
    with pytest.raises(FormatError, match="not 'markov_chain'"):
        MarkovChain.load(tmp_path / "b.safetensors")
    (tmp_path / "junk").write_bytes(b"\x00" * 20)
    with pytest.raises(FormatError, match="not a safetensors"):
        Bernoulli.load(tmp_path / "junk")


def _set(name, value, index=0):
    def change(arrays):
        arrays[name].flat[index] = value
    return change


@pytest.mark.parametrize("model, change, message", [
    # NaN frequencies compare false and generate all-0 SNPs; 7.0 all-1 SNPs: both must fail on load
    ("bernoulli", _set("frequencies", np.nan), "'frequencies' holds NaN"),
    ("bernoulli", _set("frequencies", 7.0), "'frequencies' has values outside"),
    ("bernoulli", _set("frequencies", -np.inf), "'frequencies' holds NaN or infinite"),
    ("bernoulli", lambda a: a.update(frequencies=a["frequencies"][:-1]), "'frequencies' has shape"),
    ("bernoulli", lambda a: a.pop("frequencies"), "'frequencies' is missing"),
    ("markov", _set("conditional", np.nan, 8 * 10), "'conditional' holds NaN"),
    ("markov", _set("conditional", 1.5, 8 * 10 + 3), "'conditional' has values outside"),
    ("markov", lambda a: a.update(conditional=a["conditional"][:, :4]), "'conditional' has shape"),
    ("markov", _set("initial", 0.9), "'initial' is a distribution but sums to"),
    ("markov", lambda a: a.update(initial=np.full(4, 0.25)), "'initial' has shape"),
])
def test_checkpoints_with_bad_tensors_are_refused_naming_file_and_tensor(chain_data, tmp_path, model, change,
                                                                        message):
    cls = Bernoulli if model == "bernoulli" else MarkovChain
    m = Bernoulli() if model == "bernoulli" else MarkovChain(3)
    m.fit(chain_data).save(tmp_path / "good.safetensors")
    bad = rewrite_checkpoint(tmp_path / "good.safetensors", tmp_path / "bad.safetensors", change)
    with pytest.raises(FormatError, match=message) as e:
        cls.load(bad)
    assert str(bad) in str(e.value)


def test_markov_rows_before_the_window_are_not_checked(chain_data, tmp_path):
    # the first `window` rows of the table are never read (NaN by construction): loading accepts them
    m = MarkovChain(3).fit(chain_data)
    assert np.isnan(m.conditional[:3]).all()
    m.save(tmp_path / "m.safetensors")
    np.testing.assert_array_equal(MarkovChain.load(tmp_path / "m.safetensors").sample(20, 1).to_numpy(),
                                  m.sample(20, 1).to_numpy())


@pytest.mark.parametrize("config, message", [
    ("{not json", "config is not valid JSON"),
    ("[1, 2]", "config must be a JSON object"),
    ('{"alpha": 0.0}', "config lacks 'window'"),
    ('{"window": 0, "alpha": 0.0}', "window must be an integer"),
    ('{"window": 3, "alpha": NaN}', "alpha must be a finite number"),
    ('{"window": 2, "alpha": 0.0}', "'conditional' has shape"),
])
def test_malformed_config_is_a_format_error_naming_the_file(chain_data, tmp_path, config, message):
    MarkovChain(3).fit(chain_data).save(tmp_path / "good.safetensors")
    bad = rewrite_checkpoint(tmp_path / "good.safetensors", tmp_path / "bad.safetensors", config=config)
    with pytest.raises(FormatError, match=message) as e:
        MarkovChain.load(bad)
    assert str(bad) in str(e.value)


@pytest.mark.parametrize("seed", [-5, 2**64, 2**63, 1.5, True, None])
def test_sample_rejects_bad_seeds(chain_data, seed):
    for m in (Bernoulli().fit(chain_data), MarkovChain(2).fit(chain_data)):
        with pytest.raises(ValueError, match="seed must be an integer"):
            m.sample(3, seed)
    assert Bernoulli().fit(chain_data).sample(2, 2**63 - 1).shape == (2, 40)


def test_hyperparameters_are_validated():
    for bad in (0, 21, 2.0, True):
        with pytest.raises(ValueError, match="window"):
            MarkovChain(window=bad)
    for bad in (-1.0, np.nan, np.inf, "x"):
        with pytest.raises(ValueError, match="alpha"):
            MarkovChain(2, alpha=bad)


@pytest.mark.parametrize("cls", [Bernoulli, lambda: MarkovChain(3)])
def test_sampling_refuses_what_memory_cannot_hold(chain_data, monkeypatch, cls):
    import genofast.models._base as base

    m = cls().fit(chain_data)
    monkeypatch.setattr(base, "available_memory", lambda: 2**20)
    assert m.sample(100, 1).shape == (100, 40)  # 100 x 40 fits in a MiB
    with pytest.raises(MemoryError, match=r"sampling 100000 haplotypes x 40 SNPs needs about 0\.\d GiB"):
        m.sample(100_000, 1)


_MEASURE = """
import sys, numpy as np
def peak():  # VmHWM: this process's peak resident memory (ru_maxrss would carry the forking parent's over exec)
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM:"))
from genofast.models import Bernoulli, MarkovChain
m = (Bernoulli() if sys.argv[1] == "bernoulli" else MarkovChain(3))
m.fit((np.random.default_rng(0).random((50, 2000)) < 0.3).astype(np.uint8))
m.sample(10, 1)
before = peak()
m.sample(20000, 1)
print(peak() - before, m.sample_bytes(20000))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
@pytest.mark.parametrize("model", ["bernoulli", "markov"])
def test_sample_memory_estimate_matches_the_measured_peak(model):
    import subprocess

    # a fresh process, so the peak resident size is this sampling's own
    out = subprocess.run([sys.executable, "-c", _MEASURE, model], capture_output=True, text=True, check=True)
    measured, estimate = map(int, out.stdout.split())
    assert measured < 1.25 * estimate  # refusing on the estimate must come before running out
    assert estimate < 2 * measured  # and not refuse runs that fit
