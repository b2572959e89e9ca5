"""Metrics that judge artificial genomes: privacy (:mod:`.privacy`)."""

from .privacy import (AATSResult, aats, copies, membership_inference, nearest_neighbor_chains, privacy_loss)

__all__ = ["AATSResult", "aats", "copies", "membership_inference", "nearest_neighbor_chains", "privacy_loss"]
