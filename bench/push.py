"""Web Push cost per push: encryption and VAPID signing, on one core.

    python bench/push.py [--n 2000]

Prints pushes/s for each encoding (a fresh ephemeral key and ECDH per push, as RFC 8291
needs), the VAPID JWT as signed here (kept per push service) and signed afresh each time,
and, when installed, py_vapid's signer for comparison (the library pywebpush uses).
"""

from __future__ import annotations

import argparse
import base64
import os
import sys
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fedinode.services import webpush


def _rate(label: str, n: int, fn: object) -> None:
    assert callable(fn)
    start = time.perf_counter()
    for i in range(n):
        fn(i)
    took = time.perf_counter() - start
    print(f"{label:<44} {n / took:>9.0f}/s  {took / n * 1e6:>8.1f} µs each")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    n = parser.parse_args().n
    phone = ec.generate_private_key(ec.SECP256R1()).public_key()
    p256dh = base64.urlsafe_b64encode(
        phone.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    ).decode()
    auth = base64.urlsafe_b64encode(os.urandom(16)).decode()
    vapid = webpush.VapidKey.from_secret(webpush.VapidKey.generate_secret())
    payload = b'{"title":"bob mentioned you","body":"' + b"x" * 140 + b'"}' + b" " * 800
    endpoint = "https://push.example/up/abc"
    for standard in (True, False):
        _rate(
            f"encrypt + sign ({'aes128gcm' if standard else 'aesgcm'})",
            n,
            lambda _i, s=standard: webpush.encrypt(
                payload, p256dh=p256dh, auth=auth, standard=s, vapid=vapid,
                endpoint=endpoint, subject="mailto:a@b.example",
            ),
        )  # fmt: skip
    _rate("VAPID JWT, kept per push service", n, lambda _i: vapid.jwt(endpoint, "mailto:a@b"))
    _rate(
        "VAPID JWT, signed every time",
        n,
        lambda i: vapid.jwt(f"https://p{i}.example", "mailto:a@b"),
    )
    _rate(
        "VAPID key loaded from the stored secret",
        max(n // 10, 1),
        lambda _i: webpush.VapidKey.from_secret(webpush.VapidKey.generate_secret()),
    )
    try:
        from py_vapid import Vapid02
    except ImportError:
        print("py_vapid not installed: no comparison")
        return
    signer = Vapid02.from_raw(base64.urlsafe_b64encode(
        vapid.private_key.private_numbers().private_value.to_bytes(32, "big")
    ).rstrip(b"="))  # fmt: skip
    _rate(
        "py_vapid Vapid02.sign (every time)",
        n,
        lambda _i: signer.sign({"aud": "https://push.example", "sub": "mailto:a@b.example"}),
    )


if __name__ == "__main__":
    main()
