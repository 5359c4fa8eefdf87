"""Feedback and review requests (``docs/feedback.rst``).

The feedback request email (scheduled by :mod:`..lifecycle.signals` a few
days after delivery) carries a row of signed rating links. One click records
a :class:`~.models.SurveyResponse` for the order and opens a landing page
with an optional comment and questions; a low score alerts staff through the
outbox and joins the admin's follow-up queue. On marketplace channels the
same email is the marketplace's review request instead, and
:mod:`.compliance` refuses wording that asks for positive reviews or offers
something in exchange.
"""
