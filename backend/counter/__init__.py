"""The hospital counter: the home region's benefit arithmetic, settlements and refunds, and the
hospital systems' API keys. No Flask."""
