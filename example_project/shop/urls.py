from django.urls import path

from . import cart_views, product_views, views

app_name = "shop"

urlpatterns = [
    path("", views.index, name="index"),
    path("sent/", views.sent_list, name="sent_list"),
    path("sent/<int:pk>/", views.sent_detail, name="sent_detail"),
    path("sent/<int:pk>/eml/", views.sent_eml, name="sent_eml"),
    path("orders/<str:token>/", views.order_status, name="order_status"),
    path("orders/<str:token>/pay/", views.retry_payment, name="retry_payment"),
    # The cart and checkout (abandoned-cart reminders land on checkout).
    path("cart/", cart_views.cart_page, name="cart"),
    path("checkout/", cart_views.checkout, name="checkout"),
    # A product with its approved reviews (django_order_mail.reviews).
    path("products/<str:sku>/", product_views.product_page, name="product"),
    path("<slug:page>/", views.info_page, name="info"),
]
