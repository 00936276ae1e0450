"""The protocol's operations as typed Python: jobs, slots, submissions, audits, verdicts, settlement.

Miners, validators and sponsors all speak to the chain through this package; it hides ABI tuples behind
dataclasses and mirrors the ledger's rules where a party must know them before acting (which intervals are sampled,
which seat a validator holds, when a window opens).
"""
