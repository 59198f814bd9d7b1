"""Logins: password policy and hashing, and staff accounts made with a checked password. No Flask."""
