"""Departments (and, later, users, roles and API keys)."""
