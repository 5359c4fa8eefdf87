"""The demo's cart and two-step checkout: the customer's email is captured at
the first checkout step, so leaving before paying is an abandoned cart that
django-order-mail reminds. The reminder's restore link lands on checkout."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from django_order_mail.rendering.branding import get_branding

from .models import Cart, CartLine, Product


class ContactForm(forms.Form):
    email = forms.EmailField(label="Email", help_text="For the order confirmation and shipping updates.")
    customer_name = forms.CharField(label="Name", max_length=120)


def current_cart(request, *, create: bool = False) -> Cart | None:
    """The session's open cart (the restore link puts one back here)."""
    pk = request.session.get(Cart.cart_session_key)
    cart = Cart.objects.filter(pk=pk, ordered_at__isnull=True).first() if pk else None
    if cart is None and create:
        cart = Cart.objects.create()
        request.session[Cart.cart_session_key] = cart.pk
    return cart


def _summary(cart: Cart | None) -> dict:
    items = cart.get_cart_items() if cart else []
    for item in items:
        item["total"] = item["price"] * item["quantity"]
    return {"cart": cart, "items": items, "total": sum((i["total"] for i in items), Decimal("0"))}


@require_http_methods(["GET", "POST"])
def cart_page(request):
    if request.method == "POST":
        action = request.POST.get("action")
        with transaction.atomic():
            cart = current_cart(request, create=action == "add")
            if cart is not None and action == "add":
                product = get_object_or_404(Product, pk=request.POST.get("product"))
                line, created = CartLine.objects.get_or_create(cart=cart, product=product)
                if not created:
                    line.quantity += 1
                    line.save(update_fields=["quantity"])
                cart.touch()
            elif cart is not None and action == "empty":
                cart.lines.all().delete()
                cart.mark_emptied()  # nothing left to remind the customer of
        return redirect("shop:cart")
    context = {**_summary(current_cart(request)), "products": Product.objects.all(), "shop": get_branding()}
    return render(request, "shop/cart.html", context)


@require_http_methods(["GET", "POST"])
def checkout(request):
    cart = current_cart(request)
    context = {**_summary(cart), "shop": get_branding()}
    if cart is None or not context["items"]:
        return render(request, "shop/checkout.html", context)
    form = ContactForm(initial={"email": cart.email, "customer_name": cart.customer_name})
    if request.method == "POST" and request.POST.get("action") == "contact":
        form = ContactForm(request.POST)
        if form.is_valid():
            cart.customer_name = form.cleaned_data["customer_name"]
            cart.save(update_fields=["customer_name"])
            # From here on, leaving without paying is an abandoned cart.
            cart.capture_email(form.cleaned_data["email"], language=getattr(request, "LANGUAGE_CODE", ""))
            return redirect("shop:checkout")
    elif request.method == "POST" and request.POST.get("action") == "pay" and cart.email:
        order = cart.place_order(request=request)
        request.session.pop(Cart.cart_session_key, None)
        return redirect("shop:order_status", token=order.link_token())
    context.update(form=form, paying=bool(cart.email))
    return render(request, "shop/checkout.html", context)
