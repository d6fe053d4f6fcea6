"""Schemathesis hooks of scripts/schemathesis.sh.

An Idempotency-Key names one request: reused with another body, the service refuses it with 422
("Idempotency-Key was already used with a different request body", as the IETF Idempotency-Key
draft prescribes). A schema cannot say "unique per request", and the generator reuses short keys
("0", "A") across bodies, so each generated key is suffixed with a digest of the body it is
sent with: the generated characters still reach the service, but one key never stands for two
bodies.
"""

import hashlib
import json

import schemathesis

HEADER = "idempotency-key"
# IdempotencyKey::MAX_LEN is 255: the suffix is 17 characters.
KEEP = 255 - 17


@schemathesis.hook
def before_call(context, case, kwargs):
    headers = case.headers or {}
    for name in list(headers):
        if name.lower() == HEADER and isinstance(headers[name], str):
            body = json.dumps(case.body, sort_keys=True, default=repr).encode()
            digest = hashlib.sha256(body).hexdigest()[:16]
            headers[name] = f"{headers[name][:KEEP]}.{digest}"
