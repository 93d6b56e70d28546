"""Sign-in helpers: password hashing, the session cookie and the login throttle."""

import datetime as dt

from bot.hub.auth import LoginThrottle, same_origin, token_from_cookie_header
from bot.security import check_password, hash_password

NOW = dt.datetime(2026, 11, 18, 12, 0, tzinfo=dt.timezone.utc)


def test_passwords_are_salted_scrypt_hashes():
    first, second = hash_password("correct horse"), hash_password("correct horse")
    assert first.startswith("scrypt$") and first != second
    assert check_password("correct horse", first)
    assert not check_password("Correct horse", first)
    assert not check_password("correct horse", "not a hash")


def test_the_session_token_is_read_from_the_cookie_header():
    assert token_from_cookie_header("a=1; bot_console=tok-123; b=2") == "tok-123"
    assert token_from_cookie_header("a=1") is None
    assert token_from_cookie_header(None) is None


def test_only_the_console_own_origin_may_open_its_socket():
    assert same_origin({"HTTP_ORIGIN": "http://hub.example:8000", "HTTP_HOST": "hub.example:8000"})
    assert not same_origin({"HTTP_ORIGIN": "http://evil.example", "HTTP_HOST": "hub.example:8000"})
    assert same_origin({"HTTP_HOST": "hub.example:8000"})  # not a browser


def test_throttle_blocks_after_the_limit_and_forgets_old_failures():
    throttle = LoginThrottle(limit=3, window=dt.timedelta(minutes=15))
    for minute in range(3):
        assert throttle.retry_after("a@x.example", NOW + dt.timedelta(minutes=minute)) is None
        throttle.failed("A@x.example", NOW + dt.timedelta(minutes=minute))
    assert throttle.retry_after("a@x.example", NOW + dt.timedelta(minutes=3)) == 12 * 60
    assert throttle.retry_after("b@x.example", NOW) is None
    assert throttle.retry_after("a@x.example", NOW + dt.timedelta(minutes=15)) is None  # the first aged out
    throttle.succeeded("a@x.example")
    assert throttle.retry_after("a@x.example", NOW + dt.timedelta(minutes=3)) is None
