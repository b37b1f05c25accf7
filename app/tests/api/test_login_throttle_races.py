"""Login throttling under concurrency: a burst of parallel guesses gets exactly as many
password checks as the same guesses one after another.

Found by attacking the app: the throttle was read before the (threaded) argon2 check and
written after it, so 20 wrong passwords sent at once from one client were all checked — the
policy allows 5 before a back-off. Now each attempt is counted before its password is
checked, by one conditional update that also requires the key not to be backing off; the
counters themselves show how many passwords were checked.
"""

from __future__ import annotations

import asyncio
from collections import Counter

from fastapi import FastAPI
from httpx import Response

from app.models.auth import LoginThrottle
from app.tests.api.test_account_abuse import WRONG, client_at, login
from app.tests.factories import UserWithToken

BURST = 20


async def failures(key: str) -> int:
    doc = await LoginThrottle.get_motor_collection().find_one({"_id": key})
    return int(doc["failures"]) if doc else 0


def statuses(responses: list[Response]) -> Counter[int]:
    return Counter(r.status_code for r in responses)


async def test_a_burst_from_one_client_gets_the_per_client_budget(
    app: FastAPI, entrepreneur: UserWithToken
) -> None:
    budget = app.state.settings.login_client_max_failures
    async with client_at(app, "198.51.100.7") as guesser:
        answers = await asyncio.gather(
            *(login(guesser, entrepreneur.email, WRONG) for _ in range(BURST))
        )
        assert await failures(f"pair:{entrepreneur.email}|198.51.100.7") == budget
        assert statuses(answers) == {401: budget - 1, 429: BURST - budget + 1}
        refused = [r.json()["error"]["code"] for r in answers if r.status_code == 429]
        assert set(refused) == {"LOGIN_THROTTLED"}
        # The next burst, during the back-off: not one password checked.
        again = await asyncio.gather(*(login(guesser, entrepreneur.email, WRONG) for _ in range(5)))
        assert statuses(again) == {429: 5}
        assert await failures(f"pair:{entrepreneur.email}|198.51.100.7") == budget
    async with client_at(app, "192.0.2.44") as owner:  # the owner is not locked out
        assert (await login(owner, entrepreneur.email, entrepreneur.password)).status_code == 200


async def test_bursts_from_many_clients_get_the_account_ceiling(
    app: FastAPI, entrepreneur: UserWithToken
) -> None:
    ceiling = app.state.settings.login_account_max_failures
    async with client_at(app, "192.0.2.44") as home:  # the owner's usual client
        assert (await login(home, entrepreneur.email, entrepreneur.password)).status_code == 200

    async def guess(n: int) -> Response:
        async with client_at(app, f"198.51.100.{n}") as bot:
            return await login(bot, entrepreneur.email, WRONG)

    answers = await asyncio.gather(*(guess(n) for n in range(ceiling * 2)))
    assert await failures(f"acct:{entrepreneur.email}") == ceiling
    assert statuses(answers)[401] == ceiling - 1
    async with client_at(app, "192.0.2.44") as home:  # a recognised client still gets in
        assert (await login(home, entrepreneur.email, entrepreneur.password)).status_code == 200


async def test_the_right_password_takes_its_attempt_back(
    app: FastAPI, entrepreneur: UserWithToken
) -> None:
    budget = app.state.settings.login_client_max_failures
    async with client_at(app, "198.51.100.7") as client:
        for _ in range(budget - 1):
            assert (await login(client, entrepreneur.email, WRONG)).status_code == 401
        assert (await login(client, entrepreneur.email, entrepreneur.password)).status_code == 200
        assert await failures(f"pair:{entrepreneur.email}|198.51.100.7") == 0
        assert await failures(f"acct:{entrepreneur.email}") == budget - 1  # not refilled
        # A fresh per-client budget: `budget - 1` more wrong passwords are plain 401s.
        for _ in range(budget - 1):
            assert (await login(client, entrepreneur.email, WRONG)).status_code == 401


async def test_a_refused_attempt_is_not_counted_on_the_other_key(
    app: FastAPI, entrepreneur: UserWithToken
) -> None:
    """Refused by the account-wide back-off, an attempt is taken back from its client's
    counter too: a bot's blocked tries do not use up the budget of the next IP it borrows."""
    ceiling = app.state.settings.login_account_max_failures
    for n in range(ceiling):
        async with client_at(app, f"198.51.100.{n}") as bot:
            await login(bot, entrepreneur.email, WRONG)
    async with client_at(app, "203.0.113.99") as fresh:
        for _ in range(3):
            assert (await login(fresh, entrepreneur.email, WRONG)).status_code == 429
    assert await failures(f"pair:{entrepreneur.email}|203.0.113.99") == 0
