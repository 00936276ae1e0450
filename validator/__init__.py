"""The validator: audits sampled intervals by replaying them, and votes on the outcome."""
