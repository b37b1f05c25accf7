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
the owner from another IP. Counters live in MongoDB (one atomic update per key), so every
worker and instance shares them.
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
from app.core.exceptions import AppError
from app.models.auth import LoginThrottle
from app.models.base import iso_z, utcnow

ACCOUNT = "account"
CLIENT = "client"


class LoginThrottled(AppError):
    status_code = 429
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


async def check(settings: Settings, account: str, client: str, *, recognised: bool) -> None:
    """429 when this client, or (unless `recognised`) every client, must wait. One read."""
    now = utcnow()
    keys = [_client_key(account, client), _account_key(account)]
    docs = {
        doc["_id"]: doc
        async for doc in LoginThrottle.get_motor_collection().find({"_id": {"$in": keys}})
    }
    waits = [_blocked(docs.get(keys[0]), now)]
    if not recognised:
        waits.append(_blocked(docs.get(keys[1]), now))
    until = max((w for w in waits if w), default=None)
    if until:
        raise _throttled(until, now)


def _backoff(settings: Settings, failures: int, threshold: int) -> timedelta | None:
    if failures < threshold:
        return None
    doublings = min(failures - threshold, 30)
    seconds = min(settings.login_backoff_max_seconds, settings.login_backoff_seconds * 2**doublings)
    return timedelta(seconds=seconds)


async def _count(
    settings: Settings, key: str, scope: str, account: str, threshold: int, now: datetime
) -> datetime | None:
    """Count one failure under `key` atomically; returns the end of a back-off it starts."""
    collection = LoginThrottle.get_motor_collection()
    window = timedelta(minutes=settings.login_failure_window_minutes)
    doc = await collection.find_one_and_update(
        {"_id": key, "expires_at": {"$gt": now}},
        {"$inc": {"failures": 1}, "$max": {"expires_at": now + window}},
        return_document=ReturnDocument.AFTER,
    )
    if doc is None:  # first failure, or the old counter is forgotten: start afresh
        try:
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
        except DuplicateKeyError:  # a concurrent failure created it first: count on it
            return await _count(settings, key, scope, account, threshold, now)
    delay = _backoff(settings, int(doc["failures"]), threshold)
    if delay is None:
        return None
    until = now + delay
    await collection.update_one(
        {"_id": key}, {"$max": {"blocked_until": until, "expires_at": until + window}}
    )
    return until


async def record_failure(
    settings: Settings, account: str, client: str, *, recognised: bool
) -> None:
    """Count a failed login under both keys; 429 when this failure starts a back-off that
    applies to this client."""
    now = utcnow()
    for_client = await _count(
        settings,
        _client_key(account, client),
        CLIENT,
        account,
        settings.login_client_max_failures,
        now,
    )
    for_account = await _count(
        settings,
        _account_key(account),
        ACCOUNT,
        account,
        settings.login_account_max_failures,
        now,
    )
    waits = [for_client] + ([] if recognised else [for_account])
    until = max((w for w in waits if w), default=None)
    if until:
        raise _throttled(until, now)


async def record_success(account: str, client: str) -> None:
    """The right password from this client: its own counter starts again. The account-wide
    counter does not (else a guesser's budget would refill whenever the owner logs in)."""
    await LoginThrottle.get_motor_collection().delete_one({"_id": _client_key(account, client)})


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
