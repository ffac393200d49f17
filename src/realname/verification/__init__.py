"""From two faces to a decision: scores, calibrated thresholds, the cascade and the decision."""
