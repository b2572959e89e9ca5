"""Critic-score membership inference attacks on GANs (Yelmen et al. 2023, after Hayes et al. 2019, LOGAN).

The adversary holds candidate haplotypes, some of them training members, and
knows how many members there are. A critic (or discriminator) scores every
candidate; the top-scoring fraction is claimed to be members, and the attack's
accuracy at that fraction is the share of claimed candidates that really are
members (chance: the share of members among the candidates).

- white box: the adversary has the trained model's own critic;
- black box: the adversary has only the architecture and the synthetic
  haplotypes, trains a fresh model on those (overtrained, to overfit them) and
  scores the candidates with its critic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FRACTIONS = (0.01, 0.10, 0.25, 0.50)  # the paper's top 1%, 10%, 25%, 50%


@dataclass(frozen=True)
class MembershipAttack:
    scores: np.ndarray  # critic score per candidate (higher = claimed member first)
    accuracy: dict  # fraction of candidates claimed -> share of the claimed that are members
    chance: float  # share of members among the candidates


def attack_accuracy(scores, is_member, fractions=FRACTIONS) -> MembershipAttack:
    """Accuracy of claiming the top ``fraction`` of candidates by score as members.

    Claims ``max(1, round(fraction * n))`` candidates; equal scores keep the
    candidates' order (a stable sort), so a constant critic is no better than
    the order of the candidate list.
    """
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    member = np.asarray(is_member, dtype=bool).reshape(-1)
    if scores.shape != member.shape:
        raise ValueError(f"{scores.size} scores for {member.size} membership flags")
    if scores.size == 0:
        raise ValueError("no candidates to attack")
    if not np.isfinite(scores).all():
        raise ValueError("critic scores hold NaN or infinite values")
    order = np.argsort(-scores, kind="stable")
    acc = {}
    for f in fractions:
        if not 0 < f <= 1:
            raise ValueError(f"fractions must be in (0, 1], got {f!r}")
        n = max(1, int(round(f * scores.size)))
        acc[f] = float(member[order[:n]].mean())
    return MembershipAttack(scores, acc, float(member.mean()))


def white_box(model, candidates, is_member, labels=None, fractions=FRACTIONS) -> MembershipAttack:
    """Score candidates with the trained model's own critic (GAN discriminator or WGAN critic)."""
    return attack_accuracy(model.critic_scores(candidates, labels), is_member, fractions)


def black_box(make_model, synthetic, candidates, is_member, epochs: int, seed: int = 0, labels=None,
              synthetic_labels=None, fractions=FRACTIONS) -> MembershipAttack:
    """Train ``make_model()`` (same architecture, fresh weights) on the synthetic haplotypes, then attack with it.

    The paper overtrained this shadow model (up to 5,000 epochs) so that its
    critic overfits the synthetic set.
    """
    shadow = make_model()
    shadow.fit(synthetic, epochs=epochs, seed=seed, labels=synthetic_labels, fingerprint=False)
    return white_box(shadow, candidates, is_member, labels, fractions)
