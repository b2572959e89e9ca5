"""Generative models of haplotypes, each with fit / sample / save / load."""

from .baselines import Bernoulli, MarkovChain

__all__ = ["Bernoulli", "MarkovChain"]
