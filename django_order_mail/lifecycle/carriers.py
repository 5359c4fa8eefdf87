"""Carrier registry: carrier code -> name and tracking-URL template.

Shipping confirmations need a one-tap tracking link (``docs/lifecycle.rst``). The
packaged registry covers common domestic and cross-border carriers; projects
add or override entries with ``ORDER_MAIL["CARRIERS"]``::

    ORDER_MAIL = {"CARRIERS": {"bring": {"name": "Bring",
                  "url": "https://tracking.bring.com/tracking/{tracking_number}"}}}
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from ..app_settings import app_settings


@dataclass(frozen=True)
class Carrier:
    code: str
    name: str
    url: str  # template with {tracking_number}

    def tracking_url(self, tracking_number: str) -> str:
        if not tracking_number:
            return ""
        return self.url.format(tracking_number=quote(tracking_number.strip(), safe=""))


CARRIERS: dict[str, dict[str, str]] = {
    "ups": {"name": "UPS", "url": "https://www.ups.com/track?tracknum={tracking_number}"},
    "usps": {
        "name": "USPS",
        "url": "https://tools.usps.com/go/TrackConfirmAction?tLabels={tracking_number}",
    },
    "fedex": {
        "name": "FedEx",
        "url": "https://www.fedex.com/fedextrack/?trknbr={tracking_number}",
    },
    "dhl": {
        "name": "DHL Express",
        "url": "https://www.dhl.com/global-en/home/tracking/tracking-express.html"
        "?submit=1&tracking-id={tracking_number}",
    },
    "dhl_ecommerce": {
        "name": "DHL eCommerce",
        "url": "https://www.dhl.com/global-en/home/tracking/tracking-ecommerce.html"
        "?submit=1&tracking-id={tracking_number}",
    },
    "royal_mail": {
        "name": "Royal Mail",
        "url": "https://www.royalmail.com/track-your-item#/tracking-results/{tracking_number}",
    },
    "dpd": {"name": "DPD", "url": "https://tracking.dpd.de/status/en_US/parcel/{tracking_number}"},
    "gls": {
        "name": "GLS",
        "url": "https://gls-group.com/track/{tracking_number}",
    },
    "postnord": {
        "name": "PostNord",
        "url": "https://tracking.postnord.com/en/?id={tracking_number}",
    },
    "posten_bring": {
        "name": "Posten / Bring",
        "url": "https://sporing.posten.no/sporing/{tracking_number}",
    },
    "canada_post": {
        "name": "Canada Post",
        "url": "https://www.canadapost-postescanada.ca/track-reperage/en#/details/{tracking_number}",
    },
    "australia_post": {
        "name": "Australia Post",
        "url": "https://auspost.com.au/mypost/track/details/{tracking_number}",
    },
    "china_post": {
        "name": "China Post",
        "url": "https://track.chinapost.com.cn/?trackNumber={tracking_number}",
    },
    "ems": {"name": "EMS", "url": "https://www.ems.com.cn/qps/yjcx?mailNum={tracking_number}"},
    "sf_express": {
        "name": "SF Express",
        "url": "https://www.sf-express.com/chn/en/waybill/waybill-detail/{tracking_number}",
    },
    "yanwen": {"name": "Yanwen", "url": "https://track.yw56.com.cn/en/querydel?nums={tracking_number}"},
    "cainiao": {
        "name": "Cainiao",
        "url": "https://global.cainiao.com/newDetail.htm?mailNoList={tracking_number}",
    },
    "4px": {"name": "4PX", "url": "https://track.4px.com/#/result/0/{tracking_number}"},
    "russian_post": {
        "name": "Почта России",
        "url": "https://www.pochta.ru/tracking?barcode={tracking_number}",
    },
    "japan_post": {
        "name": "Japan Post",
        "url": "https://trackings.post.japanpost.jp/services/srv/search/direct?reqCodeNo1={tracking_number}",
    },
    "amazon_logistics": {
        "name": "Amazon Logistics",
        "url": "https://track.amazon.com/tracking/{tracking_number}",
    },
    # Universal fallback for carriers not listed: a multi-carrier tracker.
    "other": {"name": "", "url": "https://t.17track.net/en#nums={tracking_number}"},
}


def get_carrier(code: str) -> Carrier:
    """The carrier for ``code``; unknown codes use the ``other`` entry."""
    registry = {**CARRIERS, **app_settings.CARRIERS}
    key = (code or "").strip().lower()
    entry = registry.get(key) or registry["other"]
    return Carrier(code=key, name=entry.get("name") or code, url=entry["url"])


def carrier_choices() -> list[tuple[str, str]]:
    registry = {**CARRIERS, **app_settings.CARRIERS}
    return sorted(((k, v.get("name") or k) for k, v in registry.items()), key=lambda c: c[1])
