"""Sending policies staff edit in the admin, and the log of their changes.

The core's part of "staff run it without a developer" (``docs/staff-guide.rst``):

* :class:`~.models.FrequencyCap` - the commercial frequency cap as a record
  of its own. While nobody saved one, ``ORDER_MAIL["COMMERCIAL_FREQUENCY_CAP"]``
  applies exactly as before (:func:`.cap.effective_cap`).
* :class:`~.models.SettingChange` - who changed which sending policy, when,
  from what to what. The core's cap and the feature apps' records (the
  abandoned-cart sequence and coupon rules, the feedback schedule) write it
  through :func:`.changes.record_changes`, so staff read one log.
"""
