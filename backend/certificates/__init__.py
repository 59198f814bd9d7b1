"""Signed insurance certificates (参保凭证, docs/certificate.md). No Flask import.

- ``issuing``: issuing a certificate for a person (from the app, or at a region's counter),
  listing, revoking (onto the revocation list), and checking one against the key ring;
- ``pdf``: the printable PDF (reportlab, an embedded Chinese font subset) with the QR.
"""
