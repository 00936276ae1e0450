"""The simulation: everything that plays parties who are not the user, for the demo, the tests and the benchmarks.

- `adversary`: the attack catalog (cheating training policies and trace rewrites);
- `actors`: adversarial daemons built on the shipped ones (a cheating miner, a lazy validator, a false accuser, the
  sponsor's sentinel that submits planted errors);
- `cast`: a whole local network's parties (honest and not) for one process;
- `demo`: `crucible demo`, the local network story end to end.

The product (crucible.* outside this package, miner, validator) never imports it: tests/test_layering.py checks that
from the source and from a fresh interpreter. `crucible demo` imports it lazily, so it ships in the wheel without a
shipped role ever loading a cheat.
"""
