"""The core's signals (docs/signals.rst): each is sent where the docs say,
with the documented arguments, and a receiver can do what the docs promise
(veto with a reason, adjust subject, context and headers)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.db import connection, transaction

from django_order_mail.delivery.sender import deliver
from django_order_mail.events import MailEvent
from django_order_mail.exceptions import OrderMailError, SendVetoed
from django_order_mail.outbox import actions
from django_order_mail.outbox.enqueue import PendingMail, enqueue
from django_order_mail.outbox.models import EmailLog, OutboxEmail, Status
from django_order_mail.signals import (
    delivery_status_changed,
    email_failed,
    email_queued,
    email_sent,
    pre_send,
)
from django_order_mail.tracking.models import SubjectTest, SubjectVariant
from tests.backends import api_error
from tests.testapp.models import Order
from tests.tracking_utils import (
    POSTMARK_URL,
    WEBHOOK_SECRET,
    post_json,
    postmark_delivery,
    sent_row,
    variant_id,
)

pytestmark = pytest.mark.django_db

PACKAGE = Path(__file__).resolve().parent.parent / "django_order_mail"
FEATURES = {"carts", "feedback", "tracking", "marketplaces", "carrier_tracking", "reviews", "recommendations"}


@pytest.fixture
def listen(request):
    """``calls = listen(signal)``: the keyword arguments of every send."""

    def connect(signal, receiver=None):
        calls = []

        def record(**kwargs):
            calls.append(kwargs)
            if receiver is not None:
                receiver(**kwargs)

        uid = f"test-{id(calls)}"
        signal.connect(record, dispatch_uid=uid, weak=False)
        request.addfinalizer(lambda: signal.disconnect(dispatch_uid=uid))
        return calls

    return connect


def queued(order, event=MailEvent.ORDER_CONFIRMATION) -> OutboxEmail:
    with transaction.atomic():
        [row] = enqueue(order, [PendingMail(event)])
    return row


def test_email_queued_is_sent_inside_the_transaction(order, broker, listen):
    seen = listen(email_queued, lambda **kw: seen_in_atomic.append(connection.in_atomic_block))
    seen_in_atomic: list[bool] = []
    row = queued(order)
    [call] = seen
    assert call["sender"] is Order and call["email"].pk == row.pk and call["order"] is order
    assert seen_in_atomic == [True]


def test_a_pre_send_veto_is_recorded_with_its_reason(order, broker, esp, listen):
    def veto(email, **kwargs):
        raise SendVetoed("customer is on the VIP do-not-mail list", status=Status.SKIPPED)

    listen(pre_send, veto)
    row = queued(order)
    assert deliver(row.pk) == Status.SKIPPED
    row.refresh_from_db()
    assert row.status == Status.SKIPPED and row.last_error == "customer is on the VIP do-not-mail list"
    assert EmailLog.objects.filter(email=row, message="customer is on the VIP do-not-mail list").exists()
    assert esp.attempts == []
    assert isinstance(SendVetoed("x"), OrderMailError)


def test_pre_send_adjusts_subject_context_and_headers(order, broker, esp, listen):
    def adjust(draft, order, **kwargs):
        assert draft.recipient == order.email and not draft.dry_run
        draft.subject_template = "Thanks {{ customer_name }}! {{ gift }}"
        draft.context["gift"] = "A gift inside"
        draft.headers["X-Campaign"] = "spring"

    calls = listen(pre_send, adjust)
    row = queued(order)
    assert deliver(row.pk) == Status.SENT
    [message] = esp.sent
    assert message.subject == "Thanks Tina! A gift inside"
    assert message.extra_headers["X-Campaign"] == "spring"
    assert calls[0]["sender"] is Order and calls[0]["email"].pk == row.pk


def test_email_sent_and_failed(order, broker, esp, listen):
    sent, failed = listen(email_sent), listen(email_failed)
    row = queued(order)
    assert deliver(row.pk) == Status.SENT
    [call] = sent
    assert call["email"].pk == row.pk and call["message"].anymail_status.message_id == "esp-1"

    esp.outcomes = [api_error(503)]
    retried = queued(order, MailEvent.ORDER_ON_HOLD)
    assert deliver(retried.pk) == "retry"
    assert [(c["email"].pk, c["permanent"]) for c in failed] == [(retried.pk, False)]

    esp.outcomes = [api_error(422, message="Invalid 'To' address")]
    OutboxEmail.objects.filter(pk=retried.pk).update(send_after=None)
    assert deliver(retried.pk) == Status.FAILED
    assert failed[-1]["permanent"] is True and "422" in failed[-1]["reason"]


def test_a_failing_receiver_after_the_send_does_not_undo_it(order, broker, esp, listen):
    def broken(**kwargs):
        raise RuntimeError("analytics service down")

    listen(email_sent, broken)
    row = queued(order)
    assert deliver(row.pk) == Status.SENT
    row.refresh_from_db()
    assert row.status == Status.SENT and len(esp.sent) == 1


def test_delivery_status_changed_on_a_webhook(client, order, broker, esp, listen, settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": WEBHOOK_SECRET}
    changes = listen(delivery_status_changed)
    row = sent_row(order)
    assert post_json(client, POSTMARK_URL, postmark_delivery(row)).status_code == 200
    [call] = changes
    assert call["email"].pk == row.pk and call["status"] == "delivered" and call["previous"] == ""
    assert call["event"].event_type == "delivered"
    assert post_json(client, POSTMARK_URL, postmark_delivery(row)).status_code == 200  # a repeat
    assert len(changes) == 1


def test_the_resend_check_asks_the_receivers_with_dry_run(order, broker, esp, listen):
    test = SubjectTest.objects.create(name="t", event=MailEvent.ORDER_CONFIRMATION, language="en")
    SubjectVariant.objects.create(test=test, label="A", subject="A {{ order_number }}")
    seen = []

    def veto_dry_runs(draft, **kwargs):
        seen.append(draft.dry_run)
        if draft.dry_run:
            raise SendVetoed("stopped", staff_message="held by the shop's own rule")

    listen(pre_send, veto_dry_runs)
    row = queued(order)
    assert actions.send_outlook(row) == "held by the shop's own rule"
    row.refresh_from_db()
    assert variant_id(row) is None  # a dry run chooses no variant
    assert seen == [True]


def core_files() -> list[Path]:
    """Every module of the package outside the feature apps: the layers,
    the admin, the aggregators (models, tasks, urls, checks, apps)."""
    return [
        path
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.relative_to(PACKAGE).parts[0] not in FEATURES and "migrations" not in path.parts
    ]


def test_the_core_imports_no_feature():
    """docs/architecture.rst: features plug in through signals and
    registries, the core never imports them (nor names their modules)."""
    offenders = []
    for path in core_files():
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                names = [node.value] if node.value.startswith("django_order_mail.") else []
            for name in names:
                if FEATURES & set(name.split(".")):
                    offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {name}")
    assert len(core_files()) > 60
    assert offenders == []


@pytest.mark.parametrize("feature", sorted(FEATURES))
def test_each_feature_is_an_app_of_its_own(feature):
    """Its own app config, label, models, migrations and settings section."""
    config = django_apps.get_app_config(f"order_mail_{feature}")
    assert config.name == f"django_order_mail.{feature}"
    assert (PACKAGE / feature / "migrations" / "0001_initial.py").exists()
    # Its own migrations, numbered on from 0001_initial (never the core's).
    names = sorted(p.name for p in (PACKAGE / feature / "migrations").glob("0*.py"))
    assert [name[:4] for name in names] == [f"{n:04d}" for n in range(1, len(names) + 1)]
    assert all(m._meta.app_label == config.label for m in config.get_models())
    assert list(config.get_models())


def test_every_exception_of_the_app_has_one_root():
    """Like Anymail's AnymailError: ``except OrderMailError`` catches
    whatever the app raises on purpose."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and node.name.endswith(("Error", "Vetoed")):
                found.append((module.removesuffix(".__init__"), node.name))
    assert len(found) >= 8
    for module, name in found:
        cls = getattr(__import__(module, fromlist=[name]), name)
        assert issubclass(cls, OrderMailError), f"{module}.{name}"


def test_the_public_api_is_importable_from_the_package_root():
    import django_order_mail as package
    from django_order_mail import _API, OrderMailMixin, SendVetoed, pre_send
    from django_order_mail.lifecycle import mixins
    from django_order_mail.signals import pre_send as the_signal

    assert OrderMailMixin is mixins.OrderMailMixin and pre_send is the_signal
    assert SendVetoed.__module__ == "django_order_mail.exceptions"
    assert set(package.__all__) == {"__version__", *_API}
    for name in package.__all__:
        assert getattr(package, name) is not None
    with pytest.raises(AttributeError):
        package.no_such_name  # noqa: B018


def test_saving_a_model_that_is_not_an_order_runs_none_of_the_apps_code():
    """Pending emails are written by the order mixin's own save(), not by a
    post_save receiver that would run on every model's save."""
    from django.contrib.auth.models import Group
    from django.db.models.signals import post_save

    assert not post_save.has_listeners(Group)
    assert not post_save.has_listeners(Order)


def test_every_setting_has_a_typed_attribute(settings):
    """docs/settings.rst: one typed object for every ORDER_MAIL key."""
    from django_order_mail import app_settings
    from django_order_mail.app_settings import OrderMailSettings
    from django_order_mail.conf import DEFAULTS

    attributes = {name for name, value in vars(OrderMailSettings).items() if isinstance(value, property)}
    assert attributes == set(DEFAULTS)
    for name in DEFAULTS:
        assert "return" in (getattr(OrderMailSettings, name).fget.__annotations__)
    settings.ORDER_MAIL = {**settings.ORDER_MAIL, "MAX_ATTEMPTS": 3}
    assert app_settings.MAX_ATTEMPTS == 3  # read when used: override_settings applies
    assert app_settings.TAGS == [] == DEFAULTS["TAGS"]


@pytest.mark.parametrize("feature", sorted(FEATURES))
def test_a_feature_imports_no_other_feature(feature):
    """Each feature depends on the core only, so a shop can install any of them."""
    offenders = []
    for path in sorted((PACKAGE / feature).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                parts = set((node.module or "").split("."))
                if (FEATURES - {feature}) & parts:
                    offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {node.module}")
    assert offenders == []
