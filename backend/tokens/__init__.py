"""The Yima credential and code library (docs/token-format.md). No Flask import.

- ``keys``: the issuer's Ed25519 key ring, keyed by kid, with rotation;
- ``credential``: device keys, claims, canonical payloads, issuing (PyJWT, EdDSA);
- ``code``: packing a credential and a device signature into the QR text form, and back;
- ``verify``: the whole check order of spec §4;
- ``documents``: issuer-signed JSON documents (the revocation list);
- ``certificate``: insurance certificates (参保凭证): the signed statement, its compact QR text
  ``YC1…`` and its checks (spec §9);
- ``errors``: why a code is refused, with stable public codes.
"""
