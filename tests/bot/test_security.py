from bot.security import check_secret, hash_secret, normalize_secret


def test_hash_is_salted_and_checks():
    first, second = hash_secret("94107", 1000), hash_secret("94107", 1000)
    assert first.salt != second.salt and first.digest != second.digest
    assert "94107" not in first.digest
    assert check_secret("94107", first)
    assert not check_secret("94108", first)


def test_normalize_secret():
    assert normalize_secret("zip_code", "zip is 94107") == "94107"
    assert normalize_secret("last_four", "card ending 4242") == "4242"
