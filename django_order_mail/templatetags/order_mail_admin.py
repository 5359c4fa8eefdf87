"""Tags of the app's admin pages (not of emails): ``{% load order_mail_admin %}``."""

from __future__ import annotations

from django import template
from django.contrib.admin.templatetags.admin_list import result_headers, result_hidden_fields

from ..admin.send_log_rows import send_log_rows

register = template.Library()


@register.inclusion_tag("admin/change_list_results.html")
def send_log_result_list(cl):
    """Django's ``{% result_list cl %}`` with the send log's rows drawn by
    :func:`~django_order_mail.admin.send_log_rows.send_log_rows`: the same
    table, Django's template (or a project's ``admin/change_list_results.html``)
    and Django's headers."""
    headers = list(result_headers(cl))
    return {
        "cl": cl,
        "result_hidden_fields": list(result_hidden_fields(cl)),
        "result_headers": headers,
        "num_sorted_fields": sum(1 for h in headers if h["sortable"] and h["sorted"]),
        "results": send_log_rows(cl),
    }
