"""Review URLs, included by :mod:`django_order_mail.urls` under ``reviews/``.

No ``app_name``: the names join the ``django_order_mail`` namespace
(``django_order_mail:product_review``).
"""

from django.urls import path

from . import views

urlpatterns = [
    path("product/<path:product_id>/", views.product_json, name="product_reviews_json"),
    path("<str:token>/", views.review, name="product_review"),
    path("<str:token>/not-received/", views.not_received, name="product_review_not_received"),
]
