"""Password hashing (Argon2id) and the password rules.

The rules follow NIST SP 800-63B and OWASP ASVS 6.2: at least 12 characters,
up to 128, any characters, no composition rules, and not a commonly used or
obviously guessable password.

"Commonly used" is the maintained list that zxcvbn ships: the 30,000 most
common passwords from real leaks (ASVS 6.2.4 asks for at least the top
3,000), compared without regard to case, plus a few words of our own. The
list is read once, on the first password check, so importing this module
(every web worker does) stays cheap.
"""

from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# argon2-cffi's defaults are RFC 9106's low-memory profile (Argon2id, t=3, 64 MiB).
_hasher = PasswordHasher()
MIN_LENGTH = 12
MAX_LENGTH = 128
# Our own additions: the hub's name, and the 12-character variants people reach for first.
_OURS = frozenset(
    """
    password passw0rd password1 password12 password123 password1234 123456789012 qwertyuiopas
    qwertyuiop12 letmein12345 welcome12345 iloveyou1234 changeme1234 administrator partnership
    partnershiphub hubpassword1 trustno1trust monkey123456 football1234 sunshine1234 princess1234
    abc123abc123 111111111111 000000000000 123123123123 summer202626 winter202626 spring202626
    autumn202626
    """.split()
)
# A fixed hash for unknown accounts, so a miss costs as long as a wrong password.
DUMMY_HASH = _hasher.hash("not a real password - used to even out timing")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


@functools.cache
def _common() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(p.lower() for p in FREQUENCY_LISTS["passwords"]) | _OURS


def password_problems(password: str, email: str = "") -> list[str]:
    """Why a new password is not acceptable (empty list: it is fine)."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"Password must be {MIN_LENGTH} characters or more")
    if len(password) > MAX_LENGTH:
        problems.append(f"Password must be {MAX_LENGTH} characters or fewer")
    lowered = password.lower()
    if len(set(lowered)) < 4 or lowered in _common():
        problems.append("Password is too easy to guess: choose a longer phrase")
    local = email.split("@", 1)[0].lower()
    if local and len(local) >= 4 and local in lowered:
        problems.append("Password must not contain your email address")
    return problems
