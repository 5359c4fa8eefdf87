from django.urls import path

from . import views

app_name = "shop"

urlpatterns = [
    path("", views.index, name="index"),
    path("sent/", views.sent_list, name="sent_list"),
    path("sent/<int:pk>/", views.sent_detail, name="sent_detail"),
    path("sent/<int:pk>/eml/", views.sent_eml, name="sent_eml"),
    path("orders/<str:token>/", views.order_status, name="order_status"),
    path("orders/<str:token>/pay/", views.retry_payment, name="retry_payment"),
    path("<slug:page>/", views.info_page, name="info"),
]
