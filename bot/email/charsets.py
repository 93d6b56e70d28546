"""Decoding mail bytes in whatever charset they claim, or fail to claim. Never raises:
an unknown or wrong charset falls back to a sensible guess and says so in ``problems``."""

from __future__ import annotations

import codecs
from typing import List, Optional

# Charset labels seen in real mail that Python does not know by that name.
_CHARSET_ALIASES = {
    "iso-8859-8-i": "iso-8859-8",
    "iso-8859-6-i": "iso-8859-6",
    "x-mac-roman": "mac_roman",
    "macintosh": "mac_roman",
    "windows-874": "cp874",
    "gb2312": "gb18030",  # superset; mislabelled GBK/GB18030 mail is common
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "ks_c_5601-1987": "cp949",
    "unicode-1-1-utf-7": "utf-7",
    "utf8": "utf-8",
    "x-user-defined": "latin-1",
    "ansi_x3.4-1968": "ascii",
}


def decode_bytes(data: bytes, charset: Optional[str], what: str, problems: List[str]) -> str:
    """Decode with the declared charset; fall back (and say so) when it is unknown or wrong."""
    label = (charset or "").strip().strip('"').lower()
    if label in ("", "us-ascii", "ascii", "unknown-8bit", "x-unknown", "unknown", "default"):
        try:
            return data.decode("ascii")
        except UnicodeDecodeError:
            pass
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            if label not in ("", "unknown-8bit"):
                problems.append(f"{what}: 8-bit data labelled {label}; decoded as windows-1252")
            return data.decode("cp1252", "replace")
    codec = _codec(label)
    if codec is None:
        try:
            text = data.decode("utf-8")
            problems.append(f"{what}: unknown charset {label[:40]!r}; decoded as utf-8")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
            problems.append(f"{what}: unknown charset {label[:40]!r}; decoded as latin-1")
        return text
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        problems.append(f"{what}: bytes invalid in charset {label[:40]}; undecodable characters replaced")
        return data.decode(codec, "replace")
    except Exception:
        problems.append(f"{what}: charset {label[:40]!r} failed; decoded as utf-8 with replacement")
        return data.decode("utf-8", "replace")


def _codec(label: str) -> Optional[str]:
    name = _CHARSET_ALIASES.get(label, label)
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError, TypeError):
        return None
    if not getattr(info, "_is_text_encoding", True):  # base64, rot13, zlib...
        return None
    return info.name
