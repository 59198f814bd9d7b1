"""A patient's own settings: small password-free payment (小额免密) for bus fares.

The limit is per payment: a fare up to it is taken from the ride wallet without a PIN; above it,
or with the setting off (limit 0), a ride is ride-first-pay-later (arrears). A person may choose a
limit from ¥1 up to their insured region's maximum. No Flask."""
from ..service.errors import ValidationFailed

MIN_LIMIT_FEN = 100


def password_free(person):
    limit = person.password_free_limit_fen
    return {"enabled": limit > 0, "limit_fen": limit, "min_fen": MIN_LIMIT_FEN,
            "max_fen": person.region.password_free_max_fen}


def set_password_free(person, *, enabled, limit_fen=None):
    """Switch it off (the limit becomes 0), or on with a limit within the region's maximum."""
    if not enabled:
        person.password_free_limit_fen = 0
        return password_free(person)
    most = person.region.password_free_max_fen
    if not isinstance(limit_fen, int) or isinstance(limit_fen, bool) \
            or not MIN_LIMIT_FEN <= limit_fen <= most:
        raise ValidationFailed(
            f"Choose a limit from {MIN_LIMIT_FEN / 100:.2f} to {most / 100:.2f} yuan.",
            code="limit_out_of_range",
            extra={"fields": {"limit_fen": "out_of_range"}, "min_fen": MIN_LIMIT_FEN, "max_fen": most})
    person.password_free_limit_fen = limit_fen
    return password_free(person)
