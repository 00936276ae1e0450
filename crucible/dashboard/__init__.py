"""`crucible dashboard`: a read-only page over the network's public record (chain events and IPFS artifacts)."""
