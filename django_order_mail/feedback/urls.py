"""Survey URLs, included by :mod:`django_order_mail.urls` under ``feedback/``.

No ``app_name`` on purpose: the names join the ``django_order_mail``
namespace, so ``django_order_mail:feedback`` stays the rating-link URL.
"""

from django.urls import path

from . import views

urlpatterns = [
    path("<str:token>/", views.survey, name="feedback"),
    path("<str:token>/answer/", views.answer, name="feedback_answer"),
    path("<str:token>/thanks/", views.thanks, name="feedback_thanks"),
]
