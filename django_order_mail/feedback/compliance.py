"""Review-request wording rules (``docs/feedback.rst``; Amazon's communication guidelines).

A review request may ask for an *honest* review. It must not ask for a
positive or 5-star one, must not invite only satisfied customers ("review
gating"), and must not offer anything in exchange - no discount, coupon,
gift, refund or free product. Marketplaces suspend sellers for it.

:func:`check_text` finds such wording in English, Simplified and Traditional
Chinese, Russian, Norwegian, German, French and Spanish.
:func:`validate_review_request` is what a template editor calls before
saving a review-request template; :func:`check_review_request_templates`
runs the same rules over the packaged and project templates as a system
check (``django_order_mail.E101``; ``W101`` on non-marketplace channels).

Word lists catch the common phrasings, not every possible one: they are a
safety net for staff edits, not legal review.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .survey import channel_feedback, marketplace_channels

POSITIVE, GATING, INCENTIVE = "positive", "gating", "incentive"

#: Language -> kind -> regular expressions (matched case-insensitively on
#: NFKC-normalised text with "ё" folded to "е").
RULES: dict[str, dict[str, list[str]]] = {
    "en": {
        POSITIVE: [
            r"\bpositive\s+(?:review|rating|feedback|comment|testimonial)s?\b",
            r"\b(?:good|great|glowing|excellent|favou?rable|nice|stellar)\s+(?:review|rating|feedback)s?\b",
            r"\b(?:5|five)[\s-]*stars?\b",
            r"[★⭐]{3,}",
            r"\b(?:top|highest|best|maximum|full)\s+(?:rating|score|marks)\b",
            r"\brate\s+us\s+(?:5|five|10|ten)\b",
        ],
        GATING: [
            r"\bif\s+you(?:\s+are|\s+were|['’]re)\s+(?:happy|satisfied|pleased|delighted)\b",
            r"\bif\s+you\s+(?:liked|loved|enjoyed)\b",
            r"\b(?:only|just)\s+if\s+you\b[^.!?\n]{0,30}\b(?:happy|satisfied|liked|loved)\b",
        ],
        INCENTIVE: [
            r"\bdiscount(?:s|ed)?\b",
            r"\bcoupons?\b",
            r"\bvouchers?\b",
            r"\bgifts?\b",
            r"\bgift\s*cards?\b",
            r"\bfree\s+(?:gift|product|item|sample|unit|shipping|upgrade|replacement)s?\b",
            r"\bfor\s+free\b",
            r"\bfree\s+of\s+charge\b",
            r"\bpromo(?:tional)?\s+codes?\b",
            r"\bcash\s*back\b",
            r"\brewards?\b",
            r"\brebates?\b",
            r"\b(?:in\s+exchange|in\s+return)\s+for\b",
            r"\b\d+\s*%\s*off\b",
            r"\bgiveaways?\b",
            r"\bprize\s+draw\b",
            r"\bsweepstakes?\b",
            r"\bbonus\b",
            r"\breimburse(?:d|ment)?\b",
        ],
    },
    "zh-hans": {
        POSITIVE: [r"好评", r"五星", r"5\s*星", r"满分", r"正面评价", r"积极评价", r"好的评价"],
        GATING: [r"(?:如果|若|如)(?:您|你)?(?:对[^。！？不没]{0,12})?(?<![不没])满意"],
        INCENTIVE: [
            r"返现",
            r"返款",
            r"返利",
            r"优惠券",
            r"优惠码",
            r"折扣",
            r"打折",
            r"免费",
            r"赠品",
            r"赠送",
            r"礼品",
            r"礼物",
            r"红包",
            r"奖励",
            r"代金券",
            r"现金券",
        ],
    },
    "zh-hant": {
        POSITIVE: [r"好評", r"五星", r"5\s*星", r"滿分", r"正面評價", r"積極評價"],
        GATING: [r"(?:如果|若|如)(?:您|你)?(?:對[^。！？不沒]{0,12})?(?<![不沒])滿意"],
        INCENTIVE: [
            r"返現",
            r"返款",
            r"返利",
            r"優惠券",
            r"優惠碼",
            r"折扣",
            r"打折",
            r"免費",
            r"贈品",
            r"贈送",
            r"禮品",
            r"禮物",
            r"紅包",
            r"獎勵",
            r"代金券",
            r"現金券",
        ],
    },
    "ru": {
        POSITIVE: [
            r"\bположительн\w*\s+(?:отзыв|оценк|комментари)\w*",
            r"\b(?:хорош|отличн|высок)\w*\s+(?:отзыв|оценк)\w*",
            r"\b(?:5|пять)\s*-?\s*(?:звезд|звездочк)\w*",
            r"\bпятерк\w*",
            r"\b(?:высш|максимальн)\w*\s+(?:оценк|балл)\w*",
        ],
        GATING: [r"\bесли\s+(?:вы\s+)?(?:довольн\w*|вам\s+понравил\w*)"],
        INCENTIVE: [
            r"\bскидк\w*",
            r"\bкупон\w*",
            r"\bпромокод\w*",
            r"\bподар\w*",
            r"\bбонус\w*",
            r"\bк[еэ]шб[еэ]к\w*",
            r"\bвознагражд\w*",
            r"\bбесплатн\w*",
            r"\bв\s+обмен\s+на\b",
            r"\bкомпенсац\w*",
        ],
    },
    "nb": {
        POSITIVE: [
            r"\bpositiv\w*\s+(?:anmeldelse|omtale|vurdering|tilbakemelding)\w*",
            r"\bgod[et]?\s+(?:anmeldelse|omtale|vurdering)\w*",
            r"\b(?:5|fem)\s*-?\s*stjerner?\b",
            r"\bterningkast\s*(?:6|seks)\b",
            r"\btoppkarakter\w*",
            r"\bbeste\s+karakter\w*",
        ],
        GATING: [r"\bhvis\s+du\s+er\s+(?:fornøyd|glad)\b"],
        INCENTIVE: [
            r"\brabatt\w*",
            r"\bkupong\w*",
            r"\bgavekort\w*",
            r"\ben\s+gave\b",
            r"\bgaver\b",
            r"\bbelønning\w*",
            r"\bgratis\b",
            r"\bbonus\w*",
            r"\bi\s+bytte\s+mot\b",
        ],
    },
    "de": {
        POSITIVE: [
            r"\bpositiv\w*\s+(?:bewertung|rezension|feedback|kommentar|rückmeldung)\w*",
            r"\bgut\w*\s+(?:bewertung|rezension)\w*",
            r"\b(?:5|fünf)\s*-?\s*stern\w*",
            r"\bbestnote\w*",
            r"\bhöchstbewertung\w*",
            r"\btop-?bewertung\w*",
        ],
        GATING: [r"\bwenn\s+sie\s+(?:zufrieden|glücklich)\s+(?:sind|waren)\b"],
        INCENTIVE: [
            r"\brabatt\w*",
            r"\bgutschein\w*",
            r"\bgeschenk\w*",
            r"\bbelohnung\w*",
            r"\bgratis\b",
            r"\bkostenlos\w*",
            r"\bim\s+austausch\b",
            r"\bals\s+dankeschön\b",
            r"\bgegenleistung\w*",
            r"\bpreisnachlass\w*",
            r"\bgewinnspiel\w*",
            r"\bbonus\w*",
        ],
    },
    "fr": {
        POSITIVE: [
            r"\bavis\s+(?:positifs?|favorables?|élogieux)\b",
            r"\bbons?\s+avis\b",
            r"\bbonnes?\s+(?:notes?|évaluations?)\b",
            r"\b(?:5|cinq)\s*-?\s*étoiles?\b",
            r"\bnote\s+maximale\b",
            r"\bmeilleure\s+note\b",
            r"\b(?:évaluations?|commentaires?)\s+positi(?:f|ve)s?\b",
        ],
        GATING: [r"\bsi\s+vous\s+(?:êtes|étiez)\s+satisfaite?s?\b"],
        INCENTIVE: [
            r"\bréductions?\b",
            r"\bremise\s+de\b",
            r"\bcodes?\s+promo\w*",
            r"\bcoupons?\b",
            r"\bbons?\s+d['’]achat\b",
            r"\bbons?\s+de\s+réduction\b",
            r"\bcadeaux?\b",
            r"\brécompenses?\b",
            r"\bgratuit(?:e|s|es|ement)?\b",
            r"\ben\s+échange\b",
        ],
    },
    "es": {
        POSITIVE: [
            r"\b(?:reseñas?|opini(?:ón|ones)|valoraci(?:ón|ones)|comentarios?|calificaci(?:ón|ones))\s+"
            r"(?:positiv[oa]s?|favorables?)\b",
            r"\bbuen[oa]s?\s+(?:reseñas?|opini(?:ón|ones)|valoraci(?:ón|ones)|calificaci(?:ón|ones))\b",
            r"\b(?:5|cinco)\s*-?\s*estrellas\b",
            r"\b(?:calificación|puntuación|valoración)\s+máxima\b",
            r"\bmáxima\s+(?:calificación|puntuación|valoración)\b",
        ],
        GATING: [r"\bsi\s+(?:está|estás|quedó|quedaste)\s+satisfech[oa]s?\b"],
        INCENTIVE: [
            r"\bdescuentos?\b",
            r"\bcup(?:ón|ones)\b",
            r"\bcódigos?\s+promocional(?:es)?\b",
            r"\bregal(?:o|os|amos|aremos)\b",
            r"\brecompensas?\b",
            r"\bgratis\b",
            r"\ba\s+cambio\s+de\b",
            r"\bbonificaci(?:ón|ones)\b",
            r"\bsorteos?\b",
            r"\breembols(?:o|amos|aremos)\b",
        ],
    },
}

#: Language codes that share a rule set.
ALIASES = {
    "zh": "zh-hans",
    "zh-cn": "zh-hans",
    "zh-sg": "zh-hans",
    "zh-tw": "zh-hant",
    "zh-hk": "zh-hant",
    "zh-mo": "zh-hant",
    "no": "nb",
    "nn": "nb",
    "nb-no": "nb",
}

_COMPILED = {
    lang: {kind: [re.compile(p, re.IGNORECASE) for p in patterns] for kind, patterns in kinds.items()}
    for lang, kinds in RULES.items()
}

MESSAGES = {
    POSITIVE: _("asks for a positive or top rating (“%(phrase)s”): ask for an honest review instead"),
    GATING: _("asks only satisfied customers to review (“%(phrase)s”): ask every customer alike"),
    INCENTIVE: _("offers something in exchange (“%(phrase)s”): no discount, gift or refund for a review"),
}


@dataclass(frozen=True)
class Finding:
    kind: str
    language: str
    phrase: str

    @property
    def message(self) -> str:
        return str(MESSAGES[self.kind] % {"phrase": self.phrase})


def rule_language(code: str | None) -> str | None:
    """The rule set for a language code (``"nb-NO"`` -> ``"nb"``), or None."""
    if not code:
        return None
    code = code.lower().replace("_", "-")
    code = ALIASES.get(code, code)
    if code in RULES:
        return code
    base = code.split("-")[0]
    return ALIASES.get(base, base) if ALIASES.get(base, base) in RULES else None


_TAG = re.compile(r"<[^>]+>")
_TEMPLATE_TAG = re.compile(r"\{%\s*(?:url|include|extends|load|static)\b[^%]*%\}")


def normalise(text: str) -> str:
    """Visible text: tags and entities removed, NFKC, lower case, ё -> е."""
    text = _TEMPLATE_TAG.sub(" ", text or "")
    text = html.unescape(_TAG.sub(" ", text))
    # "{{ discount_code }}" reads as "discount code".
    text = unicodedata.normalize("NFKC", text).lower().replace("ё", "е").replace("_", " ")
    return re.sub(r"\s+", " ", text)


def check_text(text: str, languages=None) -> list[Finding]:
    """Forbidden review-request wording in ``text``.

    ``languages``: the rule sets to apply (codes such as ``"de"`` or
    ``"zh-hant"``); English is always included because untranslated text
    stays English. ``None`` applies every language (for sources that mix
    them, such as a template file).
    """
    if languages is None:
        langs = list(RULES)
    else:
        langs = ["en", *(lang for code in languages if (lang := rule_language(code)) and lang != "en")]
    plain = normalise(text)
    found: dict[tuple[str, str], Finding] = {}
    for lang in langs:
        for kind, patterns in _COMPILED[lang].items():
            for pattern in patterns:
                for match in pattern.finditer(plain):
                    phrase = match.group(0).strip()
                    found.setdefault((kind, phrase), Finding(kind, lang, phrase))
    return list(found.values())


def review_rules_apply(channel: str | None) -> bool:
    """Marketplace rules apply to ``channel``; to a template for every channel
    (``channel`` empty) when any marketplace channel is configured."""
    if channel:
        return channel_feedback(channel).marketplace
    return bool(marketplace_channels())


def check_review_request(
    text: str, *, channel: str | None = None, language: str | None = None
) -> list[Finding]:
    """Findings in review-request ``text`` used on ``channel`` (None or "":
    every channel); [] where marketplace rules do not apply."""
    if not review_rules_apply(channel):
        return []
    return check_text(text, None if not language else [language])


def validate_review_request(text: str, *, channel: str | None = None, language: str | None = None) -> None:
    """Raise :class:`ValidationError` (one message per finding) if review-request
    ``text`` breaks marketplace rules on ``channel``. For template editors."""
    findings = check_review_request(text, channel=channel, language=language)
    if findings:
        raise ValidationError([ValidationError(f.message, code=f"review_{f.kind}") for f in findings])


def text_field_problems(slot: str, text: str, language: str) -> list[str]:
    """Why a text field of *Email texts* (``django_order_mail.rendering.content``)
    of the feedback request may not be saved: review-request wording.

    Refused on every channel, not only where marketplace rules apply: an
    edit is used on every channel the survey goes to, the survey carries
    the product-review stars where the reviews app is installed, and asking
    only happy customers, or paying for a rating, is review gating anywhere.
    The rules of the field's language and English are applied.
    """
    findings = check_text(text, [language] if language else None)
    return [gettext("This text %(problem)s.") % {"problem": finding.message} for finding in findings]
