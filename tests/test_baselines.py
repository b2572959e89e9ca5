import numpy as np
import pytest

from genofast import HaplotypeMatrix
from genofast.io._files import FormatError
from genofast.models import Bernoulli, MarkovChain


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
