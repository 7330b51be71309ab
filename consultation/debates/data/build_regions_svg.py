"""Build regions.json, the SVG outlines of the 18 French regions, from an open-licensed package.

A development tool, never run by the product. Source: the npm package ``@gouvfr/dsfr-chart``
(the French State's design-system charts, MIT licence, (c) DINUM), whose ``MapChart`` component
ships the outlines of the 13 metropolitan regions in a 1010 x 1010 projected frame and of the five
overseas regions each in its own small frame. See SOURCE.md.

Usage (from the repository root)::

    npm pack @gouvfr/dsfr-chart@2.0.4 && tar xzf gouvfr-dsfr-chart-2.0.4.tgz
    python consultation/debates/data/build_regions_svg.py package/dist/MapChart/MapChart.js

The script parses each region's path, turns curves into straight segments to their end points,
simplifies every ring with Douglas-Peucker, drops rings that become too small, places the overseas
regions as insets in a column on the left of the metropolitan map, and writes integer coordinates.
"""

from __future__ import annotations

import json
import math
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

# ISO 3166-2 code in the source -> INSEE region code (the primary key of our region table).
ISO_TO_INSEE = {
    "FR-971": "01",
    "FR-972": "02",
    "FR-973": "03",
    "FR-974": "04",
    "FR-976": "06",
    "FR-IDF": "11",
    "FR-CVL": "24",
    "FR-BFC": "27",
    "FR-NOR": "28",
    "FR-HDF": "32",
    "FR-GES": "44",
    "FR-PDL": "52",
    "FR-BRE": "53",
    "FR-NAQ": "75",
    "FR-OCC": "76",
    "FR-ARA": "84",
    "FR-PAC": "93",
    "FR-20R": "94",
}
OVERSEAS = ["01", "02", "03", "04", "06"]  # top to bottom in the inset column

INSET_SIZE = 120  # each overseas region is scaled to fit a square of this side
INSET_GAP = 16
MARGIN = 10
TOLERANCE = 1.2  # Douglas-Peucker tolerance, in output units
MIN_RING_AREA = 6.0  # rings smaller than this (output units squared) are dropped

Point = tuple[float, float]

TOKEN = re.compile(r"[A-Za-z]|-?(?:\d+\.?\d*|\.\d+)(?:e-?\d+)?")
ARITY = {"m": 2, "l": 2, "h": 1, "v": 1, "c": 6, "s": 4, "q": 4, "t": 2, "a": 7, "z": 0}


def parse_path(d: str) -> list[list[Point]]:
    """Absolute rings of a path; curves and arcs become a straight segment to their end point."""
    tokens = TOKEN.findall(d)
    rings: list[list[Point]] = []
    ring: list[Point] = []
    x = y = start_x = start_y = 0.0
    i, command = 0, ""
    while i < len(tokens):
        if tokens[i].isalpha():
            command = tokens[i]
            i += 1
            if command in "zZ":
                if ring:
                    rings.append(ring)
                ring, x, y = [], start_x, start_y
                continue
        lower, relative = command.lower(), command.islower()
        args = [float(t) for t in tokens[i : i + ARITY[lower]]]
        i += ARITY[lower]
        if lower == "h":
            x = x + args[0] if relative else args[0]
        elif lower == "v":
            y = y + args[0] if relative else args[0]
        else:
            ex, ey = args[-2], args[-1]
            x, y = (x + ex, y + ey) if relative else (ex, ey)
        if lower == "m":
            if ring:
                rings.append(ring)
            ring, start_x, start_y = [(x, y)], x, y
            command = "l" if relative else "L"  # further pairs after a moveto are linetos
        else:
            ring.append((x, y))
    if ring:
        rings.append(ring)
    return rings


def _distance(p: Point, a: Point, b: Point) -> float:
    (px, py), (ax, ay), (bx, by) = p, a, b
    dx, dy = bx - ax, by - ay
    if dx == dy == 0:
        return math.hypot(px - ax, py - ay)
    return abs(dy * px - dx * py + bx * ay - by * ax) / math.hypot(dx, dy)


def douglas_peucker(points: list[Point], tolerance: float) -> list[Point]:
    """The Douglas-Peucker simplification of an open polyline (iterative, no recursion limit)."""
    if len(points) < 3:
        return points
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        index, farthest = 0, 0.0
        for k in range(first + 1, last):
            distance = _distance(points[k], points[first], points[last])
            if distance > farthest:
                index, farthest = k, distance
        if farthest > tolerance:
            keep[index] = True
            stack += [(first, index), (index, last)]
    return [p for p, kept in zip(points, keep, strict=True) if kept]


def simplify_ring(ring: list[Point], tolerance: float) -> list[Point]:
    """Simplify a closed ring, split at its farthest point from the start so both halves move."""
    if len(ring) < 4:
        return ring
    far = max(range(len(ring)), key=lambda k: math.dist(ring[0], ring[k]))
    first = douglas_peucker(ring[: far + 1], tolerance)
    second = douglas_peucker([*ring[far:], ring[0]], tolerance)
    return first[:-1] + second[:-1]


def area(ring: list[Point]) -> float:
    return abs(
        sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True))
        / 2
    )


def bbox(rings: list[list[Point]]) -> tuple[float, float, float, float]:
    xs = [x for ring in rings for x, _ in ring]
    ys = [y for ring in rings for _, y in ring]
    return min(xs), min(ys), max(xs), max(ys)


def transform(rings: list[list[Point]], scale: float, dx: float, dy: float) -> list[list[Point]]:
    return [[(x * scale + dx, y * scale + dy) for x, y in ring] for ring in rings]


def to_path(rings: list[list[Point]]) -> str:
    """Compact path data: integer coordinates, relative moves from rounded points (no drift)."""
    parts = []
    cx = cy = 0
    for ring in rings:
        points = [(round(x), round(y)) for x, y in ring]
        deduped = [p for k, p in enumerate(points) if k == 0 or p != points[k - 1]]
        if len(deduped) < 3:
            continue
        (x0, y0), rest = deduped[0], deduped[1:]
        segment = [f"m{x0 - cx} {y0 - cy}" if parts else f"M{x0} {y0}"]
        px, py = x0, y0
        for x, y in rest:
            segment.append(f"{x - px} {y - py}")
            px, py = x, y
        parts.append(segment[0] + "l" + " ".join(segment[1:]) + "z")
        cx, cy = x0, y0  # after z the current point is the ring's start
    return "".join(parts).replace(" -", "-")


def extract(source: str) -> dict[str, list[list[Point]]]:
    """The rings of each region path in the bundled Vue component, keyed by INSEE code."""
    found: dict[str, list[list[Point]]] = {}
    for match in re.finditer(r'class: "(FR-[0-9A-Z]+)",[^;]{0,300}?d: "([^"]*)"', source):
        code = ISO_TO_INSEE.get(match.group(1))
        if code and code not in found:
            found[code] = parse_path(match.group(2))
    missing = sorted(set(ISO_TO_INSEE.values()) - set(found))
    if missing:
        raise SystemExit(f"regions missing from the source: {missing}")
    return found


def build(source: str) -> dict:
    regions = extract(source)
    metropolitan = {code: rings for code, rings in regions.items() if code not in OVERSEAS}
    mx0, my0, mx1, my1 = bbox([ring for rings in metropolitan.values() for ring in rings])
    inset_left = MARGIN
    map_left = inset_left + INSET_SIZE + 3 * MARGIN
    placed: dict[str, list[list[Point]]] = {}
    for code, rings in metropolitan.items():
        placed[code] = transform(rings, 1.0, map_left - mx0, MARGIN - my0)
    insets = []
    for position, code in enumerate(OVERSEAS):
        x0, y0, x1, y1 = bbox(regions[code])
        scale = INSET_SIZE / max(x1 - x0, y1 - y0)
        top = MARGIN + position * (INSET_SIZE + INSET_GAP)
        # Centre the shape in its square.
        dx = inset_left + (INSET_SIZE - (x1 - x0) * scale) / 2 - x0 * scale
        dy = top + (INSET_SIZE - (y1 - y0) * scale) / 2 - y0 * scale
        placed[code] = transform(regions[code], scale, dx, dy)
        insets.append({"code": code, "x": inset_left, "y": top, "size": INSET_SIZE})
    width = round(map_left + (mx1 - mx0) + MARGIN)
    height = round(max(my1 - my0, len(OVERSEAS) * (INSET_SIZE + INSET_GAP)) + 2 * MARGIN)
    paths = {}
    for code in sorted(placed):
        rings = [simplify_ring(ring, TOLERANCE) for ring in placed[code]]
        kept = [ring for ring in rings if len(ring) >= 3 and area(ring) >= MIN_RING_AREA]
        if not kept:  # a tiny island region: keep its largest ring whatever its size
            kept = [max(rings, key=area)]
        paths[code] = to_path(kept)
    return {
        "source": "@gouvfr/dsfr-chart 2.0.4, dist/MapChart (MIT licence, (c) 2021 DINUM)",
        "view_box": f"0 0 {width} {height}",
        "insets": insets,
        "paths": paths,
    }


def main(argv: list[str]) -> None:
    if len(argv) != 2:
        raise SystemExit("usage: build_regions_svg.py path/to/package/dist/MapChart/MapChart.js")
    result = build(Path(argv[1]).read_text(encoding="utf-8"))
    out = HERE / "regions.json"
    out.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {out} ({out.stat().st_size} bytes, {len(result['paths'])} regions)")


if __name__ == "__main__":
    main(sys.argv)
