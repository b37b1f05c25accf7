"""Login throttling instead of a hard lockout.

Failed logins are counted under two keys, both built from the e-mail as typed (whether or not
an account has it, so unknown addresses behave exactly like known ones):

- the account *from one client IP*: past `LOGIN_CLIENT_MAX_FAILURES` that client backs off;
- the account *from every client*: past `LOGIN_ACCOUNT_MAX_FAILURES` every client that has
  not logged in to this account before backs off (clients the account logged in from keep
  going; only their own per-client budget applies to them).

A back-off starts at `LOGIN_BACKOFF_SECONDS` and doubles with each further failure up to
`LOGIN_BACKOFF_MAX_SECONDS`; attempts during a back-off get 429 without a password check and
are not counted, and counters are forgotten after `LOGIN_FAILURE_WINDOW_MINUTES` without a
failure. Nothing is ever locked until an admin acts, and a guesser's failures do not stop
the owner from another IP. Counters live in MongoDB, so every worker and instance shares
them.

An attempt is counted *before* its password is checked, by one conditional update per key
that also requires the key not to be backing off, and taken back when the password proves
right. Checking first and counting after the (slow, threaded) argon2 verification let a burst
of 20 parallel guesses from one client all be checked where the policy allows 5.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from app.core.config import Settings
from app.core.exceptions import RateLimited
from app.models.auth import LoginThrottle
from app.models.base import iso_z, utcnow

ACCOUNT = "account"
CLIENT = "client"


class LoginThrottled(RateLimited):
    code = "LOGIN_THROTTLED"
    message = "Too many failed logins; try again later."


@dataclass(frozen=True, slots=True)
class AccountState:
    failures: int = 0
    blocked_until: datetime | None = None


def _account_key(account: str) -> str:
    return f"acct:{account}"


def _client_key(account: str, client: str) -> str:
    return f"pair:{account}|{client}"


def client_tag(settings: Settings, client: str) -> str:
    """A keyed digest of a client IP: what `User.known_clients` stores instead of the IP."""
    key = settings.secret_key.get_secret_value().encode()
    return hmac.new(key, f"login-client:{client}".encode(), hashlib.sha256).hexdigest()[:32]


def _throttled(until: datetime, now: datetime) -> LoginThrottled:
    retry_after = max(1, math.ceil((until - now).total_seconds()))
    unlock_at = iso_z((now + timedelta(seconds=retry_after)).replace(microsecond=0))
    return LoginThrottled(
        f"Too many failed logins; try again after {unlock_at}.",
        details=[{"unlock_at": unlock_at, "retry_after": retry_after}],
        headers={"Retry-After": str(retry_after)},
    )


def _blocked(doc: dict[str, Any] | None, now: datetime) -> datetime | None:
    if doc is None or doc["expires_at"] <= now:
        return None
    until: datetime | None = doc.get("blocked_until")
    return until if until and until > now else None


def _backoff(settings: Settings, failures: int, threshold: int) -> timedelta | None:
    if failures < threshold:
        return None
    doublings = min(failures - threshold, 30)
    seconds = min(settings.login_backoff_max_seconds, settings.login_backoff_seconds * 2**doublings)
    return timedelta(seconds=seconds)


async def _charge(
    settings: Settings,
    key: str,
    scope: str,
    account: str,
    threshold: int,
    now: datetime,
    *,
    respect_block: bool,
) -> datetime | None:
    """Count one attempt under `key` — one conditional update that also checks the key is
    not backing off (unless `respect_block` is False), so concurrent attempts cannot all
    pass a check made before any of them is counted. Returns the end of a back-off this
    attempt starts; raises 429 when the key is backing off already."""
    collection = LoginThrottle.get_motor_collection()
    window = timedelta(minutes=settings.login_failure_window_minutes)
    live: dict[str, Any] = {"_id": key, "expires_at": {"$gt": now}}
    if respect_block:
        live["$or"] = [{"blocked_until": None}, {"blocked_until": {"$lte": now}}]
    for _ in range(5):
        doc = await collection.find_one_and_update(
            live,
            {"$inc": {"failures": 1}, "$max": {"expires_at": now + window}},
            return_document=ReturnDocument.AFTER,
        )
        if doc is not None:
            break
        try:  # first attempt, or the old counter is forgotten: start afresh
            doc = await collection.find_one_and_update(
                {"_id": key, "expires_at": {"$lte": now}},
                {
                    "$set": {
                        "scope": scope,
                        "account": account,
                        "failures": 1,
                        "expires_at": now + window,
                    },
                    "$unset": {"blocked_until": ""},
                },
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
            break
        except DuplicateKeyError:  # live: backing off, or created by a concurrent attempt
            until = _blocked(await collection.find_one({"_id": key}), now)
            if until is not None and respect_block:
                raise _throttled(until, now) from None
    else:  # pragma: no cover - five lost races in a row
        raise _throttled(now + timedelta(seconds=1), now)
    delay = _backoff(settings, int(doc["failures"]), threshold)
    if delay is None:
        return None
    until = now + delay
    await collection.update_one(
        {"_id": key}, {"$max": {"blocked_until": until, "expires_at": until + window}}
    )
    return until


async def _uncharge(key: str, threshold: int) -> None:
    """Take back one counted attempt (its password was right, or it was refused before any
    check); a back-off that only this attempt started ends with it."""
    collection = LoginThrottle.get_motor_collection()
    await collection.update_one({"_id": key, "failures": {"$gt": 0}}, {"$inc": {"failures": -1}})
    await collection.update_one(
        {"_id": key, "failures": {"$lt": threshold}}, {"$unset": {"blocked_until": ""}}
    )


@dataclass(frozen=True, slots=True)
class Attempt:
    """One login attempt, counted as a failure until its password proves right."""

    account: str
    client: str
    recognised: bool
    client_until: datetime | None  # a back-off this attempt started, per key
    account_until: datetime | None
    at: datetime


async def charge(settings: Settings, account: str, client: str, *, recognised: bool) -> Attempt:
    """Before the password is checked: 429 when this client — or, unless `recognised`,
    every client — must wait; otherwise the attempt is counted under both keys at once,
    each in one conditional update, so a burst of parallel guesses gets the same number of
    password checks as the same guesses one after another."""
    now = utcnow()
    pair = _client_key(account, client)
    client_until = await _charge(
        settings, pair, CLIENT, account, settings.login_client_max_failures, now, respect_block=True
    )
    try:
        account_until = await _charge(
            settings,
            _account_key(account),
            ACCOUNT,
            account,
            settings.login_account_max_failures,
            now,
            respect_block=not recognised,
        )
    except LoginThrottled:
        await _uncharge(pair, settings.login_client_max_failures)
        raise
    return Attempt(account, client, recognised, client_until, account_until, now)


def failed(attempt: Attempt) -> None:
    """The password was wrong (already counted): 429 when this attempt started a back-off
    that applies to this client, else the caller answers 401."""
    waits = [attempt.client_until] + ([] if attempt.recognised else [attempt.account_until])
    until = max((w for w in waits if w), default=None)
    if until:
        raise _throttled(until, attempt.at)


async def succeeded(settings: Settings, attempt: Attempt) -> None:
    """The right password: this client's counter starts again; the account-wide one only
    loses this attempt (else a guesser's budget would refill whenever the owner logs in)."""
    await LoginThrottle.get_motor_collection().delete_one(
        {"_id": _client_key(attempt.account, attempt.client)}
    )
    await _uncharge(_account_key(attempt.account), settings.login_account_max_failures)


async def clear(account: str) -> AccountState:
    """Forget every counter of an account (admin "unlock"); returns what was there."""
    state = (await account_states([account])).get(account, AccountState())
    await LoginThrottle.get_motor_collection().delete_many({"account": account})
    return state


async def account_states(accounts: list[str]) -> dict[str, AccountState]:
    """Account-wide failures and back-off of these accounts (admin views), in one query."""
    now = utcnow()
    keys = [_account_key(a) for a in accounts]
    states: dict[str, AccountState] = {}
    async for doc in LoginThrottle.get_motor_collection().find(
        {"_id": {"$in": keys}, "expires_at": {"$gt": now}}
    ):
        states[doc["account"]] = AccountState(doc["failures"], _blocked(doc, now))
    return states


async def throttled_accounts() -> list[str]:
    """Accounts whose account-wide back-off is running now."""
    now = utcnow()
    cursor = LoginThrottle.get_motor_collection().find(
        {"scope": ACCOUNT, "blocked_until": {"$gt": now}, "expires_at": {"$gt": now}},
        {"account": 1},
    )
    return [doc["account"] async for doc in cursor]
