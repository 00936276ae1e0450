"""The contracts' ABIs and bytecode as package data, written by `python -m crucible.chain.build_abis` (read them
through crucible.chain.artifacts)."""
