"""Request and response schemas of /api/v1 (pydantic v2). They validate the requests *and* are
what /openapi.json publishes (backend/service/contract.py), so the document cannot drift from the code.

How a view declares its contract — ``@api.validate`` goes *below* the route and role decorators,
so 401/403 still come before 422::

    from .schemas import Body, Out, api, json_body, responses

    class LabelIn(Body):                 # strict: "5" is not an int, extra keys are ignored
        label: str

    class KeyOut(Out):                   # documents the 2xx body (not checked at run time)
        id: int

    @bp.post("/admin/things/<code>")
    @requires_role("admin")
    @api.validate(json=LabelIn, resp=responses(HTTP_201=KeyOut, errors=(401, 403, 404)),
                  tags=["admin"])
    def thing_create(code):
        body = json_body()               # dict of the fields sent: body["label"], body.get(...)

- ``query=SomeQuery`` (a ``Query`` model, all strings) documents and checks query parameters.
- ``responses(HTTP_200=Model, HTTP_201=(Model, "description"), errors=(401, 403, 409))``; errors
  may be ``{409: "`scan_expired`: scan again"}``. 503 is added everywhere; 400/422 where a body
  or query is validated; 404 where the path has parameters. List every other status the view
  (or its domain code) can answer: schemathesis in tests/test_openapi.py checks them.
- A body that is not a JSON object answers ``invalid_json`` 400; a schema failure
  ``validation_failed`` 422 with a ``fields`` map (``{"label": "required"}``).
- A route without ``@api.validate`` is missing from /openapi.json and fails tests/test_openapi.py.
"""
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..service.contract import BIGINT_MAX, Out, Problem, api, json_body, responses  # noqa: F401

# An integer the database can hold (a larger one would overflow SQLite: a 500, not a 422).
Int = Annotated[int, Field(ge=-BIGINT_MAX, le=BIGINT_MAX)]

# The statuses most routes share, to spread into ``errors=``.
LOGGED_IN = (401, 403)          # login or a bearer token, the role, and the CSRF token
REPLAYED = "The same Idempotency-Key again: the first answer, unchanged"
CSV = {200: {"text/csv": {"schema": {"type": "string"}}}}


class Body(BaseModel):
    """A JSON request body: types checked strictly (as JSON has them), unknown keys ignored."""
    model_config = ConfigDict(strict=True, extra="ignore")


class Query(BaseModel):
    """Query parameters: strings, checked only for presence; the view parses them."""
    model_config = ConfigDict(strict=True, extra="ignore")


def _array_of(items, **limits):
    """A list field that the domain checks item by item (with its own stable codes); the item
    schema is documented here."""
    return Field(json_schema_extra={"items": items, **limits})


def _checked_by_domain(schema, description=None):
    """An optional field whose type the domain checks (with its own code), documented here."""
    def document(field):
        field.pop("default", None)
        field.update(schema)
    return Field(None, description=description, json_schema_extra=document)


def _requires(*names):
    return ConfigDict(strict=True, extra="ignore", json_schema_extra={"required": list(names)})


# ---- accounts -----------------------------------------------------------------------------

class LoginIn(Body):
    login: str = Field(description="Phone number (patients) or staff login")
    password: str


class AccountOut(Out):
    login: str
    role: str
    institution: str | None
    region: str | None


class SessionOut(Out):
    csrf_token: str = Field(description="Send it in X-CSRF-Token with every write")
    account: AccountOut


class StatusOut(Out):
    status: str


class LoggedOutOut(Out):
    status: str = Field(description="`logged_out`")
    sessions_ended: int = Field(description="Sessions of this account ended, this one included")


class PasswordChangeIn(Body):
    current_password: str
    new_password: str = Field(description="At least 10 characters, not the login or phone number, "
                                          "not a common password")


class PasswordChangedOut(SessionOut):
    status: str = Field(description="`password_changed`")
    sessions_ended: int = Field(description="Other sessions of this account that were ended")


class SignupCodeIn(Body):
    national_id: str
    phone: str


class SignupCodeOut(Out):
    sent: bool
    expires_in: int
    demo_code: str | None = Field(None, description="Demo mode only: there is no SMS gateway")


class SignupIn(Body):
    national_id: str
    phone: str
    code: str = Field(description="The one-time code sent to the registered phone")
    password: str


# ---- devices and family -------------------------------------------------------------------

class ChallengeOut(Out):
    nonce: str
    expires_in: int
    server_time: int


class ActivateIn(Body):
    public_jwk: dict[str, Any] = Field(description="The phone's public key (Ed25519 or P-256 JWK)")
    nonce: str = Field(description="From POST /devices/challenge")
    signature: str = Field(description="The phone's signature over the nonce")
    grant_id: Int | None = Field(None, description="Activate a family phone for this grant")
    label: str | None = None


class RefreshIn(Body):
    device_id: Int
    nonce: str
    signature: str


class DeviceOut(Out):
    id: int
    alg: str
    holder_role: str | None
    grant_id: int | None
    label: str | None
    created_at: int
    revoked: bool
    activated_at: str | None = Field(None, description="China time, +08:00")
    revoked_at: str | None = Field(None, description="China time, +08:00")
    revoke_reason: str | None = Field(None, description="replaced | lost_or_replaced | family_revoked | ...")
    holder_status: str | None = Field(None, description="active | suspended: the person whose codes it shows")
    holder_masked_name: str | None = None
    expires_at: str | None = Field(None, description="When its latest credentials expire (China time)")
    last_used_at: str | None = Field(None, description="Latest settlement, ride or renewal (China time)")
    last_used_for: str | None = Field(None, description="settlement | ride | renewed")


class IssuedCredentialsOut(Out):
    """The phone's new credentials by kind, each a compact JWS (docs/token-format.md §2)."""
    med: str = Field(description="The medical e-voucher credential")
    ss: str = Field(description="The social-security / transit credential")


class IssuedOut(Out):
    device: DeviceOut
    credentials: IssuedCredentialsOut
    expires_at: int
    server_time: int
    revoked_devices: int | list[Any]
    notice: str | None = None


class DevicesOut(Out):
    devices: list[DeviceOut]


class DeviceRevokedOut(Out):
    device: DeviceOut
    revoked_credentials: int


class GrantOut(Out):
    id: int
    status: str
    holder_masked_name: str
    member: str | None


class InvitationOut(Out):
    grant: GrantOut
    code: str
    qr_svg: str
    expires_in: int


class CodeIn(Body):
    code: str


class GrantAnswerOut(Out):
    grant: GrantOut
    revoked_credentials: int | None = None


class GrantsOut(Out):
    given: list[GrantOut]
    received: list[GrantOut]


# ---- patient ------------------------------------------------------------------------------

class PasswordFreeOut(Out):
    enabled: bool
    limit_fen: int = Field(description="Per payment; 0 when off")
    min_fen: int
    max_fen: int = Field(description="The insured region's maximum")


class MeOut(Out):
    person: dict[str, Any]
    balances: dict[str, int]
    password_free: PasswordFreeOut
    settlements: list[dict[str, Any]] = Field(description="First page, newest first; times in China time (+08:00)")
    rides: list[dict[str, Any]] = Field(description="First page, latest ride first")
    wallet: list[dict[str, Any]] = Field(description="First page, newest first")
    more: dict[str, int | None] = Field(description="Per list, the `before` of its next page (null: no more)")
    as_of: str = Field(description="When this answer was made (China time, +08:00)")


class HistoryQuery(Query):
    before: str | None = Field(None, description="Continue below this id (a page's next_before)")
    limit: str | None = Field(None, description="1 to 100 (default 20)")


class HistoryPageOut(Out):
    items: list[dict[str, Any]]
    next_before: int | None


class SettingsOut(Out):
    password_free: PasswordFreeOut


class PasswordFreeIn(Body):
    enabled: bool
    limit_fen: Int | None = Field(None, description="Required when enabled: fen, 100 to the region's maximum")


class TopUpIn(Body):
    amount_fen: Int = Field(description="Integer fen (1 yuan = 100 fen)")


class TopUpOut(Out):
    entry: dict[str, Any]
    replayed: bool


# ---- directory (public) --------------------------------------------------------------------

class DirectoryQuery(Query):
    q: str | None = Field(None, description="Part of the name (Chinese or English), up to 40 characters")
    region: str | None = Field(None, description="A six-digit region code")


class InstitutionDirectoryOut(Out):
    institutions: list[dict[str, Any]] = Field(description="code, name {zh, en}, level, region {code, name}")
    total: int


class LineDirectoryOut(Out):
    lines: list[dict[str, Any]] = Field(description="code, name {zh, en}, fare_fen, regions [{code, name}]")
    total: int


# ---- verification and the counter ---------------------------------------------------------

class VerifyIn(Body):
    code: str = Field(description="The code as scanned (base45 text)")
    context: str = Field(description="`hospital` (cashiers) or `bus` (validators)")


class VerifyOut(Out):
    valid: bool
    holder: str
    kind: str
    home_region: str
    insurance_class: str
    family_holder: bool
    step: int
    credential_expires_at: int
    scan_id: str | None = Field(None, description="Cashiers: names this scan for settling")


BILL_LINE = {
    "type": "object", "required": ["category", "coverage_class", "amount_fen"],
    "properties": {
        "category": {"type": "string"},
        "coverage_class": {"type": "string", "enum": ["A", "B", "C"]},
        "amount_fen": {"type": "integer", "minimum": 1, "maximum": 100_000_000},
        "description": {"type": "string", "maxLength": 80},
    },
}


class IdempotencyHeaders(BaseModel):
    """A money write is done once per key: the same key again answers the first result."""
    model_config = _requires("Idempotency-Key")
    idempotency_key: Any = Field(None, alias="Idempotency-Key", json_schema_extra=lambda field: (
        field.pop("default", None), field.update(type="string", pattern=r"^[A-Za-z0-9._:-]{8,80}$",
                                                 description="8 to 80 of A-Z a-z 0-9 . _ : -")))


class OptionalIdempotencyHeaders(BaseModel):
    """With a key, a retried refund answers the first refund (and the key is not reused)."""
    model_config = ConfigDict(strict=True, extra="ignore")
    idempotency_key: Any = Field(None, alias="Idempotency-Key", json_schema_extra=lambda field: (
        field.pop("default", None), field.update(type="string", pattern=r"^[A-Za-z0-9._:-]{8,80}$",
                                                 description="8 to 80 of A-Z a-z 0-9 . _ : -")))


class BillIn(Body):
    scan_id: str = Field(description="From POST /verify")
    lines: list[Any] = _array_of(BILL_LINE, minItems=1, maxItems=100)
    use_personal_account: bool | None = Field(None, description="Default true")


class PreviewOut(Out):
    split: dict[str, Any]
    rules_of: str
    personal_account_before_fen: int


class SettlementOut(Out):
    id: int
    kind: str
    institution: str
    insured_region: str
    treating_region: str
    total_fen: int
    lines: list[dict[str, Any]]


class SettlementAnswerOut(Out):
    settlement: SettlementOut
    replayed: bool | None = None


class RefundIn(Body):
    reason: str


class RefundOut(Out):
    refund: SettlementOut
    replayed: bool = Field(description="True when the same Idempotency-Key answered an earlier refund")


# ---- administration and oversight ---------------------------------------------------------

class ReasonIn(Body):
    reason: str = Field(description="Kept to 30 characters")


class RevokedOut(Out):
    revoked_credentials: int


class PersonStatusOut(Out):
    person: dict[str, Any] = Field(description="holder, region, status (active | suspended)")
    revoked_credentials: int


class LabelIn(Body):
    label: str


class ApiKeyCreatedOut(Out):
    id: int
    key: str = Field(description="Shown once")
    institution: str
    notice: str


class ApiKeysOut(Out):
    keys: list[dict[str, Any]]


class ApiKeyRevokedOut(Out):
    id: int
    revoked: bool


class FlagsQuery(Query):
    status: str | None = Field(None, description="open, confirmed or dismissed")
    rule: str | None = Field(None, description="One rule's flags only (`bill_over_threshold` …)")
    from_: str | None = Field(None, alias="from", description="First day (China), 2026-11-01")
    to: str | None = Field(None, description="Last day (China); at most a year after `from`")
    page: str | None = Field(None, description="1, 2, … (default 1)")
    per_page: str | None = Field(None, description="1 to 100 (default 25)")


class FlagsOut(Out):
    flags: list[dict[str, Any]] = Field(description="Newest first; `at` with its offset; "
                                        "amounts in fen; `person` is a masked name")
    total: int
    page: int
    per_page: int
    by_rule: list[dict[str, Any]] = Field(description="Counts by rule and status for the period")
    names: dict[str, Any] = Field(description="zh and en names of the regions, institutions "
                                  "and lines the flags name")


class FlagCaseOut(Out):
    flag: dict[str, Any]
    others: list[dict[str, Any]] = Field(description="Other flags on the same bill")
    effect: dict[str, Any] = Field(description="What confirming does to clearing: the refusal "
                                   "in fen, between which funds, in which period")
    settlement: dict[str, Any] | None = Field(description="Lines and split (a read logged in "
                                              "the audit log)")
    ride: dict[str, Any] | None
    history: list[dict[str, Any]]
    names: dict[str, Any]


class NoteIn(Body):
    note: str = Field(description="1 to 500 characters")


class FlagNotedOut(Out):
    id: int
    history: list[dict[str, Any]]


class DecisionIn(Body):
    decision: str = Field(description="`confirm` (a refusal in clearing) or `dismiss`")
    note: str = Field(description="1 to 500 characters")


class FlagDecidedOut(Out):
    id: int
    status: str
    deduction_fen: int = Field(description="What the confirmation refuses in clearing (0: nothing)")
    history: list[dict[str, Any]]


class ClearingQuery(Query):
    from_: str | None = Field(None, alias="from", description="First day, 2026-11-01")
    to: str | None = Field(None, description="Last day (at most a year after `from`)")
    format: Literal["json", "csv"] | None = Field(None, description="csv: Chinese headers, yuan")


class ClearingOut(Out):
    period: dict[str, str]
    basis: str = Field(description="`settlement`: a refusal counts in its settlement's period")
    generated_at: str
    rows: list[dict[str, Any]] = Field(description="By payer, payee and institution: settlements, "
                                       "gross_fen, deducted, deductions_fen, net_fen")
    pairs: list[dict[str, Any]] = Field(description="The same by payer and payee")
    totals: dict[str, int]
    names: dict[str, Any]


class TrendQuery(Query):
    to: str | None = Field(None, description="The last month, 2026-11 (default: this month)")
    months: str | None = Field(None, description="1 to 24 (default 12)")


class TrendOut(Out):
    months: list[str]
    series: list[dict[str, Any]] = Field(description="Per fund pair: gross_fen, deductions_fen "
                                         "and net_fen, one per month")
    names: dict[str, Any]


class RevocationsQuery(Query):
    since: str | None = Field(None, description="Version already held (a whole number)")


class RevocationsOut(Out):
    version: int
    since: int
    jti: list[str]
    signed: str = Field(description="The same list as an issuer-signed JWS")


# ---- transit ------------------------------------------------------------------------------

class ValidatorIn(Body):
    line: str = Field(description="Bus line code")
    label: str


class ValidatorCreatedOut(Out):
    id: int
    line: str
    enrol_code: str
    qr_svg: str
    expires_in: int


class ValidatorStatusOut(Out):
    id: int
    status: str


class EnrolIn(Body):
    enrol_code: str
    public_jwk: dict[str, Any]
    signature: str


class LineOut(Out):
    code: str
    name_zh: str
    name_en: str
    fare_fen: int


class EnrolledOut(Out):
    id: int
    label: str = Field(description="The bus or device name the admin gave it (shown on the kiosk)")
    token: str = Field(description="Bearer token (`yv_…`), shown once")
    line: LineOut


class TrustOut(Out):
    server_time: int
    line: LineOut
    fares: dict[str, int]
    daily_cap_fen: int
    jwks: dict[str, Any]
    revocations: str
    deny: str
    limits: dict[str, int]


RIDE = {"type": "object", "required": ["code", "ridden_at"],
        "properties": {"id": {"type": "string"}, "code": {"type": "string"},
                       "ridden_at": {"type": "integer", "description": "Unix time"}}}


class RidesIn(Body):
    rides: list[Any] = _array_of(RIDE, minItems=1, maxItems=500)


class RidesOut(Out):
    results: list[dict[str, Any]]


class RidershipQuery(Query):
    date: str | None = Field(None, description="A day like 2026-11-24 (default: today)")


class RidershipOut(Out):
    date: str
    rows: list[dict[str, Any]]




# ---- the admin console (backend/api/admin_console.py) -------------------------------------
# These bodies are checked field by field by backend/admin_console.py with its own stable codes
# (invalid_policy, invalid_staff, invalid_rotation ...); the schemas document those rules and
# only make sure the body is a JSON object.

FEN = {"type": "integer", "minimum": 0}
BP = {"type": "integer", "minimum": 0, "maximum": 10_000}
FLAG = {"type": "boolean"}


class ConsoleOut(Out):
    login: str
    region: str | None
    zone: bool


class RegionsOut(Out):
    regions: list[dict[str, Any]]


class PolicyIn(Body):
    """Only the fields to change; fen are integer fen, ratios basis points (10 000 = 100 %)."""
    deductible_fen: Any = _checked_by_domain(FEN)
    annual_cap_fen: Any = _checked_by_domain(FEN)
    ratio_l1_a_bp: Any = _checked_by_domain(BP)
    ratio_l2_a_bp: Any = _checked_by_domain(BP)
    ratio_l3_a_bp: Any = _checked_by_domain(BP)
    ratio_l1_b_bp: Any = _checked_by_domain(BP)
    ratio_l2_b_bp: Any = _checked_by_domain(BP)
    ratio_l3_b_bp: Any = _checked_by_domain(BP)
    class_b_self_share_bp: Any = _checked_by_domain(BP)
    has_personal_account: Any = _checked_by_domain(FLAG)
    personal_account_pays_deductible: Any = _checked_by_domain(FLAG)
    personal_account_pays_class_c: Any = _checked_by_domain(FLAG)


class PolicyOut(Out):
    region: str
    policy: dict[str, Any]


class InstitutionsQuery(Query):
    q: str | None = Field(None, description="Part of the Chinese or English name, or of the code")
    region: str | None = Field(None, description="A region code")
    level: str | None = Field(None, description="1, 2 or 3")
    evoucher: str | None = Field(None, description="yes or no: takes the e-voucher")
    networked: str | None = Field(None, description="yes or no")
    page: str | None = Field(None, description="1, 2, … (default 1)")
    per_page: str | None = Field(None, description="1 to 200 (default 25)")


class InstitutionsOut(Out):
    institutions: list[dict[str, Any]]
    total: int
    page: int
    per_page: int


class EvoucherIn(Body):
    accepts_evoucher: bool


class InstitutionOut(Out):
    institution: dict[str, Any]


class LinesOut(Out):
    lines: list[dict[str, Any]]


class FareIn(Body):
    fare_fen: Int = Field(description="Integer fen")


class LineAnswerOut(Out):
    line: dict[str, Any]


class StaffListOut(Out):
    staff: list[dict[str, Any]]


class StaffIn(Body):
    model_config = _requires("login", "password", "role")
    login: Any = _checked_by_domain({"type": "string"}, "3 to 40 of a-z 0-9 . - _")
    password: Any = _checked_by_domain({"type": "string"})
    role: Any = _checked_by_domain({"type": "string", "enum": ["cashier", "auditor", "admin"]})
    region: Any = _checked_by_domain({"type": "string"}, "Auditors and admins (default: yours)")
    institution: Any = _checked_by_domain({"type": "string"}, "Cashiers only")


class StaffOut(Out):
    account: dict[str, Any]


class ValidatorsOut(Out):
    validators: list[dict[str, Any]]


class KeysOut(Out):
    keys: list[dict[str, Any]]


class SigningKeysOut(Out):
    keys: list[dict[str, Any]]
    now: int


class RotateIn(Body):
    model_config = _requires("confirm")
    confirm: Any = _checked_by_domain({"type": "string", "const": "rotate"})
    overlap_seconds: Any = _checked_by_domain({"type": "integer", "minimum": 0},
                                              "Default: the configured overlap")


class RotatedOut(Out):
    kid: str
    signs_from: int
    dropped: list[Any]
    keys: list[dict[str, Any]]


class PageQuery(Query):
    limit: str | None = Field(None, description="1 to 200 (default 50)")


class AuditPageQuery(PageQuery):
    before: str | None = Field(None, description="An entry id: continue below it")
    actor: str | None = Field(None, description="Part of a login, or a staff member's name")
    action: str | None = Field(None, description="An action (`settlement.refund`) or an area "
                               "(`settlement.`)")
    target_type: str | None = Field(None, description="A kind of object (`settlement`)")
    target_id: str | None = Field(None, description="Its id or code")
    from_: str | None = Field(None, alias="from", description="First day (China), 2026-11-01")
    to: str | None = Field(None, description="Last day (China)")


class RecentRevocationsOut(Out):
    revocations: list[dict[str, Any]]


class AuditPageOut(Out):
    entries: list[dict[str, Any]] = Field(description="Each with `actor_info` (who, named) and "
                                          "`target_name` ({zh, en})")
    next_before: int | None
    names: dict[str, Any]
