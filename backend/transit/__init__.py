"""Buses: validators and their enrolment, the trust data a validator caches (deny list), and ride
ingest exactly once with fares, caps and arrears; ridership. No Flask."""
