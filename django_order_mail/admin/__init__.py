"""The app's Django admin: send log, email templates, branding, and the
order-admin mixin a shop adds to its own Order admin.

Importing this package registers the admin pages with ``admin.site``
(Django's autodiscovery does that). Permissions, each separate:

* ``view_outboxemail`` - read the send log;
* ``resend_outboxemail`` - resend, retry and cancel emails;
* ``view_emailtemplate`` - open the editor and preview templates;
* ``add_emailtemplate`` / ``change_emailtemplate`` - edit templates, send
  oneself a test, revert, reset to default;
* ``view_emailcontent`` - open *Email texts* (the overview and each
  email's text fields, read only) and preview them;
* ``change_emailcontent`` - change the text fields, send oneself a test;
* ``change_branding`` - edit the branding;
* ``change_frequencycap`` - the commercial frequency cap (the log of
  policy changes, ``view_settingchange``, is read-only);
* ``view_staffnotification`` / ``add_``, ``change_``, ``delete_staffnotification``
  - who on the staff gets which internal email (``docs/staff-guide.rst``);
* ``handle_datarequest`` (with ``view_outboxemail``) - export or erase one
  address's data (``docs/data-protection.rst``).
"""

from .branding import BrandingAdmin
from .content import EmailContentAdmin
from .data_requests import DataRequestAdmin
from .notifications import StaffNotificationAdmin
from .orders import OrderMailAdminMixin, OrderMailEmailInline
from .policies import FrequencyCapAdmin, SettingChangeAdmin
from .send_log import EmailLogInline, OutboxEmailAdmin
from .shipments import ShipmentAdmin
from .templates import EmailTemplateAdmin

__all__ = [
    "BrandingAdmin",
    "DataRequestAdmin",
    "EmailContentAdmin",
    "EmailLogInline",
    "EmailTemplateAdmin",
    "FrequencyCapAdmin",
    "OrderMailAdminMixin",
    "OrderMailEmailInline",
    "OutboxEmailAdmin",
    "SettingChangeAdmin",
    "ShipmentAdmin",
    "StaffNotificationAdmin",
]
