"""All models, importable from one place. Each area keeps its own module."""
from .audit import AuditEntry
from .base import Base, utcnow
from .credentials import Credential, Device, Revocation
from .family import FamilyGrant
from .oversight import ApiKey, AuditFlag, AuditFlagNote
from .people import Account, Person
from .settlement import BenefitCounter, Settlement, SettlementLine
from .registry import BusLine, Institution, MedicalPolicy, Region, bus_line_regions
from .transit import DenyEntry, Ride, RideCharge, Validator
from .wallet import PaymentClaim, WalletEntry

__all__ = [
    "Account", "ApiKey", "AuditEntry", "AuditFlag", "AuditFlagNote", "Base", "BenefitCounter", "BusLine", "Credential", "Device",
    "FamilyGrant", "Institution", "MedicalPolicy", "Person", "Region", "Revocation", "Settlement",
    "SettlementLine", "PaymentClaim", "WalletEntry", "DenyEntry", "Ride", "RideCharge", "Validator",
    "bus_line_regions", "utcnow",
]
