"""sparql: an ASK query over the activity seen as an RDF graph in the as: namespace.

The mapping is deliberately simple, fast and offline (no JSON-LD expansion): every key
becomes a predicate `as:<key>`; an object with an `id` becomes that URIRef (otherwise a blank
node) and also gets `rdf:type as:<type>`; strings are Literals except http(s) references
under reference keys (actor, object, to, cc, …) which are URIRefs, with "Public"/"as:Public"
read as as:Public; numbers and booleans are typed Literals. `?activity` is bound to the
activity's node. The query is prepared once, when the rule is built.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policy.activity import PUBLIC, ActivityView
from policy.base import PolicyContext
from policy.rules.options import OptionReader
from policy.rules.rule import Rule

AS_NS = "https://www.w3.org/ns/activitystreams#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
REFERENCE_KEYS = frozenset(
    {
        "actor",
        "object",
        "target",
        "origin",
        "to",
        "cc",
        "bto",
        "bcc",
        "audience",
        "inReplyTo",
        "attributedTo",
        "href",
        "url",
        "context",
        "conversation",
        "followers",
        "following",
        "inbox",
        "outbox",
        "quoteUrl",
        "quoteUri",
    }
)
_MAX_DEPTH = 8
_GRAPH_CACHE_KEY = "sparql.graph"


def _safe_key(key: str) -> str:
    if key.isascii() and key.replace("_", "").replace("-", "").replace(":", "").isalnum():
        return key
    from urllib.parse import quote

    return quote(key, safe="")


def activity_graph(activity: Mapping[str, Any]) -> tuple[Any, Any]:
    """(rdflib Graph, node of the activity) for the simple mapping described above."""
    from rdflib import BNode, Graph, Literal, URIRef
    from rdflib.namespace import Namespace

    as_ns = Namespace(AS_NS)
    rdf_type = URIRef(RDF_TYPE)
    public = URIRef(PUBLIC)
    graph = Graph()
    graph.bind("as", as_ns)
    triples: list[tuple[Any, Any, Any]] = []
    predicates: dict[str, Any] = {}

    def predicate(key: str) -> Any:
        found = predicates.get(key)
        if found is None:
            found = predicates[key] = URIRef(AS_NS + _safe_key(key))
        return found

    def value_node(key: str, value: Any, depth: int) -> Any:
        if isinstance(value, Mapping):
            return node(value, depth + 1)
        if isinstance(value, str):
            if key in REFERENCE_KEYS:
                if value in ("Public", "as:Public", PUBLIC):
                    return public
                if value.startswith(("https://", "http://")):
                    return URIRef(value)
            return Literal(value)
        if isinstance(value, bool | int | float):
            return Literal(value)
        return None

    def node(obj: Mapping[str, Any], depth: int) -> Any:
        ident = obj.get("id")
        subject = URIRef(ident) if isinstance(ident, str) and ident else BNode()
        if depth > _MAX_DEPTH:
            return subject
        for key, value in obj.items():
            if key in ("@context", "id"):
                continue
            pred = predicate(key)
            for item in value if isinstance(value, list) else (value,):
                if key == "type" and isinstance(item, str):
                    triples.append((subject, rdf_type, URIRef(AS_NS + _safe_key(item))))
                obj_node = value_node(key, item, depth)
                if obj_node is not None:
                    triples.append((subject, pred, obj_node))
        return subject

    root = node(activity, 0)
    graph.addN((s, p, o, graph) for s, p, o in triples)
    return graph, root


class SparqlRule(Rule):
    """Matches when the ASK query answers true."""

    kind = "sparql"
    __slots__ = ("_prepared", "_query")

    def configure(self, options: OptionReader) -> None:
        from rdflib.namespace import RDF, Namespace
        from rdflib.plugins.sparql import prepareQuery

        self._query = options.string("query")
        try:
            prepared = prepareQuery(self._query, initNs={"as": Namespace(AS_NS), "rdf": RDF})
        except Exception as exc:  # rdflib raises pyparsing and its own errors
            message = " ".join(str(exc).split())
            raise options.error("query", f"invalid SPARQL: {message}") from None
        if prepared.algebra.name != "AskQuery":
            raise options.error("query", "must be an ASK query")
        self._prepared = prepared

    def match(self, view: ActivityView, ctx: PolicyContext) -> str | None:
        cached = view.cache.get(_GRAPH_CACHE_KEY)
        if cached is None:
            cached = view.cache[_GRAPH_CACHE_KEY] = activity_graph(view.activity)
        graph, root = cached
        result = graph.query(self._prepared, initBindings={"activity": root})
        if result.askAnswer:
            return "sparql query answered true"
        return None

    def options(self) -> dict[str, Any]:
        return {"query": self._query}
