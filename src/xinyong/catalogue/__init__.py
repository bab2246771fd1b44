"""The information catalogue: items, their fields and types, code tables, disclosure levels."""
