"""All models, importable from one place. Each area keeps its own module."""
from .audit import AuditEntry
from .base import Base, utcnow
from .credentials import Credential, Device, Revocation
from .people import Account, Person
from .registry import BusLine, Institution, MedicalPolicy, Region, bus_line_regions

__all__ = [
    "AuditEntry", "Account", "Base", "BusLine", "Credential", "Device", "Revocation", "Institution", "MedicalPolicy", "Person",
    "Region", "bus_line_regions", "utcnow",
]
