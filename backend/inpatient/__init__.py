"""Inpatient settlement (住院结算, docs/inpatient.md): each region's inpatient policy (``policy``),
the split of a stay's bill (``benefits``, pure), admission and fee lines (``stays``), pre-settlement,
discharge settlement and its reversal (``discharge``), the receipt (``receipts``) and the desk's
day (``day``). Plain values and a SQLAlchemy session in, no Flask; nothing here commits."""
