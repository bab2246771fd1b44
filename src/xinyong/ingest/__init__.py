"""Collection (归集) of records from department files: reading, mapping, validation, storage."""
