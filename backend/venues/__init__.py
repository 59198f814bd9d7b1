"""Venues (museums, libraries, scenic spots) that admit zone residents on the social-security code:
the venues a region's admin registers, their gate verifiers and enrolment, the online check, and
visit ingest exactly once (no charge) with counts per venue and hour. No Flask."""
