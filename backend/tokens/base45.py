"""Base45 (RFC 9285): bytes as characters of the QR alphanumeric set."""
import struct

from .errors import Malformed

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
# Byte value -> base45 digit, 255 for a byte outside the alphabet.
_TABLE = bytes(ALPHABET.index(chr(i)) if chr(i) in ALPHABET else 255 for i in range(256))


def encode(data: bytes) -> str:
    out = []
    for i in range(0, len(data) - 1, 2):
        n = data[i] * 256 + data[i + 1]
        out += (ALPHABET[n % 45], ALPHABET[n // 45 % 45], ALPHABET[n // 2025])
    if len(data) % 2:
        n = data[-1]
        out += (ALPHABET[n % 45], ALPHABET[n // 45])
    return "".join(out)


def decode(text: str) -> bytes:
    if len(text) % 3 == 1:
        raise Malformed("base45 text has an impossible length")
    # Whole-string operations rather than a loop per character: this runs for every code checked.
    values = text.encode("ascii").translate(_TABLE) if text.isascii() else b"\xff"
    if 255 in values:
        raise Malformed("a character outside the base45 alphabet")
    full = len(values) - len(values) % 3
    triplets = [a + b * 45 + c * 2025 for a, b, c in
                zip(values[0:full:3], values[1:full:3], values[2:full:3])]
    if triplets and max(triplets) > 0xFFFF:
        raise Malformed("a base45 triplet is out of range")
    out = struct.pack(f">{len(triplets)}H", *triplets)
    if full < len(values):
        n = values[full] + values[full + 1] * 45
        if n > 0xFF:
            raise Malformed("a base45 pair is out of range")
        out += bytes((n,))
    return out
