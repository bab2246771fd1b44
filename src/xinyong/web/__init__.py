"""The web layer: FastAPI app assembly, templates, static assets, cross-cutting middleware."""
