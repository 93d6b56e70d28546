from bot.internal.tokens import bearer, presented_token, token_ok


def test_the_token_comes_from_a_bearer_header_or_the_query():
    assert presented_token({"Authorization": bearer("abc")}, {}) == "abc"
    assert presented_token({"authorization": "bearer  abc "}, {}) == "abc"
    assert presented_token({}, {"token": "xyz"}) == "xyz"
    assert presented_token({"Authorization": "Basic abc"}, {}) is None
    assert presented_token({"Authorization": "Bearer "}, {}) is None


def test_only_the_expected_non_empty_token_passes():
    assert token_ok("s3cret-s3cret-s3cret", "s3cret-s3cret-s3cret")
    assert not token_ok("s3cret-s3cret-s3creT", "s3cret-s3cret-s3cret")
    assert not token_ok(None, "s3cret")
    assert not token_ok("", "")  # a service with no token configured refuses everyone
    assert not token_ok("anything", "")
