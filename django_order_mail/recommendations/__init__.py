"""Recommendations in the order emails (``docs/recommendations.rst``).

A product block ("You might also like") in the order confirmation, the
shipping confirmation and the delivered email, and a referral block in the
shipping confirmation, filled from the shop's hook or from the packaged
"bought together" default, kept under the promotional share the core
allows (``PROMOTIONAL_SHARE_MAX``). Plugged into the core through its
``collect_context`` and ``email_queued`` signals; the core never imports it.
"""
