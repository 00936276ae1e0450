"""Artifacts on IPFS: storing, fetching with limits and digest checks, and parsing them safely."""
