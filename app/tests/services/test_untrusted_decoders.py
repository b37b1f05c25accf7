"""Every decoder of client-sent values, fed arbitrary input (hypothesis): it returns a value
or raises its one documented 4xx error — never anything else, and fast.

Bounded and reproducible: `derandomize=True`, a few dozen examples per property.
"""

from __future__ import annotations

import base64
import contextlib
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from bson import ObjectId
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticValidationError

from app.api.http import if_match_version
from app.api.query_string import check_query_string
from app.core.exceptions import NotFound, PreconditionFailed, ValidationFailed
from app.core.pagination import SortSpec, decode_cursor, encode_cursor
from app.core.security import InvalidToken, TokenType, create_token, decode_token
from app.schemas.validators import EARLIEST, LATEST, UtcDatetime
from app.services.access import object_id
from app.services.catalogue.search import RELEVANCE_SORT
from app.tests.conftest import make_settings
from app.utils import strict_json

BOUNDED = settings(
    max_examples=40,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

SORTS = [
    SortSpec("newest", "published_at", -1, nullable=True),
    SortSpec("deadline", "deadline_sort", 1),
    SortSpec("name", "name", 1, kind="str"),
    RELEVANCE_SORT,
]
SETTINGS = make_settings()
UTC_DATETIME: TypeAdapter[datetime] = TypeAdapter(UtcDatetime)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=12,
)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def cursor_of(payload: Any) -> str:
    return b64(json.dumps(payload).encode())


def assert_cursor_decodes_or_422(sort: SortSpec, cursor: str) -> None:
    refused: ValidationFailed | None
    try:
        value, doc_id = decode_cursor(sort, cursor)
    except ValidationFailed as exc:
        refused = exc
    else:
        refused = None
    if refused is not None:
        assert refused.code == "INVALID_CURSOR"
        assert refused.details[0]["loc"] == ["query", "cursor"]
        return
    # Accepted: then it carries exactly the types the codec produces for this sort.
    assert isinstance(doc_id, ObjectId)
    assert decode_cursor(sort, encode_cursor(sort, value, doc_id)) == (value, doc_id)


# --- cursors --------------------------------------------------------------------------------


@BOUNDED
@given(sort=st.sampled_from(SORTS), cursor=st.text(max_size=300))
def test_cursor_arbitrary_text(sort: SortSpec, cursor: str) -> None:
    assert_cursor_decodes_or_422(sort, cursor)


@BOUNDED
@given(sort=st.sampled_from(SORTS), data=st.binary(max_size=300))
def test_cursor_base64_of_arbitrary_bytes(sort: SortSpec, data: bytes) -> None:
    assert_cursor_decodes_or_422(sort, b64(data))


@BOUNDED
@given(sort=st.sampled_from(SORTS), payload=json_values)
def test_cursor_base64_of_arbitrary_json(sort: SortSpec, payload: Any) -> None:
    assert_cursor_decodes_or_422(sort, cursor_of(payload))


@BOUNDED
@given(sort=st.sampled_from(SORTS), value=json_values, doc_id=json_values | st.just("0" * 24))
def test_cursor_right_shape_wrong_members(sort: SortSpec, value: Any, doc_id: Any) -> None:
    """Structurally valid cursors (right keys, right sort) with wrong-typed or out-of-range
    members are refused; accepted ones round-trip exactly."""
    assert_cursor_decodes_or_422(sort, cursor_of({"s": sort.name, "v": value, "i": doc_id}))


aware_datetimes = st.datetimes(timezones=st.timezones()) | st.datetimes(
    timezones=st.builds(
        lambda minutes: timezone(timedelta(minutes=minutes)),
        st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1),
    )
)


@BOUNDED
@given(sort=st.sampled_from(SORTS[:2]), when=aware_datetimes, as_text=st.booleans())
def test_cursor_date_times_anywhere_in_range_and_offset(
    sort: SortSpec, when: datetime, as_text: bool
) -> None:
    """Any aware date-time Python can write, in any offset — `0001-01-01T00:00+14:00` is
    before year 1 in UTC and overflowed (a 500) — decodes or is INVALID_CURSOR."""
    value = when.isoformat() if as_text else when.isoformat().replace("+00:00", "Z")
    assert_cursor_decodes_or_422(sort, cursor_of({"s": sort.name, "v": value, "i": "0" * 24}))


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_cursor_date_times_past_the_edges_are_422(value: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        decode_cursor(SORTS[1], cursor_of({"s": "deadline", "v": value, "i": "0" * 24}))
    assert caught.value.code == "INVALID_CURSOR"


@BOUNDED
@given(when=aware_datetimes)
def test_utc_datetime_inputs_are_in_range_or_a_value_error(when: datetime) -> None:
    """The one date-time input type (`UtcDatetime`): UTC in [1900, 2999], else a plain
    validation error (a 422) — never OverflowError (a 500)."""
    try:
        parsed = UTC_DATETIME.validate_python(when.isoformat())
    except PydanticValidationError:  # a 422 over HTTP; anything else fails the test
        return
    assert parsed.tzinfo == UTC
    assert EARLIEST <= parsed <= LATEST
    assert abs(parsed - when) < timedelta(milliseconds=1)


@pytest.mark.parametrize(
    ("sort", "value"),
    [
        (SORTS[1], "2026-01-01T00:00:00"),  # naive date-time
        (SORTS[1], "yesterday"),
        (SORTS[1], 1700000000),
        (SORTS[1], None),  # deadline_sort is never null
        (SORTS[2], 5),
        (SORTS[2], ["a"]),
        (RELEVANCE_SORT, -1),
        (RELEVANCE_SORT, 10**12),
        (RELEVANCE_SORT, True),
        (RELEVANCE_SORT, 2.5),
        (RELEVANCE_SORT, "3"),
    ],
)
def test_cursor_wrong_typed_values_are_422(sort: SortSpec, value: Any) -> None:
    with pytest.raises(ValidationFailed) as caught:
        decode_cursor(sort, cursor_of({"s": sort.name, "v": value, "i": str(ObjectId())}))
    assert caught.value.code == "INVALID_CURSOR"


@pytest.mark.parametrize(
    "doc_id", ["zz", "", 5, None, "g" * 24, "0" * 23, ["0" * 24], {"$oid": "0" * 24}]
)
def test_relevance_cursor_with_bad_id_is_422_not_500(doc_id: Any) -> None:
    """Found by attacking the running app: `{"s": "relevance", "v": 1, "i": "zz"}` raised
    bson's InvalidId (not a ValueError) out of the old catalogue-local decoder: a 500."""
    with pytest.raises(ValidationFailed) as caught:
        decode_cursor(RELEVANCE_SORT, cursor_of({"s": "relevance", "v": 1, "i": doc_id}))
    assert caught.value.details[0]["loc"] == ["query", "cursor"]


def test_every_sort_round_trips_and_refuses_other_sorts() -> None:
    when = datetime(2026, 5, 6, 7, 8, 9, tzinfo=UTC)
    values = {"datetime": when, "str": "Zürich 🌍 " * 10, "int": 42}
    for sort in SORTS:
        oid = ObjectId()
        cursor = encode_cursor(sort, values[sort.kind], oid)
        assert decode_cursor(sort, cursor) == (values[sort.kind], oid)
        assert decode_cursor(sort, cursor + "=") == (values[sort.kind], oid)  # padding is fine
        for other in SORTS:
            if other.name != sort.name:
                with pytest.raises(ValidationFailed):
                    decode_cursor(other, cursor)
    nullable = SORTS[0]
    assert decode_cursor(nullable, encode_cursor(nullable, None, oid)) == (None, oid)


# --- strict JSON --------------------------------------------------------------------------


@BOUNDED
@given(data=st.binary(max_size=200))
def test_strict_json_arbitrary_bytes(data: bytes) -> None:
    with contextlib.suppress(strict_json.StrictJSONError):
        strict_json.loads(data)


@BOUNDED
@given(value=json_values)
def test_strict_json_accepts_what_it_should(value: Any) -> None:
    """Plain JSON round-trips; integers MongoDB cannot store are refused."""
    data = json.dumps(value).encode()
    if _has_huge_int(value):
        with pytest.raises(strict_json.StrictJSONError, match="integer out of range"):
            strict_json.loads(data)
    else:
        assert strict_json.loads(data) == value


def _has_huge_int(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_has_huge_int(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_huge_int(v) for v in value)
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and not strict_json.INT_MIN <= value <= strict_json.INT_MAX
    )


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b'{"a": 1, "a": 2}', "duplicate key"),
        (b"[NaN]", "NaN"),
        (b'{"x": -Infinity}', "Infinity"),
        (b"[1e400]", "number out of range"),
        (b"[" + b"9" * 5000 + b"]", "integer out of range"),
        (b"[9223372036854775808]", "integer out of range"),
        (b'"\xff"', "UTF-8"),
        (b'"\\ud800"', "surrogate"),
        (b"[" * 100_000 + b"]" * 100_000, "nested deeper"),
        (b'{"a":' * 33 + b"1" + b"}" * 33, "nested deeper"),
        (b"\xef\xbb\xbf{}", "BOM"),
    ],
)
def test_strict_json_refusals(data: bytes, reason: str) -> None:
    with pytest.raises(strict_json.StrictJSONError) as caught:
        strict_json.loads(data)
    assert reason in caught.value.msg


# --- tokens ---------------------------------------------------------------------------------


def assert_invalid_token(token: str) -> None:
    with pytest.raises(InvalidToken):
        decode_token(SETTINGS, token, TokenType.access)


@BOUNDED
@given(token=st.text(max_size=400))
def test_token_arbitrary_text(token: str) -> None:
    assert_invalid_token(token)


@BOUNDED
@given(header=json_values, claims=json_values, signature=st.binary(min_size=32, max_size=32))
def test_token_segments_of_arbitrary_json(header: Any, claims: Any, signature: bytes) -> None:
    token = ".".join(b64(json.dumps(x).encode()) for x in (header, claims)) + "." + b64(signature)
    assert_invalid_token(token)


@pytest.mark.parametrize(
    "token",
    [
        b64(b"[" * 5000 + b"]" * 5000) + ".e30." + "A" * 43,  # was a 500 after 24 s
        b64(b'{"alg":"HS256"}') + "." + b64(b'{"a":' * 3000 + b"1" + b"}" * 3000) + ".sig",
        "a.b.c.d",
        "é" * 50,
        "x" * 100_000,
        "",
        "..",
    ],
)
def test_token_hostile_shapes(token: str) -> None:
    assert_invalid_token(token)


def test_token_signed_with_another_key_or_tampered() -> None:
    other = make_settings(secret_key="another-secret-key-of-enough-length-123")
    token, _ = create_token(
        other, subject="u", role="admin", token_type=TokenType.access, session_id="s"
    )
    assert_invalid_token(token)
    good, _ = create_token(
        SETTINGS, subject="u", role="admin", token_type=TokenType.access, session_id="s"
    )
    assert decode_token(SETTINGS, good, TokenType.access).sub == "u"
    head, body, sig = good.split(".")
    assert_invalid_token(f"{head}.{body}x.{sig}")
    assert_invalid_token(f"{head}.{body}.{sig[::-1]}")
    assert_invalid_token(f"{good}\n")


# --- ids, ETags, query strings --------------------------------------------------------------


@BOUNDED
@given(value=st.text(max_size=60))
def test_path_ids(value: str) -> None:
    try:
        parsed = str(object_id(value, "X_NOT_FOUND", "x"))
    except NotFound as exc:
        parsed = exc.code
    assert parsed in (value.lower(), "X_NOT_FOUND")


@BOUNDED
@given(header=st.text(max_size=60) | st.from_regex(r'(W/)?"[0-9]{1,30}"', fullmatch=True))
async def test_if_match(header: str) -> None:
    try:
        version: int | str | None = await if_match_version(header)
    except PreconditionFailed as exc:
        version = exc.code
    assert version is None or version == "INVALID_IF_MATCH" or 0 <= int(version) < 10**12


@BOUNDED
@given(raw=st.binary(max_size=300) | st.text(max_size=100).map(lambda t: t.encode()))
def test_query_string_guard(raw: bytes) -> None:
    rejection = check_query_string(raw)
    if rejection is not None:
        status, code, message, _details = rejection
        assert status in (400, 414, 422)
        assert code in ("INVALID_QUERY_STRING", "URI_TOO_LONG", "INVALID_QUERY")
        assert message


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"q=%ZZ", 400),
        (b"q=%f", 400),
        (b"q=%ff%fe", 400),
        (b"q=\xff", 400),
        (b"q=%00x", 400),
        (b"q=a%0Ab", 400),
        (b"q=%ED%A0%80", 400),  # an encoded UTF-16 surrogate is not UTF-8
        (b"&".join([b"a=1"] * 101), 400),
        (b"q=" + b"a" * 9000, 414),
        (b"q[$ne]=x", 422),
    ],
)
def test_query_string_refusals(raw: bytes, status: int) -> None:
    rejection = check_query_string(raw)
    assert rejection is not None
    assert rejection[0] == status


def test_query_string_accepts_ordinary_queries() -> None:
    for raw in (b"", b"q=caf%C3%A9+bar&limit=5", "q=café".encode(), b"tags=a&tags=b&flag"):
        assert check_query_string(raw) is None
