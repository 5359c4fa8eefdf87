from django.apps import AppConfig


class ShopConfig(AppConfig):
    name = "tests.core_only.shop"
    label = "core_shop"
    default_auto_field = "django.db.models.BigAutoField"
