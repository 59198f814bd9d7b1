"""The insured-person registry: identity rules and the bulk CSV import."""
