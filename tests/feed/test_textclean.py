"""Plain text, titles and URLs as Google accepts them."""

from __future__ import annotations

import re

import pytest
from lxml import etree

from feedapp.feed.textclean import (
    MAX_URL,
    clean_id,
    clean_text,
    clean_url,
    cut_at_word,
    encode_url,
    html_to_text,
    image_urls,
    is_placeholder_brand,
    page_url,
    render_title,
    site_root,
    strip_unsafe,
)

RFC3986 = re.compile(r"^(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})+$")
FORBIDDEN = ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1f", "\ud800", "\udfff", "\ufffe", "\uffff"]
DISCOURAGED = ["\x7f", "\x80", "\x9f", "\ufdd0", "\U0001fffe", "\U0010ffff"]


@pytest.mark.parametrize("char", FORBIDDEN + DISCOURAGED)
def test_strip_unsafe_drops_what_xml_refuses(char: str) -> None:
    assert strip_unsafe(f"a{char}b") == "ab"


@pytest.mark.parametrize("char", ["\t", "\n", "\r", "\x85", "é", "😀", "\ufffd", "\u2028"])
def test_strip_unsafe_keeps_legal_characters(char: str) -> None:
    assert strip_unsafe(f"a{char}b") == f"a{char}b"


def test_every_xml_refused_character_is_stripped() -> None:
    for code in list(range(0x20)) + [0xFFFE, 0xFFFF] + list(range(0xD800, 0xE000, 0x7F)):
        text = strip_unsafe(f"x{chr(code)}y")
        element = etree.Element("t")
        element.text = text  # lxml raises on anything XML 1.0 forbids
        assert etree.fromstring(etree.tostring(element)).text == text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ""),
        (True, ""),
        (12, "12"),
        (1.5, "1.5"),
        ("  a \n\t b  ", "a b"),
        ("a\x00b", "ab"),
        (["list"], ""),
        ({"x": 1}, ""),
    ],
)
def test_clean_text(value: object, expected: str) -> None:
    assert clean_text(value) == expected


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<p>Uno</p><p>Dos</p>", "Uno Dos"),
        ("a<br>b<br/>c", "a b c"),
        ("<ul><li>uno</li><li>dos</li></ul>", "uno dos"),
        ("<b>Negrita</b> y <i>cursiva</i>", "Negrita y cursiva"),
        ("Hola <script>alert('x')</script>mundo", "Hola mundo"),
        ("Hola <style>p { color: red }</style>mundo", "Hola mundo"),
        ("<p>Tom &amp; Jerry</p>", "Tom & Jerry"),
        ("Tom &amp; Jerry", "Tom & Jerry"),
        ("<p>&amp;lt;b&amp;gt;x</p>", "x"),  # markup encoded twice is still markup
        ("&amp;amp;quot;Premium&amp;quot; &amp;amp; Co.", '"Premium" & Co.'),
        ("&lt;p&gt; is a tag", "is a tag"),  # decoded markup is dropped like markup
        ("a&nbsp;&nbsp;b", "a b"),
        ("<p>caf&eacute; &#241; &#x00F1;</p>", "café ñ ñ"),
        ("plain\n\n  text", "plain text"),
        ("<!-- hidden --><p>shown</p>", "shown"),
        ('<?xml version="1.0" encoding="latin1"?><p>ñandú</p>', "ñandú"),
        ("<p>unclosed <b>bold", "unclosed bold"),
        ("<<<>>>", "<<<>>>"),
        ("1 < 2 and 3 > 2", "1 < 2 and 3 > 2"),
        ("<", "<"),
        ("</p>", ""),
        ("", ""),
        ("   ", ""),
        (None, ""),
        (42, "42"),
        ("<html><head><title>t</title></head><body>b</body></html>", "b"),
    ],
)
def test_html_to_text(html: object, expected: str) -> None:
    assert html_to_text(html) == expected


@pytest.mark.parametrize(
    "html",
    [
        "<P>&#1",
        "<p>a</p>&#1;b",
        "a\x00b<p>c</p>",
        "&#0;&#1;&#xFFFE;&#xD800;<p>x</p>",
        "&#0;&#1;&#xFFFE;",
        "\udc80<b>x",
    ],
)
def test_html_to_text_never_returns_unsafe_characters(html: str) -> None:
    text = html_to_text(html)
    assert strip_unsafe(text) == text


def test_html_to_text_survives_deep_nesting_and_large_input() -> None:
    assert html_to_text("<div>" * 1000 + "deep" + "</div>" * 1000) == "deep"
    big = "<p>" + "palabra " * 200_000 + "</p>"
    assert html_to_text(big).startswith("palabra palabra")


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("short", 10, "short"),
        ("hello world foo", 11, "hello world"),
        ("hello world foo", 14, "hello world"),
        ("hello, world", 9, "hello"),
        ("abcdefghij", 5, "abcde"),
        ("a bcdefghijklmnop", 10, "a bcdefghi"),
    ],
)
def test_cut_at_word(text: str, limit: int, expected: str) -> None:
    assert cut_at_word(text, limit) == expected


URLS = [
    ("https://example.com/a b", "https://example.com/a%20b"),
    ("https://example.com/a  b\x00.jpg", "https://example.com/a%20%20b.jpg"),
    ("https://example.com/ñandú", "https://example.com/%C3%B1and%C3%BA"),
    ("https://example.com/a%20b", "https://example.com/a%20b"),
    ("https://example.com/100%", "https://example.com/100%25"),
    ("https://example.com/%zz", "https://example.com/%25zz"),
    ("HTTPS://Example.COM/Path", "https://example.com/Path"),
    ("  https://example.com/x  ", "https://example.com/x"),
    ("//cdn.example.com/x.jpg", "https://cdn.example.com/x.jpg"),
    ("http://example.com", "http://example.com"),
    ("https://bücher.de/x", "https://xn--bcher-kva.de/x"),
    ("https://example.com/s?q=ü c&x=1", "https://example.com/s?q=%C3%BC%20c&x=1"),
    ("https://example.com/p#a#b", "https://example.com/p#a%23b"),
    ("https://example.com:8443/x", "https://example.com:8443/x"),
    ("http://[::1]:8080/x", "http://[::1]:8080/x"),
    ("https://example.com/a|b\\c<d>", "https://example.com/a%7Cb%5Cc%3Cd%3E"),
    (
        "https://images.jumpseller.com/store/x/y.jpg?1600",
        "https://images.jumpseller.com/store/x/y.jpg?1600",
    ),
]


@pytest.mark.parametrize(("raw", "expected"), URLS)
def test_clean_url(raw: str, expected: str) -> None:
    assert clean_url(raw) == expected
    assert RFC3986.match(expected)
    assert clean_url(expected) == expected  # cleaning twice never double-encodes


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "",
        "ftp://example.com/x",
        "javascript:alert(1)",
        "mailto:a@example.com",
        "example.com/x",
        "/relative/path.jpg",
        "http://",
        "https://user:pw@example.com/",
        "https://exa mple.com/",
        "https://[::1/",
        "https://example.com:99999/",
        "https://example.com:8o/",
        "https://a..b/",
        "https://" + "a" * 64 + ".com/",
        "https://example.com/" + "x" * MAX_URL,
        "https://<script>/",
    ],
)
def test_clean_url_refuses(raw: object) -> None:
    assert clean_url(raw) is None


@pytest.mark.parametrize(
    ("store_url", "expected"),
    [
        ("https://shop.example.com", ("https://shop.example.com", "")),
        ("https://shop.example.com/", ("https://shop.example.com", "")),
        ("shop.example.com", ("https://shop.example.com", "")),
        ("http://shop.example.com/tienda/", ("http://shop.example.com/tienda", "")),
        ("https://shop.example.com/?ref=x#top", ("https://shop.example.com", "ref=x")),
        ("", None),
        ("not a url", None),
    ],
)
def test_site_root(store_url: str, expected: tuple[str, str] | None) -> None:
    assert site_root(store_url) == expected


def test_page_url_adds_parameters_after_an_existing_query() -> None:
    params = [("utm_source", "google"), ("utm_medium", ""), ("utm_campaign", "a b&c")]
    url = page_url("https://s.com", "ref=1", "/café con leche/", params)
    assert (
        url
        == "https://s.com/caf%C3%A9%20con%20leche?ref=1&utm_source=google&utm_campaign=a%20b%26c"
    )
    assert RFC3986.match(url)


def test_page_url_keeps_parameters_already_there() -> None:
    url = page_url("https://s.com", "utm_source=newsletter", "p", [("utm_source", "google")])
    assert url == "https://s.com/p?utm_source=newsletter"


def test_page_url_encodes_query_characters_in_the_permalink() -> None:
    assert page_url("https://s.com", "", "a?b#c", []) == "https://s.com/a%3Fb%23c"


TITLES = [
    ("{name} - {options}", "Polera", "Rojo / M", "Nike", "Polera - Rojo / M"),
    ("{name} - {options}", "Polera", "", "Nike", "Polera"),
    ("{name} ({options})", "Polera", "", "Nike", "Polera"),
    ("{name} [{options}]", "Polera", "", "", "Polera"),
    ("{brand} {name} {options}", "Polera", "M", "", "Polera M"),
    ("{brand} - {name} - {options}", "Polera", "", "Nike", "Nike - Polera"),
    ("{options} | {name}", "Polera", "", "", "Polera"),
    ("{name} | {options} | {brand}", "Polera", "", "", "Polera"),
    ("{name}, {options}", "Polera", "XL", "", "Polera, XL"),
    ("{options}", "Polera", "", "", "Polera"),
    ("", "Polera", "M", "", "Polera"),
    ("{name}\x00{options}", "Polera", "M", "", "PoleraM"),
]


@pytest.mark.parametrize(("pattern", "name", "options", "brand", "expected"), TITLES)
def test_render_title(pattern: str, name: str, options: str, brand: str, expected: str) -> None:
    assert render_title(pattern, name, options, brand, 150) == (expected, False)


def test_long_titles_shorten_the_name_and_keep_the_options() -> None:
    name = " ".join(["Zapatilla"] * 30)
    title, cut = render_title("{name} - {options}", name, "Rojo / 42", "", 150)
    assert cut is True
    assert len(title) <= 150
    assert title.endswith(" - Rojo / 42")


def test_long_titles_without_room_are_cut_at_a_word() -> None:
    title, cut = render_title("{name}", "palabra " * 40, "", "", 150)
    assert cut is True
    assert len(title) <= 150
    assert title.endswith("palabra")


@pytest.mark.parametrize(
    "brand",
    [
        "N/A",
        "n/a",
        "NA",
        "none",
        "None",
        "GENERIC",
        "Genérico",
        "No brand",
        "sin marca",
        "-",
        "--",
        ".",
    ],
)
def test_placeholder_brands(brand: str) -> None:
    assert is_placeholder_brand(brand)


@pytest.mark.parametrize("brand", ["Nike", "NAF NAF", "Nonetheless", "3M", "H&M", "Generico Foods"])
def test_real_brands(brand: str) -> None:
    assert not is_placeholder_brand(brand)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (123, "123"),
        ("123", "123"),
        (" 45 ", "45"),
        (7.0, "7"),
        ("abc-1_2.3", "abc-1_2.3"),
        (None, None),
        (True, None),
        (-1, None),
        (7.5, None),
        ("", None),
        ("a b", None),
        ("ñ", None),
        ("x" * 25, None),
        (10**30, None),
        (float("nan"), None),
        ([1], None),
    ],
)
def test_clean_id(value: object, expected: str | None) -> None:
    assert clean_id(value) == expected


def test_image_urls_by_position_without_repeats() -> None:
    images = [
        {"position": 3, "url": "https://i.com/c.jpg"},
        {"position": "1", "url": "https://i.com/a.jpg"},
        {"position": None, "url": "https://i.com/z.jpg"},
        {"position": 2, "url": "https://i.com/b.jpg"},
        {"position": 4, "url": "https://i.com/a.jpg"},
        {"position": 5, "url": "not a url"},
        {"position": 6},
        "garbage",
    ]
    urls, bad = image_urls(images)
    assert urls == [
        "https://i.com/a.jpg",
        "https://i.com/b.jpg",
        "https://i.com/c.jpg",
        "https://i.com/z.jpg",
    ]
    assert bad == ["not a url", "—"]


@pytest.mark.parametrize("images", [None, "x", {}, []])
def test_image_urls_of_nothing(images: object) -> None:
    assert image_urls(images) == ([], [])


@pytest.mark.parametrize(
    "url",
    [
        "https://images.jumpseller.com/store/a/1/x-1.jpg?1684045409",
        "https://shop.example.com",
        "https://shop.example.com/?",
        "https://shop.example.com:8443/a/b;c=d/e%20f?x=1&y=%2F",
        "http://shop.example.com/a%zz",
        "https://SHOP.example.com/a",
        "https://shop.example.com:99999/a",
        "https://user@shop.example.com/a",
        "https://shop.example.com/a b/ñ?q=á#frag",
        "https://shop.example.com/a?b?c",
    ],
)
def test_clean_url_fast_path_agrees_with_full_encoding(url: str) -> None:
    assert clean_url(url) == encode_url(url)
