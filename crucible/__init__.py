"""Crucible: an incentive and verification layer for decentralized AI training.

The shared package used by miners, validators and sponsors: the chain client (``crucible.chain``), the artifact
store on IPFS (``crucible.artifacts``), the training and replay engine (``crucible.engine``) and the command line
(``crucible.cli``).
"""

__version__ = "0.1.0"
