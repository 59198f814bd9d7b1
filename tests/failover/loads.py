"""Clients of the failover test, behaving as the real ones do: cashiers settling bills, patients
topping up their ride wallets, a bus validator uploading ride batches, and a load balancer's
readiness probes. Each talks HTTP to the app instances in turn (one cookie jar per client, as
behind a load balancer), retries with the same Idempotency-Key or the same batch, logs in again
or scans again when the server says so, and keeps every answer it saw."""
import http.client
import http.cookies
import itertools
import json
import threading
import time
import traceback
import uuid

BILL = [{"category": "registration", "coverage_class": "A", "amount_fen": 500},
        {"category": "drug", "coverage_class": "B", "amount_fen": 700}]
TOP_UP_FEN = 1000
ITEM_DEADLINE = 150  # seconds one bill, top-up or batch may take: a failover, a claim's lease
CONNECTION_TROUBLE = (OSError, http.client.HTTPException)


class Answer:
    def __init__(self, status, headers, raw):
        self.status_code, self.headers = status, headers
        self.mimetype = (headers.get("Content-Type") or "").split(";")[0].strip()
        try:
            self.json = json.loads(raw) if raw else None
        except ValueError:
            self.json = None

    @property
    def code(self):
        return (self.json or {}).get("code") if isinstance(self.json, dict) else None


class Http:
    """One client: its cookies, sent to the app instances in turn."""

    def __init__(self, ports, timeout=40):
        self.ports, self.timeout = list(ports), timeout
        self.cookies, self.turn = {}, itertools.count()

    def request(self, method, path, json_body=None, headers=None, port=None):
        port = port or self.ports[next(self.turn) % len(self.ports)]
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=self.timeout)
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            connection.request(method, path, headers=all_headers,
                               body=None if json_body is None else json.dumps(json_body))
            response = connection.getresponse()
            raw = response.read()
            for header in response.headers.get_all("Set-Cookie") or []:
                jar = http.cookies.SimpleCookie()
                jar.load(header)
                for name, morsel in jar.items():
                    if morsel.value and morsel["max-age"] != "0":
                        self.cookies[name] = morsel.value
                    else:
                        self.cookies.pop(name, None)
            answer = Answer(response.status, response.headers, raw)
            answer.port = port
            return answer
        finally:
            connection.close()

    def post(self, path, json=None, headers=None):  # the test client's shape (tests/phones.py)
        return self.request("POST", path, json, headers)

    def get(self, path, headers=None):
        return self.request("GET", path, None, headers)


class Record:
    """Every answer every client saw, and what each client was finally told."""

    def __init__(self):
        self.lock = threading.Lock()
        self.answers = []     # (sent, done, port, kind, status, code, mimetype, body)
        self.settled = {}     # Idempotency-Key -> settlement id
        self.topped_up = {}   # (login, Idempotency-Key) -> wallet entry id
        self.rides = {}       # (code, ridden_at) -> final status
        self.errors = []
        self.tolerated = {}   # (kind, status, code) -> count: non-503 refusals a client got past
        self.after_settle = None  # the test's check of each settlement a client saw

    def note(self, kind, sent, port, answer=None, trouble=None):
        done = time.monotonic()
        with self.lock:
            if answer is None:
                self.answers.append((sent, done, port, kind, 0, type(trouble).__name__, "", None))
            else:
                self.answers.append((sent, done, port, kind, answer.status_code, answer.code,
                                     answer.mimetype, answer.json))

    def tolerate(self, kind, answer):
        key = (kind, answer.status_code, answer.code)
        with self.lock:
            self.tolerated[key] = self.tolerated.get(key, 0) + 1


class Client(threading.Thread):
    def __init__(self, record, http_client, stop):
        super().__init__(daemon=True)
        self.record, self.http, self.stop = record, http_client, stop

    def call(self, kind, method, path, body=None, headers=None, deadline=None):
        """One call, again and again while the service is unavailable (503 or no connection);
        the caller decides about any other answer."""
        deadline = deadline or time.monotonic() + ITEM_DEADLINE
        while True:
            sent = time.monotonic()
            try:
                answer = self.http.request(method, path, body, headers)
            except CONNECTION_TROUBLE as trouble:
                self.record.note(kind, sent, None, trouble=trouble)
            else:
                self.record.note(kind, sent, answer.port, answer)
                if answer.status_code != 503:
                    return answer
            if time.monotonic() > deadline:
                raise AssertionError(f"{kind}: no answer but 503 for {ITEM_DEADLINE} s")
            time.sleep(0.1)

    def run(self):
        try:
            self.work()
        except BaseException:  # noqa: BLE001  (reported by the test)
            self.record.errors.append(f"{self.name}: {traceback.format_exc()}")


class LoggedIn(Client):
    def __init__(self, record, http_client, stop, login, password):
        super().__init__(record, http_client, stop)
        self.login_name, self.password, self.csrf = login, password, None

    def log_in(self):
        answer = self.call("login", "POST", "/api/v1/auth/login",
                           {"login": self.login_name, "password": self.password})
        assert answer.status_code == 200, (self.login_name, answer.status_code, answer.json)
        self.csrf = answer.json["csrf_token"]

    def signed_call(self, kind, path, body, key=None, deadline=None):
        """A logged-in POST; logged in again (once per refusal) when the session is gone."""
        while True:
            headers = {"X-CSRF-Token": self.csrf}
            if key:
                headers["Idempotency-Key"] = key
            answer = self.call(kind, "POST", path, body, headers, deadline)
            if answer.status_code == 401 or answer.code == "csrf_failed":
                self.record.tolerate(kind, answer)
                self.log_in()
                continue
            return answer


class Cashier(LoggedIn):
    """Scans a patient's code and settles a bill, one after another. A lost scan (Redis failed
    over without it) is scanned again; a code spent by a scan whose answer was lost is replaced by
    the patient's next code. The bill keeps its Idempotency-Key throughout."""

    def __init__(self, record, http_client, stop, login, password, phone):
        super().__init__(record, http_client, stop, login, password)
        self.phone, self.steps = phone, itertools.count(-390)

    def fresh_code(self):
        return self.phone.code("med", now=time.time() + 30 * next(self.steps))

    def work(self):
        self.log_in()
        while not self.stop.is_set():
            self.one_bill()
            time.sleep(0.05)

    def one_bill(self):
        key = "fo-" + uuid.uuid4().hex
        deadline = time.monotonic() + ITEM_DEADLINE
        code = self.fresh_code()
        while True:
            scan = self.signed_call("verify", "/api/v1/verify",
                                    {"code": code, "context": "hospital"}, deadline=deadline)
            if scan.status_code == 409 and scan.code == "code_replayed":
                self.record.tolerate("verify", scan)  # its scan was lost: show the next code
                code = self.fresh_code()
                continue
            assert scan.status_code == 200, ("verify", scan.status_code, scan.json)
            answer = self.signed_call("settle", "/api/v1/settlements",
                                      {"scan_id": scan.json["scan_id"], "lines": BILL}, key,
                                      deadline)
            if answer.status_code == 409 and answer.code == "scan_expired":
                self.record.tolerate("settle", answer)  # Redis forgot the scan: scan again
                continue
            assert answer.status_code in (200, 201), ("settle", answer.status_code, answer.json)
            settlement_id = answer.json["settlement"]["id"]
            with self.record.lock:
                assert self.record.settled.setdefault(key, settlement_id) == settlement_id
            if self.record.after_settle:
                self.record.after_settle(settlement_id)
            return


class Patient(LoggedIn):
    """Tops up the ride wallet, one top-up after another, each with its own Idempotency-Key."""

    def work(self):
        self.log_in()
        while not self.stop.is_set():
            key = "fo-" + uuid.uuid4().hex
            deadline = time.monotonic() + ITEM_DEADLINE
            while True:
                answer = self.signed_call("topup", "/api/v1/wallet/topups",
                                          {"amount_fen": TOP_UP_FEN}, key, deadline)
                if answer.status_code == 409 and answer.code == "request_in_progress":
                    # The claim was committed and the answer lost with the primary: the claim's
                    # lease must pass before a retry may take it over (wallet.CLAIM_LEASE_SECONDS).
                    self.record.tolerate("topup", answer)
                    assert time.monotonic() < deadline, "top-up still in progress"
                    time.sleep(1)
                    continue
                assert answer.status_code in (200, 201), ("topup", answer.status_code, answer.json)
                with self.record.lock:
                    seen = self.record.topped_up.setdefault((self.login_name, key),
                                                            answer.json["entry"]["id"])
                    assert seen == answer.json["entry"]["id"]
                break
            time.sleep(0.2)


class RideCodes:
    """Ride codes not used yet: each phone's next 30-s step from its activation on, up to a few
    minutes ahead of now (what the server accepts)."""

    def __init__(self, phones):
        self.phones, self.lock = phones, threading.Lock()
        first = int(time.time()) // 30
        self.next_step = {id(phone): first for phone in phones}

    def take(self):
        now = int(time.time())
        with self.lock:
            for phone in sorted(self.phones, key=lambda p: self.next_step[id(p)]):
                step = self.next_step[id(phone)]
                at = step * 30 + 15
                if at <= now + 240:
                    self.next_step[id(phone)] = step + 1
                    return phone.code("ss", now=at), at
        return None


class Validator(Client):
    """A bus validator's outbox: batches of rides, each batch sent again until it is answered."""

    def __init__(self, record, http_client, stop, token, codes, batch=3):
        super().__init__(record, http_client, stop)
        self.auth, self.codes, self.batch = {"Authorization": f"Bearer {token}"}, codes, batch

    def work(self):
        while not self.stop.is_set():
            taken = [self.codes.take() for _ in range(self.batch)]
            rides = [{"code": code, "ridden_at": at} for code, at in filter(None, taken)]
            if not rides:
                time.sleep(1)
                continue
            answer = self.call("rides", "POST", "/api/v1/rides/batch", {"rides": rides}, self.auth)
            assert answer.status_code == 200, ("rides", answer.status_code, answer.json)
            for ride, result in zip(rides, answer.json["results"]):
                assert result["status"] in ("charged", "duplicate"), result
                with self.record.lock:
                    self.record.rides[(ride["code"], ride["ridden_at"])] = result["status"]
            time.sleep(0.3)


class ReadinessProbe(threading.Thread):
    """What a load balancer sees: GET /readyz on one instance every 50 ms."""

    def __init__(self, port, stop):
        super().__init__(daemon=True)
        self.port, self.stop, self.seen = port, stop, []

    def run(self):
        client = Http([self.port], timeout=10)
        while not self.stop.is_set():
            sent = time.monotonic()
            try:
                status = client.get("/readyz").status_code
            except CONNECTION_TROUBLE:
                status = 0
            self.seen.append((sent, time.monotonic(), status))
            time.sleep(0.05)

    def back_after(self, fault_at):
        """When the first probe sent after the fault was answered ready (None: never)."""
        for sent, done, status in self.seen:
            if sent >= fault_at and status == 200:
                return done
        return None

    def down_between(self, fault_at, until):
        """The first and last answer (not ready) between the fault and ``until``."""
        down = [done for sent, done, status in self.seen if fault_at <= sent and status != 200
                and done <= until]
        return (down[0], down[-1]) if down else None
