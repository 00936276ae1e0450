"""Local development network: anvil and Kubo processes bound to loopback, started and stopped by us."""
