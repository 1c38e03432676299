"""Verification speed, in one run on the same token: the compiled backend, the pure-Python
backend and PyJWT's `jwt.decode` (HS256, with issuer and audience checks).

    python python/bench/verify_bench.py [--rounds 7] [--seconds 0.3]

CPU time per operation (time.process_time), the best of several rounds, and the ratios to
PyJWT measured in the same run: the numbers to compare are the ratios, not the times.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Callable
from typing import Any

import jwt

from tessera import _native, _pure
from tessera import _reference as ref

ISS, AUD, SUB = "inventree", "plugin:stock-tools/action:transfer", "user:42"
DAT = {"part_id": 1234, "location": "WH-01/A/3", "qty": 25, "mode": "transfer"}


def per_op(fn: Callable[[], Any], seconds: float, rounds: int) -> float:
    """Best CPU seconds per call of `fn` over `rounds` rounds of about `seconds` each."""
    n = 1
    while True:  # calibrate: enough calls for one round to take `seconds`
        start = time.process_time()
        for _ in range(n):
            fn()
        took = time.process_time() - start
        if took >= seconds / 4:
            break
        n *= 4
    n = max(1, int(n * seconds / max(took, 1e-9)))
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        for _ in range(n):
            fn()
        best = min(best, (time.process_time() - start) / n)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=0.3)
    args = parser.parse_args()

    secret = bytes(range(32))
    doc = json.dumps({"keys": [{"kty": "oct", "kid": "k1", "alg": "HS256",
                                "k": ref.b64e(secret)}], "active": "k1"})  # fmt: skip
    native_keys, pure_keys = _native.KeySet.from_json(doc), _pure.KeySet.from_json(doc)
    now = int(time.time())
    token = _pure.mint(pure_keys, DAT, iss=ISS, aud=AUD, sub=SUB, now=now)
    # The same token, and every verifier accepts it with the same payload.
    checks = [
        _native.verify(token, native_keys, iss=ISS, aud=AUD, sub=SUB).dat,
        _pure.verify(token, pure_keys, iss=ISS, aud=AUD, sub=SUB).dat,
        jwt.decode(token, secret, algorithms=["HS256"], audience=AUD, issuer=ISS)["dat"],
    ]
    assert checks == [DAT] * 3, checks

    cases: dict[str, Callable[[], Any]] = {
        "PyJWT jwt.decode": lambda: jwt.decode(
            token, secret, algorithms=["HS256"], audience=AUD, issuer=ISS
        ),
        "tessera native verify": lambda: _native.verify(
            token, native_keys, iss=ISS, aud=AUD, sub=SUB
        ),
        "tessera pure verify": lambda: _pure.verify(token, pure_keys, iss=ISS, aud=AUD, sub=SUB),
    }
    results = {name: per_op(fn, args.seconds, args.rounds) for name, fn in cases.items()}
    floor = results["PyJWT jwt.decode"]
    print(f"python {platform.python_version()}, PyJWT {jwt.__version__}, token {len(token)} bytes")
    print(f"{'verifier':<24} {'us/op (CPU)':>12} {'vs PyJWT':>10}")
    for name, t in results.items():
        print(f"{name:<24} {t * 1e6:>12.2f} {floor / t:>9.2f}x")


if __name__ == "__main__":
    main()
