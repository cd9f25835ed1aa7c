"""Join stored letter PDFs into one print-run PDF by copying their objects as bytes.

A print run concatenates hundreds of issued letters that are never rendered again. pikepdf
(qpdf) parses every object of every letter into a document model and serialises it again; this
module instead copies each letter's objects verbatim under new object numbers: stream data is
never decoded, only the small dictionaries are rewritten ("12 0 R" -> "4711 0 R"), and each
letter's own page tree is hung under one new root, so inherited page attributes still apply.

It reads the layout WeasyPrint (pydyf) writes: a cross-reference stream or table, objects
inside object streams, direct /Length values, no comments. Anything else (incremental updates,
encryption, predictors, indirect or repeated lengths, comments, bytes the cross-reference does
not list, object-stream offsets out of order, a /Count the page tree does not bear out, a
damaged table) raises `Unsupported`, and `merge_pdfs` in render.py then uses pikepdf for the
whole run. Tests compare both, and keep each input that once slipped through as a case.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import pairwise


class Unsupported(ValueError):
    """This file is not in the simple layout this module copies."""


_STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*$")
_OBJ_HEADER = re.compile(rb"\s*(\d+)\s+(\d+)\s+obj\b")
_REF = re.compile(rb"(?<![\w.+-])(\d+)\s+(\d+)\s+R(?![\w])")
_INT = rb"\s+(\d+)"


@cache
def _key_pattern(key: bytes, shape: str) -> re.Pattern[bytes]:
    tails = {
        "int": _INT + rb"(?!\d)(?!\s+\d+\s+R)",
        "ref": rb"\s+(\d+)\s+(\d+)\s+R",
        "ints": rb"\s*\[([\d\s]*)\]",
    }
    return re.compile(rb"/" + key + tails[shape])


def _key_int(dictionary: bytes, key: bytes) -> int | None:
    m = _key_pattern(key, "int").search(dictionary)
    return int(m.group(1)) if m else None


def _key_ref(dictionary: bytes, key: bytes) -> tuple[int, int] | None:
    m = _key_pattern(key, "ref").search(dictionary)
    return (int(m.group(1)), int(m.group(2))) if m else None


def _key_ints(dictionary: bytes, key: bytes) -> list[int] | None:
    m = _key_pattern(key, "ints").search(dictionary)
    return [int(x) for x in m.group(1).split()] if m else None


def _inflate(dictionary: bytes, data: bytes) -> bytes:
    if b"/DecodeParms" in dictionary:
        raise Unsupported("predictors")
    if b"/Filter" not in dictionary:
        return data
    if not re.search(rb"/Filter\s*(?:/FlateDecode|\[\s*/FlateDecode\s*\])", dictionary):
        raise Unsupported("filter")
    try:
        return zlib.decompress(data)
    except zlib.error as e:
        raise Unsupported("bad stream") from e


_STREAM_AFTER_DICT = re.compile(rb">>[ \t\r\n]*stream(?:\r\n|\n)")
_KEYWORDS = re.compile(rb"\bobj\b|endobj|stream")
_PAGES_NODE = re.compile(rb"/Type\s*/Pages(?![\w])")
_KIDS = re.compile(rb"/Kids\s*\[([^\]]*)\]")
_LENGTH = re.compile(rb"/Length(?=[\s/<>\[\]()])\s*(\d+)?(?!\d)(\s+\d+\s+R)?")


def _split_stream(body: bytes) -> tuple[bytes, bytes | None]:
    """(dictionary, raw stream data or None) of an object body (between "obj" and "endobj")."""
    if not body.endswith(b"endstream"):
        return _plain(body), None
    m = _STREAM_AFTER_DICT.search(body)
    if m is None:
        raise Unsupported("stream keyword")
    dictionary = body[: m.start() + 2]
    # pydyf's stream dictionaries hold no strings and no comments, and nest evenly.
    if b"(" in dictionary or b"%" in dictionary:
        raise Unsupported("stream dictionary with strings or comments")
    if dictionary.count(b"<<") != dictionary.count(b">>"):
        raise Unsupported("stream dictionary does not nest")
    if _KEYWORDS.search(dictionary):
        raise Unsupported("stray object bytes before a stream")
    lengths = _LENGTH.findall(dictionary)
    if len(lengths) != 1 or not lengths[0][0] or lengths[0][1]:
        raise Unsupported("/Length missing, repeated or indirect")
    length = int(lengths[0][0])
    data = body[m.end() : m.end() + length]
    if len(data) != length or body[m.end() + length :].strip() != b"endstream":
        raise Unsupported("stream length does not match")
    return dictionary.strip(), data


def _plain(text: bytes) -> bytes:
    """A non-stream object, refused when it holds anything but one PDF value: comments (a
    "%" outside strings could hide a reference) or bytes of other objects (an unlisted object
    between two listed ones)."""
    for part in _outside_strings(text):
        if b"%" in part or _KEYWORDS.search(part):
            raise Unsupported("comment or stray object bytes")
    return text


def _body(data: bytes, start: int, end: int) -> bytes:
    """What lies between "N G obj" at `start` and its "endobj" before `end`."""
    text = data[start:end].rstrip()
    if not text.endswith(b"endobj"):
        raise Unsupported("object does not end with endobj")
    return text[:-6].strip()


@lru_cache(maxsize=512)
def _strings_spans(text: bytes) -> tuple[tuple[int, int], ...]:
    """(start, end) of literal strings in a PDF object (balanced parentheses, escapes)."""
    spans = []
    i = text.find(b"(")
    while i != -1:
        depth, j = 0, i
        while j < len(text):
            c = text[j]
            if c == 0x5C:  # backslash escapes the next byte
                j += 2
                continue
            if c == 0x28:
                depth += 1
            elif c == 0x29:
                depth -= 1
                if depth == 0:
                    break
            j += 1
        else:
            raise Unsupported("unterminated string")
        spans.append((i, j + 1))
        i = text.find(b"(", j + 1)
    return tuple(spans)


def _outside_strings(text: bytes) -> list[bytes]:
    """The parts of an object's text that are not literal strings (hex strings cannot hold
    anything that looks like a reference or a keyword)."""
    if b"(" not in text:
        return [text]
    parts, last = [], 0
    for start, end in _strings_spans(text):
        parts.append(text[last:start])
        last = end
    parts.append(text[last:])
    return parts


def _renumber(text: bytes, mapping: dict[tuple[int, int], int]) -> bytes:
    def sub(m: re.Match[bytes]) -> bytes:
        new = mapping.get((int(m.group(1)), int(m.group(2))))
        if new is None:
            raise Unsupported("reference to a missing object")
        return b"%d 0 R" % new

    if b"(" not in text:
        return _REF.sub(sub, text)
    out, last = [], 0
    for start, end in _strings_spans(text):
        out.append(_REF.sub(sub, text[last:start]))
        out.append(text[start:end])
        last = end
    out.append(_REF.sub(sub, text[last:]))
    return b"".join(out)


@dataclass
class _Letter:
    # (number, generation) -> (dictionary or whole body, raw stream data or None)
    objects: dict[tuple[int, int], tuple[bytes, bytes | None]]
    pages: tuple[int, int]
    page_count: int
    skip: set[tuple[int, int]]


def _read_xref(
    data: bytes,
) -> tuple[bytes, dict[tuple[int, int], int], dict[int, list[int]], int]:
    """(trailer dictionary, plain objects -> offset, object stream -> its object numbers,
    where the cross-reference starts)."""
    m = _STARTXREF.search(data, max(0, len(data) - 64))
    if m is None:
        raise Unsupported("no startxref")
    pos = int(m.group(1))
    offsets: dict[tuple[int, int], int] = {}
    in_streams: dict[int, list[int]] = {}
    if data.startswith(b"xref", pos):
        end = data.find(b"trailer", pos)
        if end == -1:
            raise Unsupported("no trailer")
        lines = data[pos + 4 : end].split()
        i = 0
        while i < len(lines):
            first, count = int(lines[i]), int(lines[i + 1])
            i += 2
            for k in range(count):
                off, gen, kind = lines[i], lines[i + 1], lines[i + 2]
                i += 3
                if kind == b"n":
                    offsets[(first + k, int(gen))] = int(off)
        trailer = data[end : m.start()]
        return trailer, offsets, in_streams, pos
    header = _OBJ_HEADER.match(data, pos)
    if header is None:
        raise Unsupported("no cross-reference")
    dictionary, raw = _split_stream(_body(data, header.end(), m.start()))
    if raw is None or b"/XRef" not in dictionary:
        raise Unsupported("no cross-reference stream")
    widths = _key_ints(dictionary, b"W")
    size = _key_int(dictionary, b"Size")
    if widths is None or size is None or len(widths) != 3:
        raise Unsupported("cross-reference stream fields")
    index = _key_ints(dictionary, b"Index") or [0, size]
    table = _inflate(dictionary, raw)
    w0, w1, w2 = widths
    row = w0 + w1 + w2
    at = 0
    for first, count in zip(index[::2], index[1::2], strict=True):
        for k in range(count):
            entry = table[at : at + row]
            at += row
            if len(entry) != row:
                raise Unsupported("short cross-reference stream")
            kind = int.from_bytes(entry[:w0], "big") if w0 else 1
            f2 = int.from_bytes(entry[w0 : w0 + w1], "big")
            f3 = int.from_bytes(entry[w0 + w1 :], "big") if w2 else 0
            if kind == 1:
                offsets[(first + k, f3)] = f2
            elif kind == 2:
                in_streams.setdefault(f2, []).append(first + k)
    offsets.pop((int(header.group(1)), int(header.group(2))), None)
    return dictionary, offsets, in_streams, pos


def _parse(data: bytes) -> _Letter:
    if not data.startswith(b"%PDF-"):
        raise Unsupported("not a PDF")
    trailer, offsets, in_streams, xref_at = _read_xref(data)
    if b"/Prev" in trailer or b"/Encrypt" in trailer:
        raise Unsupported("incremental update or encryption")
    root = _key_ref(trailer, b"Root")
    if root is None:
        raise Unsupported("no /Root")
    objects: dict[tuple[int, int], tuple[bytes, bytes | None]] = {}
    # Each object ends where the next one (or the cross-reference) starts: stream data may
    # contain the bytes "endobj", so the end is never searched for.
    ordered = sorted(offsets.items(), key=lambda item: item[1])
    bounds = [*(off for _, off in ordered[1:]), xref_at]
    for (key, off), end in zip(ordered, bounds, strict=True):
        header = _OBJ_HEADER.match(data, off)
        if header is None or (int(header.group(1)), int(header.group(2))) != key:
            raise Unsupported("cross-reference offset does not point at its object")
        objects[key] = _split_stream(_body(data, header.end(), end))
    skip = {root}
    info = _key_ref(trailer, b"Info")
    if info is not None:
        skip.add(info)
    for stream_number, numbers in in_streams.items():
        container = objects.get((stream_number, 0))
        if container is None or container[1] is None:
            raise Unsupported("missing object stream")
        dictionary, raw = container
        n, first = _key_int(dictionary, b"N"), _key_int(dictionary, b"First")
        if n is None or first is None:
            raise Unsupported("object stream fields")
        content = _inflate(dictionary, raw)
        pairs = [int(x) for x in content[:first].split()]
        starts = [*pairs[1::2], len(content) - first]
        if len(pairs) != 2 * n or any(a >= b for a, b in pairwise(starts)):
            raise Unsupported("object stream offsets out of order")
        for i, number in enumerate(pairs[::2]):
            text = content[first + starts[i] : first + starts[i + 1]].strip()
            objects[(number, 0)] = (_plain(text), None)
        skip.add((stream_number, 0))
        if sorted(pairs[::2]) != sorted(numbers):
            raise Unsupported("object stream does not match the cross-reference")
    catalog = objects.get(root)
    if catalog is None:
        raise Unsupported("missing catalog")
    pages = _key_ref(catalog[0], b"Pages")
    if pages is None or pages not in objects:
        raise Unsupported("missing page tree")
    page_tree = objects[pages][0]
    count = _key_int(page_tree, b"Count")
    if count is None or b"/Parent" in page_tree or not page_tree.startswith(b"<<"):
        raise Unsupported("page tree root")
    if _count_pages(objects, pages, depth=0) != count:
        raise Unsupported("/Count does not match the page tree")
    return _Letter(objects, pages, count, skip)


def _count_pages(objects: dict, node: tuple[int, int], depth: int) -> int:
    """Leaves under a page tree node, counted (a /Count is not taken on trust)."""
    if depth > 32 or node not in objects:
        raise Unsupported("page tree too deep or broken")
    text = objects[node][0]
    if not _PAGES_NODE.search(text):
        return 1
    kids = _KIDS.search(text)
    if kids is None:
        raise Unsupported("page tree node without /Kids")
    refs = _REF.findall(kids.group(1))
    return sum(_count_pages(objects, (int(a), int(b)), depth + 1) for a, b in refs)


def join(pdfs: Sequence[bytes] | Iterable[bytes]) -> bytes:
    """One PDF with the pages of `pdfs` in order; raises Unsupported (nothing written) when a
    file is not in the layout this module copies."""
    root_number, pages_number = 1, 2
    next_number = 3
    chunks: list[bytes] = [b"%PDF-1.7\n%\xb5\xed\xae\xfb\n"]
    size = len(chunks[0])
    offsets: list[int] = [0, 0, 0]
    kids: list[int] = []
    total_pages = 0
    for data in pdfs:
        try:
            letter = _parse(data)
        except (IndexError, KeyError, ValueError) as e:  # damaged numbers, short tables ...
            if isinstance(e, Unsupported):
                raise
            raise Unsupported(f"unreadable structure: {e}") from e
        mapping: dict[tuple[int, int], int] = {}
        for key in letter.objects:
            if key not in letter.skip:
                mapping[key] = next_number
                next_number += 1
        for key, (dictionary, raw) in letter.objects.items():
            if key in letter.skip:
                continue
            text = _renumber(dictionary, mapping)
            if key == letter.pages:
                text = b"<</Parent %d 0 R " % pages_number + text[2:]
            head = b"%d 0 obj\n" % mapping[key]
            if raw is None:
                parts = [head, text, b"\nendobj\n"]
            else:
                parts = [head, text, b"\nstream\n", raw, b"\nendstream\nendobj\n"]
            offsets.append(size)
            for part in parts:
                size += len(part)
            chunks.extend(parts)
        kids.append(mapping[letter.pages])
        total_pages += letter.page_count
    if not kids:
        raise Unsupported("nothing to join")
    tail_objects = [
        (root_number, b"<</Type /Catalog /Pages %d 0 R>>" % pages_number),
        (
            pages_number,
            b"<</Type /Pages /Kids ["
            + b" ".join(b"%d 0 R" % k for k in kids)
            + b"] /Count %d>>" % total_pages,
        ),
    ]
    for number, text in tail_objects:
        offsets[number] = size
        part = b"%d 0 obj\n%s\nendobj\n" % (number, text)
        chunks.append(part)
        size += len(part)
    xref = [b"xref\n0 %d\n" % next_number, b"0000000000 65535 f\r\n"]
    xref.extend(b"%010d 00000 n\r\n" % off for off in offsets[1:])
    chunks.extend(xref)
    chunks.append(
        b"trailer\n<</Size %d /Root %d 0 R>>\nstartxref\n%d\n%%%%EOF\n"
        % (next_number, root_number, size)
    )
    return b"".join(chunks)
