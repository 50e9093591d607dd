"""HTTP Signatures by job: ``digests`` (RFC 3230 Digest and RFC 9530 Content-Digest),
``cavage`` (draft-cavage-http-signatures-12), ``structured`` (the RFC 8941 subset RFC 9421
needs), ``rfc9421`` (HTTP Message Signatures), ``specs`` (the double-knock's memory of
which spec each peer takes) and ``common`` (what both specs share: keys,
time windows, the verified outcome). ``activitypub.signatures`` is the public entry.
"""
