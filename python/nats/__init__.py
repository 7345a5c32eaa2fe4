"""nats: a compiler for token-level hybrid attention (NAtS-L).

- `nats.hybrid_attention(...)`: the core op, compiled by nats, on NumPy arrays.
- `nats.reference`: the float64 reference of the contract (docs/spec.md).
- `nats.layer` (`from nats import layer`): the NAtS-L layer graph (spec §4) as MLIR,
  any sizes, f32 or bf16.
- `nats.compiler` / `nats.runtime`: compile MLIR through a nats pipeline to a
  shared object and call its functions.
"""

from . import compiler, reference, runtime
from .api import hybrid_attention
from .compiler import CompileError, compile_module

__all__ = ["CompileError", "compile_module", "compiler", "hybrid_attention",
           "reference", "runtime"]
