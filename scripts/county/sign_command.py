#!/usr/bin/env python3
"""Sign a village-gateway command (docs/county.md, "Signed commands") and print the envelope.

    python3 sign_command.py county.pem county-2026 gw-1 output '{"device": "board", "output": "strobe", "action": "on"}'

Needs the `cryptography` package (the standard library has no ed25519). Publish the printed
line, QoS 1, not retained, on village/<gateway>/cmd/<command>.
"""
import base64
import json
import sys
import time
import uuid

from cryptography.hazmat.primitives.serialization import load_pem_private_key


def sign_command(pem: bytes, key_id: str, gateway_id: str, command: str, args: dict,
                 good_for_sec: int = 60, request_id: str | None = None) -> dict:
    key = load_pem_private_key(pem, password=None)  # an Ed25519PrivateKey
    now_ms = int(time.time() * 1000)
    request = {
        "command": command,        # the topic's command: a signature is good for this one only
        "gatewayId": gateway_id,   # and on this gateway only
        "args": args,
        "sentAt": now_ms,
        "expiresAt": now_ms + good_for_sec * 1000,
        "nonce": str(uuid.uuid4()),  # new for every command: the gateway refuses one it has seen
    }
    if request_id is not None:
        request["id"] = request_id
    signed = json.dumps(request, separators=(",", ":"))
    # The signature is over these exact UTF-8 bytes; the gateway verifies the string it receives.
    sig = key.sign(signed.encode("utf-8"))
    return {"signed": signed, "keyId": key_id, "sig": base64.b64encode(sig).decode("ascii")}


if __name__ == "__main__":
    pem_file, key_id, gateway_id, command = sys.argv[1:5]
    args = json.loads(sys.argv[5]) if len(sys.argv) > 5 else {}
    request_id = sys.argv[6] if len(sys.argv) > 6 else None
    with open(pem_file, "rb") as f:
        envelope = sign_command(f.read(), key_id, gateway_id, command, args, request_id=request_id)
    print(json.dumps(envelope))
