"""Logins: password policy and hashing, staff accounts made with a checked password, and the login
sessions kept on the server (ended by logout, password change, disable). No Flask."""
