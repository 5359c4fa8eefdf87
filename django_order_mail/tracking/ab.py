"""Subject-line A/B tests: pick a variant per email, measure, promote.

The sender calls :func:`choose_variant` right before rendering. The choice
is stored with the outbox row (:class:`~.models.SubjectAssignment`), so a retry or a re-render
uses the same subject, and the row's opens and clicks are counted for it.
Assignment is a hash of the row's idempotency key into the weighted
variants: stable, evenly spread, and reproducible in tests.

Which variant wins is judged on clicks by default: Apple Mail Privacy
Protection opens every email it downloads, so open rates are inflated
(``docs/tracking.rst``). :func:`compare` gives a two-proportion z-test for both.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone

from ..memo import memoized
from ..outbox.models import OutboxEmail, Status
from ..rendering.i18n import resolve_language
from .models import SubjectAssignment, SubjectTest, SubjectVariant

#: Below this many sent emails per variant no verdict is given.
MIN_SAMPLE = 100


def _language_matches(test: SubjectTest, language: str) -> bool:
    wanted = test.effective_language()
    language = resolve_language(language or settings.LANGUAGE_CODE).lower()
    return language == wanted or language.split("-")[0] == wanted


def active_test(event: str, language: str) -> SubjectTest | None:
    """The active test for ``event`` in ``language`` (a language-specific
    test wins over one for every language). The running tests are read once
    per send batch (:mod:`django_order_mail.memo`)."""
    tests = memoized(
        ("subject_tests", event),
        lambda: list(
            SubjectTest.objects.filter(active=True, event=event)
            .select_related("winner")
            .order_by("-language", "pk")
        ),
    )
    for test in tests:
        if _language_matches(test, language):
            return test
    return None


def pick(variants: list[SubjectVariant], key: str) -> SubjectVariant | None:
    """Deterministic weighted choice: the same key gets the same variant."""
    weighted = [v for v in variants if v.weight > 0]
    total = sum(v.weight for v in weighted)
    if not total:
        return None
    point = int(hashlib.sha256(key.encode()).hexdigest()[:12], 16) % total
    for variant in weighted:
        point -= variant.weight
        if point < 0:
            return variant
    return weighted[-1]  # pragma: no cover - unreachable


def choose_variant(row: OutboxEmail) -> SubjectVariant | None:
    """The subject variant for ``row`` (stored on it), or None for the
    template's own subject. Test emails never take part."""
    if row.is_test:
        return None
    test = active_test(row.event, row.language)
    if test is None:
        return None
    assigned = SubjectAssignment.objects.filter(email_id=row.pk, variant__test=test).select_related("variant")
    earlier = assigned.first()
    if earlier is not None:  # a retry: the subject it was first given
        return earlier.variant
    variant = test.winner if test.winner_id else None
    if variant is None:
        variants = memoized(
            ("subject_variants", test.pk), lambda: list(test.variants.order_by("label", "pk"))
        )
        variant = pick(variants, f"{test.pk}:{row.idempotency_key}")
    if variant is not None:
        SubjectAssignment.objects.update_or_create(email_id=row.pk, defaults={"variant": variant})
    return variant


@dataclass(frozen=True)
class VariantStats:
    variant: SubjectVariant
    sent: int
    opened: int
    clicked: int

    @property
    def open_rate(self) -> float:
        return self.opened / self.sent if self.sent else 0.0

    @property
    def click_rate(self) -> float:
        return self.clicked / self.sent if self.sent else 0.0


def variant_stats(test: SubjectTest) -> list[VariantStats]:
    """Sent, opened and clicked emails per variant (one query)."""
    variants = list(test.variants.order_by("label", "pk"))
    counts: dict[int, Mapping[str, Any]] = {
        c["subject_assignment__variant"]: c
        for c in OutboxEmail.objects.filter(subject_assignment__variant__test=test, status=Status.SENT)
        .values("subject_assignment__variant")
        .annotate(
            sent=Count("id"),
            opened=Count("id", filter=Q(opened_at__isnull=False)),
            clicked=Count("id", filter=Q(clicked_at__isnull=False)),
        )
    }
    return [
        VariantStats(
            v,
            counts.get(v.pk, {}).get("sent", 0),
            counts.get(v.pk, {}).get("opened", 0),
            counts.get(v.pk, {}).get("clicked", 0),
        )
        for v in variants
    ]


def z_test(successes_a: int, n_a: int, successes_b: int, n_b: int) -> tuple[float, float]:
    """Two-proportion z-test (pooled); ``(z, two-sided p-value)``."""
    if not n_a or not n_b:
        return 0.0, 1.0
    pooled = (successes_a + successes_b) / (n_a + n_b)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    if se == 0:
        return 0.0, 1.0
    z = (successes_a / n_a - successes_b / n_b) / se
    return z, math.erfc(abs(z) / math.sqrt(2))


@dataclass(frozen=True)
class Verdict:
    leader: VariantStats | None
    runner_up: VariantStats | None
    metric: str
    p_value: float
    enough_data: bool

    @property
    def significant(self) -> bool:
        return self.enough_data and self.p_value < 0.05


def compare(stats: list[VariantStats], metric: str = "click") -> Verdict:
    """The best variant on ``metric`` ("click" or "open") against the
    runner-up, with the p-value of their difference."""
    rate = (lambda s: s.click_rate) if metric == "click" else (lambda s: s.open_rate)
    hits = (lambda s: s.clicked) if metric == "click" else (lambda s: s.opened)
    ranked = sorted(stats, key=lambda s: (rate(s), s.sent), reverse=True)
    if len(ranked) < 2:
        return Verdict(ranked[0] if ranked else None, None, metric, 1.0, False)
    leader, runner_up = ranked[0], ranked[1]
    _z, p = z_test(hits(leader), leader.sent, hits(runner_up), runner_up.sent)
    enough = leader.sent >= MIN_SAMPLE and runner_up.sent >= MIN_SAMPLE
    return Verdict(leader, runner_up, metric, p, enough)


def promote_winner(test: SubjectTest, *, now=None) -> Verdict:
    """Send every later email of the test with the best subject (on clicks;
    on opens when nothing was clicked yet)."""
    stats = variant_stats(test)
    verdict = compare(stats, "click")
    if verdict.leader is not None and not any(s.clicked for s in stats):
        verdict = compare(stats, "open")
    if verdict.leader is not None:
        test.winner = verdict.leader.variant
        test.promoted_at = now or timezone.now()
        test.save(update_fields=["winner", "promoted_at"])
    return verdict
