"""Sign/s and verify/s through userpkg.protocol beside raw `cryptography` calls, same run.

Goal: our sign/verify wrappers (message bytes, Base64, probe check) cost < 10% over raw RSA.
Also shown: the whole header path a request takes (nonce + sign + header; parse + verify).
Each wrapper and its raw call are timed in turn, round by round (`paired_rates`).
Run: `.venv/bin/python benchmarks/protocol.py` (or `make bench`).
"""

from __future__ import annotations

import base64
import json
import sys

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
from _shared import VECTORS_DIR, paired_rates
from userpkg.protocol import (
    BrandCredential,
    RsaSigner,
    load_private_key,
    load_public_key,
    parse_authorization,
    request_message,
    verify_signature,
)


def main() -> None:
    vectors = json.loads((VECTORS_DIR / "vectors.json").read_text(encoding="utf-8"))
    private = load_private_key((VECTORS_DIR / "brand_private_key.pem").read_text())
    public = load_public_key((VECTORS_DIR / "brand_public_key.pem").read_text())
    vec = next(v for v in vectors["requests"] if v["name"].startswith("expand"))
    body = vec["body"].encode()
    message = vec["string_to_sign"].encode()
    header = vec["authorization"]
    raw_signature = base64.b64decode(vec["signature"])
    pkcs1, sha256 = padding.PKCS1v15(), hashes.SHA256()
    signer = RsaSigner(private)
    credential = BrandCredential(vectors["brand_id"], vectors["cert_serial_no"], signer)
    signature = vec["signature"]

    def ours_sign() -> object:
        return signer.sign(message)

    def ours_verify() -> object:
        assert verify_signature(public, message, signature)
        return None

    def header_sign() -> object:
        return credential.authorize(vec["method"], vec["url"], body).header()

    def raw_sign() -> object:
        return private.sign(message, pkcs1, sha256)

    def header_verify() -> object:
        auth = parse_authorization(header)
        msg = request_message(vec["method"], vec["url"], auth.timestamp, auth.nonce_str, body)
        assert verify_signature(public, msg, auth.signature)
        return auth

    def raw_verify() -> object:
        public.verify(raw_signature, message, pkcs1, sha256)
        return None

    cases = [
        ("sign: RsaSigner.sign", ours_sign, raw_sign, 200),
        ("verify: verify_signature", ours_verify, raw_verify, 2000),
        ("sign: nonce + sign + header", header_sign, raw_sign, 200),
        ("verify: parse + rebuild + verify", header_verify, raw_verify, 2000),
    ]
    rows = [(name, *paired_rates(ours, raw, count)) for name, ours, raw, count in cases]
    print(f"{'operation':34} {'userpkg/s':>10} {'raw/s':>10} {'overhead':>9}")
    for name, ours_rate, raw_rate in rows:
        print(f"{name:34} {ours_rate:10.0f} {raw_rate:10.0f} {raw_rate / ours_rate - 1:9.1%}")
    worst = max(raw_rate / ours_rate - 1 for _, ours_rate, raw_rate in rows[:2])
    mark = "✓" if worst < 0.10 else "✗"
    print(f"sign/verify wrappers: worst overhead {worst:.1%} over raw   goal < 10% {mark}")


if __name__ == "__main__":
    main()
