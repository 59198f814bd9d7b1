"""The admin console's domain: regions and policies, institutions, lines and fares, staff,
validators, keys, revocations and the audit log, each change scoped and audited. No Flask."""
