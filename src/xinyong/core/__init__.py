"""Shared foundations: configuration, database, clock, codes, names, working days, crypto."""
