"""The state diagram as server-drawn SVG, laid out from the same MOVES table the code runs."""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape  # nosec B406 - escapes output, parses nothing

from ..workflow import MOVES, Status

NODE_W, NODE_H, GAP, TOP = 150, 44, 130, 40


@dataclass(frozen=True)
class Edge:
    trigger: str
    src: str
    dest: str
    label: str
    signoff: bool


def edges(translate: bool = True) -> list[Edge]:
    return [
        Edge(m.trigger, src, m.dest, str(m.label) if translate else m.trigger, m.needs_signoff)
        for m in MOVES
        for src in m.sources
    ]


def svg(current: str | None = None, *, translate: bool = True) -> str:
    """A left-to-right graph: forward moves are straight arrows, moves back arc below."""
    states = [s for s in Status]
    x_of = {s.value: 20 + i * (NODE_W + GAP) for i, s in enumerate(states)}
    width = 20 + len(states) * (NODE_W + GAP) - GAP + 20
    all_edges = edges(translate)
    back = [e for e in all_edges if _index(e.dest) < _index(e.src)]
    height = TOP + NODE_H + 40 + 45 * max((_index(e.src) - _index(e.dest) for e in back), default=0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'class="workflow-diagram" width="100%" '
        f'style="min-width:760px;max-width:{width}px;height:auto" '
        'role="img" aria-labelledby="wf-title">',
        '<title id="wf-title">Workflow</title>',
        "<defs>"
        '<marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="#444"/></marker></defs>',
    ]
    mid_y = TOP + NODE_H / 2
    for e in all_edges:
        x1 = x_of[e.src] + NODE_W / 2
        x2 = x_of[e.dest] + NODE_W / 2
        dash = "" if e.signoff else ' stroke-dasharray="5,4"'
        text = escape(e.label + (" ✎" if e.signoff else ""))
        attrs = f'data-trigger="{e.trigger}" data-from="{e.src}" data-to="{e.dest}"'
        if _index(e.dest) == _index(e.src) + 1:
            sx, ex = x_of[e.src] + NODE_W, x_of[e.dest]
            parts.append(
                f'<g class="edge" {attrs}><line x1="{sx}" y1="{mid_y}" x2="{ex - 2}" y2="{mid_y}" '
                f'stroke="#444" stroke-width="1.6"{dash} marker-end="url(#arrow)"/>'
                f'<text x="{(sx + ex) / 2}" y="{mid_y - 10}" text-anchor="middle" '
                f'font-size="12">{text}</text></g>'
            )
        else:
            span = abs(_index(e.src) - _index(e.dest))
            below = _index(e.dest) < _index(e.src)
            y0 = TOP + NODE_H if below else TOP
            cy = y0 + (90 * span if below else -100)
            label_y = y0 + (45 * span + 14 if below else -44)
            parts.append(
                f'<g class="edge" {attrs}><path d="M{x1},{y0} Q{(x1 + x2) / 2},{cy} '
                f'{x2},{y0 + (2 if below else -2)}" fill="none" stroke="#444" '
                f'stroke-width="1.6"{dash} marker-end="url(#arrow)"/>'
                f'<text x="{(x1 + x2) / 2}" y="{label_y}" text-anchor="middle" '
                f'font-size="12">{text}</text></g>'
            )
    for s in states:
        is_current = s.value == current
        fill = "#ffc107" if is_current else "#f8f9fa"
        stroke = "#212529" if is_current else "#6c757d"
        width_px = 3 if is_current else 1.2
        label = escape(str(s.label) if translate else s.value)
        current_attr = ' aria-current="true"' if is_current else ""
        parts.append(
            f'<g class="state{" current" if is_current else ""}" data-state="{s.value}"'
            f"{current_attr}>"
            f'<rect x="{x_of[s.value]}" y="{TOP}" width="{NODE_W}" height="{NODE_H}" rx="10" '
            f'fill="{fill}" stroke="{stroke}" stroke-width="{width_px}"/>'
            f'<text x="{x_of[s.value] + NODE_W / 2}" y="{TOP + NODE_H / 2 + 5}" '
            f'text-anchor="middle" font-size="14" font-weight="{700 if is_current else 400}">'
            f"{label}</text></g>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _index(status: str) -> int:
    return [s.value for s in Status].index(status)
