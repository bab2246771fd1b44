"""The subject registry: one subject per code, its names over time, its legal representatives."""
