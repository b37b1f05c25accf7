"""Password policy: 10–128 characters, not the e-mail, not a common password."""

from __future__ import annotations

from app.core.exceptions import ValidationFailed

MIN_LENGTH = 10
MAX_LENGTH = 128

# A small list of the passwords attackers try first (length >= 10 only: shorter fail anyway).
COMMON_PASSWORDS = frozenset(
    {
        "1234567890",
        "12345678910",
        "123456789012",
        "0123456789",
        "1q2w3e4r5t",
        "1qaz2wsx3edc",
        "qwertyuiop",
        "qwerty12345",
        "qwerty123456",
        "password123",
        "password1234",
        "password12345",
        "passw0rd123",
        "iloveyou123",
        "letmein1234",
        "welcome123",
        "welcome1234",
        "administrator",
        "admin12345",
        "admin123456",
        "abcdefghij",
        "abc1234567",
        "football123",
        "baseball123",
        "sunshine123",
        "princess123",
        "trustno1234",
        "changeme123",
        "runwei12345",
        "runweirunwei",
        "aaaaaaaaaa",
        "1111111111",
        "0000000000",
        "9876543210",
        "zaq12wsxcde",
        "password!!",
        "p@ssw0rd123",
        "superman123",
        "dragon12345",
        "monkey12345",
    }
)


def check_password(password: str, email: str) -> None:
    problems: list[str] = []
    if len(password) < MIN_LENGTH:
        problems.append(f"must be at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        problems.append(f"must be at most {MAX_LENGTH} characters")
    lowered = password.strip().lower()
    if email and lowered in {email.lower(), email.split("@", 1)[0].lower()}:
        problems.append("must not be your e-mail address")
    if lowered in COMMON_PASSWORDS:
        problems.append("is too common")
    if problems:
        raise ValidationFailed(
            "The password does not meet the policy.",
            code="WEAK_PASSWORD",
            details=[
                {"loc": ["body", "password"], "msg": p, "type": "password_policy"} for p in problems
            ],
        )
