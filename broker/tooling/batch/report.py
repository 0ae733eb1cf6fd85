"""The end-of-run report: counts by status and error code, throughput, latency percentiles;
printed to the terminal and written as one static HTML file (inline CSS and SVG, nothing
fetched) that can be mailed to whoever runs eligibility checks.

Everything comes from the checkpoint, so a resumed run reports on all its rows. No personal
data: row counts, codes and timings only.
"""

from __future__ import annotations

import html
import math
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ...sdk import LOCAL_CODES, OUTCOMES, outcome_of
from .checkpoint import Checkpoint

__all__ = [
    "LatencyHistogram",
    "Report",
    "build_report",
    "code_title",
    "paused_text",
    "render_html",
]

_EDGES_MS = tuple(m * 10.0**e for e in range(0, 6) for m in (1, 2, 5))
"""Display bins: 1, 2, 5, 10, 20, 50 ... 500,000 ms."""
_COLOURS = {
    "ok": "#2e7d32",
    "not_found": "#78909c",
    "invalid": "#ef6c00",
    "forbidden": "#6a1b9a",
    "rate_limited": "#f9a825",
    "error": "#c62828",
    "local": "#5d4037",
}


class LatencyHistogram:
    """Log-scale buckets 2 % wide: percentiles within 2 % in constant memory."""

    _BASE = 0.01  # ms
    _STEP = math.log(1.02)

    def __init__(self) -> None:
        self._fine: Counter[int] = Counter()
        self.count = 0

    def add(self, ms: float) -> None:
        index = 0 if ms <= self._BASE else int(math.log(ms / self._BASE) / self._STEP) + 1
        self._fine[index] += 1
        self.count += 1

    def extend(self, values: Iterable[float]) -> LatencyHistogram:
        for value in values:
            self.add(value)
        return self

    def _upper(self, index: int) -> float:
        return self._BASE * math.exp(self._STEP * index)

    def percentile(self, q: float) -> float | None:
        """The ``q``-th percentile in ms (upper edge of its bucket), ``None`` when empty."""
        if not self.count:
            return None
        rank = max(1, math.ceil(q / 100 * self.count))
        seen = 0
        for index in sorted(self._fine):
            seen += self._fine[index]
            if seen >= rank:
                return self._upper(index)
        return self._upper(max(self._fine))

    def bins(self) -> list[tuple[float, float, int]]:
        """``(low_ms, high_ms, count)`` over 1-2-5 edges, trimmed to the populated range."""
        counts = [0] * (len(_EDGES_MS) + 1)
        for index, n in self._fine.items():
            upper = self._upper(index)
            slot = next((i for i, edge in enumerate(_EDGES_MS) if upper <= edge), len(_EDGES_MS))
            counts[slot] += n
        edges = (0.0, *_EDGES_MS, math.inf)
        rows = [(edges[i], edges[i + 1], counts[i]) for i in range(len(counts))]
        used = [i for i, (_, _, n) in enumerate(rows) if n]
        return rows[used[0] : used[-1] + 1] if used else []


def code_title(code: str | None) -> str:
    """What a code means, from the catalogues (best effort; the code is what counts)."""
    if not code:
        return ""
    if code in LOCAL_CODES:
        return LOCAL_CODES[code]
    try:
        from ...errors import BROKER
        from ...registry import providers

        for spec in BROKER:
            if spec.code == code:
                return spec.title
        for provider in providers().values():
            found = provider.errors.by_code(code)
            if found is not None:
                return found.title
    except Exception:
        return ""
    return ""


@dataclass
class Report:
    run_id: str
    dataset: str
    recipient: str
    input: str
    output: str
    state: str
    total: int
    answered: int
    groups: list[tuple[int, str | None, int]]
    outcomes: dict[str, int]
    active_seconds: float
    sessions: int
    created: float
    histogram: LatencyHistogram = field(default_factory=LatencyHistogram)
    session_rows: int = 0
    session_seconds: float = 0.0
    paused_requests: int = 0
    """Requests refused because the provider was in maintenance or its breaker open."""
    paused_seconds: float = 0.0
    """How long the run held its sending for that provider."""

    @property
    def throughput(self) -> float:
        """Rows per second over the time runners were at work (all sessions)."""
        return self.answered / self.active_seconds if self.active_seconds > 0 else 0.0

    def percentiles(self) -> dict[str, float | None]:
        return {f"p{q}": self.histogram.percentile(q) for q in (50, 95, 99)}

    def as_dict(self) -> dict[str, object]:
        return {
            "run_id": self.run_id,
            "dataset": self.dataset,
            "state": self.state,
            "total": self.total,
            "answered": self.answered,
            "outcomes": self.outcomes,
            "by_code": [{"status": s, "code": c, "rows": n} for s, c, n in self.groups],
            "throughput_rows_per_s": round(self.throughput, 1),
            "active_seconds": round(self.active_seconds, 1),
            "provider_paused": {
                "requests": self.paused_requests,
                "seconds": round(self.paused_seconds, 1),
            },
            "latency_ms": {
                k: (None if v is None else round(v, 1)) for k, v in self.percentiles().items()
            },
        }


def build_report(checkpoint: Checkpoint) -> Report:
    spec = checkpoint.spec
    groups = checkpoint.counts()
    outcomes = dict.fromkeys(OUTCOMES, 0)
    for status, _, n in groups:
        outcomes[outcome_of(status)] += n
    sessions = checkpoint.sessions()
    paused_requests, paused_seconds = checkpoint.pauses
    return Report(
        run_id=spec.run_id,
        dataset=spec.dataset + (f" v{spec.version}" if spec.version else ""),
        recipient=spec.recipient,
        input=Path(spec.input).name,
        output=Path(spec.output).name,
        state=checkpoint.state,
        total=spec.total,
        answered=sum(n for _, _, n in groups),
        groups=groups,
        outcomes=outcomes,
        active_seconds=checkpoint.active_seconds(),
        sessions=len(sessions),
        created=spec.created,
        histogram=LatencyHistogram().extend(checkpoint.latencies_ms()),
        paused_requests=paused_requests,
        paused_seconds=paused_seconds,
    )


def _ms(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:,.0f} ms" if value >= 100 else f"{value:.1f} ms"


def paused_text(report: Report) -> str | None:
    """The run's wait for a paused provider, in a sentence (``None`` when it did not wait)."""
    if not report.paused_requests:
        return None
    return (
        f"{report.paused_requests:,} requests met the provider in maintenance or unavailable; "
        f"the run waited {report.paused_seconds:,.0f} s for it and asked them again"
    )


def _paused_html(report: Report) -> str:
    if not report.paused_requests:
        return ""
    return (
        f"<p>Fournisseur en maintenance ou indisponible : {report.paused_requests:,} demandes "
        f"reportées, le lot a attendu {report.paused_seconds:,.0f} s puis les a reposées.</p>\n"
    )


def _edge(value: float) -> str:
    if math.isinf(value):
        return "∞"
    return f"{value / 1000:g} s" if value >= 1000 else f"{value:g} ms"


def _within(value: float, low: float, high: float) -> float:
    """Where ``value`` falls in the bin ``low..high`` (0 to 1), on the log scale of the axis."""
    if math.isinf(high):
        return 0.5
    if low <= 0:
        return min(1.0, value / high)
    return min(1.0, max(0.0, math.log(value / low) / math.log(high / low)))


def _histogram_svg(report: Report) -> str:
    bins = report.histogram.bins()
    if not bins:
        return "<p>Aucune latence mesurée.</p>"
    width, height, pad, top = 720, 280, 40, 56
    peak = max(n for _, _, n in bins)
    bar = (width - 2 * pad) / len(bins)
    base = height - pad
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="Histogramme des latences">',
        f'<line x1="{pad}" y1="{base}" x2="{width - pad}" y2="{base}" stroke="#444"/>',
    ]
    for i, (low, high, n) in enumerate(bins):
        h = 0 if not peak else (base - top) * n / peak
        x = pad + i * bar
        y = base - h
        parts.append(
            f'<rect x="{x + 2:.1f}" y="{y:.1f}" width="{bar - 4:.1f}" height="{h:.1f}" '
            f'fill="#1565c0"><title>{html.escape(_edge(low))} – {html.escape(_edge(high))}: '
            f"{n} lignes</title></rect>"
            f'<text x="{x + bar / 2:.1f}" y="{base + 14}" font-size="10" '
            f'text-anchor="middle">≤ {html.escape(_edge(high))}</text>'
        )
        if n:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{y - 3:.1f}" font-size="10" '
                f'text-anchor="middle">{n:,}</text>'
            )
    for row, (name, value) in enumerate(report.percentiles().items()):
        if value is None:
            continue
        slot = next((i for i, (_, high, _) in enumerate(bins) if value <= high), len(bins) - 1)
        low, high, _ = bins[slot]
        x = pad + (slot + _within(value, low, high)) * bar
        label_y = 14 + 13 * row
        parts.append(
            f'<line x1="{x:.1f}" y1="{label_y + 3}" x2="{x:.1f}" y2="{base}" '
            'stroke="#c62828" stroke-dasharray="4 3"/>'
            f'<text x="{x + 3 if x < width - 110 else x - 3:.1f}" y="{label_y}" '
            f'text-anchor="{"start" if x < width - 110 else "end"}" font-size="10" '
            f'fill="#c62828">{name} {html.escape(_ms(value))}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _outcomes_svg(report: Report) -> str:
    shown = [(name, n) for name, n in report.outcomes.items() if n]
    if not shown:
        return "<p>Aucune ligne traitée.</p>"
    width, row_h, label_w = 720, 28, 120
    height = row_h * len(shown) + 10
    peak = max(n for _, n in shown)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="Résultats par issue">'
    ]
    for i, (name, n) in enumerate(shown):
        y = 5 + i * row_h
        w = (width - label_w - 160) * n / peak
        share = 100 * n / report.answered if report.answered else 0
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 18}" font-size="13" text-anchor="end">{name}</text>'
            f'<rect x="{label_w}" y="{y + 4}" width="{max(w, 1):.1f}" height="{row_h - 8}" '
            f'fill="{_COLOURS.get(name, "#555")}"/>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 18}" font-size="12">{n:,} '
            f"({share:.1f} %)</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def render_html(report: Report) -> str:
    """The report as one self-contained HTML page."""
    e = html.escape
    rows = "".join(
        f"<tr><td>{status}</td><td>{e(code or '')}</td><td>{e(code_title(code))}</td>"
        f"<td class=n>{n:,}</td></tr>"
        for status, code, n in report.groups
    )
    pct = report.percentiles()
    made = datetime.fromtimestamp(time.time(), UTC).strftime("%Y-%m-%d %H:%M UTC")
    created = datetime.fromtimestamp(report.created, UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!doctype html>
<html lang="fr"><head><meta charset="utf-8">
<title>Lot {e(report.run_id)} — {e(report.dataset)}</title>
<style>
body{{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:780px;color:#222}}
h1{{font-size:1.4em}} h2{{font-size:1.1em;margin-top:1.6em}}
table{{border-collapse:collapse;width:100%}} td,th{{border-bottom:1px solid #ddd;padding:4px 8px;
text-align:left}} td.n,th.n{{text-align:right;font-variant-numeric:tabular-nums}}
.kpi{{display:flex;gap:.6em}} .kpi div{{flex:1 1 0;background:#f4f6f8;padding:.5em .7em;
border-radius:6px;font-size:13px}} .kpi b{{display:block;font-size:1.15em;white-space:nowrap}}
</style></head><body>
<h1>Lot {e(report.run_id)}</h1>
<p>Jeu de données <b>{e(report.dataset)}</b>, destinataire {e(report.recipient)}.
Entrée <code>{e(report.input)}</code>, sortie <code>{e(report.output)}</code>.
Lancé le {created}, {report.sessions} session(s), état : <b>{e(report.state)}</b>.</p>
<div class=kpi>
<div>Lignes<b>{report.answered:,} / {report.total:,}</b></div>
<div>Débit<b>{report.throughput:,.0f} lignes/s</b></div>
<div>Durée active<b>{report.active_seconds:,.0f} s</b></div>
<div>p50<b>{_ms(pct["p50"])}</b></div>
<div>p95<b>{_ms(pct["p95"])}</b></div>
<div>p99<b>{_ms(pct["p99"])}</b></div>
</div>
{_paused_html(report)}<h2>Résultats par issue</h2>
{_outcomes_svg(report)}
<h2>Latence des réponses</h2>
<p>Du dépôt de la demande à la réception de sa réponse ({report.histogram.count:,} mesures).</p>
{_histogram_svg(report)}
<h2>Par statut et code d'erreur</h2>
<table><tr><th>Statut</th><th>Code</th><th>Signification</th><th class=n>Lignes</th></tr>
{rows}</table>
<p style="color:#777;font-size:12px">Rapport produit le {made} par <code>particulier batch</code>.
Il ne contient aucune donnée personnelle.</p>
</body></html>
"""
