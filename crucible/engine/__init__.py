"""The verifiable training engine: a compact GPT, four job kinds, segments with committed checkpoints and traces,
replay of any interval, comparison against a tolerance profile, calibration and round aggregation."""
