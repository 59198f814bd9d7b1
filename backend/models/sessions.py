"""Login sessions kept on the server: the cookie names one by a random token, the row says whose it
is and when it began and was last used. Deleting the row ends every copy of the cookie."""
from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, BigId, OpaqueId, Timestamp
from .people import Account


class LoginSession(Base):
    __tablename__ = "login_sessions"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_hash: Mapped[str] = mapped_column(OpaqueId(64), unique=True)  # sha256 of the token
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    last_seen_at: Mapped[datetime] = mapped_column(Timestamp)

    account: Mapped[Account] = relationship()
