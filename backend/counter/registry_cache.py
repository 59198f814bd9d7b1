"""The zone's regions and their outpatient policies, kept in memory by each worker (issue 21). No
Flask.

A settlement reads its insured region's policy, both regions' names and the audit threshold; they
change a few times a year (an admin edits a policy), but were read on every bill (two lazy loads,
then again for the receipt). Each worker keeps them here, as plain frozen values, under the
registry's version: a value the database changes itself, in the same transaction, on every
write to ``regions`` or ``medical_policies`` (triggers of migration 0020, so no code path can
forget it). A settlement reads the version in a statement it makes anyway; when it differs from
the one held, the regions are read again before they are used. Two workers, or two app
instances, each see the change at their next settlement."""
import threading
from dataclasses import dataclass, field

from sqlalchemy import BigInteger, Column, MetaData, String, Table, select

from ..models import MedicalPolicy, Region

# Not in the models' metadata: written by the database's triggers only, never by the app.
cache_versions = Table("cache_versions", MetaData(),
                       Column("name", String(40), primary_key=True),
                       Column("version", BigInteger, nullable=False))
REGISTRY = "registry"
VERSION = (select(cache_versions.c.version).where(cache_versions.c.name == REGISTRY)
           .scalar_subquery())

_POLICY_FIELDS = [column.key for column in MedicalPolicy.__table__.columns]
_REGION_FIELDS = [column.key for column in Region.__table__.columns]


@dataclass(frozen=True)
class PolicyValues:
    """The fields of a ``MedicalPolicy`` row (what ``benefits.settle`` reads)."""
    id: int
    region_code: str
    insurance_class: str
    deductible_fen: int
    annual_cap_fen: int
    ratio_l1_a_bp: int
    ratio_l2_a_bp: int
    ratio_l3_a_bp: int
    ratio_l1_b_bp: int
    ratio_l2_b_bp: int
    ratio_l3_b_bp: int
    class_b_self_share_bp: int
    has_personal_account: bool
    personal_account_pays_deductible: bool
    personal_account_pays_class_c: bool

    ratio_bp = MedicalPolicy.ratio_bp


@dataclass(frozen=True)
class RegionValues:
    code: str
    name_zh: str
    name_en: str
    province_zh: str
    province_en: str
    audit_bill_threshold_fen: int
    password_free_max_fen: int
    policies: tuple = field(default=())

    policy_for = Region.policy_for


class RegistryCache:
    """One per app (and so per worker process): ``regions(connection, version)``."""

    def __init__(self):
        self._lock = threading.Lock()
        self._version, self._regions = None, {}

    def regions(self, connection, version):
        """Every region by code, current at ``version`` (read in the caller's transaction before
        this call). A version of None (the row is gone) is never cached."""
        if version is not None and version == self._version:
            return self._regions
        regions = read_regions(connection)
        if version is not None:
            with self._lock:  # data read after the version: never older than the label
                self._version, self._regions = version, regions
        return regions


def read_regions(connection):
    policies = {}
    for row in connection.execute(select(*MedicalPolicy.__table__.columns)):
        values = PolicyValues(**dict(zip(_POLICY_FIELDS, row)))
        policies.setdefault(values.region_code, []).append(values)
    return {row.code: RegionValues(**dict(zip(_REGION_FIELDS, row)),
                                   policies=tuple(policies.get(row.code, ())))
            for row in connection.execute(select(*Region.__table__.columns))}
