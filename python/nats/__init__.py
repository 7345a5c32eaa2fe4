"""nats: a compiler for token-level hybrid attention (NAtS-L).

`nats.reference` holds the float64 reference of the semantic contract
(docs/spec is ../shared/spec/nats-l.md in the workplace; the op's semantics are
summarised in docs/dialect.md).
"""

from . import reference

__all__ = ["reference"]
