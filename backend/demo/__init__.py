"""Demo data for a zero-setup start: the zone's three regions, their institutions and bus lines,
staff and a dozen insured persons (all fictitious)."""
