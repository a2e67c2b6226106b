"""A rollout's decision record as one self-contained HTML page: canary against production, per step.

Plain HTML and inline SVG (no scripts, no fonts, nothing fetched), so the page opens anywhere and
can be attached to a ticket. Every value from the record is escaped.
"""

from __future__ import annotations

from html import escape

# (key in the record's numbers, label, colour)
VERSIONS = (("prod", "production", "#1f6fb4"), ("canary", "canary", "#c8102e"))
WIDTH, HEIGHT, MARGIN = 360, 140, 36

STYLE = """
body { font-family: sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: .5em 0; }
td, th { border: 1px solid #ccc; padding: .2em .6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.pass { color: #227a22; } .fail { color: #c8102e; } .inconclusive { color: #b8860b; }
.charts { display: flex; gap: 2em; flex-wrap: wrap; }
"""


def rollout_page(record: dict) -> str:
    """The page of one rollout: who, when, images, options, and each step with its plots."""
    title = f"{record.get('app')}: canary rollout {record.get('number')}"
    summary = {
        "status": record.get("status"),
        "verdict": record.get("verdict"),
        "reason": record.get("reason"),
        "by": record.get("owner"),
        "started": record.get("started"),
        "ended": record.get("ended"),
        "canary": record.get("canary_image"),
        "production": record.get("production_image"),
        "dry run": record.get("dry_run"),
    }
    options = record.get("options") or {}
    parts = [
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{escape(title)}</title>",
        f"<style>{STYLE}</style></head><body><h1>{escape(title)}</h1>",
        _rows_table({k: v for k, v in summary.items() if v is not None}),
        "<h2>Options</h2>",
        _rows_table(options),
    ]
    steps = record.get("steps") or []
    parts += [_step_section(step) for step in steps] or ["<p>No step was judged.</p>"]
    parts.append("</body></html>")
    return "\n".join(parts)


def _step_section(step: dict) -> str:
    verdict = str(step.get("verdict"))
    numbers = step.get("numbers") or {}
    reasons = "".join(f"<li>{escape(str(r))}</li>" for r in step.get("reasons") or [])
    windows = {label: (numbers.get(key) or {}).get("windows") or [] for key, label, _colour in VERSIONS}
    error_rates = {label: [_ratio(w) for w in series] for label, series in windows.items()}
    p99s = {label: [_milliseconds(w.get("p99")) for w in series] for label, series in windows.items()}
    held = f" (held {escape(str(step['held']))} intervals)" if step.get("held") else ""
    return "\n".join(
        [
            f"<h2>Step at {escape(str(step.get('weight')))}%: "
            f"<span class='{escape(verdict)}'>{escape(verdict)}</span>{held}</h2>",
            f"<ul>{reasons}</ul>" if reasons else "",
            _numbers_table(numbers),
            "<div class='charts'>",
            _chart("5xx share per window (%)", error_rates),
            _chart("p99 per window (ms)", p99s),
            "</div>",
        ]
    )


def _numbers_table(numbers: dict) -> str:
    head = "<tr><th>version</th><th>requests</th><th>5xx</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th></tr>"
    rows = []
    for key, label, _colour in VERSIONS:
        n = numbers.get(key) or {}
        cells = [n.get("requests"), n.get("errors")] + [_milliseconds(n.get(q)) for q in ("p50", "p95", "p99")]
        rows.append(f"<tr><td>{label}</td>" + "".join(f"<td>{_cell(c)}</td>" for c in cells) + "</tr>")
    return f"<table>{head}{''.join(rows)}</table>"


def _chart(title: str, series: dict[str, list[float | None]]) -> str:
    """A line per version over the step's windows; a window without requests is a gap."""
    values = [v for points in series.values() for v in points if v is not None]
    top = max(values, default=0) or 1.0
    count = max((len(points) for points in series.values()), default=0)
    inner_w, inner_h = WIDTH - 2 * MARGIN, HEIGHT - 2 * MARGIN

    def xy(index: int, value: float) -> tuple[float, float]:
        x = MARGIN + (inner_w * index / (count - 1) if count > 1 else inner_w / 2)
        return round(x, 1), round(MARGIN + inner_h * (1 - value / top), 1)

    shapes = [
        f"<line x1='{MARGIN}' y1='{HEIGHT - MARGIN}' x2='{WIDTH - MARGIN}' y2='{HEIGHT - MARGIN}' stroke='#999'/>",
        f"<line x1='{MARGIN}' y1='{MARGIN}' x2='{MARGIN}' y2='{HEIGHT - MARGIN}' stroke='#999'/>",
        f"<text x='2' y='{MARGIN + 4}' font-size='10'>{top:.4g}</text>",
        f"<text x='2' y='{HEIGHT - MARGIN + 4}' font-size='10'>0</text>",
        f"<text x='{MARGIN}' y='{HEIGHT - 8}' font-size='10'>windows 1..{count}</text>",
    ]
    for position, (key, label, colour) in enumerate(VERSIONS):
        points = series.get(label, [])
        for segment in _segments(points):
            line = " ".join("{},{}".format(*xy(i, points[i])) for i in segment)
            shapes.append(f"<polyline class='{key}' points='{line}' fill='none' stroke='{colour}' stroke-width='2'/>")
        # A dot per window too: a lone window between gaps has no line.
        shapes += [
            "<circle cx='{}' cy='{}' r='2.5' fill='{}'/>".format(*xy(i, v), colour)
            for i, v in enumerate(points)
            if v is not None
        ]
        shapes.append(
            f"<text x='{WIDTH - MARGIN - 70}' y='{12 + 12 * position}' font-size='10' fill='{colour}'>{label}</text>"
        )
    svg = f"<svg xmlns='http://www.w3.org/2000/svg' width='{WIDTH}' height='{HEIGHT}'>{''.join(shapes)}</svg>"
    return f"<figure><figcaption>{escape(title)}</figcaption>{svg}</figure>"


def _segments(points: list[float | None]) -> list[list[int]]:
    """Runs of consecutive windows that have a value, as their indexes."""
    runs: list[list[int]] = [[]]
    for index, value in enumerate(points):
        if value is None:
            runs.append([])
        else:
            runs[-1].append(index)
    return [run for run in runs if run]


def _rows_table(fields: dict) -> str:
    rows = "".join(f"<tr><th>{escape(str(k))}</th><td>{_cell(v)}</td></tr>" for k, v in fields.items())
    return f"<table>{rows}</table>"


def _ratio(window: dict) -> float | None:
    return 100 * window["errors"] / window["requests"] if window.get("requests") else None


def _milliseconds(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return escape(str(value))
