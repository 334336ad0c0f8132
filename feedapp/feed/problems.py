"""Why an item is missing or weakened: problem codes, severities and the merchant's message ids.

The domain stays translation-free: each message is an English message id marked with ``N_`` for
`pybabel extract`; the web layer (feedapp.web.i18n.describe) translates it and fills in
``%(detail)s``. Each message names what to change in Jumpseller (or in this app's settings).
"""

from __future__ import annotations

from typing import NamedTuple

from feedapp.messages import N_

ERROR = "error"  # the item is left out of the feed
WARNING = "warning"  # the item is in the feed, but something was dropped or may hurt it
EXCLUDED = "excluded"  # the merchant's own rule left the item out: intended, not an error


class Problem(NamedTuple):
    """One finding about one product or item, kept with the build so the merchant sees it (a
    tuple: a large store's update reads hundreds of thousands back from its snapshot)."""

    code: str
    severity: str
    product_id: str
    variant_id: str | None
    item_id: str
    product_name: str
    detail: str = ""


#: code -> (severity, English message id); ``%(detail)s`` is the problem's detail.
MESSAGES: dict[str, tuple[str, str]] = {
    "product_unreadable": (
        ERROR,
        N_(
            "This product's data could not be read (%(detail)s), so it is left out. Save the "
            "product again in Jumpseller; if this stays, contact the app's support."
        ),
    ),
    "product_disabled": (
        ERROR,
        N_(
            "This product is disabled in Jumpseller, so it is not in the feed. To list it, set "
            "its status to Available in Products > edit product."
        ),
    ),
    "product_not_available": (
        ERROR,
        N_(
            "This product's status is Not available, so it is left out. Set it to Available in "
            "Products > edit product, or choose to include products that are not available in "
            "this app's settings."
        ),
    ),
    "out_of_stock_excluded": (
        ERROR,
        N_(
            "This item has no stock and your settings leave out-of-stock items out. Add stock (or"
            " make it unlimited) in Products > edit product > Stock, or include out-of-stock "
            "items in this app's settings."
        ),
    ),
    "id_invalid": (
        ERROR,
        N_(
            "Jumpseller sent this product or variant without a usable id (%(detail)s). Save the "
            "product again in Jumpseller; if this stays, contact the app's support."
        ),
    ),
    "id_duplicate": (
        ERROR,
        N_(
            "Two variants of this product share the id %(detail)s, so only the first is sent. "
            "Delete the repeated variant and create it again in Products > edit product > "
            "Variants."
        ),
    ),
    "title_missing": (
        ERROR,
        N_(
            "This product has no name, and Google requires a title. Give it one in Products > "
            "edit product > Name."
        ),
    ),
    "name_markup": (
        WARNING,
        N_(
            "The product name contains HTML code or entities (%(detail)s), which were removed from "
            "the title sent to Google. Write the name as plain text in Products > edit product > "
            "Name."
        ),
    ),
    "permalink_missing": (
        ERROR,
        N_(
            "This product has no page address (permalink), so there is no link to send. Set the "
            "product's URL in Products > edit product > SEO."
        ),
    ),
    "link_invalid": (
        ERROR,
        N_(
            "The product page address %(detail)s is not a valid web address. Check the product's "
            "URL in Products > edit product > SEO and your store's domain in Jumpseller's "
            "settings."
        ),
    ),
    "link_too_long": (
        ERROR,
        N_(
            "The product page address is longer than the 2000 characters Google accepts. Shorten "
            "the product's URL in Products > edit product > SEO."
        ),
    ),
    "image_missing": (
        ERROR,
        N_(
            "This item has no image, and Google requires one. Add an image in Products > edit "
            "product > Images."
        ),
    ),
    "image_invalid": (
        ERROR,
        N_(
            "None of this item's images has a valid web address (%(detail)s), and Google requires"
            " one. Upload the images again in Products > edit product > Images."
        ),
    ),
    "image_url_invalid": (
        WARNING,
        N_(
            "The image address %(detail)s is not valid, so that image was skipped. Upload it "
            "again in Products > edit product > Images."
        ),
    ),
    "price_missing": (
        ERROR,
        N_(
            "This item has no price. Set it in Products > edit product > Price (or in the "
            "variant's price)."
        ),
    ),
    "price_invalid": (
        ERROR,
        N_(
            "The price %(detail)s is not a number Google can read. Correct it in Products > edit "
            "product > Price (or in the variant's price)."
        ),
    ),
    "price_not_positive": (
        ERROR,
        N_(
            "The price is %(detail)s, and Google needs a price above zero. Set the real price in "
            "Products > edit product > Price (or in the variant's price)."
        ),
    ),
    "currency_invalid": (
        ERROR,
        N_(
            "Your store's currency (%(detail)s) is not an ISO 4217 code, so no price can be sent."
            " Check the currency in Jumpseller's store settings."
        ),
    ),
    "title_truncated": (
        WARNING,
        N_(
            "The title is longer than the 150 characters Google accepts and was shortened. "
            "Shorten the name in Products > edit product > Name, or simplify the title pattern in"
            " this app's settings."
        ),
    ),
    "description_truncated": (
        WARNING,
        N_(
            "The description is longer than the 5000 characters Google accepts and was cut. "
            "Shorten it in Products > edit product > Description."
        ),
    ),
    "description_missing": (
        WARNING,
        N_(
            "This product has no description, so its title is sent instead. Write one in Products"
            " > edit product > Description."
        ),
    ),
    "brand_placeholder": (
        WARNING,
        N_(
            'The brand "%(detail)s" is a placeholder Google rejects, so it was not sent. Enter '
            "the real brand in Products > edit product > Brand, or leave it empty."
        ),
    ),
    "brand_missing": (
        WARNING,
        N_(
            "This product has no brand, and Google expects one for most products. Enter it in "
            "Products > edit product > Brand, or set a default brand in this app's settings."
        ),
    ),
    "gtin_not_digits": (
        WARNING,
        N_(
            "The barcode %(detail)s is not a valid GTIN (it must contain only digits), so it was "
            "not sent. Correct it in Products > edit product > Barcode, or leave it empty."
        ),
    ),
    "gtin_wrong_length": (
        WARNING,
        N_(
            "The barcode %(detail)s is not a valid GTIN (it must have 8, 12, 13 or 14 digits), so"
            " it was not sent. Correct it in Products > edit product > Barcode, or leave it "
            "empty."
        ),
    ),
    "gtin_invalid_check_digit": (
        WARNING,
        N_(
            "The barcode %(detail)s is not a valid GTIN (wrong check digit), so it was not sent. "
            "Correct it in Products > edit product > Barcode, or leave it empty."
        ),
    ),
    "gtin_zero": (
        WARNING,
        N_(
            "The barcode %(detail)s is not a valid GTIN (it is all zeros), so it was not sent. "
            "Correct it in Products > edit product > Barcode, or leave it empty."
        ),
    ),
    "gtin_restricted_prefix": (
        WARNING,
        N_(
            "The barcode %(detail)s is not a valid GTIN (its prefix is reserved for in-store "
            "use), so it was not sent. Correct it in Products > edit product > Barcode, or leave "
            "it empty."
        ),
    ),
    "gtin_coupon_prefix": (
        WARNING,
        N_(
            "The barcode %(detail)s is not a valid GTIN (its prefix is reserved for coupons), so "
            "it was not sent. Correct it in Products > edit product > Barcode, or leave it empty."
        ),
    ),
    "gtin_indicator_9": (
        WARNING,
        N_(
            "The barcode %(detail)s is not a valid GTIN (GTIN-14 codes starting with 9 are for "
            "variable-measure items), so it was not sent. Correct it in Products > edit product >"
            " Barcode, or leave it empty."
        ),
    ),
    "gtin_duplicate": (
        WARNING,
        N_(
            "Another item in the feed already has this barcode (the barcode and that item: "
            "%(detail)s), and Google expects each barcode on one product only, so it was not sent "
            "for this item. Give each variant its own barcode in Products > edit product > "
            "Barcode, or leave it empty."
        ),
    ),
    "mpn_too_long": (
        WARNING,
        N_(
            "The SKU %(detail)s is longer than the 70 characters Google accepts for an MPN, so it"
            " was not sent. Shorten it in Products > edit product > SKU."
        ),
    ),
    "google_category_unknown": (
        WARNING,
        N_(
            'The Google category "%(detail)s" set on this product is not in Google\'s official '
            "list, so it was not used. Pick one from the list in Products > edit product, or map "
            "your categories in this app's settings."
        ),
    ),
    "variants_indistinct": (
        WARNING,
        N_(
            "Some variants of this product have the same color, size, material and pattern "
            "(%(detail)s), so Google could not tell them apart as variants of one product: they "
            "were sent as separate products, each title naming its options. To group them again, "
            "make their values differ in Products > edit product > Variants, or add the option "
            "names you use to the option lists in this app's settings."
        ),
    ),
    "apparel_attributes_missing": (
        WARNING,
        N_(
            "Google asks clothing items for attributes this item lacks: %(detail)s. Add a Color "
            "option (and a Size option for clothes and shoes) in Products > edit product > "
            "Variants; gender and age group cannot be sent from Jumpseller."
        ),
    ),
    "excluded_by_rule": (
        EXCLUDED,
        N_(
            'Your rule "%(detail)s" leaves this item out of this feed. To list it again, change '
            "or turn off that rule in this app's settings."
        ),
    ),
    "custom_label_overflow": (
        WARNING,
        N_(
            "Google accepts at most 1000 different values for each custom label, and this "
            "item's value (%(detail)s) would be one more, so it was not sent. Use fewer different "
            "values in your rules in this app's settings."
        ),
    ),
}

#: Every problem code with its severity ("error": item left out; "warning": item kept;
#: "excluded": left out by one of the merchant's rules).
PROBLEM_CODES: dict[str, str] = {code: severity for code, (severity, _) in MESSAGES.items()}
