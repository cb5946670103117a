#!/usr/bin/env python3
"""Writes N bracketed GS1 element strings, one per line, for timing `channelguard decode`:
500 GTINs (valid check digits), a serial each, and a third with (17) expiry and (10) lot.
Deterministic: the same N gives the same file.

    python3 Benchmarks/decode-tool/codes.py 1000000 > /tmp/codes.txt
"""
import random
import sys


def check_digit(digits: str) -> str:
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return str((10 - total % 10) % 10)


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    rng = random.Random(7)
    gtins = []
    for n in range(500):
        body = "0690123" + f"{n:06d}"
        gtins.append(body + check_digit(body))
    out = sys.stdout
    for i in range(count):
        gtin = gtins[rng.randrange(500)]
        serial = f"S{rng.randrange(10**9):09d}"
        if i % 3 == 0:
            line = f"(01){gtin}(17){27 + rng.randrange(3)}{1 + rng.randrange(12):02d}{1 + rng.randrange(28):02d}(10)L{rng.randrange(10**5):05d}(21){serial}"
        else:
            line = f"(01){gtin}(21){serial}"
        out.write(line + "\n")


main()
