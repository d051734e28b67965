"""OpenQASM 2 and 3 input through the reference ``openqasm3`` parser, into the circuit IR.

The parser is the OpenQASM project's reference AST package ``openqasm3`` with its ``[parser]``
extra (pure Python on the ANTLR 4 runtime, Apache-2.0; it reads OpenQASM 3 and the OpenQASM 2
subset: ``qreg``/``creg``, ``measure q -> c``, ``qelib1.inc`` gate names). It is an optional
extra of this package: ``pip install 'modenhub-net[circuits]'``.

Supported: qubit/bit declarations (``qreg``/``qubit[n]``, ``creg``/``bit[n]``), the standard
gate names of ``qelib1.inc`` and ``stdgates.inc`` (:mod:`protocols.circuits.gates`), user
``gate`` definitions (inlined, with parameters), whole-register broadcasting
(``h q;``, ``cx a, b;``), ``barrier`` (ignored), terminal ``measure``, and constant
expressions (``pi``, ``tau``, ``euler``, ``+ - * / **``, ``sin cos tan exp ln sqrt arcsin
arccos arctan``). Anything else (classical control, loops, resets, gate modifiers, timing)
raises :class:`~modenhub_net.errors.UserInputError` naming the file, the line and the
construct.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from modenhub_net.errors import UserInputError
from protocols.circuits.extras import missing_extra_message
from protocols.circuits.gates import expand_gate, gate_arity
from protocols.circuits.ir import Circuit, Op

__all__ = ["load_qasm", "parse_qasm", "QASM_EXTRA_MESSAGE"]

#: the one-line message shown when the optional parser is not installed
QASM_EXTRA_MESSAGE = missing_extra_message("openqasm3[parser]", "reading OpenQASM")

_CONSTANTS = {"pi": math.pi, "π": math.pi, "tau": 2 * math.pi, "τ": 2 * math.pi, "euler": math.e, "ℇ": math.e}
_FUNCTIONS = {
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "exp": math.exp,
    "ln": math.log,
    "sqrt": math.sqrt,
    "arcsin": math.asin,
    "arccos": math.acos,
    "arctan": math.atan,
}
_STANDARD_INCLUDES = {"qelib1.inc", "stdgates.inc"}
_MAX_QUBITS = 1000
_MAX_OPS = 2_000_000


def _parser() -> Any:
    try:
        import openqasm3
        from openqasm3 import ast
    except ImportError:
        raise UserInputError(QASM_EXTRA_MESSAGE) from None
    try:
        import openqasm3.parser  # noqa: F401 - needs antlr4-python3-runtime
    except ImportError:
        raise UserInputError(QASM_EXTRA_MESSAGE) from None
    return openqasm3, ast


def load_qasm(path: str | Path) -> Circuit:
    """Read an OpenQASM 2 or 3 file into a :class:`~protocols.circuits.ir.Circuit`.

    Parameters
    ----------
    path : str or Path
        The ``.qasm`` file (UTF-8 text).

    Raises
    ------
    UserInputError
        One line naming the file, the line and the problem (missing file, syntax error,
        unsupported construct, unknown gate, wrong number of parameters or qubits, index out
        of range), or the install hint if the optional parser is missing.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserInputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UserInputError(f"{path}: is a folder, not an OpenQASM file") from None
    except UnicodeDecodeError:
        raise UserInputError(f"{path}: is not UTF-8 text") from None
    return parse_qasm(text, filename=str(path), name=path.stem)


def _syntax_position(error: BaseException) -> str:
    """``line L, column C: syntax error ...`` from the parser's exception chain.

    Lexer errors carry ``L<line>:C<column>: <message>``; parser errors (ANTLR's bail-out
    strategy) carry the recognition exception, whose offending token has the position.
    """
    seen: BaseException | None = error
    while seen is not None:
        match = re.match(r"L(\d+):C(\d+): (.*)", str(seen))
        if match:
            column = int(match.group(2)) + 1
            return f"line {match.group(1)}, column {column}: syntax error: {match.group(3)}"
        for arg in getattr(seen, "args", ()):
            token = getattr(arg, "offendingToken", None)
            if token is not None and getattr(token, "line", None) is not None:
                text = getattr(token, "text", "")
                near = "end of file" if text == "<EOF>" else repr(text)
                return f"line {token.line}, column {token.column + 1}: syntax error at {near}"
        seen = seen.__cause__ or seen.__context__
    return "syntax error"


def parse_qasm(text: str, *, filename: str = "<qasm>", name: str = "circuit") -> Circuit:
    """Parse OpenQASM 2/3 source text into a :class:`~protocols.circuits.ir.Circuit`.

    Examples
    --------
    The optional parser is needed (not run as a doctest; ``tests/circuits/test_qasm.py``):

    >>> c = parse_qasm('OPENQASM 2.0; include "qelib1.inc"; qreg q[2]; creg c[2];'
    ...                'h q[0]; cx q[0],q[1]; measure q -> c;')  # doctest: +SKIP
    >>> [op.kind for op in c.ops], c.n_qubits  # doctest: +SKIP
    (['u', 'cx', 'measure', 'measure'], 2)
    """
    openqasm3, ast = _parser()
    try:
        program = openqasm3.parse(text)
    except Exception as error:  # noqa: BLE001 - the parser raises plain Exceptions
        raise UserInputError(f"{filename}: {_syntax_position(error)}") from None
    return _Converter(ast, filename, name).convert(program)


class _Converter:
    """Walks the reference AST and emits IR operations."""

    def __init__(self, ast: Any, filename: str, name: str) -> None:
        self.ast = ast
        self.filename = filename
        self.name = name
        self.qregs: dict[str, tuple[int, int]] = {}  # name -> (offset, size)
        self.cregs: dict[str, tuple[int, int]] = {}
        self.n_qubits = 0
        self.n_clbits = 0
        self.gates: dict[str, Any] = {}  # user gate definitions
        self.ops: list[Op] = []

    # -- errors -----------------------------------------------------------------------
    def fail(self, node: Any, message: str) -> UserInputError:
        span = getattr(node, "span", None)
        where = f"line {span.start_line}" if span is not None else "line ?"
        return UserInputError(f"{self.filename}: {where}: {message}")

    # -- program ----------------------------------------------------------------------
    def convert(self, program: Any) -> Circuit:
        ast = self.ast
        for statement in program.statements:
            if isinstance(statement, ast.Include):
                if statement.filename not in _STANDARD_INCLUDES:
                    raise self.fail(
                        statement,
                        f"include {statement.filename!r}: only qelib1.inc and stdgates.inc are known",
                    )
            elif isinstance(statement, ast.QubitDeclaration):
                self._declare(statement, self.qregs, "qubit")
            elif isinstance(statement, ast.ClassicalDeclaration):
                self._declare_bits(statement)
            elif isinstance(statement, ast.QuantumGateDefinition):
                self.gates[statement.name.name] = statement
            elif isinstance(statement, ast.QuantumGate):
                self._gate(statement, {}, {})
            elif isinstance(statement, ast.QuantumBarrier):
                continue
            elif isinstance(statement, ast.QuantumMeasurementStatement):
                self._measure(statement)
            else:
                kind = type(statement).__name__
                raise self.fail(
                    statement,
                    f"{kind} is not supported (supported: declarations, "
                    "gates, gate definitions, barrier, terminal measure)",
                )
        if self.n_qubits == 0:
            raise UserInputError(f"{self.filename}: declares no qubits")
        try:
            return Circuit(self.n_qubits, tuple(self.ops), name=self.name, n_clbits=self.n_clbits)
        except UserInputError as error:
            raise UserInputError(f"{self.filename}: {error}") from None

    def _size(self, node: Any, size_node: Any, what: str) -> int:
        size = 1 if size_node is None else self._eval(size_node, {})
        if not float(size).is_integer() or not 1 <= size <= _MAX_QUBITS:
            raise self.fail(node, f"{what} size {size!r} must be an integer in [1, {_MAX_QUBITS}]")
        return int(size)

    def _declare(self, node: Any, table: dict, what: str) -> None:
        name = node.qubit.name
        if name in self.qregs or name in self.cregs:
            raise self.fail(node, f"{name!r} is declared twice")
        size = self._size(node, node.size, what)
        table[name] = (self.n_qubits, size)
        self.n_qubits += size
        if self.n_qubits > _MAX_QUBITS:
            raise self.fail(node, f"{self.n_qubits} qubits: at most {_MAX_QUBITS} are supported")

    def _declare_bits(self, node: Any) -> None:
        ast = self.ast
        name = node.identifier.name
        if not isinstance(node.type, ast.BitType):
            raise self.fail(node, f"classical declaration of {name!r}: only bit registers are supported")
        if node.init_expression is not None:
            raise self.fail(node, f"classical declaration of {name!r}: initial values are not supported")
        size = self._size(node, node.type.size, "bit register")
        self.cregs[name] = (self.n_clbits, size)
        self.n_clbits += size

    # -- expressions ------------------------------------------------------------------
    def _eval(self, node: Any, env: dict[str, float]) -> float:
        ast = self.ast
        if isinstance(node, (ast.IntegerLiteral, ast.FloatLiteral)):
            return node.value
        if isinstance(node, ast.Identifier):
            if node.name in env:
                return env[node.name]
            if node.name in _CONSTANTS:
                return _CONSTANTS[node.name]
            raise self.fail(node, f"unknown identifier {node.name!r} in an expression")
        if isinstance(node, ast.UnaryExpression):
            value = self._eval(node.expression, env)
            if node.op.name == "-":
                return -value
            raise self.fail(node, f"unary operator {node.op.name!r} is not supported")
        if isinstance(node, ast.BinaryExpression):
            left, right = self._eval(node.lhs, env), self._eval(node.rhs, env)
            op = node.op.name
            try:
                if op == "+":
                    return left + right
                if op == "-":
                    return left - right
                if op == "*":
                    return left * right
                if op == "/":
                    return left / right
                if op == "**":
                    return left**right
            except (ZeroDivisionError, OverflowError) as error:
                raise self.fail(node, f"cannot evaluate the expression: {error}") from None
            raise self.fail(node, f"binary operator {op!r} is not supported")
        if isinstance(node, ast.FunctionCall):
            fn = _FUNCTIONS.get(node.name.name)
            if fn is None or len(node.arguments) != 1:
                raise self.fail(node, f"function {node.name.name!r} is not supported")
            try:
                return fn(self._eval(node.arguments[0], env))
            except (ValueError, OverflowError) as error:
                raise self.fail(node, f"{node.name.name}: {error}") from None
        raise self.fail(node, f"expression {type(node).__name__} is not supported")

    # -- qubit operands ---------------------------------------------------------------
    def _operand(self, node: Any, qmap: dict[str, int] | None) -> list[int]:
        """Logical qubits of an operand: a register (all of it), an indexed qubit, or a gate
        argument (inside a definition)."""
        ast = self.ast
        if isinstance(node, ast.Identifier):
            if qmap is not None and node.name in qmap:
                return [qmap[node.name]]
            if node.name in self.qregs:
                offset, size = self.qregs[node.name]
                return list(range(offset, offset + size))
            raise self.fail(node, f"unknown qubit {node.name!r}")
        if isinstance(node, ast.IndexedIdentifier):
            name = node.name.name
            if name not in self.qregs:
                raise self.fail(node, f"unknown qubit register {name!r}")
            offset, size = self.qregs[name]
            if len(node.indices) != 1 or not isinstance(node.indices[0], list) or len(node.indices[0]) != 1:
                raise self.fail(node, f"{name}: only single indices q[i] are supported")
            index = self._eval(node.indices[0][0], {})
            if not float(index).is_integer() or not 0 <= index < size:
                raise self.fail(node, f"{name}[{index}] is out of range [0, {size - 1}]")
            return [offset + int(index)]
        raise self.fail(node, f"qubit operand {type(node).__name__} is not supported")

    def _broadcast(self, node: Any, operands: list[list[int]]) -> list[list[int]]:
        sizes = {len(o) for o in operands if len(o) > 1}
        if len(sizes) > 1:
            raise self.fail(node, f"registers of different sizes {sorted(sizes)} cannot be broadcast")
        width = sizes.pop() if sizes else 1
        return [[o[i] if len(o) > 1 else o[0] for o in operands] for i in range(width)]

    # -- gates ------------------------------------------------------------------------
    def _gate(self, node: Any, env: dict[str, float], qmap: dict[str, int] | None, depth: int = 0) -> None:
        name = node.name.name
        if node.modifiers:
            raise self.fail(node, f"gate modifiers ({name}) are not supported")
        if getattr(node, "duration", None) is not None:
            raise self.fail(node, f"gate durations ({name}) are not supported")
        params = [self._eval(arg, env) for arg in node.arguments]
        operands = [self._operand(q, qmap if depth else None) for q in node.qubits]
        line = node.span.start_line if node.span is not None else None
        if name in self.gates:
            definition = self.gates[name]
            n_params, n_qubits = len(definition.arguments), len(definition.qubits)
        else:
            arity = gate_arity(name)
            if arity is None:
                raise self.fail(node, f"unknown gate {name!r}")
            n_params, n_qubits = arity
        if len(params) != n_params:
            raise self.fail(node, f"gate {name!r} takes {n_params} parameter(s), got {len(params)}")
        if len(operands) != n_qubits:
            raise self.fail(node, f"gate {name!r} acts on {n_qubits} qubit(s), got {len(operands)}")
        for qubits in self._broadcast(node, operands):
            if len(set(qubits)) != len(qubits):
                raise self.fail(node, f"gate {name!r} repeats a qubit: {qubits}")
            if name in self.gates:
                if depth > 50:
                    raise self.fail(node, f"gate {name!r}: definitions nest deeper than 50 (recursion?)")
                definition = self.gates[name]
                inner_env = {a.name: v for a, v in zip(definition.arguments, params, strict=True)}
                inner_q = {a.name: q for a, q in zip(definition.qubits, qubits, strict=True)}
                for inner in definition.body:
                    if isinstance(inner, self.ast.QuantumGate):
                        self._gate(inner, inner_env, inner_q, depth + 1)
                    elif not isinstance(inner, self.ast.QuantumBarrier):
                        raise self.fail(
                            inner, f"{type(inner).__name__} inside gate {name!r} is not supported"
                        )
            else:
                for op in expand_gate(name, params, qubits):
                    self.ops.append(Op(op.kind, op.qubits, op.matrix, op.name, line=line))
            if len(self.ops) > _MAX_OPS:
                raise self.fail(node, f"more than {_MAX_OPS} operations")

    def _measure(self, node: Any) -> None:
        ast = self.ast
        source = node.measure.qubit
        qubits = self._operand(source, None)
        target = node.target
        if target is None:
            bits: list[int | None] = [None] * len(qubits)
        else:
            if isinstance(target, ast.Identifier):
                if target.name not in self.cregs:
                    raise self.fail(node, f"unknown bit register {target.name!r}")
                offset, size = self.cregs[target.name]
                bits = list(range(offset, offset + size))
            elif isinstance(target, ast.IndexedIdentifier) and target.name.name in self.cregs:
                offset, size = self.cregs[target.name.name]
                index = self._eval(target.indices[0][0], {})
                if not float(index).is_integer() or not 0 <= index < size:
                    raise self.fail(node, f"{target.name.name}[{index}] is out of range [0, {size - 1}]")
                bits = [offset + int(index)]
            else:
                raise self.fail(node, "measurement target must be a bit register or bit")
            if len(bits) != len(qubits):
                raise self.fail(node, f"measuring {len(qubits)} qubit(s) into {len(bits)} bit(s)")
        line = node.span.start_line if node.span is not None else None
        for q, b in zip(qubits, bits, strict=True):
            self.ops.append(Op("measure", (q,), name="measure", clbit=b, line=line))
