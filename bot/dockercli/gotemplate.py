"""Go's ``text/template``, as the docker CLI uses it for ``--format``.

A real lexer, parser and evaluator (no regular-expression shortcuts): actions with trim
markers (``{{- … -}}``) and comments, pipelines (``{{.Name | upper}}``), variables
(``{{$p := .Port}}``, ``{{range $k, $v := .Labels}}``), ``if``/``else if``/``else``, ``range``
(with ``else``, ``break`` and ``continue``), ``with``, parenthesised pipelines with field chains
(``{{(index .Ports "80/tcp").HostPort}}``), Go's builtins (``and or not len index slice print
printf println eq ne lt le gt ge html js urlquery``) and docker's own functions (``json join
split lower upper title pad truncate``).

Values are Python data: decoded JSON for ``inspect`` (mappings, lists, strings, numbers, booleans
and ``None``) and :class:`Struct` for the docker CLI's row contexts (``.ID``, ``.Names``,
``.Label "key"``). Output follows Go's ``fmt`` (``map[a:b]``, ``[x y]``, ``<nil>``,
``<no value>``) and errors read like Go's (``template: :1:2: executing "" at <.Nope>: can't
evaluate field Nope in type *formatter.ContainerContext``), raised as :class:`TemplateError`.
"""

from __future__ import annotations

import json
import math
import re
import urllib.parse
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

# --------------------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------------------


class TemplateError(Exception):
    """A template that cannot be parsed or executed; ``str()`` is Go's wording."""

    def __init__(self, message: str, *, parsing: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.parsing = parsing


class _Missing:
    """A map's missing key under the default ``missingkey`` option: prints ``<no value>``."""

    def __repr__(self) -> str:
        return "<no value>"


NO_VALUE = _Missing()


@dataclass(frozen=True)
class Struct:
    """A Go struct for templates: named fields (values, or callables computed when read) and
    methods that take arguments (``{{.Label "com.example"}}``)."""

    type_name: str  # how Go names it in errors, e.g. "*formatter.ContainerContext"
    fields: Mapping[str, Any]
    methods: Mapping[str, Callable[..., Any]] = field(default_factory=dict)

    def get(self, name: str) -> Any:
        value = self.fields[name]
        return value() if callable(value) else value


def type_name(value: Any) -> str:
    """Go's name for the type of a decoded JSON value (as errors print it)."""
    if isinstance(value, Struct):
        return value.type_name
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "map[string]interface {}"
    if isinstance(value, list | tuple):
        return "[]interface {}"
    return "interface {}"


def go_float(value: float) -> str:
    """``strconv.FormatFloat(v, 'g', -1, 64)``: Go's ``%v`` for a float64."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "0"
    digits = repr(value)  # the shortest round-tripping digits
    mantissa, _, exponent = digits.lower().partition("e")
    sign = "-" if mantissa.startswith("-") else ""
    mantissa = mantissa.lstrip("-")
    whole, _, frac = mantissa.partition(".")
    if frac == "0":
        frac = ""
    exp = int(exponent or 0)
    all_digits = (whole + frac).lstrip("0")
    point = len(whole) + exp if whole != "0" else exp - (len(frac) - len(frac.lstrip("0")))
    all_digits = all_digits.rstrip("0") or "0"
    decimal_exp = point - 1
    if decimal_exp < -4 or decimal_exp >= 21:
        head, tail = all_digits[0], all_digits[1:]
        body = head + ("." + tail if tail else "")
        return f"{sign}{body}e{'-' if decimal_exp < 0 else '+'}{abs(decimal_exp):02d}"
    if point <= 0:
        return f"{sign}0.{'0' * -point}{all_digits}"
    if point >= len(all_digits):
        return sign + all_digits + "0" * (point - len(all_digits))
    return f"{sign}{all_digits[:point]}.{all_digits[point:]}"


def go_text(value: Any) -> str:
    """How ``fmt.Print`` shows a value (``%v``)."""
    if value is NO_VALUE:
        return "<no value>"
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e21:
            return str(int(value))
        return go_float(value)
    if isinstance(value, Struct):
        return "{" + " ".join(go_text(value.get(k)) for k in value.fields) + "}"
    if isinstance(value, Mapping):
        inner = " ".join(f"{go_text(k)}:{go_text(v)}" for k, v in sorted(value.items()))
        return f"map[{inner}]"
    if isinstance(value, list | tuple):
        return "[" + " ".join(go_text(v) for v in value) + "]"
    return str(value)


def truth(value: Any) -> bool:
    """Go's ``template.IsTrue``: false, 0, "", nil and empty collections are false."""
    if value is None or value is NO_VALUE:
        return False
    if isinstance(value, Struct):
        return True
    if isinstance(value, bool | int | float | str | Mapping | list | tuple):
        return bool(value)
    return True


# --------------------------------------------------------------------------------------------
# Lexer
# --------------------------------------------------------------------------------------------

_KEYWORDS = frozenset(
    {"if", "else", "end", "range", "with", "define", "template", "block", "break", "continue"}
)


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # text, open, close, field, var, ident, string, number, char, bool, nil, dot,
    #            pipe, lparen, rparen, declare, assign, comma, keyword, space, eof
    value: str
    pos: int  # byte offset in the template text


_NUMBER = re.compile(
    r"[+-]?(?:0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|"
    r"(?:\d[\d_]*(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)i?"
)
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class _Lexer:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[Token] = []

    def line_of(self, pos: int) -> int:
        return self.text.count("\n", 0, pos) + 1

    def error(self, pos: int, message: str) -> TemplateError:
        return TemplateError(f"template: :{self.line_of(pos)}: {message}", parsing=True)

    def run(self) -> list[Token]:
        text, pos = self.text, 0
        while pos < len(text):
            start = text.find("{{", pos)
            if start < 0:
                self.tokens.append(Token("text", text[pos:], pos))
                break
            trim_left = (
                text.startswith("{{- ", start)
                or text.startswith("{{-\t", start)
                or (text.startswith("{{-\n", start))
            )
            chunk = text[pos:start]
            if trim_left:
                chunk = chunk.rstrip(" \t\r\n")
            if chunk:
                self.tokens.append(Token("text", chunk, pos))
            pos = self._action(start, trim_left)
        self.tokens.append(Token("eof", "", len(text)))
        return self.tokens

    def _action(self, start: int, trim_left: bool) -> int:
        """Lex one action from ``{{`` at ``start``; the position after it (and its trim)."""
        text = self.text
        pos = start + (4 if trim_left else 2)
        comment = text.startswith("/*", pos)
        if comment:
            end = text.find("*/", pos + 2)
            if end < 0:
                raise self.error(start, "unclosed comment")
            pos = end + 2
            while pos < len(text) and text[pos] in " \t\r\n":
                pos += 1
            trim_right = text.startswith("-}}", pos)
            if not trim_right and not text.startswith("}}", pos):
                raise self.error(start, "comment ends before closing delimiter")
            return self._after_close(pos + (3 if trim_right else 2), trim_right)
        self.tokens.append(Token("open", "{{", start))
        depth = 0
        while True:
            if pos >= len(text):
                raise self.error(start, "unclosed action")
            char = text[pos]
            if text.startswith(" -}}", pos) or text.startswith("\t-}}", pos):
                self.tokens.append(Token("close", "}}", pos))
                return self._after_close(pos + 4, True)
            if text.startswith("}}", pos):
                if depth:
                    raise self.error(pos, "unclosed left paren")
                self.tokens.append(Token("close", "}}", pos))
                return self._after_close(pos + 2, False)
            if char == "\n" or char == "\r":
                raise self.error(pos, "unclosed action")
            if char in " \t":
                end = pos
                while end < len(text) and text[end] in " \t":
                    end += 1
                self.tokens.append(Token("space", " ", pos))
                pos = end
            elif char == "(":
                depth += 1
                self.tokens.append(Token("lparen", "(", pos))
                pos += 1
            elif char == ")":
                depth -= 1
                if depth < 0:
                    raise self.error(pos, "unexpected right paren")
                self.tokens.append(Token("rparen", ")", pos))
                pos += 1
            elif char == "|":
                self.tokens.append(Token("pipe", "|", pos))
                pos += 1
            elif char == ",":
                self.tokens.append(Token("comma", ",", pos))
                pos += 1
            elif text.startswith(":=", pos):
                self.tokens.append(Token("declare", ":=", pos))
                pos += 2
            elif char == "=":
                self.tokens.append(Token("assign", "=", pos))
                pos += 1
            elif char == '"':
                pos = self._quoted(pos)
            elif char == "`":
                end = text.find("`", pos + 1)
                if end < 0:
                    raise self.error(pos, "unterminated raw quoted string")
                self.tokens.append(Token("string", text[pos + 1 : end], pos))
                pos = end + 1
            elif char == "'":
                pos = self._char(pos)
            elif char == "$":
                match = _IDENT.match(text, pos + 1)
                end = match.end() if match else pos + 1
                self.tokens.append(Token("var", text[pos:end], pos))
                pos = self._terminated(end)
            elif char == ".":
                match = _IDENT.match(text, pos + 1)
                if match is None:
                    number = _NUMBER.match(text, pos)
                    if number and number.end() > pos + 1:
                        self.tokens.append(Token("number", number.group(0), pos))
                        pos = number.end()
                    else:
                        self.tokens.append(Token("dot", ".", pos))
                        pos += 1
                else:
                    self.tokens.append(Token("field", text[pos : match.end()], pos))
                    pos = self._terminated(match.end())
            elif char.isdigit() or (
                char in "+-" and pos + 1 < len(text) and text[pos + 1] in "0123456789."
            ):
                number = _NUMBER.match(text, pos)
                if number is None:
                    raise self.error(pos, f"bad number syntax: {text[pos : pos + 10]!r}")
                self.tokens.append(Token("number", number.group(0), pos))
                pos = number.end()
            elif _IDENT.match(text, pos):
                match = _IDENT.match(text, pos)
                assert match is not None
                word = match.group(0)
                kind = (
                    "keyword" if word in _KEYWORDS
                    else "bool" if word in ("true", "false")
                    else "nil" if word == "nil"
                    else "ident"
                )  # fmt: skip
                self.tokens.append(Token(kind, word, pos))
                pos = self._terminated(match.end())
            elif char in "{}":
                raise self.error(pos, f'unexpected "{char}" in operand')
            else:
                raise self.error(pos, f"unexpected {char!r} in command")

    def _terminated(self, pos: int) -> int:
        """``pos`` after a field, variable or word, which only a terminator may follow (Go's
        lexer: ``{{.Name}`` is a bad character, not an unclosed action)."""
        text = self.text
        if pos >= len(text) or text[pos] in _TERMINATORS or text.startswith("}}", pos):
            return pos
        raise self.error(pos, f"bad character {_unicode_name(text[pos])}")

    def _after_close(self, pos: int, trim_right: bool) -> int:
        if trim_right:
            while pos < len(self.text) and self.text[pos] in " \t\r\n":
                pos += 1
        return pos

    def _quoted(self, pos: int) -> int:
        text, end = self.text, pos + 1
        while end < len(text) and text[end] != '"':
            if text[end] == "\\":
                end += 1
            if end < len(text) and text[end] == "\n":
                raise self.error(pos, "unterminated quoted string")
            end += 1
        if end >= len(text):
            raise self.error(pos, "unterminated quoted string")
        self.tokens.append(Token("string", _unquote(text[pos + 1 : end]), pos))
        return end + 1

    def _char(self, pos: int) -> int:
        end = self.text.find("'", pos + 1)
        if end < 0:
            raise self.error(pos, "unterminated character constant")
        body = _unquote(self.text[pos + 1 : end])
        if len(body) != 1:
            raise self.error(pos, f"malformed character constant: {self.text[pos : end + 1]}")
        self.tokens.append(Token("char", str(ord(body)), pos))
        return end + 1


_TERMINATORS = frozenset(" \t\r\n.,|:()=")


def _unicode_name(char: str) -> str:
    """Go's ``%#U``: ``U+007D '}'``."""
    return f"U+{ord(char):04X} '{char}'" if char.isprintable() else f"U+{ord(char):04X}"


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "a": "\a",
            "b": "\b", "f": "\f", "v": "\v", "0": "\0"}  # fmt: skip


def _unquote(body: str) -> str:
    out: list[str] = []
    index = 0
    while index < len(body):
        char = body[index]
        if char != "\\" or index + 1 >= len(body):
            out.append(char)
            index += 1
            continue
        nxt = body[index + 1]
        if nxt in "xuU":
            width = {"x": 2, "u": 4, "U": 8}[nxt]
            out.append(chr(int(body[index + 2 : index + 2 + width], 16)))
            index += 2 + width
        else:
            out.append(_ESCAPES.get(nxt, nxt))
            index += 2
    return "".join(out)


# --------------------------------------------------------------------------------------------
# Parse tree
# --------------------------------------------------------------------------------------------


@dataclass
class Node:
    pos: int


@dataclass
class TextNode(Node):
    text: str


@dataclass
class FieldNode(Node):
    """``.A.B`` (on dot), or a chain on another operand (``$x.A``, ``(…).A``)."""

    names: tuple[str, ...]
    receiver: Node | None = None  # None: dot

    def __str__(self) -> str:
        head = str(self.receiver) if self.receiver is not None else ""
        return head + "".join("." + n for n in self.names)


@dataclass
class VarNode(Node):
    name: str

    def __str__(self) -> str:
        return self.name


@dataclass
class DotNode(Node):
    def __str__(self) -> str:
        return "."


@dataclass
class IdentNode(Node):
    name: str

    def __str__(self) -> str:
        return self.name


@dataclass
class LiteralNode(Node):
    value: Any
    source: str

    def __str__(self) -> str:
        return self.source


@dataclass
class CommandNode(Node):
    args: list[Node]

    def __str__(self) -> str:
        return " ".join(str(a) if not isinstance(a, PipeNode) else f"({a})" for a in self.args)


@dataclass
class PipeNode(Node):
    decl: list[str]
    commands: list[CommandNode]
    assign: bool = False  # ``=`` instead of ``:=``

    def __str__(self) -> str:
        text = " | ".join(str(c) for c in self.commands)
        if self.decl:
            text = f"{', '.join(self.decl)} {'=' if self.assign else ':='} {text}"
        return text


@dataclass
class ActionNode(Node):
    pipe: PipeNode


@dataclass
class ListNode(Node):
    nodes: list[Node]


@dataclass
class BranchNode(Node):
    kind: str  # if | range | with
    pipe: PipeNode
    body: ListNode
    otherwise: ListNode | None


@dataclass
class LoopControl(Node):
    kind: str  # break | continue


class _Parser:
    def __init__(self, text: str) -> None:
        self.lexer = _Lexer(text)
        self.tokens = self.lexer.run()
        self.index = 0
        self.scopes: list[set[str]] = [{"$"}]
        self.loops = 0

    # tokens ---------------------------------------------------------------------------
    def peek(self, skip_space: bool = True) -> Token:
        index = self.index
        while skip_space and self.tokens[index].kind == "space":
            index += 1
        return self.tokens[index]

    def next(self, skip_space: bool = True) -> Token:
        while skip_space and self.tokens[self.index].kind == "space":
            self.index += 1
        token = self.tokens[self.index]
        if token.kind != "eof":
            self.index += 1
        return token

    def error(self, token: Token, message: str) -> TemplateError:
        return self.lexer.error(token.pos, message)

    def expect_close(self, context: str) -> None:
        token = self.next()
        if token.kind != "close":
            raise self.error(token, f"unexpected {_show(token)} in {context}")

    # structure ------------------------------------------------------------------------
    def parse(self) -> ListNode:
        nodes, stop = self.parse_list()
        if stop is not None:
            raise self.error(stop, f"unexpected {{{{{stop.value}}}}}")
        return ListNode(0, nodes)

    def parse_list(self) -> tuple[list[Node], Token | None]:
        """Nodes up to ``{{end}}``/``{{else}}`` (that keyword's token) or the end (None)."""
        nodes: list[Node] = []
        while True:
            token = self.next(skip_space=False)
            if token.kind == "eof":
                return nodes, None
            if token.kind == "text":
                nodes.append(TextNode(token.pos, token.value))
                continue
            keyword = self.peek()
            if keyword.kind == "keyword" and keyword.value in ("end", "else"):
                self.next()
                return nodes, keyword
            nodes.append(self.parse_action(token))

    def parse_action(self, opening: Token) -> Node:
        token = self.peek()
        if token.kind == "keyword":
            self.next()
            if token.value in ("if", "range", "with"):
                return self.parse_branch(token)
            if token.value in ("break", "continue"):
                if not self.loops:
                    raise self.error(token, f"{{{{{token.value}}}}} outside {{{{range}}}}")
                self.expect_close(token.value)
                return LoopControl(token.pos, token.value)
            raise self.error(token, f"{{{{{token.value}}}}} is not supported in --format")
        pipe = self.parse_pipeline("command", allow_decl=True)
        self.expect_close("command")
        return ActionNode(opening.pos, pipe)

    def parse_branch(self, keyword: Token) -> BranchNode:
        kind = keyword.value
        self.scopes.append(set(self.scopes[-1]))
        pipe = self.parse_pipeline(kind, allow_decl=True, range_decl=kind == "range")
        self.expect_close(kind)
        if kind == "range":
            self.loops += 1
        body, stop = self.parse_list()
        if kind == "range":
            self.loops -= 1
        otherwise: ListNode | None = None
        if stop is None:
            raise self.error(self.tokens[self.index], "unexpected EOF")
        if stop.value == "else":
            following = self.peek()
            if (
                following.kind == "keyword"
                and following.value in ("if", "with")
                and (kind != "range")
            ):
                # {{else if …}}: an if inside the else branch, closed by the same {{end}}
                self.next()
                nested = self.parse_branch(following)
                otherwise = ListNode(following.pos, [nested])
            else:
                self.expect_close("else")
                nodes, end = self.parse_list()
                if end is None or end.value != "end":
                    raise self.error(end or self.tokens[self.index], "expected end; found else")
                self.expect_close("end")
                otherwise = ListNode(stop.pos, nodes)
        else:
            self.expect_close("end")
        self.scopes.pop()
        return BranchNode(keyword.pos, kind, pipe, ListNode(keyword.pos, body), otherwise)

    # pipelines ------------------------------------------------------------------------
    def parse_pipeline(
        self, context: str, allow_decl: bool = False, range_decl: bool = False
    ) -> PipeNode:
        start = self.peek()
        decl: list[str] = []
        assign = False
        if allow_decl and start.kind == "var":
            decl, assign = self._declarations(range_decl)
        commands: list[CommandNode] = []
        while True:
            command = self.parse_command(context)
            commands.append(command)
            if self.peek().kind != "pipe":
                break
            self.next()
        for command in commands:
            if not command.args:
                raise self.error(start, f"missing value for {context}")
        for command in commands[1:]:
            first = command.args[0]
            if isinstance(first, LiteralNode | DotNode) and not isinstance(first, PipeNode):
                raise self.error(
                    start, f"non executable command in pipeline stage {commands.index(command) + 1}"
                )
        return PipeNode(start.pos, decl, commands, assign)

    def _declarations(self, range_decl: bool) -> tuple[list[str], bool]:
        """``$x :=``, ``$x =`` or (in range) ``$i, $e :=``; nothing when ``$x`` is an operand."""
        saved = self.index
        names = [self.next().value]
        if range_decl and self.peek().kind == "comma":
            self.next()
            second = self.next()
            if second.kind != "var":
                raise self.error(second, "range can only initialize variables")
            names.append(second.value)
        marker = self.peek()
        if marker.kind in ("declare", "assign"):
            self.next()
            if marker.kind == "declare":
                self.scopes[-1].update(names)
            else:
                for name in names:
                    if not any(name in scope for scope in self.scopes):
                        raise self.error(marker, f"undefined variable: {name}")
            return names, marker.kind == "assign"
        self.index = saved
        return [], False

    def parse_command(self, context: str) -> CommandNode:
        start = self.peek()
        args: list[Node] = []
        while True:
            token = self.peek(skip_space=False)
            if token.kind == "space":
                self.next(skip_space=False)
                continue
            if token.kind in ("close", "pipe", "rparen", "eof"):
                break
            if args and self.tokens[self.index - 1].kind != "space" and token.kind != "field":
                raise self.error(token, f"unexpected {_show(token)} in operand")
            args.append(self.parse_operand(context))
        return CommandNode(start.pos, args)

    def parse_operand(self, context: str) -> Node:
        token = self.next()
        node: Node
        if token.kind == "field":
            node = FieldNode(token.pos, tuple(token.value[1:].split(".")))
        elif token.kind == "dot":
            node = DotNode(token.pos)
        elif token.kind == "var":
            if not any(token.value in scope for scope in self.scopes):
                raise self.error(token, f'undefined variable "{token.value}"')
            node = VarNode(token.pos, token.value)
        elif token.kind == "ident":
            if token.value not in FUNCTIONS:
                raise self.error(token, f'function "{token.value}" not defined')
            node = IdentNode(token.pos, token.value)
        elif token.kind == "string":
            node = LiteralNode(token.pos, token.value, json.dumps(token.value))
        elif token.kind in ("number", "char"):
            node = LiteralNode(token.pos, _number(token, self), token.value)
        elif token.kind == "bool":
            node = LiteralNode(token.pos, token.value == "true", token.value)
        elif token.kind == "nil":
            node = LiteralNode(token.pos, None, "nil")
        elif token.kind == "lparen":
            pipe = self.parse_pipeline("parenthesized pipeline")
            closing = self.next()
            if closing.kind != "rparen":
                raise self.error(closing, f"unexpected {_show(closing)} in parenthesized pipeline")
            node = pipe
        else:
            raise self.error(token, f"unexpected {_show(token)} in {context}")
        chain_pos: int | None = None  # Go's chain sits at its first chained field
        while self.peek(skip_space=False).kind == "field":
            chained = self.next(skip_space=False)
            chain_pos = chained.pos if chain_pos is None else chain_pos
            names = tuple(chained.value[1:].split("."))
            if isinstance(node, FieldNode):
                node = FieldNode(chain_pos, node.names + names, node.receiver)
            elif isinstance(node, DotNode):
                node = FieldNode(chain_pos, names)
            elif isinstance(node, LiteralNode | IdentNode):
                raise self.error(chained, f"unexpected . after term {str(node)!r}")
            else:
                node = FieldNode(chain_pos, names, node)
        return node


def _number(token: Token, parser: _Parser) -> int | float:
    text = token.value.replace("_", "")
    if token.kind == "char":
        return int(text)
    if text.endswith("i"):
        raise parser.error(token, f"complex numbers are not supported: {text}")
    try:
        if re.fullmatch(r"[+-]?0[xX][0-9a-fA-F]+", text):
            return int(text, 16)
        if re.fullmatch(r"[+-]?0[bB][01]+", text):
            return int(text, 2)
        if re.fullmatch(r"[+-]?0[oO]?[0-7]+", text) and len(text.lstrip("+-")) > 1:
            return int(text.replace("o", "").replace("O", ""), 8)
        if re.fullmatch(r"[+-]?\d+", text):
            return int(text)
        return float(text)
    except ValueError:
        raise parser.error(token, f"illegal number syntax: {token.value!r}") from None


def _show(token: Token) -> str:
    if token.kind == "close":
        return '"}}"'
    if token.kind == "eof":
        return "EOF"
    return f'"{token.value}"' if token.kind != "string" else json.dumps(token.value)


# --------------------------------------------------------------------------------------------
# Functions
# --------------------------------------------------------------------------------------------


class _FuncError(Exception):
    """A function's failure (``error calling index: …``)."""


def _go_json(value: Any) -> str:
    def default(obj: Any) -> Any:
        if isinstance(obj, Struct):
            return {k: obj.get(k) for k in sorted(obj.fields)}  # docker marshals a map
        if obj is NO_VALUE:
            return None
        raise TypeError(type(obj).__name__)

    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=default)


def _string(value: Any, func: str) -> str:
    if isinstance(value, str):
        return value
    raise _FuncError(f"wrong type for value; expected string; got {type_name(value)}")


def _integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _FuncError(f"wrong type for value; expected int; got {type_name(value)}")
    return int(value)


def _index(item: Any, *keys: Any) -> Any:
    current = item
    for key in keys:
        if isinstance(current, Mapping):
            if not isinstance(key, str):
                raise _FuncError(f"value has type {type_name(key)}; should be string")
            current = current.get(key, NO_VALUE)
        elif isinstance(current, list | tuple | str):
            if isinstance(key, bool) or not isinstance(key, int):
                raise _FuncError(f"cannot index slice/array with type {type_name(key)}")
            if not 0 <= key < len(current):
                raise _FuncError(f"index out of range: {key}")
            current = current[key]
        elif current is None or current is NO_VALUE:
            raise _FuncError("index of untyped nil")
        else:
            raise _FuncError(f"can't index item of type {type_name(current)}")
    return current


def _slice_index(value: Any, cap: int) -> int:
    if value is None or value is NO_VALUE:
        raise _FuncError("cannot index slice/array with nil")
    if isinstance(value, bool) or not isinstance(value, int):
        raise _FuncError(f"cannot index slice/array with type {type_name(value)}")
    if not 0 <= value <= cap:
        raise _FuncError(f"index out of range: {value}")
    return value


def _slice(item: Any, *bounds: Any) -> Any:
    """Go's ``slice``: ``slice x 1 2`` is ``x[1:2]``; ``x[i:j:k]`` for lists."""
    if item is None or item is NO_VALUE:
        raise _FuncError("slice of untyped nil")
    if len(bounds) > 3:
        raise _FuncError(f"too many slice indexes: {len(bounds)}")
    if isinstance(item, str):
        if len(bounds) == 3:
            raise _FuncError("cannot 3-index slice a string")
    elif not isinstance(item, list | tuple):
        raise _FuncError(f"can't slice item of type {type_name(item)}")
    index = [0, len(item), len(item)]
    for position, bound in enumerate(bounds):
        index[position] = _slice_index(bound, len(item))
    if index[0] > index[1]:
        raise _FuncError(f"invalid slice index: {index[0]} > {index[1]}")
    if len(bounds) == 3 and index[1] > index[2]:
        raise _FuncError(f"invalid slice index: {index[1]} > {index[2]}")
    return item[index[0] : index[1]]


def _len(item: Any) -> int:
    if item is None:
        raise _FuncError("len of nil pointer")
    if isinstance(item, str | list | tuple | Mapping):
        return len(item)
    raise _FuncError(f"len of type {type_name(item)}")


def _sprint(*args: Any) -> str:
    """``fmt.Sprint``: spaces between operands when neither side is a string."""
    out: list[str] = []
    for index, arg in enumerate(args):
        if index and not isinstance(arg, str) and not isinstance(args[index - 1], str):
            out.append(" ")
        out.append(go_text(arg))
    return "".join(out)


def _sprintln(*args: Any) -> str:
    return " ".join(go_text(a) for a in args) + "\n"


_VERB = re.compile(r"%([-+# 0]*)(\*|\d+)?(?:\.(\*|\d+))?([a-zA-Z%])")


def _sprintf(template: Any, *args: Any) -> str:
    """``fmt.Sprintf`` for the verbs templates use: %v %s %d %q %t %x %X %o %b %c %f %e %g."""
    text = _string(template, "printf")
    queue = list(args)
    out: list[str] = []
    position = 0
    for match in _VERB.finditer(text):
        out.append(text[position : match.start()])
        position = match.end()
        flags, width, precision, verb = match.groups()
        if verb == "%":
            out.append("%")
            continue
        if not queue:
            out.append(f"%!{verb}(MISSING)")
            continue
        out.append(_format_one(queue.pop(0), flags, width, precision, verb))
    out.append(text[position:])
    if queue:
        extra = ", ".join(f"{type_name(a)}={go_text(a)}" for a in queue)
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)


def _format_one(value: Any, flags: str, width: str | None, precision: str | None, verb: str) -> str:
    spec = ("<" if "-" in flags else "") + ("+" if "+" in flags else "")
    zero = "0" in flags and "-" not in flags
    size = int(width) if width and width.isdigit() else 0
    body: str
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    if verb in "vs":
        body = go_text(value)
        if precision and precision.isdigit() and verb == "s":
            body = body[: int(precision)]
    elif verb == "q":
        body = json.dumps(
            go_text(value) if not isinstance(value, str) else value, ensure_ascii=False
        )
    elif verb == "t" and isinstance(value, bool):
        body = "true" if value else "false"
    elif verb in "dxXob" and numeric:
        number = int(value)
        base = {"d": "d", "x": "x", "X": "X", "o": "o", "b": "b"}[verb]
        body = format(number, ("+" if "+" in flags else "") + base)
    elif verb in "xX" and isinstance(value, str):
        body = value.encode().hex()
        body = body.upper() if verb == "X" else body
    elif verb == "c" and numeric:
        body = chr(int(value))
    elif verb in "feEgG" and numeric:
        digits = int(precision) if precision and precision.isdigit() else None
        if verb in "gG" and digits is None:
            body = go_float(float(value))
        else:
            body = format(
                float(value),
                ("+" if "+" in flags else "") + f".{6 if digits is None else digits}{verb}",
            )
    else:
        return f"%!{verb}({type_name(value)}={go_text(value)})"
    if size and len(body) < size:
        if "<" in spec:
            body = body.ljust(size)
        elif zero and numeric:
            sign = body[0] if body[:1] in "+-" else ""
            body = sign + body[len(sign) :].rjust(size - len(sign), "0")
        else:
            body = body.rjust(size)
    return body


def _compare(op: str) -> Callable[..., bool]:
    def basic(value: Any) -> Any:
        if value is NO_VALUE:
            return None
        return value

    def check(a: Any, b: Any) -> None:
        numeric = (int, float)
        if (
            (
                isinstance(a, bool) != isinstance(b, bool)
                or (isinstance(a, numeric) != isinstance(b, numeric))
                or (isinstance(a, str) != isinstance(b, str))
            )
            and a is not None
            and b is not None
        ):
            raise _FuncError("incompatible types for comparison")

    def compare(first: Any, *others: Any) -> bool:
        a = basic(first)
        if op in ("eq", "ne"):
            if not others:
                raise _FuncError("missing argument for comparison")
            for other in others:
                b = basic(other)
                check(a, b)
                if a == b:
                    return op == "eq"
            return op == "ne"
        if len(others) != 1:
            raise _FuncError("wrong number of args for comparison")
        b = basic(others[0])
        check(a, b)
        if not isinstance(a, int | float | str) or isinstance(a, bool):
            raise _FuncError("invalid type for comparison")
        result: bool = {"lt": a < b, "le": a <= b, "gt": a > b, "ge": a >= b}[op]
        return result

    return compare


def _pad(source: Any, prefix: Any, suffix: Any) -> str:
    text = _string(source, "pad")
    if not text:
        return text
    return " " * _integer(prefix) + text + " " * _integer(suffix)


def _truncate(source: Any, length: Any) -> str:
    text, size = _string(source, "truncate"), _integer(length)
    return text if len(text) < size else text[:size]


def _title(source: Any) -> str:
    """Go's deprecated ``strings.Title``: the first letter of every word in upper case."""
    text = _string(source, "title")
    return re.sub(r"(^|\W)(\w)", lambda m: m.group(1) + m.group(2).upper(), text)


def _split(source: Any, sep: Any) -> list[str]:
    text, separator = _string(source, "split"), _string(sep, "split")
    if separator == "":
        return list(text)
    return text.split(separator)


def _join(items: Any, sep: Any) -> str:
    if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
        raise _FuncError(f"wrong type for value; expected []string; got {type_name(items)}")
    return _string(sep, "join").join(items)


def _html(*args: Any) -> str:
    text = _sprint(*args)
    for old, new in (("&", "&amp;"), ("'", "&#39;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&#34;")):
        text = text.replace(old, new)
    return text


def _js(*args: Any) -> str:
    text = _sprint(*args)
    out = []
    for char in text:
        if char in "\\'\"":
            out.append("\\" + char)
        elif char in "<>&=":
            out.append(f"\\u{ord(char):04X}")
        elif char == "\n":
            out.append("\\n")
        else:
            out.append(char)
    return "".join(out)


# Go's builtins and docker's functions, by name
FUNCTIONS: dict[str, Callable[..., Any]] = {
    "and": lambda *a: next((x for x in a if not truth(x)), a[-1]),  # short-circuit in _call
    "or": lambda *a: next((x for x in a if truth(x)), a[-1]),
    "not": lambda a: not truth(a),
    "len": _len,
    "index": _index,
    "slice": _slice,
    "print": _sprint,
    "printf": _sprintf,
    "println": _sprintln,
    "html": _html,
    "js": _js,
    "urlquery": lambda *a: urllib.parse.quote_plus(_sprint(*a)),
    "eq": _compare("eq"),
    "ne": _compare("ne"),
    "lt": _compare("lt"),
    "le": _compare("le"),
    "gt": _compare("gt"),
    "ge": _compare("ge"),
    # docker's own (cli/templates)
    "json": _go_json,
    "split": _split,
    "join": _join,
    "title": _title,
    "lower": lambda s: _string(s, "lower").lower(),
    "upper": lambda s: _string(s, "upper").upper(),
    "pad": _pad,
    "truncate": _truncate,
}
_ARITY: dict[str, tuple[int, int | None]] = {
    "not": (1, 1), "len": (1, 1), "index": (1, None), "slice": (1, None), "printf": (1, None),
    "eq": (1, None), "ne": (2, 2), "lt": (2, 2), "le": (2, 2), "gt": (2, 2), "ge": (2, 2),
    "json": (1, 1), "split": (2, 2), "join": (2, 2), "title": (1, 1), "lower": (1, 1),
    "upper": (1, 1), "pad": (3, 3), "truncate": (2, 2), "and": (1, None), "or": (1, None),
}  # fmt: skip

# docker's header functions: a table header is the template run over the column names, with
# these functions leaving the name as it is
# the Go parameter types of docker's functions: a value of another type is refused at the
# argument itself (``at <.N>: wrong type for value; expected string; got int``)
_PARAMETERS: dict[str, tuple[str, ...]] = {
    "split": ("string", "string"), "join": ("[]string", "string"), "title": ("string",),
    "lower": ("string",), "upper": ("string",), "pad": ("string", "int", "int"),
    "truncate": ("string", "int"),
}  # fmt: skip


def _literal_mismatch(node: LiteralNode, wanted: str) -> str:
    if node.source == "nil":
        return f"cannot assign nil to {wanted}"
    if wanted == "string":
        return f"expected string; found {node.source}"
    if wanted == "int":
        return f"expected integer; found {node.source}"
    return f"can't handle {node.source} for arg of type {wanted}"


def _fits(value: Any, wanted: str) -> bool:
    if wanted == "string":
        return isinstance(value, str)
    if wanted == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, list | tuple) and all(isinstance(i, str) for i in value)


HEADER_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "json": lambda v: v,
    "split": lambda v, _sep: v,
    "join": lambda v, _sep: v,
    "title": lambda v: v,
    "lower": lambda v: v,
    "upper": lambda v: v,
    "pad": lambda v, _a, _b: v,
    "truncate": lambda v, _n: v,
}


# --------------------------------------------------------------------------------------------
# Execution
# --------------------------------------------------------------------------------------------


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class _ExecError(Exception):
    def __init__(self, node: Node, message: str) -> None:
        super().__init__(message)
        self.node = node
        self.message = message


MAX_OUTPUT = 4 * 1024 * 1024  # a template cannot make more output than this
MAX_STEPS = 1_000_000  # nor run for ever (``range`` over big data nested many times)


class _State:
    def __init__(
        self,
        root: Any,
        functions: Mapping[str, Callable[..., Any]],
        missing_key_error: bool,
    ) -> None:
        self.vars: list[tuple[str, Any]] = [("$", root)]
        self.functions = functions
        self.missing_key_error = missing_key_error
        self.out: list[str] = []
        self.size = 0
        self.steps = 0

    def write(self, node: Node, text: str) -> None:
        self.size += len(text)
        if self.size > MAX_OUTPUT:
            raise _ExecError(node, "output too long")
        self.out.append(text)

    def tick(self, node: Node) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise _ExecError(node, "template runs too long")

    def lookup(self, node: Node, name: str) -> Any:
        for var, value in reversed(self.vars):
            if var == name:
                return value
        raise _ExecError(node, f"undefined variable: {name}")

    def set(self, node: Node, name: str, value: Any) -> None:
        for index in range(len(self.vars) - 1, -1, -1):
            if self.vars[index][0] == name:
                self.vars[index] = (name, value)
                return
        raise _ExecError(node, f"undefined variable: {name}")


class Template:
    """A parsed template; :meth:`execute` fills it with data."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.root = _Parser(text).parse()

    def execute(
        self,
        data: Any,
        functions: Mapping[str, Callable[..., Any]] | None = None,
        *,
        missing_key_error: bool = False,
    ) -> str:
        """The template filled with ``data``; ``functions`` replace same-named ones (docker's
        header functions); ``missing_key_error``: Go's ``missingkey=error``."""
        funcs = {**FUNCTIONS, **(functions or {})}
        state = _State(data, funcs, missing_key_error)
        try:
            self._walk(state, self.root, data)
        except _ExecError as exc:
            line = self.text.count("\n", 0, exc.node.pos) + 1
            column = exc.node.pos - (self.text.rfind("\n", 0, exc.node.pos) + 1)
            context = _node_text(exc.node)
            raise TemplateError(
                f'template: :{line}:{column}: executing "" at <{context}>: {exc.message}'
            ) from None
        return "".join(state.out)

    # statements -----------------------------------------------------------------------
    def _walk(self, state: _State, node: Node, dot: Any) -> None:
        state.tick(node)
        if isinstance(node, ListNode):
            for child in node.nodes:
                self._walk(state, child, dot)
        elif isinstance(node, TextNode):
            state.write(node, node.text)
        elif isinstance(node, ActionNode):
            value = self._pipe(state, node.pipe, dot)
            if not node.pipe.decl:
                state.write(node, _printable(node, value))
        elif isinstance(node, BranchNode):
            self._branch(state, node, dot)
        elif isinstance(node, LoopControl):
            raise _Break() if node.kind == "break" else _Continue()

    def _branch(self, state: _State, node: BranchNode, dot: Any) -> None:
        mark = len(state.vars)
        try:
            if node.kind == "range":
                self._range(state, node, dot)
                return
            value = self._pipe(state, node.pipe, dot)
            if truth(value):
                self._walk(state, node.body, value if node.kind == "with" else dot)
            elif node.otherwise is not None:
                self._walk(state, node.otherwise, dot)
        finally:
            del state.vars[mark:]

    def _range(self, state: _State, node: BranchNode, dot: Any) -> None:
        decl = node.pipe.decl
        value = self._pipe(state, PipeNode(node.pipe.pos, [], node.pipe.commands), dot)
        items: list[tuple[Any, Any]]
        if isinstance(value, Mapping):
            items = [(k, value[k]) for k in sorted(value)]
        elif isinstance(value, list | tuple):
            items = list(enumerate(value))
        elif isinstance(value, int) and not isinstance(value, bool):
            items = [(i, i) for i in range(value)]
        elif value is None or value is NO_VALUE:
            items = []
        else:
            raise _ExecError(node.pipe, f"range can't iterate over {go_text(value)}")
        if not items:
            if node.otherwise is not None:
                self._walk(state, node.otherwise, dot)
            return
        mark = len(state.vars)
        for key, element in items:
            del state.vars[mark:]
            if len(decl) == 1:
                state.vars.append((decl[0], element))
            elif len(decl) == 2:
                state.vars.extend([(decl[0], key), (decl[1], element)])
            try:
                self._walk(state, node.body, element)
            except _Break:
                break
            except _Continue:
                continue

    # expressions ----------------------------------------------------------------------
    def _pipe(self, state: _State, pipe: PipeNode, dot: Any) -> Any:
        value: Any = _NOTHING
        for command in pipe.commands:
            value = self._command(state, command, dot, value)
        for name in pipe.decl:
            if pipe.assign:
                state.set(pipe, name, value)
            else:
                state.vars.append((name, value))
        return value

    def _command(self, state: _State, command: CommandNode, dot: Any, final: Any) -> Any:
        first = command.args[0]
        rest = command.args[1:]
        if isinstance(first, IdentNode):
            return self._call(state, first, rest, dot, final, command)
        if isinstance(first, FieldNode):
            return self._field(state, first, dot, rest, final)
        if isinstance(first, LiteralNode) and first.source == "nil":
            raise _ExecError(first, "nil is not a command")
        if rest or final is not _NOTHING:
            raise _ExecError(first, f"can't give argument to non-function {_node_text(first)}")
        return self._operand(state, first, dot)

    def _operand(self, state: _State, node: Node, dot: Any) -> Any:
        if isinstance(node, DotNode):
            return dot
        if isinstance(node, VarNode):
            return state.lookup(node, node.name)
        if isinstance(node, LiteralNode):
            return node.value
        if isinstance(node, PipeNode):
            mark = len(state.vars)
            try:
                return self._pipe(state, node, dot)
            finally:
                del state.vars[mark:]
        if isinstance(node, FieldNode):
            return self._field(state, node, dot, [], _NOTHING)
        if isinstance(node, IdentNode):
            return self._call(state, node, [], dot, _NOTHING, CommandNode(node.pos, [node]))
        raise _ExecError(node, "can't evaluate")

    def _field(
        self, state: _State, node: FieldNode, dot: Any, args: Sequence[Node], final: Any
    ) -> Any:
        receiver = dot if node.receiver is None else self._operand(state, node.receiver, dot)
        names = node.names
        from_map = False  # a map's value is an interface {} to Go, whatever it holds
        for index, name in enumerate(names):
            last = index == len(names) - 1
            arguments = [self._operand(state, a, dot) for a in args] if last else []
            if last and final is not _NOTHING:
                arguments.append(final)
            called = last and bool(args or final is not _NOTHING)
            parent = receiver
            receiver = self._one_field(state, node, receiver, name, arguments, called, from_map)
            from_map = isinstance(parent, Mapping)
        return receiver

    def _one_field(
        self,
        state: _State,
        node: FieldNode,
        receiver: Any,
        name: str,
        args: list[Any],
        called: bool,
        from_map: bool = False,
    ) -> Any:
        if isinstance(receiver, Struct):
            if name in receiver.methods:
                try:
                    return receiver.methods[name](*args)
                except TypeError:
                    raise _ExecError(
                        node, f"wrong number of args for {name}: want 1 got {len(args)}"
                    ) from None
            if name in receiver.fields:
                if called:
                    raise _ExecError(
                        node, f"{name} has arguments but cannot be invoked as function"
                    )
                return receiver.get(name)
            raise _ExecError(node, f"can't evaluate field {name} in type {receiver.type_name}")
        if called:
            raise _ExecError(node, f"{name} is not a method but has arguments")
        if isinstance(receiver, Mapping):
            if name in receiver:
                return receiver[name]
            if state.missing_key_error:
                raise _ExecError(node, f'map has no entry for key "{name}"')
            return NO_VALUE
        if receiver is NO_VALUE:  # a missing key's field: Go's zero value, or its error
            if state.missing_key_error:
                raise _ExecError(node, f'nil data; no entry for key "{name}"')
            return NO_VALUE
        if receiver is None:
            raise _ExecError(node, f"nil pointer evaluating interface {{}}.{name}")
        kind = "interface {}" if from_map else type_name(receiver)
        raise _ExecError(node, f"can't evaluate field {name} in type {kind}")

    def _call(
        self,
        state: _State,
        ident: IdentNode,
        args: Sequence[Node],
        dot: Any,
        final: Any,
        command: CommandNode,
    ) -> Any:
        """Call function ``ident``; its errors are reported at ``command``."""
        function = state.functions[ident.name]
        name = ident.name
        if name in ("and", "or"):  # short-circuit, like Go 1.18+
            thunks: list[Callable[[], Any]] = [partial(self._operand, state, a, dot) for a in args]
            if final is not _NOTHING:
                thunks.append(lambda: final)
            if not thunks:
                raise _ExecError(command, f"wrong number of args for {name}: want at least 1 got 0")
            result: Any = None
            for thunk in thunks:
                result = thunk()
                if truth(result) != (name == "and"):
                    return result
            return result
        values = [self._operand(state, a, dot) for a in args]
        if final is not _NOTHING:
            values.append(final)
        low, high = _ARITY.get(name, (0, None))
        if len(values) < low or (high is not None and len(values) > high):
            want = f"at least {low}" if high is None else str(low)
            raise _ExecError(
                ident, f"wrong number of args for {name}: want {want} got {len(values)}"
            )
        if function is FUNCTIONS.get(name):
            self._check_types(name, values, args, command)
        try:
            return function(*values)
        except _FuncError as exc:
            raise _ExecError(command, f"error calling {name}: {exc}") from None
        except TypeError:
            raise _ExecError(
                command, f"wrong number of args for {name}: got {len(values)}"
            ) from None

    @staticmethod
    def _check_types(
        name: str, values: Sequence[Any], args: Sequence[Node], command: CommandNode
    ) -> None:
        for position, (value, wanted) in enumerate(
            zip(values, _PARAMETERS.get(name, ()), strict=False)
        ):
            if _fits(value, wanted):
                continue
            at = args[position] if position < len(args) else command  # the piped value
            if isinstance(at, LiteralNode):  # Go reads a constant as the parameter's type
                raise _ExecError(at, _literal_mismatch(at, wanted))
            if value is None or value is NO_VALUE:
                raise _ExecError(at, f"invalid value; expected {wanted}")
            raise _ExecError(at, f"wrong type for value; expected {wanted}; got {type_name(value)}")


class _Nothing:
    pass


_NOTHING: Any = _Nothing()


def _printable(node: Node, value: Any) -> str:
    if isinstance(value, Struct) and "String" in value.methods:
        return str(value.methods["String"]())
    return go_text(value)


def _node_text(node: Node) -> str:
    if isinstance(node, ActionNode):
        return str(node.pipe)
    if isinstance(node, BranchNode):
        return str(node.pipe)
    return str(node)


def parse(text: str) -> Template:
    """Parse ``text``; :class:`TemplateError` (Go's wording) when it is not a template."""
    return Template(text)


def walk_fields(template: Template) -> Iterator[tuple[str, ...]]:
    """Every field chain read on dot (for checks that want to list them)."""

    def visit(node: Node) -> Iterator[tuple[str, ...]]:
        if isinstance(node, FieldNode) and node.receiver is None:
            yield node.names
        for child in _children(node):
            yield from visit(child)

    yield from visit(template.root)


def _children(node: Node) -> list[Node]:
    if isinstance(node, ListNode):
        return list(node.nodes)
    if isinstance(node, ActionNode):
        return [node.pipe]
    if isinstance(node, PipeNode):
        return list(node.commands)
    if isinstance(node, CommandNode):
        return list(node.args)
    if isinstance(node, BranchNode):
        return [node.pipe, node.body] + ([node.otherwise] if node.otherwise else [])
    if isinstance(node, FieldNode) and node.receiver is not None:
        return [node.receiver]
    return []
