"""Jumpseller products -> Google items: one test (or table) per feed rule the mapping can break."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest
from api_samples import IMAGE, product, variant

from feedapp.feed.currency import format_price, parse_decimal
from feedapp.feed.mapping import CatalogContext, Item, MappedProduct, StoreInfo, map_product
from feedapp.feed.options import FeedOptions
from feedapp.feed.problems import MESSAGES, PROBLEM_CODES, Problem

STORE = StoreInfo(
    code="tienda",
    name="Tienda",
    url="https://www.tienda.cl",
    currency="CLP",
    weight_unit="kg",
    country="CL",
    language="",  # the store's default language: pages at the store's root
)
CATALOG = CatalogContext(
    [
        {"category": {"id": 10, "name": "Ropa", "parent_id": None, "permalink": "ropa"}},
        {"category": {"id": 11, "name": "Poleras", "parent_id": 10, "permalink": "ropa/poleras"}},
        {"category": {"id": 20, "name": "Ofertas", "parent_id": None, "permalink": "ofertas"}},
    ]
)


def run(data: dict, options: FeedOptions | None = None, store: StoreInfo = STORE) -> MappedProduct:
    return map_product({"product": data}, store, options or FeedOptions(), CATALOG)


def only(data: dict, options: FeedOptions | None = None, store: StoreInfo = STORE) -> dict:
    """The single item's fields as a dict (first value per name)."""
    mapped = run(data, options, store)
    assert len(mapped.items) == 1, mapped.problems
    return first_values(mapped.items[0])


def first_values(item: Item) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in item.fields:
        out.setdefault(name, value)
    return out


def codes(mapped: MappedProduct, severity: str | None = None) -> list[str]:
    return [p.code for p in mapped.problems if severity is None or p.severity == severity]


# --- items, ids and groups -------------------------------------------------------------------


def test_a_product_without_variants_is_one_item() -> None:
    mapped = run(product())
    assert [i.id for i in mapped.items] == ["1001"]
    fields = first_values(mapped.items[0])
    assert mapped.items[0].fields[0] == ("id", "1001")
    assert fields["title"] == "Polera Básica"
    assert fields["description"] == "Polera de algodón."
    assert (
        fields["link"]
        == "https://www.tienda.cl/polera-basica?utm_source=google&utm_medium=shopping"
    )
    assert fields["image_link"] == IMAGE
    assert fields["availability"] == "in_stock"
    assert fields["price"] == "12990 CLP"
    assert fields["brand"] == "Andes"
    assert fields["condition"] == "new"
    assert fields["product_type"] == "Ropa > Poleras"
    assert fields["shipping_weight"] == "0.3 kg"
    assert fields["identifier_exists"] == "no"
    assert "item_group_id" not in fields


def test_the_api_wrapper_is_optional() -> None:
    assert map_product(product(), STORE, FeedOptions(), CATALOG).items == run(product()).items


def test_variants_become_items_of_one_group_and_the_parent_is_not_sent() -> None:
    data = product(variants=[variant(1, ("Talla", "S")), variant(2, ("Talla", "M"))])
    mapped = run(data)
    assert [i.id for i in mapped.items] == ["1001-1", "1001-2"]
    for item in mapped.items:
        assert first_values(item)["item_group_id"] == "1001"
    assert not [i for i in mapped.items if i.id == "1001"]


def test_ids_are_stable_across_builds() -> None:
    data = product(variants=[variant(7, ("Talla", "S"))])
    assert run(copy.deepcopy(data)).items == run(data).items


@pytest.mark.parametrize("bad_id", [None, "", "a b", -3, True, "x" * 30, 1.5])
def test_a_product_without_a_usable_id_is_reported(bad_id: object) -> None:
    mapped = run(product(id=bad_id))
    assert mapped.items == []
    assert codes(mapped) == ["id_invalid"]


def test_ids_fit_in_50_characters() -> None:
    mapped = run(product(id="9" * 24, variants=[variant("8" * 24, ("Talla", "S"))]))
    assert len(mapped.items[0].id) <= 50


def test_a_variant_without_id_is_left_out() -> None:
    mapped = run(product(variants=[variant(None, ("Talla", "S")), variant(2, ("Talla", "M"))]))
    assert [i.id for i in mapped.items] == ["1001-2"]
    assert "id_invalid" in codes(mapped, "error")


def test_repeated_variant_ids_are_sent_once() -> None:
    mapped = run(product(variants=[variant(2, ("Talla", "S")), variant(2, ("Talla", "M"))]))
    assert [i.id for i in mapped.items] == ["1001-2"]
    assert "id_duplicate" in codes(mapped, "error")


# --- title and description -------------------------------------------------------------------


def test_title_includes_variant_options() -> None:
    data = product(variants=[variant(1, ("Color", "Rojo"), ("Talla", "M"))])
    assert first_values(run(data).items[0])["title"] == "Polera Básica - Rojo / M"


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("{name} - {options}", "Polera Básica"),
        ("{brand} {name} {options}", "Andes Polera Básica"),
        ("{name} ({options})", "Polera Básica"),
    ],
)
def test_title_pattern_without_options(pattern: str, expected: str) -> None:
    assert only(product(), FeedOptions(title_pattern=pattern))["title"] == expected


def test_long_titles_are_cut_to_150_with_a_warning() -> None:
    mapped = run(product(name="Polera " * 40))
    title = first_values(mapped.items[0])["title"]
    assert 1 <= len(title) <= 150
    assert not title.endswith(" ")
    assert "title_truncated" in codes(mapped, "warning")


@pytest.mark.parametrize("name", [None, "", "   ", "\x00\x01"])
def test_a_product_without_name_is_left_out(name: object) -> None:
    mapped = run(product(name=name))
    assert mapped.items == []
    assert codes(mapped, "error") == ["title_missing"]


def test_description_is_plain_text() -> None:
    html = "<h2>Detalles</h2><p>Algod&oacute;n &amp; lino</p><script>track()</script><ul><li>S</ul>"
    assert only(product(description=html))["description"] == "Detalles Algodón & lino S"


@pytest.mark.parametrize("description", [None, "", "<p> </p>", "<script>x()</script>"])
def test_empty_description_falls_back_to_the_title(description: object) -> None:
    mapped = run(product(description=description))
    fields = first_values(mapped.items[0])
    assert fields["description"] == fields["title"]
    assert "description_missing" in codes(mapped, "warning")


def test_long_descriptions_are_cut_to_5000() -> None:
    mapped = run(product(description="<p>" + "palabra " * 1000 + "</p>"))
    text = first_values(mapped.items[0])["description"]
    assert len(text) <= 5000
    assert text.endswith("palabra")
    assert "description_truncated" in codes(mapped, "warning")


# --- link ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("store_url", "permalink", "options", "expected"),
    [
        (
            "https://www.tienda.cl/",
            "/polera/",
            FeedOptions(),
            "https://www.tienda.cl/polera?utm_source=google&utm_medium=shopping",
        ),
        (
            "https://www.tienda.cl",
            "café con leche",
            FeedOptions(utm_source="", utm_medium=""),
            "https://www.tienda.cl/caf%C3%A9%20con%20leche",
        ),
        (
            "tienda.jumpseller.com",
            "p",
            FeedOptions(utm_campaign="verano"),
            "https://tienda.jumpseller.com/p?utm_source=google&utm_medium=shopping&utm_campaign=verano",
        ),
        (
            "https://www.tienda.cl/?ref=gs",
            "p",
            FeedOptions(),
            "https://www.tienda.cl/p?ref=gs&utm_source=google&utm_medium=shopping",
        ),
        (
            "https://www.tienda.cl",
            "50%-off",
            FeedOptions(utm_source=""),
            "https://www.tienda.cl/50%25-off?utm_medium=shopping",
        ),
    ],
)
def test_link(store_url: str, permalink: str, options: FeedOptions, expected: str) -> None:
    store = StoreInfo("t", "T", store_url, "CLP")
    assert only(product(permalink=permalink), options, store)["link"] == expected


@pytest.mark.parametrize(
    ("store_url", "permalink", "code"),
    [
        ("https://www.tienda.cl", None, "permalink_missing"),
        ("https://www.tienda.cl", " / ", "permalink_missing"),
        ("", "p", "link_invalid"),
        ("ftp://www.tienda.cl", "p", "link_invalid"),
        ("https://www.tienda.cl", "p" * 2000, "link_too_long"),
    ],
)
def test_bad_links_leave_the_product_out(store_url: str, permalink: object, code: str) -> None:
    mapped = run(product(permalink=permalink), store=StoreInfo("t", "T", store_url, "CLP"))
    assert mapped.items == []
    assert code in codes(mapped, "error")


# --- images ----------------------------------------------------------------------------------


def test_images_by_position_without_repeating_the_main_one() -> None:
    images = [{"id": i, "position": 13 - i, "url": f"https://i.com/{i}.jpg"} for i in range(13)]
    images.append({"id": 99, "position": 0, "url": "https://i.com/12.jpg"})
    mapped = run(product(images=images))
    fields = mapped.items[0].fields
    assert ("image_link", "https://i.com/12.jpg") in fields
    extra = [v for k, v in fields if k == "additional_image_link"]
    assert extra == [f"https://i.com/{i}.jpg" for i in range(11, 1, -1)]
    assert len(extra) == 10


def test_the_variant_image_comes_first() -> None:
    data = product(
        variants=[variant(1, ("Color", "Rojo"), image={"url": "https://i.com/rojo.jpg"})]
    )
    fields = run(data).items[0].fields
    assert ("image_link", "https://i.com/rojo.jpg") in fields
    assert ("additional_image_link", IMAGE) in fields


def test_a_broken_variant_image_falls_back_to_the_products() -> None:
    data = product(variants=[variant(1, ("Talla", "S"), image={"url": "data:image/png;base64,xx"})])
    mapped = run(data)
    assert first_values(mapped.items[0])["image_link"] == IMAGE
    assert "image_url_invalid" in codes(mapped, "warning")


def test_image_urls_are_percent_encoded() -> None:
    data = product(images=[{"position": 1, "url": "https://i.com/foto niño.jpg"}])
    assert only(data)["image_link"] == "https://i.com/foto%20ni%C3%B1o.jpg"


def test_no_image_leaves_the_item_out() -> None:
    mapped = run(product(images=[]))
    assert mapped.items == []
    assert codes(mapped, "error") == ["image_missing"]


def test_only_broken_images_leave_the_item_out() -> None:
    mapped = run(product(images=[{"position": 1, "url": "/relative.jpg"}]))
    assert mapped.items == []
    assert "image_invalid" in codes(mapped, "error")


def test_a_broken_extra_image_is_skipped_with_a_warning() -> None:
    images = [{"position": 1, "url": IMAGE}, {"position": 2, "url": "javascript:alert(1)"}]
    mapped = run(product(images=images))
    assert [k for k, _ in mapped.items[0].fields].count("additional_image_link") == 0
    assert "image_url_invalid" in codes(mapped, "warning")


# --- availability ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "stock", "unlimited", "options", "expected"),
    [
        ("available", 10, False, FeedOptions(), "in_stock"),
        ("available", "3", None, FeedOptions(), "in_stock"),
        ("available", 0, False, FeedOptions(), "out_of_stock"),
        ("available", -2, False, FeedOptions(), "out_of_stock"),
        ("available", 0, True, FeedOptions(), "in_stock"),
        ("available", 0, "true", FeedOptions(), "in_stock"),
        ("available", None, False, FeedOptions(), "in_stock"),
        ("available", 0, False, FeedOptions(include_out_of_stock=False), "out_of_stock_excluded"),
        ("not-available", 10, False, FeedOptions(), "product_not_available"),
        ("not-available", 10, False, FeedOptions(include_not_available=True), "out_of_stock"),
        ("disabled", 10, False, FeedOptions(include_not_available=True), "product_disabled"),
        (None, 10, False, FeedOptions(), "in_stock"),
    ],
)
def test_availability(
    status: object, stock: object, unlimited: object, options: FeedOptions, expected: str
) -> None:
    mapped = run(product(status=status, stock=stock, stock_unlimited=unlimited), options)
    if expected in PROBLEM_CODES:
        assert mapped.items == []
        assert codes(mapped) == [expected]
        assert mapped.problems[0].severity == "error"
    else:
        assert first_values(mapped.items[0])["availability"] == expected


def test_a_variants_own_stock_decides() -> None:
    data = product(
        stock=100,
        variants=[variant(1, ("Talla", "S"), stock=0), variant(2, ("Talla", "M"), stock=None)],
    )
    mapped = run(data, FeedOptions(include_out_of_stock=False))
    assert [i.id for i in mapped.items] == ["1001-2"]
    excluded = [p for p in mapped.problems if p.code == "out_of_stock_excluded"]
    assert [(p.variant_id, p.item_id) for p in excluded] == [("1", "1001-1")]


# --- price -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("currency", "price", "compare", "expected_price", "expected_sale"),
    [
        ("CLP", 12990, None, "12990 CLP", None),
        ("CLP", "12990.0", "0.0", "12990 CLP", None),
        ("CLP", 12990.5, None, "12991 CLP", None),
        ("CLP", 9990, 12990, "12990 CLP", "9990 CLP"),
        ("CLP", 9990, 9990, "9990 CLP", None),
        ("CLP", 9990, 5000, "9990 CLP", None),
        ("CLP", 9990, "abc", "9990 CLP", None),
        ("USD", 15, None, "15.00 USD", None),
        ("USD", "0.125", None, "0.13 USD", None),
        ("USD", 19.99, 24.5, "24.50 USD", "19.99 USD"),
        ("usd", 1, None, "1.00 USD", None),
        ("BRL", "49.9", None, "49.90 BRL", None),
        ("KWD", 1.2345, None, "1.235 KWD", None),
        ("JPY", 1500, None, "1500 JPY", None),
    ],
)
def test_price(
    currency: str, price: object, compare: object, expected_price: str, expected_sale: str | None
) -> None:
    store = StoreInfo("t", "T", "https://t.cl", currency)
    fields = only(product(price=price, compare_at_price=compare), store=store)
    assert fields["price"] == expected_price
    assert fields.get("sale_price") == expected_sale


@pytest.mark.parametrize(
    ("price", "code"),
    [
        (None, "price_missing"),
        ("", "price_missing"),
        ("abc", "price_invalid"),
        ("12,990", "price_invalid"),
        (float("nan"), "price_invalid"),
        (float("inf"), "price_invalid"),
        ("1e400", "price_invalid"),
        ([1], "price_invalid"),
        (0, "price_not_positive"),
        (-5, "price_not_positive"),
        ("0.4", "price_not_positive"),
    ],
)
def test_unusable_prices_leave_the_item_out(price: object, code: str) -> None:
    mapped = run(product(price=price))
    assert mapped.items == []
    assert codes(mapped, "error") == [code]


def test_a_variant_price_is_its_full_price() -> None:
    data = product(
        price=10000,
        compare_at_price=20000,
        variants=[
            variant(1, ("Talla", "S"), price=12000),
            variant(2, ("Talla", "M"), price=11000, compare_at_price=15000),
            variant(3, ("Talla", "L")),
        ],
    )
    prices = [
        (first_values(i)["price"], first_values(i).get("sale_price")) for i in run(data).items
    ]
    assert prices == [("12000 CLP", None), ("15000 CLP", "11000 CLP"), ("20000 CLP", "10000 CLP")]


def test_a_store_currency_that_is_not_iso_leaves_everything_out() -> None:
    mapped = run(product(), store=StoreInfo("t", "T", "https://t.cl", "$"))
    assert mapped.items == []
    assert codes(mapped, "error") == ["currency_invalid"]


def test_prices_are_exact_decimals() -> None:
    assert format_price(Decimal("0.1") + Decimal("0.2"), "USD") == "0.30 USD"
    assert parse_decimal(0.1) == Decimal("0.1")


# --- brand, identifiers, condition -----------------------------------------------------------


@pytest.mark.parametrize(
    ("brand", "default", "expected", "warning"),
    [
        ("Andes", "", "Andes", None),
        ("", "Casa", "Casa", None),
        ("N/A", "Casa", "Casa", "brand_placeholder"),
        ("Genérico", "", None, "brand_placeholder"),
        ("sin marca", "-", None, "brand_placeholder"),
        (None, "", None, "brand_missing"),
        (
            "Marca " * 20,
            "",
            "Marca Marca Marca Marca Marca Marca Marca Marca Marca Marca Marca",
            None,
        ),
    ],
)
def test_brand(brand: object, default: str, expected: str | None, warning: str | None) -> None:
    mapped = run(product(brand=brand), FeedOptions(default_brand=default))
    assert first_values(mapped.items[0]).get("brand") == expected
    if expected:
        assert len(expected) <= 70
    if warning:
        assert warning in codes(mapped, "warning")


def test_a_valid_barcode_is_the_gtin() -> None:
    fields = only(product(barcode="4006-3813-33931"))
    assert fields["gtin"] == "4006381333931"
    assert "identifier_exists" not in fields


def test_the_variants_barcode_comes_first() -> None:
    data = product(
        barcode="4006381333931", variants=[variant(1, ("Talla", "S"), barcode="96385074")]
    )
    assert first_values(run(data).items[0])["gtin"] == "96385074"


@pytest.mark.parametrize(
    ("barcode", "code"),
    [
        ("4006381333932", "gtin_invalid_check_digit"),
        ("12345", "gtin_wrong_length"),
        ("ABC-123", "gtin_not_digits"),
        ("2001234567893", "gtin_restricted_prefix"),
    ],
)
def test_an_invalid_barcode_is_dropped_with_a_warning(barcode: str, code: str) -> None:
    mapped = run(product(barcode=barcode))
    fields = first_values(mapped.items[0])
    assert "gtin" not in fields
    assert fields["identifier_exists"] == "no"
    problem = next(p for p in mapped.problems if p.code == code)
    assert (problem.severity, problem.detail) == ("warning", barcode)


def test_sku_is_the_mpn_only_when_the_merchant_says_so() -> None:
    assert "mpn" not in only(product(sku="ABC-1"))
    fields = only(product(sku="ABC-1"), FeedOptions(sku_is_mpn=True))
    assert fields["mpn"] == "ABC-1"
    assert "identifier_exists" not in fields


def test_an_overlong_sku_is_not_sent_as_mpn() -> None:
    mapped = run(product(sku="X" * 71), FeedOptions(sku_is_mpn=True))
    assert "mpn" not in first_values(mapped.items[0])
    assert "mpn_too_long" in codes(mapped, "warning")


@pytest.mark.parametrize(
    ("condition", "expected"), [("used", "used"), ("refurbished", "refurbished"), ("bogus", "new")]
)
def test_condition_comes_from_the_options(condition: str, expected: str) -> None:
    assert only(product(), FeedOptions(condition=condition))["condition"] == expected


# --- categories ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "options", "expected"),
    [
        ({"google_product_category": 212}, FeedOptions(), "212"),
        (
            {"google_product_category_text": "Apparel & Accessories > Clothing"},
            FeedOptions(),
            "1604",
        ),
        ({}, FeedOptions(category_map={"11": "212", "10": "1604"}), "212"),
        ({}, FeedOptions(category_map={"10": "1604"}), None),
        ({}, FeedOptions(default_google_category="222"), "222"),
        ({}, FeedOptions(), None),
    ],
)
def test_google_product_category(
    overrides: dict, options: FeedOptions, expected: str | None
) -> None:
    assert only(product(**overrides), options).get("google_product_category") == expected


def test_an_unknown_google_category_is_reported() -> None:
    mapped = run(
        product(google_product_category_text="Ropa bonita"),
        FeedOptions(default_google_category="222"),
    )
    assert first_values(mapped.items[0])["google_product_category"] == "222"
    assert "google_category_unknown" in codes(mapped, "warning")


def test_product_type_is_the_first_categorys_path() -> None:
    data = product(categories=[{"id": 11}, {"id": 20}])
    assert only(data)["product_type"] == "Ropa > Poleras"
    assert "product_type" not in only(product(categories=[]))


# --- variant attributes ----------------------------------------------------------------------


def test_option_names_become_google_attributes() -> None:
    opts = (("Color", "Azul"), ("Talla", "XL"), ("Material", "Lino"), ("Estampado", "Rayas"))
    fields = first_values(run(product(variants=[variant(1, *opts)])).items[0])
    assert (fields["color"], fields["size"], fields["material"], fields["pattern"]) == (
        "Azul",
        "XL",
        "Lino",
        "Rayas",
    )


def test_at_most_three_colors_joined_by_slash() -> None:
    colors = [("Color", c) for c in ("Rojo", "Azul", "Verde", "Negro")]
    assert first_values(run(product(variants=[variant(1, *colors)])).items[0])["color"] == (
        "Rojo/Azul/Verde"
    )


def test_a_color_option_type_counts_as_color() -> None:
    data = product(
        variants=[variant(1, options=[{"name": "Tono", "option_type": "color", "value": "Verde"}])]
    )
    assert first_values(run(data).items[0])["color"] == "Verde"


@pytest.mark.parametrize(
    ("kind", "name", "limit"),
    [
        ("color", "Color", 100),
        ("size", "Talla", 100),
        ("material", "Material", 200),
        ("pattern", "Estampado", 100),
    ],
)
def test_attribute_lengths(kind: str, name: str, limit: int) -> None:
    data = product(variants=[variant(1, (name, "largo " * 60))])
    assert 0 < len(first_values(run(data).items[0])[kind]) <= limit


def test_variants_that_do_not_differ_are_reported() -> None:
    data = product(variants=[variant(1, ("Sabor", "Menta")), variant(2, ("Sabor", "Limón"))])
    mapped = run(data)
    problem = next(p for p in mapped.problems if p.code == "variants_indistinct")
    assert problem.severity == "warning"
    assert problem.detail == "Menta, Limón"


def test_variants_google_cannot_tell_apart_are_sent_as_separate_products() -> None:
    data = product(variants=[variant(1, ("Sabor", "Menta")), variant(2, ("Sabor", "Limón"))])
    items = [first_values(item) for item in run(data).items]
    assert [item.get("item_group_id") for item in items] == [None, None]
    assert [item["title"] for item in items] == ["Polera Básica - Menta", "Polera Básica - Limón"]


def test_separate_products_name_their_options_even_when_the_pattern_does_not() -> None:
    data = product(variants=[variant(1, ("Estilo", "Clásico")), variant(2, ("Estilo", "Moderno"))])
    items = run(data, FeedOptions(title_pattern="{name}")).items
    assert [first_values(i)["title"] for i in items] == [
        "Polera Básica - Clásico",
        "Polera Básica - Moderno",
    ]


def test_distinct_variants_keep_their_group() -> None:
    data = product(variants=[variant(1, ("Talla", "S")), variant(2, ("Talla", "M"))])
    assert {first_values(i)["item_group_id"] for i in run(data).items} == {"1001"}


@pytest.mark.parametrize(
    ("name", "title"),
    [
        ("<b>Funda Inalámbricos</b> <br>Nuevo", "Funda Inalámbricos Nuevo"),
        ("Polera &amp;amp; Co.", "Polera & Co."),
        ("&lt;i&gt;Polera&lt;/i&gt; &quot;Premium&quot;", 'Polera "Premium"'),
    ],
)
def test_markup_and_entities_never_reach_a_title(name: str, title: str) -> None:
    mapped = run(product(name=name))
    assert first_values(mapped.items[0])["title"] == title
    assert "name_markup" in codes(mapped, "warning")


def test_a_plain_name_is_not_reported_as_markup() -> None:
    assert "name_markup" not in codes(run(product(name="Tom & Jerry <3")))


def test_brand_options_and_pattern_are_cleaned_like_names() -> None:
    data = product(
        brand="<strong>Andes &amp;amp; Hijos</strong>",
        variants=[variant(1, ("<i>Color</i>", "<b>Rojo</b>")), variant(2, ("Color", "Azul"))],
    )
    items = run(data, FeedOptions(title_pattern="{name} <i>{brand}</i> - {options}")).items
    first = first_values(items[0])
    assert (first["brand"], first["color"]) == ("Andes & Hijos", "Rojo")
    assert first["title"] == "Polera Básica Andes & Hijos - Rojo"


def test_mapping_tells_the_build_how_many_offers_the_product_stands_for() -> None:
    data = product(status="disabled", variants=[variant(1), variant(2), variant(3)])
    mapped = run(data)
    assert (mapped.items, mapped.offers) == ([], 3)
    assert run(product()).offers == 1


def test_distinct_variants_are_not_reported() -> None:
    data = product(variants=[variant(1, ("Talla", "S")), variant(2, ("Talla", "M"))])
    assert "variants_indistinct" not in codes(run(data))


def test_apparel_without_color_size_gender_or_age_is_reported() -> None:
    mapped = run(product(google_product_category="1604"))
    problem = next(p for p in mapped.problems if p.code == "apparel_attributes_missing")
    assert problem.detail == "color, size, gender, age_group"
    assert "apparel_attributes_missing" not in codes(run(product(google_product_category="222")))


def test_merchant_gender_and_age_group_go_on_apparel_only() -> None:
    options = FeedOptions(gender="female", age_group="adult")
    fields = only(product(google_product_category="1604"), options)
    assert (fields["gender"], fields["age_group"]) == ("female", "adult")
    problem = next(
        p
        for p in run(product(google_product_category="1604"), options).problems
        if p.code == "apparel_attributes_missing"
    )
    assert problem.detail == "color, size"
    assert "gender" not in only(product(google_product_category="222"), options)


# --- shipping weight -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("weight", "unit", "expected"),
    [
        (1.5, "kg", "1.5 kg"),
        ("2", "lb", "2 lb"),
        (250, "g", "250 g"),
        (0.0001, "kg", None),
        (0, "kg", None),
        (None, "kg", None),
        ("abc", "kg", None),
        (1, "stone", None),
        (1, "LBS", "1 lb"),
    ],
)
def test_shipping_weight(weight: object, unit: str, expected: str | None) -> None:
    store = StoreInfo("t", "T", "https://t.cl", "CLP", weight_unit=unit)
    assert only(product(weight=weight), store=store).get("shipping_weight") == expected


def test_a_variants_weight_wins() -> None:
    data = product(weight=1, variants=[variant(1, ("Talla", "S"), weight=2.25)])
    assert first_values(run(data).items[0])["shipping_weight"] == "2.25 kg"


# --- problems and their messages -------------------------------------------------------------


def test_no_value_is_ever_empty() -> None:
    data = product(brand="", barcode="", categories=[], weight=None, description="")
    for name, value in run(data).items[0].fields:
        assert value and value.strip() == value, name


def test_characters_xml_forbids_never_reach_a_value() -> None:
    dirty = "Po\x00le\x0bra\ufffe \ud800Roja\x1f"
    data = product(
        name=dirty,
        brand=dirty,
        description=f"<p>{dirty}&#1;</p>",
        variants=[variant(1, ("Color", dirty), sku=dirty)],
    )
    fields = run(data, FeedOptions(sku_is_mpn=True)).items[0].fields
    assert ("title", "Polera Roja - Polera Roja") in fields
    for name, value in fields:
        assert not set(value) & set("\x00\x0b\x1f\x01\ufffe\ud800"), name


def test_problems_carry_the_product_and_item() -> None:
    data = product(variants=[variant(5, ("Talla", "S"), price="gratis")])
    problem = next(p for p in run(data).problems if p.code == "price_invalid")
    assert problem == Problem(
        "price_invalid", "error", "1001", "5", "1001-5", "Polera Básica", "gratis"
    )


@pytest.mark.parametrize("code", sorted(PROBLEM_CODES))
def test_every_problem_has_a_severity_and_a_message_id_saying_what_to_change(code: str) -> None:
    """The domain keeps English message ids only; tests/web/test_i18n.py checks the languages."""
    severity, message = MESSAGES[code]
    assert PROBLEM_CODES[code] == severity and severity in ("error", "warning", "excluded")
    assert "{" not in message and "%" not in message.replace("%(detail)s", "")
    assert "Jumpseller" in message or ">" in message or "settings" in message
