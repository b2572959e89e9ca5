"""Metrics that judge artificial genomes: privacy (:mod:`.privacy`), realism (:mod:`.quality`, LD in :mod:`.ld`),
per-population statistics and structure views (:mod:`.population`), selection scans (:mod:`.selection`)."""

from .privacy import (AATSResult, aats, copies, membership_inference, nearest_neighbor_chains, privacy_loss)
from .selection import SelectionScans, selection_scans

__all__ = ["AATSResult", "SelectionScans", "aats", "copies", "membership_inference", "nearest_neighbor_chains",
           "privacy_loss", "selection_scans"]
