"""Static SVG plots written as text: a histogram and horizontal box-and-strip plots.

Every label passes through ``markupsafe.escape``: student names and test names are untrusted."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from markupsafe import Markup, escape

from hfcourse.classreport.aggregate import box_stats

__all__ = ["BoxRow", "boxes", "heat_color", "histogram"]

_FONT = 'font-family="system-ui, sans-serif" font-size="12"'


def heat_color(fraction: float | None) -> str:
    """Red (0) through yellow to green (1); grey when there is no value."""
    if fraction is None:
        return "#e5e5e5"
    return f"hsl({round(120 * max(0.0, min(1.0, fraction)))}, 70%, 72%)"


def _num(x: float) -> str:
    return f"{x:.1f}"


def histogram(values: list[float], *, label: str, bins: int = 10, width: int = 520, height: int = 220) -> Markup:
    """Counts of ``values`` (fractions in [0, 1]) in ``bins`` equal bins from 0 % to 100 %."""
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, max(0, int(v * bins)))] += 1
    left, right, top, bottom = 36, 24, 14, 34
    pw, ph = width - left - right, height - top - bottom
    peak = max(counts + [1])
    bw = pw / bins
    parts = [f'<svg class="plot histogram" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}" {_FONT}>',
             f"<title>{escape(label)}</title>"]
    for i in range(peak + 1):
        if peak > 8 and i % max(1, peak // 4):
            continue
        y = top + ph - ph * i / peak
        parts.append(f'<line x1="{left}" x2="{left + pw}" y1="{_num(y)}" y2="{_num(y)}" stroke="#ddd"/>'
                     f'<text x="{left - 6}" y="{_num(y + 4)}" text-anchor="end">{i}</text>')
    for i, n in enumerate(counts):
        x, h = left + i * bw, ph * n / peak
        parts.append(f'<rect class="bar" x="{_num(x + 2)}" y="{_num(top + ph - h)}" width="{_num(bw - 4)}" '
                     f'height="{_num(h)}" fill="{heat_color((i + 0.5) / bins)}" stroke="#555">'
                     f"<title>{i * 100 // bins}–{(i + 1) * 100 // bins} %: {n}</title></rect>")
    for i in range(0, bins + 1, 2):
        x = left + i * bw
        parts.append(f'<text x="{_num(x)}" y="{top + ph + 16}" text-anchor="middle">{i * 100 // bins}%</text>')
    parts.append(f'<line x1="{left}" x2="{left + pw}" y1="{top + ph}" y2="{top + ph}" stroke="#333"/></svg>')
    return Markup("".join(parts))


@dataclass
class BoxRow:
    """One row of a box plot: a label and (value, tooltip) points; an optional threshold mark."""

    label: str
    points: list[tuple[float, str]]
    threshold: float | None = None
    label_zh: str = ""


def boxes(rows: list[BoxRow], *, label: str, x_max: float, tick: Callable[[float], str], ticks: int = 5,
          width: int = 720, row_height: int = 34, label_width: int = 230) -> Markup:
    """Horizontal box plots (min, quartiles, median, max) with every point drawn over its box."""
    left, right, top = label_width, 16, 10
    pw = width - left - right
    height = top + row_height * len(rows) + 26

    def x(v: float) -> float:
        return left + pw * max(0.0, min(v, x_max)) / x_max

    parts = [f'<svg class="plot boxes" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}" {_FONT}>',
             f"<title>{escape(label)}</title>"]
    bottom = top + row_height * len(rows)
    for i in range(ticks + 1):
        v = x_max * i / ticks
        parts.append(f'<line x1="{_num(x(v))}" x2="{_num(x(v))}" y1="{top}" y2="{bottom}" stroke="#e3e3e3"/>'
                     f'<text x="{_num(x(v))}" y="{bottom + 16}" text-anchor="middle">{escape(tick(v))}</text>')
    for r, row in enumerate(rows):
        cy = top + row_height * r + row_height / 2
        text = escape(row.label)
        if row.label_zh:
            text = f'<tspan lang="en">{text}</tspan><tspan lang="zh">{escape(row.label_zh)}</tspan>'
        parts.append(f'<text x="{left - 8}" y="{_num(cy + 4)}" text-anchor="end">{text}</text>')
        stats = box_stats([v for v, _ in row.points])
        if stats is not None:
            lo, q1, med, q3, hi = stats
            parts.append(f'<line x1="{_num(x(lo))}" x2="{_num(x(hi))}" y1="{_num(cy)}" y2="{_num(cy)}" stroke="#666"/>'
                         f'<rect class="box" x="{_num(x(q1))}" y="{_num(cy - 9)}" width="{_num(max(x(q3) - x(q1), 1))}" '
                         f'height="18" fill="#cfe3ff" stroke="#36c"/>'
                         f'<line x1="{_num(x(med))}" x2="{_num(x(med))}" y1="{_num(cy - 9)}" y2="{_num(cy + 9)}" '
                         f'stroke="#124" stroke-width="2"/>')
        if row.threshold is not None:
            parts.append(f'<line class="threshold" x1="{_num(x(row.threshold))}" x2="{_num(x(row.threshold))}" '
                         f'y1="{_num(cy - 14)}" y2="{_num(cy + 14)}" stroke="#c00" stroke-dasharray="4 3" stroke-width="2">'
                         f"<title>threshold {escape(tick(row.threshold))}</title></line>")
        for k, (v, tip) in enumerate(row.points):
            jitter = ((k * 7) % 11 - 5) * 1.4
            parts.append(f'<circle class="point" cx="{_num(x(v))}" cy="{_num(cy + jitter)}" r="3.5" fill="#222" '
                         f'fill-opacity="0.55"><title>{escape(tip)}</title></circle>')
    parts.append("</svg>")
    return Markup("".join(parts))
