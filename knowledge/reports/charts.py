"""Server-rendered charts of the listening reports: inline SVG, no script, no external asset.

Each function takes figures already aggregated by the selectors and returns SVG markup with
a ``<title>``/``<desc>`` (``role="img"``) for screen readers; the pages show the same figures
in a table beside each chart. Text is escaped (``format_html``); colours come from CSS
classes (``static/console/kb_reports.css``), so the tenant's brand colour applies.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from itertools import count

from django.utils.formats import date_format, number_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 44, 44, 12, 28
_ids = count(1)


@dataclass(frozen=True)
class _Frame:
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def plot_w(self) -> float:
        return self.width - LEFT - RIGHT

    @property
    def plot_h(self) -> float:
        return self.height - TOP - BOTTOM

    def x(self, share: float) -> float:
        return round(LEFT + share * self.plot_w, 1)

    def y(self, share: float) -> float:
        return round(TOP + (1 - share) * self.plot_h, 1)


def _svg(*, title: str, desc: str, body: SafeString, frame: _Frame, css: str) -> SafeString:
    n = next(_ids)
    return format_html(
        '<svg class="kb-chart {}" viewBox="0 0 {} {}" role="img" aria-labelledby="kbc{}t kbc{}d" '
        'preserveAspectRatio="xMidYMid meet" focusable="false">'
        '<title id="kbc{}t">{}</title><desc id="kbc{}d">{}</desc>{}</svg>',
        css, frame.width, frame.height, n, n, n, title, n, desc, body)


def _axes(frame: _Frame, *, left_max: str, right_max: str | None, x_labels: list[tuple[float, str]]) -> SafeString:
    parts = [format_html('<line class="kb-chart-axis" x1="{}" y1="{}" x2="{}" y2="{}"/>',
                         LEFT, frame.y(0), frame.width - RIGHT, frame.y(0)),
             format_html('<text class="kb-chart-label" x="{}" y="{}" text-anchor="end">{}</text>',
                         LEFT - 6, frame.y(1) + 4, left_max),
             format_html('<text class="kb-chart-label" x="{}" y="{}" text-anchor="end">0</text>',
                         LEFT - 6, frame.y(0) + 4),
             format_html('<line class="kb-chart-grid" x1="{}" y1="{}" x2="{}" y2="{}"/>',
                         LEFT, frame.y(1), frame.width - RIGHT, frame.y(1))]
    if right_max is not None:
        parts.append(format_html('<text class="kb-chart-label" x="{}" y="{}">{}</text>',
                                 frame.width - RIGHT + 6, frame.y(1) + 4, right_max))
        parts.append(format_html('<text class="kb-chart-label" x="{}" y="{}">0%</text>',
                                 frame.width - RIGHT + 6, frame.y(0) + 4))
    for share, label in x_labels:
        parts.append(format_html('<text class="kb-chart-label" x="{}" y="{}" text-anchor="middle">{}</text>',
                                 frame.x(share), frame.height - 8, label))
    return mark_safe("".join(parts))


def _day_labels(days: list[date]) -> list[tuple[float, str]]:
    if not days:
        return []
    n = len(days)
    picks = sorted({0, n // 2, n - 1})
    return [((i + 0.5) / n, date_format(days[i], "SHORT_DATE_FORMAT")) for i in picks]


def _polyline(points: list[tuple[float, float]], css: str) -> SafeString:
    if not points:
        return mark_safe("")
    coords = " ".join(f"{x},{y}" for x, y in points)
    return format_html('<polyline class="{}" fill="none" points="{}"/>', css, coords)


def _rate_segments(frame: _Frame, values: list[float | None], css: str) -> SafeString:
    """A line through the days that have a rate (days without one break the line)."""
    n = len(values)
    segments, current = [], []
    for i, value in enumerate(values):
        if value is None:
            if current:
                segments.append(current)
            current = []
            continue
        current.append((frame.x((i + 0.5) / n), frame.y(min(max(value, 0.0), 1.0))))
    if current:
        segments.append(current)
    dots = format_html_join("", '<circle class="{}-dot" cx="{}" cy="{}" r="2.5"/>',
                            ((css, x, y) for segment in segments for x, y in segment))
    return mark_safe("".join(_polyline(s, css) for s in segments) + dots)


def bars_with_rate(*, days: list[date], bars: list[int], rates: list[float | None], title: str,
                   desc: str) -> SafeString:
    """Daily counts as bars (left axis) with a daily rate as a line (right axis, 0–100%)."""
    frame = _Frame()
    top = max(bars or [0]) or 1
    n = max(len(days), 1)
    width = frame.plot_w / n
    rects = format_html_join("", '<rect class="kb-chart-bar" x="{}" y="{}" width="{}" height="{}"/>', (
        (round(LEFT + i * width + width * 0.15, 1), frame.y(value / top), round(width * 0.7, 1),
         round(frame.plot_h * value / top, 1)) for i, value in enumerate(bars) if value))
    body = mark_safe(_axes(frame, left_max=number_format(top), right_max="100%", x_labels=_day_labels(days))
                     + rects + _rate_segments(frame, rates, "kb-chart-line"))
    return _svg(title=title, desc=desc, body=body, frame=frame, css="kb-chart-bars")


def rate_line(*, days: list[date], rates: list[float | None], title: str, desc: str) -> SafeString:
    """A daily rate (0–100%) as a line."""
    frame = _Frame()
    body = mark_safe(_axes(frame, left_max="100%", right_max=None, x_labels=_day_labels(days))
                     + _rate_segments(frame, rates, "kb-chart-line"))
    return _svg(title=title, desc=desc, body=body, frame=frame, css="kb-chart-rate")


def pareto_curve(*, curve: list[tuple[int, int]], base: int, total: int, for_80: int, title: str,
                 desc: str, x_label: str) -> SafeString:
    """Cumulative share of views (up) against the share of articles, most viewed first
    (across); a guide at 80% of views and a marker where the curve reaches it."""
    frame = _Frame()
    points = [(frame.x(0), frame.y(0))]
    if base and total:
        points += [(frame.x(rank / base), frame.y(running / total)) for rank, running in curve]
        last_rank = curve[-1][0] if curve else 0
        if last_rank < base:
            points.append((frame.x(1), frame.y(1)))
    guide = format_html('<line class="kb-chart-guide" x1="{}" y1="{}" x2="{}" y2="{}"/>',
                        LEFT, frame.y(0.8), frame.width - RIGHT, frame.y(0.8))
    marker = mark_safe("")
    if base and for_80:
        mx = frame.x(for_80 / base)
        marker = format_html(
            '<line class="kb-chart-guide" x1="{}" y1="{}" x2="{}" y2="{}"/>'
            '<circle class="kb-chart-line-dot" cx="{}" cy="{}" r="4"/>', mx, frame.y(0), mx, frame.y(0.8),
            mx, frame.y(0.8))
    labels = [(0.0, "0%"), (0.5, "50%"), (1.0, "100%")]
    axes = _axes(frame, left_max="100%", right_max=None, x_labels=labels)
    caption = format_html('<text class="kb-chart-label" x="{}" y="{}" text-anchor="start">80%</text>',
                          LEFT + 4, frame.y(0.8) - 4)
    x_caption = format_html('<text class="kb-chart-label" x="{}" y="{}" text-anchor="end">{}</text>',
                            frame.width - RIGHT, frame.y(0) - 6, x_label)
    body = mark_safe(axes + guide + caption + x_caption + _polyline(points, "kb-chart-line") + marker)
    return _svg(title=title, desc=desc, body=body, frame=frame, css="kb-chart-pareto")
