"""Everything that talks to the chain: compiling, deploying, sending transactions, decoding reverts."""
