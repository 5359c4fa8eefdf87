"""Product reviews (``docs/reviews.rst``).

With this app installed the feedback request lists the order's products,
each with one-click 1-5 star links (signed, expiring, PII-free). A click
records the rating at once and opens a landing page where the customer
adds a title, a text and photos; staff moderate every review, whatever its
rating, in the admin; approved reviews show on the shop's product pages
(``{% product_reviews product_id %}``) and as JSON with schema.org markup.
At most one reminder follows the request; "Not received yet" asks again
later and tells staff. Marketplace channels keep their own review path.
"""
