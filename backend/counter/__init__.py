"""The hospital counter: the home region's benefit arithmetic, settlements and refunds, receipts,
the day's list and reconciliation, no-phone identification, and the hospital systems' API keys.
No Flask."""
