"""Challenges the server issues: random actions, a nonce, an expiry, signed so the kiosk cannot alter them.

A challenge travels to the kiosk as a token ``<payload>.<signature>`` (both base64url; the payload is JSON,
the signature HMAC-SHA256 over it with the server's key). The server accepts it back once: a
:class:`NonceStore` remembers used nonces until they expire.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from realname.errors import ChallengeError


class Action(StrEnum):
    TURN_LEFT = "turn_left"  # the customer's left: the face turns toward the image's right
    TURN_RIGHT = "turn_right"
    LOOK_UP = "look_up"
    LOOK_DOWN = "look_down"
    BLINK = "blink"
    OPEN_MOUTH = "open_mouth"

    @property
    def is_head_move(self) -> bool:
        return self in HEAD_MOVES


HEAD_MOVES = frozenset({Action.TURN_LEFT, Action.TURN_RIGHT, Action.LOOK_UP, Action.LOOK_DOWN})
TURNS = (Action.TURN_LEFT, Action.TURN_RIGHT)
# What the kiosk shows for each action (English, Chinese).
INSTRUCTIONS: dict[Action, tuple[str, str]] = {
    Action.TURN_LEFT: ("Turn your head left", "请向左转头"),
    Action.TURN_RIGHT: ("Turn your head right", "请向右转头"),
    Action.LOOK_UP: ("Look up", "请抬头"),
    Action.LOOK_DOWN: ("Look down", "请低头"),
    Action.BLINK: ("Blink your eyes", "请眨眼"),
    Action.OPEN_MOUTH: ("Open your mouth", "请张嘴"),
}


def parse_actions(text: str) -> list[Action]:
    """``turn_left,blink`` (or ``;``-separated) -> actions; unknown names are a clear error."""
    names = [t.strip() for t in text.replace(";", ",").split(",") if t.strip()]
    if not names:
        raise ChallengeError("the challenge names no actions", code="challenge_empty")
    try:
        return [Action(n) for n in names]
    except ValueError:
        bad = [n for n in names if n not in Action._value2member_map_]
        raise ChallengeError(f"unknown action(s) {', '.join(bad)}; known: {', '.join(a.value for a in Action)}",
                             code="challenge_unknown_action") from None


@dataclass(frozen=True)
class Challenge:
    nonce: str
    actions: tuple[Action, ...]
    issued_at: float
    expires_at: float
    flashes: str = ""  # the screen-light sequence (:func:`realname.liveness.light.encode`), empty when off

    def payload(self) -> bytes:
        body: dict[str, object] = {"n": self.nonce, "a": [a.value for a in self.actions], "i": self.issued_at,
                                   "e": self.expires_at}
        if self.flashes:
            body["f"] = self.flashes
        return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()


def random_actions(count: int, rng: secrets.SystemRandom | None = None) -> tuple[Action, ...]:
    """``count`` (2-4) actions in random order: at least one head turn and one blink, no action twice."""
    if not 2 <= count <= 4:
        raise ValueError("a challenge has 2 to 4 actions")
    r = rng or secrets.SystemRandom()
    chosen = [r.choice(TURNS), Action.BLINK]
    rest = [a for a in Action if a not in chosen]
    chosen += r.sample(rest, count - 2)
    r.shuffle(chosen)
    return tuple(chosen)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class NonceStore(Protocol):
    """Remembers which challenges were used. ``use`` returns False when the nonce was used before."""

    def use(self, nonce: str, expires_at: float, now: float) -> bool: ...


class MemoryNonceStore:
    """In-process store (one server process); the registration service persists nonces in its database."""

    def __init__(self) -> None:
        self._used: dict[str, float] = {}
        self._lock = threading.Lock()

    def use(self, nonce: str, expires_at: float, now: float) -> bool:
        with self._lock:
            self._used = {n: e for n, e in self._used.items() if e > now}  # forget what can no longer verify
            if nonce in self._used:
                return False
            self._used[nonce] = expires_at
            return True


class ChallengeSigner:
    def __init__(self, key: bytes, ttl_seconds: float = 20.0, store: NonceStore | None = None) -> None:
        if len(key) < 16:
            raise ValueError("the challenge signing key needs at least 16 bytes")
        self._key = key
        self.ttl = ttl_seconds
        self.store = store or MemoryNonceStore()

    def issue(self, actions: tuple[Action, ...] | None = None, count: int = 3, now: float | None = None,
              flashes: str = "") -> str:
        t = time.time() if now is None else now
        ch = Challenge(secrets.token_urlsafe(16), actions or random_actions(count), t, t + self.ttl, flashes)
        return self.sign(ch)

    def sign(self, ch: Challenge) -> str:
        body = ch.payload()
        return f"{_b64(body)}.{_b64(hmac.new(self._key, body, hashlib.sha256).digest())}"

    def read(self, token: str, now: float | None = None) -> Challenge:
        """Verify signature and expiry (does not consume it)."""
        try:
            body_b64, sig_b64 = token.split(".")
            body, sig = _unb64(body_b64), _unb64(sig_b64)
        except (ValueError, TypeError):
            raise ChallengeError("the challenge token is malformed") from None
        if not hmac.compare_digest(sig, hmac.new(self._key, body, hashlib.sha256).digest()):
            raise ChallengeError("the challenge was altered or was not issued by this server",
                                 code="challenge_altered")
        try:
            d = json.loads(body)
            ch = Challenge(str(d["n"]), tuple(Action(a) for a in d["a"]), float(d["i"]), float(d["e"]),
                           str(d.get("f", "")))
        except (ValueError, KeyError, TypeError):
            raise ChallengeError("the challenge token is malformed") from None
        t = time.time() if now is None else now
        if t > ch.expires_at:
            raise ChallengeError(f"the challenge expired {t - ch.expires_at:.0f} s ago: start the live check again",
                                 code="challenge_expired")
        return ch

    def redeem(self, token: str, now: float | None = None) -> Challenge:
        """Verify and mark as used: a second redeem of the same challenge fails."""
        t = time.time() if now is None else now
        ch = self.read(token, t)
        if not self.store.use(ch.nonce, ch.expires_at, t):
            raise ChallengeError("this challenge was already used: start the live check again",
                                 code="challenge_reused")
        return ch
