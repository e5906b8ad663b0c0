"""A small, closed Excel formula evaluator over the stream reader's book, for the 报送 freeze.

Supported: numbers, text, TRUE/FALSE, references (A1, $A$1, 'Sheet'!A1:B9, single-sheet defined
names), the operators ``+ - * / ^ & % = <> < > <= >=``, the functions in :data:`FUNCTIONS` (SUM
AVERAGE MIN MAX COUNT COUNTA ROUND ABS IF IFERROR ISERROR ISBLANK AND OR NOT ROW COLUMN LEN) and
xlperf's own worksheet functions, computed by :mod:`xlperf.core.functions` as the add-in computes
them. Anything else raises :class:`Unsupported`, so the caller falls back to the cached value.
Arithmetic is Decimal. The formula text is tokenized by openpyxl's tokenizer and parsed here by
precedence climbing into a small tree (:data:`Node`). What an expression gives is a :data:`Value`: a
cell's :data:`Scalar` (a number as Decimal, text, TRUE/FALSE, an error, empty) or an :class:`Area`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from openpyxl.formula import Tokenizer
from openpyxl.formula.tokenizer import Token

from xlperf.core.framework import Framework
from xlperf.core.functions import completion_rate, rating, ratio_percent, section_score
from xlperf.ooxml.refs import bounds, cell_name, name_destinations
from xlperf.ooxml.stream import StreamBook

__all__ = [
    "UDF_PREFIX",
    "Area",
    "Evaluator",
    "Fixed",
    "Node",
    "Scalar",
    "Unsupported",
    "Value",
    "XlError",
    "parse",
]

UDF_PREFIX = "XLPERF_"


class Unsupported(Exception):
    """The formula uses something :class:`Evaluator` does not compute; the message says what."""


@dataclass(frozen=True)
class XlError:
    """An Excel error value (``#DIV/0!``) as a formula's result."""

    code: str


@dataclass(frozen=True)
class Area:
    """A reference to a rectangle of cells on one sheet."""

    sheet: str
    min_row: int
    min_col: int
    max_row: int
    max_col: int

    @property
    def single(self) -> bool:
        return self.min_row == self.max_row and self.min_col == self.max_col


#: a cell's value as the evaluator computes with it: a number (Decimal), text, TRUE/FALSE, an
#: Excel error, or empty
Scalar = Decimal | str | bool | XlError | None
#: what an expression gives: a value, or a reference (read as a value where one is needed)
Value = Scalar | Area
#: (sheet, cell) → the value a cell has whatever its formula says (a float is read as its Decimal)
Fixed = Mapping[tuple[str, str], Scalar | float]
#: an xlperf UDF's argument: one value, or a range's values
UdfArg = Scalar | list[Scalar]


# ------------------------------------------------------------------------------ the parsed formula
@dataclass(frozen=True, slots=True)
class Lit:
    """A constant: a number, text, TRUE/FALSE, an error, or an omitted argument (None)."""

    value: Scalar


@dataclass(frozen=True, slots=True)
class Ref:
    """A reference as written (``A1``, ``$A$1``, ``'Sheet'!A1:B9``, a defined name)."""

    text: str


@dataclass(frozen=True, slots=True)
class Neg:
    inner: Node


@dataclass(frozen=True, slots=True)
class Pct:
    inner: Node


@dataclass(frozen=True, slots=True)
class Bin:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Fn:
    name: str
    args: tuple[Node, ...]


#: a parsed formula
Node = Lit | Ref | Neg | Pct | Bin | Fn
_MAX_CELLS = 100_000
_DIV0 = XlError("#DIV/0!")
_VALUE = XlError("#VALUE!")
_ADDRESS = re.compile(r"[A-Za-z]{1,3}\d+(:[A-Za-z]{1,3}\d+)?")


class Evaluator:
    """Computes formula cells of a :class:`~xlperf.ooxml.stream.StreamBook`, each once (memoised).

    ``fixed`` gives (sheet, cell) → the value a cell has whatever its formula says (the core's
    values: a formula reading such a cell sees it); ``framework`` rates and scores the UDFs.
    """

    def __init__(self, book: StreamBook, fixed: Fixed, framework: Framework | None = None) -> None:
        self.book = book
        self.fixed = fixed
        self.framework = framework
        self.memo: dict[tuple[str, int, int], Scalar] = {}
        self.active: set[tuple[str, int, int]] = set()

    # -- cells ----------------------------------------------------------------------------------
    def cell_value(self, sheet: str, row: int, col: int) -> Scalar:
        key = (sheet, row, col)
        coord = cell_name(row, col)
        if (sheet, coord) in self.fixed:
            given = self.fixed[(sheet, coord)]
            return Decimal(str(given)) if isinstance(given, float) else given
        if key in self.memo:
            return self.memo[key]
        ws = self.book[sheet]
        entry = ws.entry(row, col)
        if entry is None:
            return None
        value, data_type = entry
        if data_type == "e":
            return XlError(str(value))
        if data_type != "f":
            return _number(value)
        if key in self.active:
            raise Unsupported("循环引用")
        if ws.is_data_table(row, col):
            raise Unsupported("模拟运算表")
        self.active.add(key)
        try:
            result = self.value(self.eval(parse(str(value)), sheet, row, col))
            if result is None:
                result = Decimal(0)  # =A1 with A1 empty shows 0
        finally:
            self.active.discard(key)
        self.memo[key] = result
        return result

    def scalar(self, area: Area) -> Scalar:
        if not area.single:
            raise Unsupported("区域用作单个值")
        return self.cell_value(area.sheet, area.min_row, area.min_col)

    def values(self, area: Area) -> list[Scalar]:
        if (area.max_row - area.min_row + 1) * (area.max_col - area.min_col + 1) > _MAX_CELLS:
            raise Unsupported("引用区域过大")
        return [
            self.cell_value(area.sheet, r, c)
            for r in range(area.min_row, area.max_row + 1)
            for c in range(area.min_col, area.max_col + 1)
        ]

    def area(self, text: str, sheet: str) -> Area:
        """The cells a reference (or a defined name of one range) in ``sheet``'s formula points at."""
        if "[" in text:
            raise Unsupported(f"外部或结构化引用 {text}")
        target, _, address = text.rpartition("!")
        target = target.strip("'").replace("''", "'") if target else sheet
        address = address.replace("$", "")
        if _ADDRESS.fullmatch(address):
            if target not in self.book:
                raise Unsupported(f"工作表 {target} 不存在")
            min_col, min_row, max_col, max_row = bounds(address)
            return Area(target, min_row, min_col, max_row, max_col)
        if not text.count("!"):
            scoped = self.book[sheet].defined_names.get(text) if sheet in self.book else None
            defined = scoped or self.book.defined_names.get(text)
            if defined is not None:
                dests = name_destinations(defined)
                if len(dests) == 1 and dests[0][0] in self.book:
                    return self.area(f"'{dests[0][0]}'!{dests[0][1]}", sheet)
        raise Unsupported(f"无法解析的引用 {text}")

    # -- expressions ------------------------------------------------------------------------------
    def eval(self, node: Node, sheet: str, row: int, col: int) -> Value:
        if isinstance(node, Lit):
            return node.value
        if isinstance(node, Ref):
            return self.area(node.text, sheet)
        if isinstance(node, Neg):
            value = self.num(self.eval(node.inner, sheet, row, col))
            return value if isinstance(value, XlError) else -value
        if isinstance(node, Pct):
            value = self.num(self.eval(node.inner, sheet, row, col))
            return value if isinstance(value, XlError) else value / 100
        if isinstance(node, Bin):
            return self.binary(
                node.op, self.eval(node.left, sheet, row, col), self.eval(node.right, sheet, row, col)
            )
        return self.call(node.name, _Call(self, node.args, sheet, row, col))

    def value(self, v: Value) -> Scalar:
        return self.scalar(v) if isinstance(v, Area) else v

    def num(self, given: Value) -> Decimal | XlError:
        v = self.value(given)
        if isinstance(v, XlError):
            return v
        if v is None:
            return Decimal(0)
        if isinstance(v, bool):
            return Decimal(int(v))
        if isinstance(v, Decimal):
            return v
        try:
            return Decimal(v.strip().replace(",", ""))
        except InvalidOperation:
            return _VALUE

    def text(self, given: Value) -> str | XlError:
        v = self.value(given)
        if isinstance(v, XlError):
            return v
        if v is None:
            return ""
        if isinstance(v, bool):
            return "TRUE" if v else "FALSE"
        if isinstance(v, Decimal):
            return _general(v)
        return v

    def truth(self, given: Value) -> bool | XlError:
        v = self.value(given)
        if isinstance(v, XlError | bool):
            return v
        if v is None:
            return False
        if isinstance(v, str):
            if v.upper() in ("TRUE", "FALSE"):
                return v.upper() == "TRUE"
            return _VALUE
        n = self.num(v)
        return n if isinstance(n, XlError) else n != 0

    def binary(self, op: str, given_left: Value, given_right: Value) -> Scalar:
        left, right = self.value(given_left), self.value(given_right)
        for side in (left, right):
            if isinstance(side, XlError):
                return side
        if op == "&":
            a, b = self.text(left), self.text(right)
            return a if isinstance(a, XlError) else b if isinstance(b, XlError) else a + b
        if op in ("=", "<>", "<", ">", "<=", ">="):
            return _compare(op, left, right)
        x, y = self.num(left), self.num(right)
        if isinstance(x, XlError):
            return x
        if isinstance(y, XlError):
            return y
        if op == "+":
            return x + y
        if op == "-":
            return x - y
        if op == "*":
            return x * y
        if op == "/":
            return _DIV0 if y == 0 else x / y
        if op == "^":
            try:
                return x**y if y == y.to_integral_value() else Decimal(str(float(x) ** float(y)))
            except (ArithmeticError, ValueError):
                return XlError("#NUM!")
        raise Unsupported(f"运算符 {op}")

    def flat(self, args: Sequence[Node], sheet: str, row: int, col: int) -> list[tuple[Scalar, bool]]:
        """Argument values for aggregates: (value, came from a range)."""
        out: list[tuple[Scalar, bool]] = []
        for arg in args:
            v = self.eval(arg, sheet, row, col)
            if isinstance(v, Area):
                out += [(x, True) for x in self.values(v)]
            else:
                out.append((v, False))
        return out

    def numbers(self, args: Sequence[Node], sheet: str, row: int, col: int) -> list[Decimal] | XlError:
        out: list[Decimal] = []
        for v, from_range in self.flat(args, sheet, row, col):
            if isinstance(v, XlError):
                return v
            if from_range:
                if isinstance(v, Decimal):
                    out.append(v)
                continue
            n = self.num(v)
            if isinstance(n, XlError):
                return n
            out.append(n)
        return out

    def call(self, name: str, call: _Call) -> Scalar:
        """A function: one of :data:`FUNCTIONS`, or an xlperf UDF."""
        function = FUNCTIONS.get(name)
        if function is not None:
            return function(call)
        if name.startswith(UDF_PREFIX):
            return self.udf(name, call)
        raise Unsupported(f"函数 {name}")

    def udf(self, name: str, call: _Call) -> Scalar:
        """An xlperf UDF, computed by the plain functions the add-in's UDFs wrap (so the frozen value
        is what the cell showed in Excel): ranges as lists, an error argument as that error."""
        values: list[UdfArg] = []
        for node in call.args:
            v = self.eval(node, call.sheet, call.row, call.col)
            values.append(self.values(v) if isinstance(v, Area) and not v.single else self.value(v))
        for arg in values:
            for item in arg if isinstance(arg, list) else [arg]:
                if isinstance(item, XlError):
                    return item
        compute = UDFS.get(name)
        if compute is None:
            raise Unsupported(f"函数 {name}")
        try:
            result = compute([*values, None, None, None, None], self.framework)
        except (ValueError, ArithmeticError):  # UdfInputError: the cell would show a message
            return _VALUE
        except TypeError as exc:
            raise Unsupported(f"函数 {name} 的参数") from exc
        return "" if result is None else result


@dataclass(frozen=True)
class _Call:
    """One function call being evaluated: its argument nodes and where the formula stands."""

    ev: Evaluator
    args: tuple[Node, ...]
    sheet: str
    row: int
    col: int

    def arg(self, i: int) -> Value:
        """The i-th argument's value (None when it was not given)."""
        return self.ev.eval(self.args[i], self.sheet, self.row, self.col) if i < len(self.args) else None

    def flat(self) -> list[tuple[Scalar, bool]]:
        return self.ev.flat(self.args, self.sheet, self.row, self.col)

    def numbers(self) -> list[Decimal] | XlError:
        return self.ev.numbers(self.args, self.sheet, self.row, self.col)


# ------------------------------------------------------------------------------------- functions


def _if(c: _Call) -> Scalar:
    cond = c.ev.truth(c.arg(0))
    if isinstance(cond, XlError):
        return cond
    if cond:
        return c.ev.value(c.arg(1)) if len(c.args) > 1 else True
    return c.ev.value(c.arg(2)) if len(c.args) > 2 else False


def _iferror(c: _Call) -> Scalar:
    first = c.ev.value(c.arg(0))
    return c.ev.value(c.arg(1)) if isinstance(first, XlError) else first


def _position(c: _Call, of_row: bool) -> Scalar:
    """ROW() / COLUMN(): of the reference given, else of the formula's own cell."""
    ref = c.arg(0) if c.args else None
    if ref is not None and not isinstance(ref, Area):
        return _VALUE
    if of_row:
        return Decimal(ref.min_row if ref is not None else c.row)
    return Decimal(ref.min_col if ref is not None else c.col)


def _aggregate(pick: Callable[[list[Decimal]], Decimal | XlError]) -> Callable[[_Call], Scalar]:
    def aggregate(c: _Call) -> Scalar:
        nums = c.numbers()
        return nums if isinstance(nums, XlError) else pick(nums)

    return aggregate


def _logical(combine: Callable[[Iterable[bool]], bool]) -> Callable[[_Call], Scalar]:
    def logical(c: _Call) -> Scalar:
        truths: list[bool] = []
        for v, _ in c.flat():
            if v is None:
                continue
            t = c.ev.truth(v)
            if isinstance(t, XlError):
                return t
            truths.append(t)
        return combine(truths)

    return logical


def _not(c: _Call) -> Scalar:
    t = c.ev.truth(c.arg(0))
    return t if isinstance(t, XlError) else not t


def _n(c: _Call) -> Scalar:
    """N(): a number as it is, TRUE/FALSE as 1/0, an error as that error, text and an empty cell as 0
    (the project template's live 执行率 ``=IF(N(D7)>0,E7/D7,"")``)."""
    v = c.ev.value(c.arg(0))
    if isinstance(v, XlError | Decimal):
        return v
    if isinstance(v, bool):
        return Decimal(int(v))
    return Decimal(0)


def _len(c: _Call) -> Scalar:
    chars = c.ev.text(c.arg(0))
    return chars if isinstance(chars, XlError) else Decimal(len(chars))


def _abs(c: _Call) -> Scalar:
    x = c.ev.num(c.arg(0))
    return x if isinstance(x, XlError) else abs(x)


def _round(c: _Call) -> Scalar:
    x = c.ev.num(c.arg(0))
    if isinstance(x, XlError):
        return x
    digits = c.ev.num(c.arg(1))
    if isinstance(digits, XlError):
        return digits
    return x.quantize(Decimal(1).scaleb(-int(digits)), rounding=ROUND_HALF_UP)


#: the Excel functions the evaluator computes, by name
FUNCTIONS: dict[str, Callable[[_Call], Scalar]] = {
    "IF": _if,
    "IFERROR": _iferror,
    "ISERROR": lambda c: isinstance(c.ev.value(c.arg(0)), XlError),
    "ISBLANK": lambda c: c.ev.value(c.arg(0)) is None,
    "ROW": lambda c: _position(c, of_row=True),
    "COLUMN": lambda c: _position(c, of_row=False),
    "SUM": _aggregate(lambda nums: sum(nums, Decimal(0))),
    "AVERAGE": _aggregate(lambda nums: _DIV0 if not nums else sum(nums, Decimal(0)) / len(nums)),
    "MIN": _aggregate(lambda nums: min(nums) if nums else Decimal(0)),
    "MAX": _aggregate(lambda nums: max(nums) if nums else Decimal(0)),
    "COUNT": lambda c: Decimal(sum(isinstance(v, Decimal) for v, _ in c.flat())),
    "COUNTA": lambda c: Decimal(sum(v is not None for v, _ in c.flat())),
    "AND": _logical(all),
    "OR": _logical(any),
    "NOT": _not,
    "N": _n,
    "LEN": _len,
    "ABS": _abs,
    "ROUND": _round,
}

#: xlperf's worksheet functions: arguments (padded with None) and the framework → the value
UDFS: dict[str, Callable[[list[UdfArg], Framework | None], Decimal | str | None]] = {
    "XLPERF_COMPLETION": lambda a, fw: completion_rate(a[0], a[1], a[2], framework=fw),
    "XLPERF_SECTION_SCORE": lambda a, fw: section_score(a[0], a[1], a[2], a[3], framework=fw),
    "XLPERF_RATING": lambda a, fw: rating(a[0], framework=fw),
    "XLPERF_RATIO": lambda a, fw: ratio_percent(a[0], a[1]),
}


def _number(value: object) -> Scalar:
    """A stored cell's value as the evaluator computes with it (an int or float as Decimal)."""
    if isinstance(value, bool) or value is None or isinstance(value, str | Decimal | XlError):
        return value
    if isinstance(value, int | float):
        return Decimal(str(value))
    raise Unsupported(f"单元格值类型 {type(value).__name__}")


def _general(d: Decimal) -> str:
    """A number as Excel's General format shows it in text (up to 15 significant digits)."""
    if d == d.to_integral_value():
        return str(int(d))
    text = f"{float(d):.15g}"
    return text


def _compare(op: str, a: Scalar, b: Scalar) -> bool:
    def rank(v: Scalar) -> tuple[int, object]:
        if isinstance(v, bool):
            return 2, v
        if isinstance(v, str):
            return 1, v.lower()
        return 0, v

    if a is None:
        a = "" if isinstance(b, str) else False if isinstance(b, bool) else Decimal(0)
    if b is None:
        b = "" if isinstance(a, str) else False if isinstance(a, bool) else Decimal(0)
    ra, rb = rank(a), rank(b)
    if op == "=":
        return ra == rb
    if op == "<>":
        return ra != rb
    if op == "<":
        return ra < rb
    if op == ">":
        return ra > rb
    if op == "<=":
        return ra <= rb
    return ra >= rb


# ------------------------------------------------------------------------------------ parser

_PRECEDENCE = {
    "=": 1,
    "<>": 1,
    "<": 1,
    ">": 1,
    "<=": 1,
    ">=": 1,
    "&": 2,
    "+": 3,
    "-": 3,
    "*": 4,
    "/": 4,
    "^": 5,
}
_PREFIX_POWER = 6


def parse(formula: str) -> Node:
    """Parse a formula (``=…``) into a small tree; unknown syntax raises :class:`Unsupported`."""
    try:
        items = [t for t in Tokenizer(formula).items if t.type != Token.WSPACE]
    except Exception as exc:
        raise Unsupported(f"公式无法解析：{exc}") from exc
    parser = _Parser(items)
    node = parser.expr(0)
    if parser.pos != len(items):
        raise Unsupported("公式无法解析")
    return node


class _Parser:
    def __init__(self, items: list[Token]) -> None:
        self.items = items
        self.pos = 0

    def peek(self) -> Token | None:
        return self.items[self.pos] if self.pos < len(self.items) else None

    def take(self) -> Token:
        token = self.peek()
        if token is None:
            raise Unsupported("公式不完整")
        self.pos += 1
        return token

    def expr(self, min_power: int) -> Node:
        left = self.prefix()
        while True:
            token = self.peek()
            if token is None:
                return left
            if token.type == Token.OP_POST and token.value == "%":
                self.pos += 1
                left = Pct(left)
                continue
            if token.type != Token.OP_IN or token.value not in _PRECEDENCE:
                if token.type == Token.OP_IN:
                    raise Unsupported(f"运算符 {token.value}")
                return left
            power = _PRECEDENCE[token.value]
            if power <= min_power:
                return left
            self.pos += 1
            left = Bin(token.value, left, self.expr(power))

    def prefix(self) -> Node:
        token = self.take()
        if token.type == Token.OP_PRE:
            inner = self.expr(_PREFIX_POWER)
            return Neg(inner) if token.value == "-" else inner
        if token.type == Token.OPERAND:
            return self.operand(token)
        if token.type == Token.PAREN and token.subtype == Token.OPEN:
            inner = self.expr(0)
            close = self.take()
            if close.type != Token.PAREN:
                raise Unsupported("括号不匹配")
            return inner
        if token.type == Token.FUNC and token.subtype == Token.OPEN:
            name = token.value[:-1].rpartition("!")[2].upper()
            for prefix in ("_XLFN.", "_XLUDF.", "_XLWS."):
                name = name.removeprefix(prefix)
            args: list[Node] = []
            nxt = self.peek()
            if nxt is not None and nxt.type == Token.FUNC and nxt.subtype == Token.CLOSE:
                self.pos += 1
                return Fn(name, ())
            while True:
                nxt = self.peek()
                if nxt is not None and nxt.type == Token.SEP:
                    args.append(Lit(None))  # an omitted argument
                else:
                    args.append(self.expr(0))
                sep = self.take()
                if sep.type == Token.FUNC and sep.subtype == Token.CLOSE:
                    return Fn(name, tuple(args))
                if sep.type != Token.SEP or sep.subtype != Token.ARG:
                    raise Unsupported("函数参数无法解析")
        raise Unsupported(f"无法解析的部分 {token.value}")

    @staticmethod
    def operand(token: Token) -> Node:
        value = token.value
        if token.subtype == Token.NUMBER:
            return Lit(Decimal(value))
        if token.subtype == Token.TEXT:
            return Lit(value[1:-1].replace('""', '"'))
        if token.subtype == Token.LOGICAL:
            return Lit(value.upper() == "TRUE")
        if token.subtype == Token.ERROR:
            return Lit(XlError(value))
        if token.subtype == Token.RANGE:
            if value.upper() in ("TRUE", "FALSE"):
                return Lit(value.upper() == "TRUE")
            return Ref(value)
        raise Unsupported(f"无法解析的部分 {value}")
