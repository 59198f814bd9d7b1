"""All models, importable from one place. Each area keeps its own module."""
from .audit import AuditEntry
from .base import Base, utcnow
from .certificates import Certificate
from .credentials import Credential, Device, Revocation
from .family import FamilyGrant
from .inpatient import (FeeLine, InpatientCounter, InpatientPolicy, InpatientSettlement,
                        InpatientSettlementLine, Stay)
from .national import NationalFeeLine, NationalMessage, NationalVisit
from .oversight import ApiKey, AuditFlag, AuditFlagNote
from .people import Account, Person
from .settlement import BenefitCounter, Settlement, SettlementLine
from .registry import BusLine, Institution, MedicalPolicy, Region, bus_line_regions
from .transit import DenyEntry, Ride, RideCharge, Validator
from .venues import Venue, VenueVerifier, Visit
from .wallet import PaymentClaim, WalletEntry

__all__ = [
    "Account", "ApiKey", "AuditEntry", "AuditFlag", "AuditFlagNote", "Base", "BenefitCounter", "BusLine", "Certificate", "Credential", "Device",
    "FamilyGrant", "FeeLine", "InpatientCounter", "InpatientPolicy", "InpatientSettlement",
    "InpatientSettlementLine", "Institution", "NationalFeeLine", "NationalMessage", "NationalVisit", "MedicalPolicy", "Person", "Region", "Revocation", "Settlement",
    "SettlementLine", "Stay", "PaymentClaim", "WalletEntry", "DenyEntry", "Ride", "RideCharge", "Validator",
    "bus_line_regions", "utcnow", "Venue", "VenueVerifier", "Visit",
]
