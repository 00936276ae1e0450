"""The miner: claims slots, trains, pins its bundle on IPFS, commits it on-chain, answers audits."""
