"""RFC 9421 HTTP Message Signatures: ``Signature-Input`` + ``Signature``, made
(``prepare_signature_rfc9421`` / ``sign_request_rfc9421``) and verified (``verify_rfc9421``:
covered components, created/Date window, Content-Digest, then the key)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from yarl import URL

from activitypub.errors import SignatureError
from activitypub.httpsig.common import (
    BODY_METHODS,
    ED25519,
    RFC9421,
    RFC9421_ALGORITHMS,
    RSA_V1_5_SHA256,
    Headers,
    KeyResolver,
    VerifiedSignature,
    check_created,
    check_date_header,
    check_expires,
    check_key_host,
    covered_header_value,
    crypto,
    http_date,
    http_date_now,
    sign_bytes,
    verify_with_key,
)
from activitypub.httpsig.digests import (
    CONTENT_DIGEST,
    body_sha256,
    check_digest,
    content_digest_header,
)
from activitypub.httpsig.structured import SFScanner

if TYPE_CHECKING:
    from activitypub.keys import PrivateKey


@dataclass(frozen=True, slots=True)
class ParsedSignatureInput:
    """One member of an RFC 9421 ``Signature-Input`` header."""

    label: str
    components: tuple[str, ...]
    params: Mapping[str, str | int | bool]
    raw: str  # the serialized member value, used verbatim as @signature-params

    @property
    def key_id(self) -> str:
        value = self.params.get("keyid")
        return value if isinstance(value, str) else ""


# --------------------------------------------------------------------------- parsing


def parse_signature_input(value: str) -> dict[str, ParsedSignatureInput]:
    """Parse an RFC 9421 ``Signature-Input`` header; SignatureError if malformed."""
    if len(value) > 8192:
        raise SignatureError("Signature-Input header too long")
    scanner = SFScanner(value)
    members = scanner.dictionary(scanner.inner_list)
    out: dict[str, ParsedSignatureInput] = {}
    for label, ((items, params), raw) in members.items():
        components = []
        for name, item_params in items:
            if item_params:
                raise SignatureError(f"unsupported component parameters on {name!r}")
            components.append(name.lower())
        out[label] = ParsedSignatureInput(label, tuple(components), params, raw)
    return out


def _parse_signatures(value: str) -> dict[str, bytes]:
    scanner = SFScanner(value)
    members = scanner.dictionary(scanner.bare)
    out: dict[str, bytes] = {}
    for label, (item, _raw) in members.items():
        if not isinstance(item, str) or len(item) < 2 or item[0] != ":" or item[-1] != ":":
            raise SignatureError("Signature value is not a byte sequence")
        try:
            out[label] = base64.b64decode(item[1:-1], validate=True)
        except (binascii.Error, ValueError):
            raise SignatureError("signature is not valid base64") from None
    return out


def signature_base(
    method: str,
    path_qs: str,
    headers: Headers,
    sig_input: ParsedSignatureInput,
    scheme: str,
) -> bytes:
    """The signature base (RFC 9421 §2.5) of a received request."""
    authority = (headers.get("Host") or "").strip().lower()
    path, _, query = path_qs.partition("?")
    lines = []
    for name in sig_input.components:
        if name == "@method":
            value = method.upper()
        elif name == "@target-uri":
            value = f"{scheme}://{authority}{path_qs}"
        elif name == "@authority":
            value = authority
        elif name == "@scheme":
            value = scheme
        elif name == "@request-target":
            value = path_qs
        elif name == "@path":
            value = path or "/"
        elif name == "@query":
            value = "?" + query
        elif name.startswith("@"):
            raise SignatureError(f"unsupported derived component {name[:40]!r}")
        else:
            value = covered_header_value(headers, name)
        lines.append(f'"{name}": {value}')
    lines.append(f'"@signature-params": {sig_input.raw}')
    return "\n".join(lines).encode("utf-8")


# --------------------------------------------------------------------------- verifying


async def verify_rfc9421(
    method: str,
    path_qs: str,
    headers: Headers,
    body: bytes | None,
    resolve_key: KeyResolver,
    *,
    now: datetime | None,
    max_skew: timedelta,
    key_host_allowed: Callable[[str], bool] | None,
    scheme: str,
) -> VerifiedSignature:
    """Verify an RFC 9421 signature; ``method`` is upper case, ``scheme`` rebuilds
    ``@target-uri``. See ``activitypub.signatures.verify_request``."""
    inputs = parse_signature_input(headers.get("Signature-Input", ""))
    raw_signatures = headers.get("Signature")
    if raw_signatures is None:
        raise SignatureError("missing Signature header")
    signatures = _parse_signatures(raw_signatures)
    label = next((name for name in inputs if name in signatures), None)
    if label is None:
        raise SignatureError("no Signature matches Signature-Input")
    sig_input = inputs[label]
    key_id = sig_input.key_id
    key_host = check_key_host(key_id, key_host_allowed, name="keyid")
    alg = sig_input.params.get("alg", RSA_V1_5_SHA256)
    if not isinstance(alg, str) or alg not in RFC9421_ALGORITHMS:
        raise SignatureError("unsupported signature algorithm")

    covered = set(sig_input.components)
    if "@method" not in covered:
        raise SignatureError("signature does not cover @method")
    if not (
        "@target-uri" in covered
        or ("@authority" in covered and covered & {"@path", "@request-target"})
    ):
        raise SignatureError("signature does not cover the target URI")
    must_digest = method in BODY_METHODS and body is not None
    if must_digest and "content-digest" not in covered:
        raise SignatureError("signature does not cover content-digest")

    moment = (now or datetime.now(UTC)).astimezone(UTC)
    created = sig_input.params.get("created")
    if isinstance(created, int) and not isinstance(created, bool):
        check_created(created, moment, max_skew)
    elif "date" in covered:
        check_date_header(headers, moment, max_skew)
    else:
        raise SignatureError("signature has neither created nor a covered Date")
    expires = sig_input.params.get("expires")
    if isinstance(expires, int) and not isinstance(expires, bool):
        check_expires(expires, moment)
    if body is not None and "content-digest" in covered:
        content_digest = headers.get(CONTENT_DIGEST)
        if content_digest is None:
            raise SignatureError("missing Content-Digest header")
        if not check_digest(CONTENT_DIGEST, content_digest, body_sha256(body)):
            raise SignatureError("no SHA-256 Content-Digest of the body")

    data = signature_base(method, path_qs, headers, sig_input, scheme)
    resolved = await verify_with_key(resolve_key, key_id, alg, signatures[label], data)
    return VerifiedSignature(
        key_id=key_id,
        key_owner=resolved.owner,
        key_host=key_host,
        algorithm=alg,
        headers=sig_input.components,
        spec=RFC9421,
    )


# --------------------------------------------------------------------------- signing


@dataclass(slots=True)
class PendingRfc9421:
    """An RFC 9421 request's headers and signature base, waiting for the signature bytes
    (the same split as ``PendingSignature``, so a process pool can sign either)."""

    headers: dict[str, str]
    data: bytes
    signature_params: str
    label: str

    def complete(self, signature: bytes) -> dict[str, str]:
        encoded = base64.b64encode(signature).decode("ascii")
        self.headers["Signature-Input"] = f"{self.label}={self.signature_params}"
        self.headers["Signature"] = f"{self.label}=:{encoded}:"
        return self.headers


def prepare_signature_rfc9421(
    method: str,
    url: str | URL,
    headers: Mapping[str, str],
    body: bytes | None,
    key_id: str,
    *,
    algorithm: str = RSA_V1_5_SHA256,
    now: datetime | None = None,
    digest: str | None = None,
    label: str = "sig1",
) -> PendingRfc9421:
    """Everything of an RFC 9421 signature but the signature itself.

    Covers ``"@method" "@target-uri"`` and, with a body, ``"content-digest"`` (RFC 9530,
    added); parameters ``created``, ``keyid``, ``alg``. A Date header is added (not
    covered) for peers that log or check it. ``digest`` as in ``content_digest_header``.
    """
    if algorithm not in RFC9421_ALGORITHMS:
        raise ValueError(f"unsupported algorithm {algorithm!r}")
    if '"' in key_id or "\\" in key_id:
        raise ValueError("key id cannot be a structured field string")
    target = URL(url) if isinstance(url, str) else url
    out: dict[str, str] = dict(headers)
    lower = {name.lower() for name in out}
    if "date" not in lower:
        out["Date"] = http_date(now) if now is not None else http_date_now()
    created = int((now or datetime.now(UTC)).timestamp())
    target_uri = f"{target.scheme}://{target.host_port_subcomponent}{target.raw_path_qs}"
    components = ['"@method"', '"@target-uri"']
    lines = [f'"@method": {method.upper()}', f'"@target-uri": {target_uri}']
    if body is not None:
        out[CONTENT_DIGEST] = content_digest_header(body, digest=digest)
        components.append('"content-digest"')
        lines.append(f'"content-digest": {out[CONTENT_DIGEST]}')
    params = f'({" ".join(components)});created={created};keyid="{key_id}";alg="{algorithm}"'
    lines.append(f'"@signature-params": {params}')
    return PendingRfc9421(out, "\n".join(lines).encode("utf-8"), params, label)


def sign_request_rfc9421(
    method: str,
    url: str | URL,
    headers: Mapping[str, str],
    body: bytes | None,
    key_id: str,
    private_key: PrivateKey,
    *,
    now: datetime | None = None,
    label: str = "sig1",
) -> dict[str, str]:
    """RFC 9421 signing (``rsa-v1_5-sha256`` or ``ed25519``): adds Date, Content-Digest,
    Signature-Input and Signature; covers @method @target-uri (+ content-digest)."""
    alg = RSA_V1_5_SHA256 if isinstance(private_key, crypto().rsa_private) else ED25519
    pending = prepare_signature_rfc9421(
        method, url, headers, body, key_id, algorithm=alg, now=now, label=label
    )
    return pending.complete(sign_bytes(private_key, pending.data))
