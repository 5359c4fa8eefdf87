"""``{% load order_mail_reviews %}{% product_reviews product_id %}``: a
product's approved reviews on the shop's product page (``docs/reviews.rst``).

Renders ``django_order_mail/reviews/product_reviews.html`` (override it in
your templates): the average and the distribution of every approved
review, the newest ``REVIEWS_PER_PAGE`` reviews with their photos, the
verified-buyer mark and the shop's reply, and the schema.org JSON-LD.
Pass ``name=`` the product's name for the markup (default: the name the
order had).
"""

from __future__ import annotations

from django import template

from ...rendering.branding import get_branding
from ..display import json_for_script, json_ld, page_of, summarize

register = template.Library()


@register.inclusion_tag("django_order_mail/reviews/product_reviews.html", takes_context=True)
def product_reviews(context, product_id, name=""):
    summary = summarize(str(product_id), str(name or ""))
    reviews = list(page_of(str(product_id)).object_list)
    data = json_ld(summary, reviews)
    return {
        "summary": summary,
        "reviews": reviews,
        "json_ld": json_for_script(data) if data else "",
        "shop": get_branding(),
        "request": context.get("request"),
    }
