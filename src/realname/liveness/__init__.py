"""Active liveness: server-issued random challenges, per-frame analysis, and the decision with its checks."""
