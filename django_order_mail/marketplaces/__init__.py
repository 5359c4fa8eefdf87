"""Marketplace status sync: apply marketplace order feeds to the lifecycle.

* :mod:`.base` - the adapter interface and the shop's hooks.
* :mod:`.aliexpress` - AliExpress order API payloads and status mapping.
* :mod:`.generic` - a neutral feed whose items name lifecycle states.
* :mod:`.applier` - walks an order's state machine to the reported state.
* :mod:`.sync` - applies a batch of pages, one transaction per item.
* :mod:`.models` - the sync log and the per-marketplace cursor.
* :mod:`.tasks` - the Celery task ``django_order_mail.marketplace_sync``.

See docs/marketplaces.rst.
"""
