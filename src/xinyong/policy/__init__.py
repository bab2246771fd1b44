"""Policy packs: dated, sourced rules by jurisdiction, loaded from YAML and looked up by date."""
