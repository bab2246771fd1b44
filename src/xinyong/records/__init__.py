"""Credit records and their versions, with provenance, publication windows and status."""
