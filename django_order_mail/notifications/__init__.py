"""Staff notifications: internal events (mail to the shop's staff, never to
the customer) with their recipients set in the admin.

* :mod:`.models` - :class:`~.models.StaffNotification`, one row per internal
  event: on/off, addresses and/or staff users, a threshold where it applies.
* :mod:`.recipients` - who gets an internal event: the admin's row if there
  is one, else the event's default from the settings
  (:func:`~.recipients.register_staff_default`).
* :mod:`.rows` - the outbox rows of an internal event, one per recipient,
  written by :func:`django_order_mail.outbox.enqueue.enqueue` in the
  transition's transaction.
* :mod:`.context` - what the staff emails show besides the order: the link
  to the order in the admin, the threshold.

``docs/staff-guide.rst`` ("Staff notifications") is the staff's side of it.
"""
