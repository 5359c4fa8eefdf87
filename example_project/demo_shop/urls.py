from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Nordlys Goods - demo shop admin"
admin.site.site_title = "Nordlys Goods admin"

urlpatterns = [
    path("admin/", admin.site.urls),
    # Customer landing pages of django-order-mail (feedback links in emails).
    path("mail/", include("django_order_mail.urls")),
    path("", include("shop.urls")),
    # Review photos (MEDIA_ROOT) while DEBUG is on; a real server serves them itself.
    *static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT),
]
