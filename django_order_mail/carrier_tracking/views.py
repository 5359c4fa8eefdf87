"""The carrier-tracking webhooks: one URL per provider, POST only, signed.

``POST <mail prefix>/carrier-tracking/<provider>/`` answers

* 405 to anything but POST (Django's ``require_POST``), with no side effect;
* 404 for a provider name that is neither packaged nor configured;
* 403 when the provider has no secret configured or the signature is
  missing or wrong: checked on the raw body before anything is read or
  stored, so a forged request changes nothing, whatever parcel it names;
* 400 for a signed body that is not the provider's JSON;
* 200 otherwise, also for an event about a parcel the shop does not know
  (logged and ignored: the provider must not retry it) and for a repeat.

A database error answers 500 and the provider sends the event again later;
each event is applied once (:mod:`.apply`). CSRF does not apply: the
provider has no CSRF token, the signature authenticates the request.
"""

from __future__ import annotations

import logging

from django.http import Http404, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .apply import record_update
from .providers import CarrierWebhookError, get_provider

logger = logging.getLogger("django_order_mail.carrier_tracking")


@csrf_exempt
@require_POST
def webhook(request, provider: str):
    handler = get_provider(provider)
    if handler is None:
        raise Http404("no such carrier-tracking provider")
    try:
        handler.verify(request)
        updates = handler.parse(request)
    except CarrierWebhookError as exc:
        logger.warning("Carrier-tracking webhook %s refused (%s): %s", provider, exc.status_code, exc)
        return HttpResponse(status=exc.status_code)
    applied = sum(1 for update in updates if record_update(update) is not None)
    return JsonResponse({"received": len(updates), "applied": applied})
