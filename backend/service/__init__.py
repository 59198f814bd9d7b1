"""The service's plumbing, shared by every capability: configuration, extensions (database, Redis,
login, limits), the instance folder and the embedded Redis, logs, headers, lockout, errors and
problem documents, metrics, health, the PWA and well-known routes, the API contract, and the
signing key ring. The only package besides ``api/`` that imports Flask."""
