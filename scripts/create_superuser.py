"""Create an admin account on the MongoDB at MONGODB_URL.

    python scripts/create_superuser.py --email admin@example.org --name "Ada Admin"

The password is read from a prompt (not echoed) or, for automation, from standard input
with --password-stdin. It is never printed or logged.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys

from _common import real_database_settings
from pymongo.errors import DuplicateKeyError

from app.core.exceptions import ValidationFailed
from app.core.logging import configure_logging
from app.db.session import connect
from app.models.user import Role
from app.services.users import create_user


def read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Repeat password: ") != first:
        raise SystemExit("passwords do not match")
    return first


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--email", required=True)
    parser.add_argument("--name", default="Administrator")
    parser.add_argument("--password-stdin", action="store_true")
    args = parser.parse_args(argv)
    settings = real_database_settings()
    configure_logging(settings)
    password = read_password(args.password_stdin)
    database = await connect(settings)
    try:
        user = await create_user(settings, args.email, password, args.name, Role.admin)
    except ValidationFailed as exc:
        reasons = ", ".join(d["msg"] for d in exc.details)
        print(f"password rejected: {reasons}", file=sys.stderr)
        return 2
    except DuplicateKeyError:
        print(f"an account with {args.email} already exists", file=sys.stderr)
        return 1
    finally:
        database.close()
    print(f"admin created: {user.email} (id {user.id})")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
