"""Why an item is missing or weakened, in words a merchant can act on in English and Spanish."""

from __future__ import annotations

from dataclasses import dataclass

ERROR = "error"  # the item is left out of the feed
WARNING = "warning"  # the item is in the feed, but something was dropped or may hurt it

_EDIT = "Products > edit product"
_EDITAR = "Productos > editar producto"
_SETTINGS = "this app's settings"
_AJUSTES = "los ajustes de esta app"


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding about one product or item, kept with the build so the merchant sees it."""

    code: str
    severity: str
    product_id: str
    variant_id: str | None
    item_id: str
    product_name: str
    detail: str = ""


def _gtin(en_reason: str, es_reason: str) -> tuple[str, str, str]:
    return (
        WARNING,
        f"The barcode {{detail}} is not a valid GTIN ({en_reason}), so it was not sent. "
        f"Correct it in {_EDIT} > Barcode, or leave it empty.",
        f"El código de barras {{detail}} no es un GTIN válido ({es_reason}), así que no se envió. "
        f"Corrígelo en {_EDITAR} > Código de barras, o déjalo vacío.",
    )


#: code -> (severity, English message, Spanish message); ``{detail}`` is the problem's detail.
_MESSAGES: dict[str, tuple[str, str, str]] = {
    "product_unreadable": (
        ERROR,
        "This product's data could not be read ({detail}), so it is left out. Save the product "
        "again in Jumpseller; if this stays, contact the app's support.",
        "No se pudieron leer los datos de este producto ({detail}), por eso se omite. Guarda el "
        "producto de nuevo en Jumpseller; si persiste, contacta al soporte de la app.",
    ),
    "product_disabled": (
        ERROR,
        f"This product is disabled in Jumpseller, so it is not in the feed. To list it, set its "
        f"status to Available in {_EDIT}.",
        f"Este producto está deshabilitado en Jumpseller, por eso no está en el feed. Para "
        f"publicarlo, cambia su estado a Disponible en {_EDITAR}.",
    ),
    "product_not_available": (
        ERROR,
        f"This product's status is Not available, so it is left out. Set it to Available in "
        f"{_EDIT}, or choose to include products that are not available in {_SETTINGS}.",
        f"El estado de este producto es No disponible, por eso se omite. Cámbialo a Disponible en "
        f"{_EDITAR}, o elige incluir los productos no disponibles en {_AJUSTES}.",
    ),
    "out_of_stock_excluded": (
        ERROR,
        f"This item has no stock and your settings leave out-of-stock items out. Add stock (or "
        f"make it unlimited) in {_EDIT} > Stock, or include out-of-stock items in {_SETTINGS}.",
        f"Este ítem no tiene stock y tus ajustes omiten los productos agotados. Agrega stock (o "
        f"hazlo ilimitado) en {_EDITAR} > Stock, o incluye los agotados en {_AJUSTES}.",
    ),
    "id_invalid": (
        ERROR,
        "Jumpseller sent this product or variant without a usable id ({detail}). Save the "
        "product again in Jumpseller; if this stays, contact the app's support.",
        "Jumpseller envió este producto o variante sin un id utilizable ({detail}). Guarda el "
        "producto de nuevo en Jumpseller; si persiste, contacta al soporte de la app.",
    ),
    "id_duplicate": (
        ERROR,
        f"Two variants of this product share the id {{detail}}, so only the first is sent. "
        f"Delete the repeated variant and create it again in {_EDIT} > Variants.",
        f"Dos variantes de este producto comparten el id {{detail}}, así que solo se envía la "
        f"primera. Elimina la variante repetida y créala de nuevo en {_EDITAR} > Variantes.",
    ),
    "title_missing": (
        ERROR,
        f"This product has no name, and Google requires a title. Give it one in {_EDIT} > Name.",
        f"Este producto no tiene nombre y Google exige un título. Escríbelo en {_EDITAR} > Nombre.",
    ),
    "permalink_missing": (
        ERROR,
        f"This product has no page address (permalink), so there is no link to send. Set the "
        f"product's URL in {_EDIT} > SEO.",
        f"Este producto no tiene dirección de página (permalink), así que no hay enlace que "
        f"enviar. Define la URL del producto en {_EDITAR} > SEO.",
    ),
    "link_invalid": (
        ERROR,
        f"The product page address {{detail}} is not a valid web address. Check the product's "
        f"URL in {_EDIT} > SEO and your store's domain in Jumpseller's settings.",
        f"La dirección de la página del producto {{detail}} no es una dirección web válida. "
        f"Revisa la URL del producto en {_EDITAR} > SEO y el dominio de tu tienda en los ajustes "
        f"de Jumpseller.",
    ),
    "link_too_long": (
        ERROR,
        f"The product page address is longer than the 2000 characters Google accepts. Shorten "
        f"the product's URL in {_EDIT} > SEO.",
        f"La dirección de la página del producto supera los 2000 caracteres que acepta Google. "
        f"Acorta la URL del producto en {_EDITAR} > SEO.",
    ),
    "image_missing": (
        ERROR,
        f"This item has no image, and Google requires one. Add an image in {_EDIT} > Images.",
        f"Este ítem no tiene imagen y Google exige una. Agrega una imagen en {_EDITAR} > Imágenes.",
    ),
    "image_invalid": (
        ERROR,
        f"None of this item's images has a valid web address ({{detail}}), and Google requires "
        f"one. Upload the images again in {_EDIT} > Images.",
        f"Ninguna imagen de este ítem tiene una dirección web válida ({{detail}}) y Google exige "
        f"una. Sube las imágenes de nuevo en {_EDITAR} > Imágenes.",
    ),
    "image_url_invalid": (
        WARNING,
        f"The image address {{detail}} is not valid, so that image was skipped. Upload it again "
        f"in {_EDIT} > Images.",
        f"La dirección de imagen {{detail}} no es válida, así que esa imagen se omitió. Súbela de "
        f"nuevo en {_EDITAR} > Imágenes.",
    ),
    "price_missing": (
        ERROR,
        f"This item has no price. Set it in {_EDIT} > Price (or in the variant's price).",
        f"Este ítem no tiene precio. Defínelo en {_EDITAR} > Precio (o en el precio de la "
        f"variante).",
    ),
    "price_invalid": (
        ERROR,
        f"The price {{detail}} is not a number Google can read. Correct it in {_EDIT} > Price "
        f"(or in the variant's price).",
        f"El precio {{detail}} no es un número que Google pueda leer. Corrígelo en {_EDITAR} > "
        f"Precio (o en el precio de la variante).",
    ),
    "price_not_positive": (
        ERROR,
        f"The price is {{detail}}, and Google needs a price above zero. Set the real price in "
        f"{_EDIT} > Price (or in the variant's price).",
        f"El precio es {{detail}} y Google necesita un precio mayor que cero. Define el precio "
        f"real en {_EDITAR} > Precio (o en el precio de la variante).",
    ),
    "currency_invalid": (
        ERROR,
        "Your store's currency ({detail}) is not an ISO 4217 code, so no price can be sent. "
        "Check the currency in Jumpseller's store settings.",
        "La moneda de tu tienda ({detail}) no es un código ISO 4217, así que no se puede enviar "
        "ningún precio. Revisa la moneda en los ajustes de la tienda en Jumpseller.",
    ),
    "title_truncated": (
        WARNING,
        f"The title is longer than the 150 characters Google accepts and was shortened. Shorten "
        f"the name in {_EDIT} > Name, or simplify the title pattern in {_SETTINGS}.",
        f"El título supera los 150 caracteres que acepta Google y se acortó. Acorta el nombre en "
        f"{_EDITAR} > Nombre, o simplifica el patrón de título en {_AJUSTES}.",
    ),
    "description_truncated": (
        WARNING,
        f"The description is longer than the 5000 characters Google accepts and was cut. "
        f"Shorten it in {_EDIT} > Description.",
        f"La descripción supera los 5000 caracteres que acepta Google y se cortó. Acórtala en "
        f"{_EDITAR} > Descripción.",
    ),
    "description_missing": (
        WARNING,
        f"This product has no description, so its title is sent instead. Write one in {_EDIT} > "
        f"Description.",
        f"Este producto no tiene descripción, así que se envía su título. Escribe una en "
        f"{_EDITAR} > Descripción.",
    ),
    "brand_placeholder": (
        WARNING,
        f'The brand "{{detail}}" is a placeholder Google rejects, so it was not sent. Enter the '
        f"real brand in {_EDIT} > Brand, or leave it empty.",
        f'La marca "{{detail}}" es un comodín que Google rechaza, así que no se envió. Escribe la '
        f"marca real en {_EDITAR} > Marca, o déjala vacía.",
    ),
    "brand_missing": (
        WARNING,
        f"This product has no brand, and Google expects one for most products. Enter it in "
        f"{_EDIT} > Brand, or set a default brand in {_SETTINGS}.",
        f"Este producto no tiene marca y Google la espera en la mayoría de los productos. "
        f"Escríbela en {_EDITAR} > Marca, o define una marca por defecto en {_AJUSTES}.",
    ),
    "gtin_not_digits": _gtin("it must contain only digits", "solo puede contener dígitos"),
    "gtin_wrong_length": _gtin(
        "it must have 8, 12, 13 or 14 digits", "debe tener 8, 12, 13 o 14 dígitos"
    ),
    "gtin_invalid_check_digit": _gtin("wrong check digit", "dígito verificador incorrecto"),
    "gtin_zero": _gtin("it is all zeros", "son solo ceros"),
    "gtin_restricted_prefix": _gtin(
        "its prefix is reserved for in-store use", "su prefijo está reservado para uso interno"
    ),
    "gtin_coupon_prefix": _gtin(
        "its prefix is reserved for coupons", "su prefijo está reservado para cupones"
    ),
    "gtin_indicator_9": _gtin(
        "GTIN-14 codes starting with 9 are for variable-measure items",
        "los GTIN-14 que empiezan con 9 son para productos de medida variable",
    ),
    "mpn_too_long": (
        WARNING,
        f"The SKU {{detail}} is longer than the 70 characters Google accepts for an MPN, so it "
        f"was not sent. Shorten it in {_EDIT} > SKU.",
        f"El SKU {{detail}} supera los 70 caracteres que Google acepta para un MPN, así que no "
        f"se envió. Acórtalo en {_EDITAR} > SKU.",
    ),
    "google_category_unknown": (
        WARNING,
        f'The Google category "{{detail}}" set on this product is not in Google\'s official '
        f"list, so it was not used. Pick one from the list in {_EDIT}, or map your categories "
        f"in {_SETTINGS}.",
        f'La categoría de Google "{{detail}}" de este producto no está en la lista oficial de '
        f"Google, así que no se usó. Elige una de la lista en {_EDITAR}, o asigna tus "
        f"categorías en {_AJUSTES}.",
    ),
    "variants_indistinct": (
        WARNING,
        f"Some variants of this product have the same color, size, material and pattern "
        f"({{detail}}), so Google cannot tell them apart. Make their values differ in {_EDIT} > "
        f"Variants, or add the option names you use to the option lists in {_SETTINGS}.",
        f"Algunas variantes de este producto tienen el mismo color, talla, material y estampado "
        f"({{detail}}), así que Google no puede distinguirlas. Haz que sus valores difieran en "
        f"{_EDITAR} > Variantes, o agrega los nombres de opción que usas a las listas de "
        f"{_AJUSTES}.",
    ),
    "apparel_attributes_missing": (
        WARNING,
        f"Google asks clothing items for attributes this item lacks: {{detail}}. Add a Color "
        f"option (and a Size option for clothes and shoes) in {_EDIT} > Variants; gender and "
        f"age group cannot be sent from Jumpseller.",
        f"Google pide datos que este ítem de ropa no tiene: {{detail}}. Agrega una opción Color "
        f"(y una Talla para ropa y calzado) en {_EDITAR} > Variantes; el género y el grupo de "
        f"edad no se pueden enviar desde Jumpseller.",
    ),
}

#: Every problem code with its severity ("error": item left out; "warning": item kept).
PROBLEM_CODES: dict[str, str] = {code: entry[0] for code, entry in _MESSAGES.items()}


def describe(problem: Problem, lang: str = "en") -> str:
    """The merchant's message for a problem, in Spanish for "es*" and English otherwise."""
    entry = _MESSAGES.get(problem.code)
    if entry is None:  # a code from elsewhere in the app: still say something useful
        return f"{problem.code}: {problem.detail}" if problem.detail else problem.code
    text = entry[2] if lang.lower().startswith("es") else entry[1]
    return text.replace("{detail}", problem.detail or "—")
