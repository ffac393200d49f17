"""A seeded synthetic registry for reports, signals and benchmarks: operators' outlets, agents, people,
verifications, registrations, cancellations, cap refusals and the audit chain over them.

Written with bulk inserts straight into the tables (the services would take hours for 100,000 registrations),
in the same shapes the services write: encrypted personal fields, blind indexes, masked numbers, evidence
summaries, hash-chained audit events. ``plant=True`` adds known fraud patterns that the signals must find; the
clean data is drawn so that none of the signal rules can fire by chance (see :class:`Planted`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
from sqlalchemy import insert, select, text
from stdnum.cn import ric

from realname.audit.chain import GENESIS, event_hash
from realname.context import Services
from realname.errors import BadInputError, ConflictError
from realname.operators.auth import hash_password
from realname.privacy.fields import blind_index
from realname.registry.states import NumberStatus, RegistrationStatus, VerificationDecision, VerificationStatus
from realname.registry.tables import (
    AuditEvent,
    AuditHead,
    Base,
    Consent,
    FaceTemplate,
    Operator,
    Outlet,
    Person,
    PhoneNumber,
    Registration,
    User,
    Verification,
)

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉梅建国建华志强文海燕红辉鹏飞晓东丹萍婷雪琳浩"
    "宇子涵欣怡梓轩"
)
REGIONS = ("110105", "310115", "440106", "510107", "330106", "420106", "320102", "500103", "610113", "650102")
FAIL_REASONS = (["action_missing"], ["turn_further"], ["action_too_slow"], ["screen_or_photo"], ["face_mismatch"],
                ["no_face"], ["different_person"], ["flat_motion"], ["frame_rate"])
MODEL_VERSION, THRESHOLD_VERSION = "cascade[synthetic]", "synthetic#0"
PASSWORD = "synthetic-pass-1"  # every generated user; generated data is never production data
PASS, FAIL, REVIEW = VerificationDecision.PASS, VerificationDecision.FAIL, VerificationDecision.REVIEW


@dataclass(frozen=True)
class GenerationSpec:
    registrations: int = 100_000
    outlets: int = 50
    agents: int = 500  # spread evenly over the outlets
    start: date = date(2026, 1, 1)
    days: int = 365
    seed: int = 1
    plant: bool = False
    template_share: float = 0.2  # people who consented to template retention (the operator enabled it)
    operator_code: str = "SYN"


@dataclass
class Planted:
    """What ``plant=True`` put in, for the tests to find (and nothing of the kind exists in the clean data)."""

    fraud_agent: str = ""  # volume 4x its outlet's others, most of it at night, 20% review decisions
    many_outlets_person: str = ""  # one document verified and registered at 5 outlets within an hour
    many_outlets_at: str = ""
    duplicate_face: tuple[str, str] = ("", "")  # two people (different documents) with the same face template
    fail_then_pass_person: str = ""  # 4 failed verifications, then a pass, within 30 minutes
    quick_cancel_registration: str = ""  # registered and cancelled 2 hours later


@dataclass
class _Rows:
    persons: list[dict[str, Any]] = field(default_factory=list)
    consents: list[dict[str, Any]] = field(default_factory=list)
    verifications: list[dict[str, Any]] = field(default_factory=list)
    registrations: list[dict[str, Any]] = field(default_factory=list)
    numbers: list[dict[str, Any]] = field(default_factory=list)
    templates: list[dict[str, Any]] = field(default_factory=list)
    events: list[tuple[datetime, str, str, str, dict[str, Any]]] = field(default_factory=list)


class _Ids:
    """Deterministic ids (the same seed gives the same data, byte for byte apart from encryption nonces)."""

    def __init__(self, seed: int) -> None:
        self._n = 0
        self._prefix = hashlib.sha256(f"realname-synthetic-{seed}".encode()).hexdigest()[:12]

    def __call__(self) -> str:
        self._n += 1
        return f"{self._prefix}{self._n:020d}"


def generate(svc: Services, spec: GenerationSpec, progress: Callable[[int], None] | None = None) -> Planted:
    """``progress(n)``: n more of ``2 * spec.registrations`` steps done (building the rows, then writing them)."""
    if spec.registrations < 100 or spec.outlets < 2 or spec.agents < 2 * spec.outlets:
        raise BadInputError("generate at least 100 registrations, 2 outlets and 2 agents per outlet",
                            code="bad_generation_spec")
    if spec.plant and (spec.outlets < 12 or spec.agents < 5 * spec.outlets):
        raise BadInputError("planted patterns need at least 12 outlets and 5 agents per outlet",
                            code="bad_generation_spec")
    with svc.db.read() as s:
        if s.execute(select(Operator).where(Operator.code == spec.operator_code)).scalar_one_or_none():
            raise ConflictError(f"operator {spec.operator_code} exists: generate into an empty database",
                                code="duplicate")
    return _Generator(svc, spec, progress or (lambda _n: None)).run()


class _Generator:
    def __init__(self, svc: Services, spec: GenerationSpec, progress: Callable[[int], None]) -> None:
        self.svc, self.spec, self.progress = svc, spec, progress
        self.rng = np.random.default_rng(spec.seed)
        self.id = _Ids(spec.seed)
        self.rows = _Rows()
        self.planted = Planted()
        # Days and opening hours are local (the operator's time zone), stored in UTC like every timestamp.
        self.t0 = datetime(spec.start.year, spec.start.month, spec.start.day, tzinfo=ZoneInfo(svc.settings.timezone))
        self.next_msisdn = 19_800_000_000
        self.held: dict[str, int] = {}
        self._doc_index: dict[str, str] = {}
        self._numbers: set[str] = set()

    # -- setup -------------------------------------------------------------------------------------------------

    def _org(self) -> None:
        spec, now = self.spec, self.t0 - timedelta(days=1)
        self.operator_id = self.id()
        self.outlets = [self.id() for _ in range(spec.outlets)]
        per = spec.agents // spec.outlets
        self.agents = {o: [self.id() for _ in range(per)] for o in self.outlets}
        self.supervisors = {o: self.id() for o in self.outlets}
        self.usernames: dict[str, str] = {}
        hashed = hash_password(PASSWORD)  # one argon2 hash for all generated users: hashing 550 takes a minute
        users = []
        for k, o in enumerate(self.outlets):
            for j, a in enumerate(self.agents[o]):
                self.usernames[a] = f"syn-o{k + 1:03d}-a{j + 1:02d}"
                users.append(dict(id=a, username=self.usernames[a], role="agent", outlet_id=o))
            self.usernames[self.supervisors[o]] = f"syn-o{k + 1:03d}-sup"
            users.append(dict(id=self.supervisors[o], username=self.usernames[self.supervisors[o]],
                              role="supervisor", outlet_id=o))
        self.org_rows: dict[str, Any] = {
            "operator": dict(id=self.operator_id, code=spec.operator_code, name="合成电信 Synthetic Telecom",
                             kind="basic", cap_per_person=5, created_at=now),
            "outlets": [dict(id=o, operator_id=self.operator_id, code=f"{spec.operator_code}-O{k + 1:03d}",
                             name=f"合成营业厅 {k + 1}", region=REGIONS[k % len(REGIONS)], active=True)
                        for k, o in enumerate(self.outlets)],
            "users": [dict(u, password_hash=hashed, operator_id=self.operator_id, active=True, blacklisted=False,
                           blacklist_reason=None, created_at=now) for u in users],
        }

    def _person(self) -> str:
        r = self.rng
        while True:  # one person per document number, as in the registry
            birth = date(1950, 1, 1) + timedelta(days=int(r.integers(0, 55 * 365)))
            body = f"{REGIONS[int(r.integers(len(REGIONS)))]}{birth:%Y%m%d}{int(r.integers(0, 1000)):03d}"
            number = body + ric.calc_check_digit(body + "0")
            if number not in self._numbers:
                self._numbers.add(number)
                break
        name = SURNAMES[int(r.integers(len(SURNAMES)))] + "".join(
            GIVEN[int(i)] for i in r.integers(len(GIVEN), size=int(r.integers(1, 3))))
        pid, enc, now = self.id(), self.svc.cipher.encrypt, self.t0
        self._doc_index[pid] = blind_index(self.svc.keyring, number, context="document.prc_id")
        self.rows.persons.append(dict(
            id=pid, doc_type="prc_id", doc_index=self._doc_index[pid],
            number_enc=enc(number, context="person.number"), name_enc=enc(name, context="person.name"),
            address_enc=None, birth_date_enc=enc(birth.isoformat(), context="person.birth_date"),
            sex="M" if int(number[16]) % 2 else "F", number_masked=f"{number[:3]}{'*' * 11}{number[-4:]}",
            created_at=now, updated_at=now))
        return pid

    # -- the building blocks, each as the services would record it --------------------------------------------

    def _verification(self, person: str, outlet: str, agent: str, at: datetime, decision: VerificationDecision,
                      reasons: list[str], review_by: str | None = None) -> str:
        vid, cid = self.id(), self.id()
        doc_index = self._doc_index[person]
        self.rows.consents.append(dict(id=cid, person_id=person, kind="face_processing", text_version="2026-11",
                                       granted=True, agent_id=agent, given_at=at, withdrawn_at=None))
        decided = at + timedelta(seconds=int(self.rng.integers(8, 40)))
        final = PASS if review_by else decision
        self.rows.verifications.append(dict(
            id=vid, purpose="register", operator_id=self.operator_id, outlet_id=outlet, agent_id=agent,
            person_id=person, representative_id=None, consent_id=cid, template_consent_id=None, doc_index=doc_index,
            challenge_nonce=hashlib.sha256(vid.encode()).hexdigest()[:32], challenge_actions="turn_left,blink,look_up",
            challenge_expires_at=at + timedelta(seconds=20), portrait_sha256=hashlib.sha256(vid.encode()).hexdigest(),
            portrait_enc=None, status=VerificationStatus.DECIDED, decision=final, reasons=reasons,
            liveness_passed=decision != FAIL or reasons[0] == "face_mismatch", liveness_score=None,
            match_decision=None, match_score=None, model_version=MODEL_VERSION, threshold_version=THRESHOLD_VERSION,
            reviewed_by=review_by, review_reason="same person: older card photo" if review_by else None,
            reviewed_at=decided + timedelta(minutes=3) if review_by else None, created_at=at,
            started_at=at + timedelta(seconds=2), decided_at=decided, used_at=None))
        self.rows.events.append((decided, self.usernames[agent], "decision", vid,
                                 {"decision": decision, "reasons": reasons, "purpose": "register", "person": person,
                                  "model_version": MODEL_VERSION, "threshold_version": THRESHOLD_VERSION}))
        if review_by:
            self.rows.events.append((decided + timedelta(minutes=3), self.usernames[review_by], "review", vid,
                                     {"decision": PASS, "reason": "same person: older card photo"}))
        return vid

    def _register(self, person: str, outlet: str, agent: str, at: datetime, vid: str,
                  cancel_after: timedelta | None = None) -> str:
        rid, nid = self.id(), self.id()
        msisdn = f"+86{self.next_msisdn}"
        self.next_msisdn += 1
        v = self.rows.verifications[-1]
        assert v["id"] == vid
        v["status"], v["used_at"] = VerificationStatus.USED, at
        reg: dict[str, Any] = dict(
                   id=rid, person_id=person, representative_id=None, number_id=nid, operator_id=self.operator_id,
                   outlet_id=outlet, agent_id=agent, verification_id=vid, status=RegistrationStatus.ACTIVE,
                   created_at=at, ended_at=None, end_reason=None, retain_until=None,
                   evidence={"decision": PASS, "reviewed_by": v["reviewed_by"], "reasons": [],
                             "model_version": MODEL_VERSION, "threshold_version": THRESHOLD_VERSION,
                             "portrait_sha256": v["portrait_sha256"], "challenge": v["challenge_actions"]})
        number_status = NumberStatus.ACTIVE
        self.rows.events.append((at, self.usernames[agent], "number_assigned", rid,
                                 {"msisdn": msisdn, "person": person, "verification": vid, "representative": None,
                                  "operator": self.operator_id, "outlet": outlet}))
        end = self.t0 + timedelta(days=self.spec.days)
        if cancel_after is not None and at + cancel_after < end:
            ended = at + cancel_after
            reg.update(status=RegistrationStatus.CANCELLED, ended_at=ended, end_reason="customer request",
                       retain_until=(ended + timedelta(days=730)).date())
            number_status = NumberStatus.CANCELLED
            self.rows.events.append((ended, self.usernames[agent], "cancellation", rid,
                                     {"msisdn": msisdn, "reason": "customer request"}))
        else:
            self.held[person] = self.held.get(person, 0) + 1
        self.rows.registrations.append(reg)
        self.rows.numbers.append(dict(id=nid, msisdn=msisdn, operator_id=self.operator_id, status=number_status,
                                      updated_at=at))
        return rid

    def _when(self, night: bool = False) -> datetime:
        r = self.rng
        day = self.t0 + timedelta(days=int(r.integers(self.spec.days)))
        # Counters open 9:00-19:00 local time; hours are drawn so that no clean registration falls at night.
        hour = float(r.uniform(22, 28)) % 24 if night else float(np.clip(r.normal(13.5, 2.2), 9.0, 18.9))
        return (day + timedelta(hours=hour)).astimezone(UTC)

    # -- the data set -------------------------------------------------------------------------------------------

    def run(self) -> Planted:
        spec, r = self.spec, self.rng
        self._org()
        people = [self._person() for _ in range(int(spec.registrations * 0.62))]
        order = list(people) + [people[int(i)] for i in r.integers(len(people), size=spec.registrations)]
        made = 0
        for person in order:
            if made >= spec.registrations - (40 if spec.plant else 0):
                break
            if self.held.get(person, 0) >= 5:
                continue
            outlet = self.outlets[int(r.integers(len(self.outlets)))]
            agent = self.agents[outlet][int(r.integers(len(self.agents[outlet])))]
            at = self._when()
            fails = int(r.choice([0, 1, 2], p=[0.94, 0.045, 0.015]))
            for k in range(fails):
                self._verification(person, outlet, agent, at - timedelta(minutes=3 * (fails - k)), FAIL,
                                   list(FAIL_REASONS[int(r.integers(len(FAIL_REASONS)))]))
            review = self.supervisors[outlet] if r.random() < 0.01 else None
            vid = self._verification(person, outlet, agent, at, REVIEW if review else PASS, [], review)
            cancel = timedelta(days=float(r.uniform(3, 200))) if r.random() < 0.03 else None
            self._register(person, outlet, agent, at + timedelta(minutes=2), vid, cancel)
            made += 1
            self.progress(1)
            if r.random() < 0.004 and self.held.get(person, 0) >= 5:  # a sixth number asked for, and refused
                refused = self._verification(person, outlet, agent, at + timedelta(hours=1), PASS, [])
                self.rows.events.append((at + timedelta(hours=1, minutes=2), self.usernames[agent], "cap_refused",
                                         refused, {"cap": "per_operator", "limit": 5, "operator": self.operator_id}))
        for _ in range(spec.registrations // 50):  # attempts that never passed
            person = people[int(r.integers(len(people)))]
            outlet = self.outlets[int(r.integers(len(self.outlets)))]
            self._verification(person, outlet, self.agents[outlet][0], self._when(), FAIL,
                               list(FAIL_REASONS[int(r.integers(len(FAIL_REASONS)))]))
        self.progress(spec.registrations - made)  # the planted ones are made below
        self._templates(people)
        if spec.plant:
            self._plant(people)
        self._write()
        return self.planted

    def _templates(self, people: list[str]) -> None:
        r = self.rng
        chosen = [p for p in people if r.random() < self.spec.template_share]
        vectors = r.normal(size=(len(chosen), 128)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        self._vectors = dict(zip(chosen, vectors, strict=True))
        for p, v in self._vectors.items():
            self._template(p, v)

    def _template(self, person: str, vector: npt.NDArray[np.float32]) -> None:
        cid = self.id()
        at = self.t0
        self.rows.consents.append(dict(id=cid, person_id=person, kind="template_retention", text_version="2026-11",
                                       granted=True, agent_id=None, given_at=at, withdrawn_at=None))
        self.rows.templates.append(dict(
            id=self.id(), person_id=person, consent_id=cid, model="sface", created_at=at,
            template_enc=self.svc.cipher.encrypt_bytes(vector.astype(np.float32).tobytes(), context="face.template"),
            retain_until=(at + timedelta(days=3650)).date()))

    def _plant(self, people: list[str]) -> None:
        r, p = self.rng, self.planted
        # A fraudulent agent: outlet 7, four times its peers' volume, mostly at night, many review decisions.
        outlet = self.outlets[6 % len(self.outlets)]
        agent = self.agents[outlet][0]
        p.fraud_agent = self.usernames[agent]
        peers = self.spec.registrations // self.spec.agents
        for _ in range(3 * peers):
            person = self._person()
            at = self._when(night=r.random() < 0.6)
            review = self.supervisors[outlet] if r.random() < 0.2 else None
            vid = self._verification(person, outlet, agent, at, REVIEW if review else PASS, [], review)
            self._register(person, outlet, agent, at + timedelta(minutes=2), vid)
        # One document at five outlets within an hour.
        person = self._person()
        p.many_outlets_person = person
        at = self.t0 + timedelta(days=40, hours=10)
        p.many_outlets_at = at.isoformat()
        for k in range(5):
            o = self.outlets[(11 + 7 * k) % len(self.outlets)]
            a = self.agents[o][1]
            when = at + timedelta(minutes=12 * k)
            vid = self._verification(person, o, a, when, PASS, [])
            self._register(person, o, a, when + timedelta(minutes=2), vid)
        # The same face behind two documents.
        first = self._person()
        second = self._person()
        face = r.normal(size=128).astype(np.float32)
        face /= np.linalg.norm(face)
        noisy = face + r.normal(scale=0.02, size=128).astype(np.float32)
        self._template(first, face)
        self._template(second, noisy / np.linalg.norm(noisy))
        p.duplicate_face = (first, second)
        for q in (first, second):
            o = self.outlets[int(r.integers(len(self.outlets)))]
            when = self._when()
            vid = self._verification(q, o, self.agents[o][2], when, PASS, [])
            self._register(q, o, self.agents[o][2], when + timedelta(minutes=2), vid)
        # Four failures, then a pass, within half an hour.
        person = self._person()
        p.fail_then_pass_person = person
        o = self.outlets[3]
        when = self.t0 + timedelta(days=100, hours=11)
        for k in range(4):
            self._verification(person, o, self.agents[o][3], when + timedelta(minutes=5 * k), FAIL,
                               ["face_mismatch"])
        vid = self._verification(person, o, self.agents[o][3], when + timedelta(minutes=25), PASS, [])
        self._register(person, o, self.agents[o][3], when + timedelta(minutes=27), vid)
        # A number registered and cancelled two hours later.
        person = self._person()
        o = self.outlets[5]
        when = self.t0 + timedelta(days=150, hours=14)
        vid = self._verification(person, o, self.agents[o][4], when, PASS, [])
        p.quick_cancel_registration = self._register(person, o, self.agents[o][4], when + timedelta(minutes=2), vid,
                                                     cancel_after=timedelta(hours=2))

    # -- writing --------------------------------------------------------------------------------------------------

    def _chain(self, start_seq: int, prev: str) -> Iterator[dict[str, Any]]:
        seq = start_seq
        for at, actor, action, subject, payload in sorted(self.rows.events, key=lambda e: (e[0], e[2], e[3])):
            seq += 1
            text = at.astimezone(UTC).isoformat(timespec="microseconds")
            digest = event_hash(seq, text, actor, action, subject, payload, prev)
            yield dict(seq=seq, at=text, actor=actor, action=action, subject=subject, payload=payload,
                       prev_hash=prev, hash=digest)
            prev = digest

    def _write(self) -> None:
        org, rows = self.org_rows, self.rows
        with self.svc.db.write() as s:
            head = s.get(AuditHead, 1)
            if (head is not None and head.seq > 0) or s.execute(select(AuditEvent.seq).limit(1)).first():
                raise ConflictError("the audit chain is not empty: generate into an empty database",
                                    code="not_empty")
            conn = s.connection()
            conn.execute(insert(Operator), [org["operator"]])
            conn.execute(insert(Outlet), org["outlets"])
            conn.execute(insert(User), org["users"])
            tables: tuple[tuple[type[Base], list[dict[str, Any]]], ...] = (
                (Person, rows.persons), (Consent, rows.consents), (PhoneNumber, rows.numbers),
                (Verification, rows.verifications), (Registration, rows.registrations), (FaceTemplate, rows.templates))
            events = list(self._chain(0, GENESIS))
            total = sum(len(data) for _, data in tables) + len(events)
            written = reported = 0
            everything: tuple[tuple[type[Base], list[dict[str, Any]]], ...] = (*tables, (AuditEvent, events))
            for table, data in everything:
                for k in range(0, len(data), 5000):
                    conn.execute(insert(table), data[k:k + 5000])
                    written += len(data[k:k + 5000])
                    due = self.spec.registrations * written // max(total, 1)  # the writing half of the steps
                    self.progress(due - reported)
                    reported = due
            self.progress(self.spec.registrations - reported)
            last = events[-1]
            if conn.dialect.name == "postgresql":  # new events continue after the generated (linked) ones
                conn.execute(text("SELECT setval('audit_events_seq', :n)"), {"n": last["seq"]})
            if head is None:
                conn.execute(insert(AuditHead), [dict(id=1, seq=last["seq"], hash=last["hash"])])
            else:
                head.seq, head.hash = last["seq"], last["hash"]
