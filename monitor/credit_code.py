"""Unified social credit codes (统一社会信用代码), GB 32100-2015."""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))


def check_character(first17: str) -> str:
    """The 18th character for the first 17 (which must already be valid characters)."""
    total = sum(_VALUE[c] * w for c, w in zip(first17, WEIGHTS, strict=True))
    check = 31 - total % 31
    return ALPHABET[0 if check == 31 else check]


def problem(code: str) -> str | None:
    """Why `code` is not a valid credit code, in words an operator can act on; None when it is valid."""
    if len(code) != 18:
        return f"统一社会信用代码应为18位，实际为{len(code)}位: {code!r}"
    bad = sorted({c for c in code if c not in _VALUE})
    if bad:
        return f"统一社会信用代码含非法字符 {''.join(bad)!r}: {code!r}"
    expected = check_character(code[:17])
    if code[17] != expected:
        return f"统一社会信用代码校验位错误：应为 {expected}，实际为 {code[17]}: {code!r}"
    return None


def complete(first17: str) -> str:
    """Append the check character: used by the demo, the tests and the benchmarks to make valid codes."""
    return first17 + check_character(first17)
