"""Base45 (RFC 9285): bytes as characters of the QR alphanumeric set."""
from .errors import Malformed

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_VALUE = {c: i for i, c in enumerate(ALPHABET)}


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
    try:
        values = [_VALUE[c] for c in text]
    except KeyError:
        raise Malformed("a character outside the base45 alphabet") from None
    out = bytearray()
    for i in range(0, len(values), 3):
        chunk = values[i:i + 3]
        if len(chunk) == 3:
            n = chunk[0] + chunk[1] * 45 + chunk[2] * 2025
            if n > 0xFFFF:
                raise Malformed("a base45 triplet is out of range")
            out += bytes((n >> 8, n & 0xFF))
        else:
            n = chunk[0] + chunk[1] * 45
            if n > 0xFF:
                raise Malformed("a base45 pair is out of range")
            out.append(n)
    return bytes(out)
