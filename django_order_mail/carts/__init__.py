"""Abandoned-cart recovery: the cart mixin, the timed reminder sequence, the
cart-restore link, rationed coupons and recovered-revenue attribution.

See ``docs/abandoned-cart.rst``. The shop's cart model inherits
:class:`~django_order_mail.carts.mixins.AbandonedCartMixin`; the periodic
task ``django_order_mail.abandoned_cart_scan`` writes reminders into the
outbox, and the sender re-checks every stop condition right before sending.
"""
