"""The merchant's pages in Spanish or English, picked from the browser's Accept-Language."""

from __future__ import annotations

import re

from flask import Flask, g, request

#: Most Jumpseller merchants are Latin-American: Spanish unless the browser prefers English.
DEFAULT = "es"
LANGUAGES = ("es", "en")

#: key -> (English, Spanish). Placeholders use str.format names.
STRINGS: dict[str, tuple[str, str]] = {
    "app.name": ("Google Shopping feed", "Feed de Google Shopping"),
    "app.tagline": (
        "Publishes your catalogue as a product feed that Google Merchant Center reads.",
        "Publica tu catálogo como un feed de productos que Google Merchant Center lee.",
    ),
    # -- connecting ------------------------------------------------------------------------
    "connect.title": ("Connect your store", "Conecta tu tienda"),
    "connect.why": (
        "Jumpseller does not tell this page which store you are in. Connect once with your "
        "Jumpseller account so the app can read your products and show your store's settings.",
        "Jumpseller no le dice a esta página en qué tienda estás. Conéctate una vez con tu cuenta "
        "de Jumpseller para que la app pueda leer tus productos y mostrar los ajustes de tu "
        "tienda.",
    ),
    "connect.scopes": (
        "The app only asks to read your products and your store's details; it never changes "
        "anything in your store.",
        "La app solo pide leer tus productos y los datos de tu tienda; nunca cambia nada en tu "
        "tienda.",
    ),
    "connect.button": ("Connect with Jumpseller", "Conectar con Jumpseller"),
    "connect.popup": (
        "A small Jumpseller window opens; approve the app there and this page continues by itself.",
        "Se abre una pequeña ventana de Jumpseller; autoriza la app allí y esta página sigue sola.",
    ),
    "connect.waiting": (
        "Waiting for your approval in the Jumpseller window…",
        "Esperando tu autorización en la ventana de Jumpseller…",
    ),
    "connect.blocked": (
        "Your browser blocked the window. Use this link instead:",
        "Tu navegador bloqueó la ventana. Usa este enlace en su lugar:",
    ),
    "connect.top_link": ("Connect in this tab", "Conectar en esta pestaña"),
    "connect.expired": (
        "Your session here ended. Connect again to continue.",
        "Tu sesión aquí terminó. Conéctate de nuevo para continuar.",
    ),
    "disconnected.title": ("The app is disconnected", "La app está desconectada"),
    "disconnected.body": (
        "Jumpseller no longer accepts this app's access to {store}, so the feed is not being "
        "updated or published. Reconnect to resume: your feed address and settings are kept.",
        "Jumpseller ya no acepta el acceso de esta app a {store}, así que el feed no se actualiza "
        "ni se publica. Vuelve a conectar para reanudar: la dirección del feed y tus ajustes se "
        "conservan.",
    ),
    "disconnected.button": ("Reconnect", "Volver a conectar"),
    "done.title": ("Store connected", "Tienda conectada"),
    "done.body": (
        "{store} is connected and its first feed is being built. This window closes by itself.",
        "{store} está conectada y su primer feed se está generando. Esta ventana se cierra sola.",
    ),
    "done.link": ("Open the settings in this window", "Abrir los ajustes en esta ventana"),
    # -- install failures ------------------------------------------------------------------
    "fail.title": ("The connection did not finish", "La conexión no se completó"),
    "fail.state": (
        "This connection link expired, was already used or was started in another browser. "
        "Nothing was saved. Start again from the app in your Jumpseller admin.",
        "Este enlace de conexión venció, ya se usó o se inició en otro navegador. No se guardó "
        "nada. Empieza de nuevo desde la app en tu admin de Jumpseller.",
    ),
    "fail.denied": (
        "You did not approve the app in Jumpseller, so nothing was connected or saved. You can "
        "connect whenever you like.",
        "No autorizaste la app en Jumpseller, así que no se conectó ni guardó nada. Puedes "
        "conectarla cuando quieras.",
    ),
    "fail.refused": (
        "Jumpseller answered the connection with an error ({error}). Nothing was saved; try again.",
        "Jumpseller respondió la conexión con un error ({error}). No se guardó nada; inténtalo "
        "de nuevo.",
    ),
    "fail.code": (
        "Jumpseller did not accept this authorization (it may have been used already or "
        "expired). Nothing was saved; connect again.",
        "Jumpseller no aceptó esta autorización (puede que ya se haya usado o que haya vencido). "
        "No se guardó nada; conéctate de nuevo.",
    ),
    "fail.down": (
        "Jumpseller could not be reached to finish the connection. Nothing was saved; try again "
        "in a few minutes.",
        "No se pudo contactar a Jumpseller para terminar la conexión. No se guardó nada; "
        "inténtalo de nuevo en unos minutos.",
    ),
    "fail.install": (
        "Jumpseller did not send your store's details. Nothing was saved; try again in a few "
        "minutes.",
        "Jumpseller no envió los datos de tu tienda. No se guardó nada; inténtalo de nuevo en "
        "unos minutos.",
    ),
    "fail.retry": ("Try again", "Intentar de nuevo"),
    # -- generic errors --------------------------------------------------------------------
    "error.title": ("Something went wrong", "Algo salió mal"),
    "error.400": ("The request was not valid.", "La solicitud no es válida."),
    "error.401": (
        "Your session ended. Open the app again from your Jumpseller admin.",
        "Tu sesión terminó. Abre la app de nuevo desde tu admin de Jumpseller.",
    ),
    "error.404": ("This page does not exist.", "Esta página no existe."),
    "error.405": ("This page does not accept that action.", "Esta página no acepta esa acción."),
    "error.409": (
        "The app is disconnected from this store; reconnect it first.",
        "La app está desconectada de esta tienda; vuelve a conectarla primero.",
    ),
    "error.500": (
        "The app failed unexpectedly. Try again in a moment.",
        "La app falló inesperadamente. Inténtalo de nuevo en un momento.",
    ),
    "error.csrf": (
        "This form expired or did not come from this page, so nothing was changed. Reload the "
        "page and try again.",
        "Este formulario venció o no vino de esta página, así que no se cambió nada. Recarga la "
        "página e inténtalo de nuevo.",
    ),
    "error.back": ("Back to the app", "Volver a la app"),
    # -- settings page ---------------------------------------------------------------------
    "page.store": ("Store: {store}", "Tienda: {store}"),
    "page.switch": ("Not this store? Connect another", "¿No es esta tienda? Conecta otra"),
    "notice.saved": (
        "Settings saved. The feed is being rebuilt with them.",
        "Ajustes guardados. El feed se está regenerando con ellos.",
    ),
    "notice.rebuild": ("A rebuild was requested.", "Se pidió una regeneración."),
    "notice.errors": (
        "Some settings need a fix (see the messages below); nothing was changed.",
        "Algunos ajustes necesitan corrección (mira los mensajes abajo); no se cambió nada.",
    ),
    "feed.title": ("Your feed address", "La dirección de tu feed"),
    "feed.copy": ("Copy", "Copiar"),
    "feed.copied": ("Copied", "Copiado"),
    "feed.steps_title": (
        "How to add it in Google Merchant Center",
        "Cómo agregarlo en Google Merchant Center",
    ),
    "feed.step1": (
        "In Merchant Center open Settings > Data sources and choose Add product source.",
        "En Merchant Center abre Configuración > Fuentes de datos y elige Agregar fuente de "
        "productos.",
    ),
    "feed.step2": (
        "Choose Add products from a file, then Enter a link to your file.",
        "Elige Agregar productos desde un archivo y luego Ingresar un vínculo a tu archivo.",
    ),
    "feed.step3": (
        "Paste the address above and pick a daily fetch; use your store's country and language.",
        "Pega la dirección de arriba y elige una búsqueda diaria; usa el país y el idioma de tu "
        "tienda.",
    ),
    "feed.private": (
        "Anyone with this address can read your feed; do not publish it.",
        "Cualquiera con esta dirección puede leer tu feed; no la publiques.",
    ),
    "status.title": ("Feed status", "Estado del feed"),
    "status.state.never": ("Not built yet", "Aún no generado"),
    "status.state.queued": ("Waiting to build", "En espera para generarse"),
    "status.state.running": ("Building…", "Generando…"),
    "status.state.ok": ("Up to date", "Al día"),
    "status.state.failed": ("The last build failed", "La última generación falló"),
    "status.last": ("Last successful build", "Última generación exitosa"),
    "status.items": (
        "{items} items from {products} products",
        "{items} ítems de {products} productos",
    ),
    "status.left_out": ("{count} items left out", "{count} ítems omitidos"),
    "status.duration": ("took {duration}", "tardó {duration}"),
    "status.none": ("none yet", "ninguna aún"),
    "status.next": ("Next scheduled build", "Próxima generación programada"),
    "status.next_first": ("after the first build", "después de la primera generación"),
    "status.next_soon": ("in the next few minutes", "en los próximos minutos"),
    "status.progress": ("Pages read: {done} of {total}", "Páginas leídas: {done} de {total}"),
    "status.error": ("Last error", "Último error"),
    "status.rebuild": ("Rebuild now", "Regenerar ahora"),
    "status.rebuild_result.queued": ("Rebuild queued.", "Regeneración en cola."),
    "status.rebuild_result.already-queued": (
        "A rebuild is already waiting.",
        "Ya hay una regeneración en espera.",
    ),
    "status.rebuild_result.dirty": (
        "A build is running; another one follows it with your latest changes.",
        "Hay una generación en curso; la seguirá otra con tus últimos cambios.",
    ),
    "status.finished": (
        "Build finished. Reload to see the updated problem list.",
        "Generación terminada. Recarga para ver la lista de problemas actualizada.",
    ),
    "status.reload": ("Reload", "Recargar"),
    "status.expired": (
        "Your session ended; reload the app from your Jumpseller admin.",
        "Tu sesión terminó; vuelve a abrir la app desde tu admin de Jumpseller.",
    ),
    "options.title": ("Feed options", "Opciones del feed"),
    "options.include_out_of_stock": (
        "Include items that are out of stock (sent as out of stock)",
        "Incluir ítems sin stock (se envían como agotados)",
    ),
    "options.include_not_available": (
        "Include products whose status is Not available",
        "Incluir productos con estado No disponible",
    ),
    "options.default_brand": ("Default brand", "Marca por defecto"),
    "options.default_brand_help": (
        "Used for products without a brand. Leave empty if your products have no brand.",
        "Se usa en productos sin marca. Déjala vacía si tus productos no tienen marca.",
    ),
    "options.default_google_category": (
        "Default Google category",
        "Categoría de Google por defecto",
    ),
    "options.category_help": (
        "Google's list is in English: type a few words (for example “shoes”) and pick one.",
        "La lista de Google está en inglés: escribe algunas palabras (por ejemplo “shoes” para "
        "zapatos) y elige una opción.",
    ),
    "options.category_map": (
        "Google category for each of your categories",
        "Categoría de Google para cada una de tus categorías",
    ),
    "options.category_map_help": (
        "Products take the category of their deepest mapped category; empty ones use the "
        "default above.",
        "Los productos toman la categoría de su categoría asignada más profunda; las vacías usan "
        "la de arriba.",
    ),
    "options.no_categories": (
        "Your store's categories appear here after the first build.",
        "Las categorías de tu tienda aparecen aquí después de la primera generación.",
    ),
    "options.categories_failed": (
        "Your store's categories could not be read from Jumpseller right now; reload later.",
        "No se pudieron leer las categorías de tu tienda desde Jumpseller; recarga más tarde.",
    ),
    "options.condition": ("Condition of your products", "Condición de tus productos"),
    "options.condition.new": ("New", "Nuevo"),
    "options.condition.refurbished": ("Refurbished", "Reacondicionado"),
    "options.condition.used": ("Used", "Usado"),
    "options.apparel_help": (
        "Google asks clothing for a gender and an age group, which Jumpseller products do not "
        "have. Set them here only if one value fits your whole catalogue.",
        "Google pide a la ropa un género y un grupo de edad, que los productos de Jumpseller no "
        "tienen. Defínelos aquí solo si un valor sirve para todo tu catálogo.",
    ),
    "options.none": ("Not set", "Sin definir"),
    "options.gender": ("Gender (clothing)", "Género (ropa)"),
    "options.gender.male": ("Male", "Masculino"),
    "options.gender.female": ("Female", "Femenino"),
    "options.gender.unisex": ("Unisex", "Unisex"),
    "options.age_group": ("Age group (clothing)", "Grupo de edad (ropa)"),
    "options.age_group.newborn": ("Newborn (up to 3 months)", "Recién nacido (hasta 3 meses)"),
    "options.age_group.infant": ("Infant (3–12 months)", "Bebé (3 a 12 meses)"),
    "options.age_group.toddler": ("Toddler (1–5 years)", "Niño pequeño (1 a 5 años)"),
    "options.age_group.kids": ("Kids (5–13 years)", "Niños (5 a 13 años)"),
    "options.age_group.adult": ("Adult", "Adulto"),
    "options.option_names": (
        "Which variant option names mean…",
        "Qué nombres de opción de variante significan…",
    ),
    "options.option_names_help": (
        "Comma-separated, as written in your products' variant options.",
        "Separados por comas, tal como aparecen en las opciones de variantes de tus productos.",
    ),
    "options.color_options": ("Color", "Color"),
    "options.size_options": ("Size", "Talla"),
    "options.material_options": ("Material", "Material"),
    "options.pattern_options": ("Pattern", "Estampado"),
    "options.sku_is_mpn": (
        "My SKUs are the manufacturer's part numbers (send them as MPN)",
        "Mis SKU son los números de parte del fabricante (enviarlos como MPN)",
    ),
    "options.title_pattern": ("Title of each variant", "Título de cada variante"),
    "options.title_pattern_help": (
        "Use {name}, {options} and {brand}.",
        "Usa {name}, {options} y {brand}.",
    ),
    "options.language": ("Language of the feed", "Idioma del feed"),
    "options.language_default": (
        "The store's default language",
        "El idioma principal de la tienda",
    ),
    "options.utm": (
        "Tracking parameters added to links (UTM)",
        "Parámetros de seguimiento en los enlaces (UTM)",
    ),
    "options.frequency_hours": ("Rebuild the feed", "Regenerar el feed"),
    "options.every_hour": ("every hour", "cada hora"),
    "options.every_hours": ("every {hours} hours", "cada {hours} horas"),
    "options.daily": ("once a day", "una vez al día"),
    "options.save": ("Save settings", "Guardar ajustes"),
    "problems.title": (
        "Problems found in the last build",
        "Problemas encontrados en la última generación",
    ),
    "problems.none": (
        "No problems: every product went into the feed as it is.",
        "Sin problemas: todos los productos entraron al feed tal como están.",
    ),
    "problems.not_built": (
        "The list appears after the first successful build.",
        "La lista aparece después de la primera generación exitosa.",
    ),
    "problems.error": ("Left out of the feed", "Omitido del feed"),
    "problems.warning": ("In the feed, needs attention", "En el feed, requiere atención"),
    "problems.count": ("{count} cases", "{count} casos"),
    "problems.count_one": ("1 case", "1 caso"),
    "problems.fix": ("What to change in Jumpseller", "Qué cambiar en Jumpseller"),
    "problems.fix_first": (
        "What to change in Jumpseller (first case: {product})",
        "Qué cambiar en Jumpseller (primer caso: {product})",
    ),
    "problems.examples": ("Affected products", "Productos afectados"),
    "problems.more": ("…and {count} more", "…y {count} más"),
    "problems.product": ("Product", "Producto"),
    "problems.variant": ("variant {id}", "variante {id}"),
    "problems.unknown": (
        "An unexpected problem ({code}); contact the app's support.",
        "Un problema inesperado ({code}); contacta al soporte de la app.",
    ),
}

#: validate_options messages (English) -> Spanish; two carry values and are matched by pattern.
FIELD_ERRORS_ES: dict[str, str] = {
    "Google refuses placeholder brands; leave it empty instead.": (
        "Google rechaza las marcas de relleno; mejor déjala vacía."
    ),
    "Choose new, refurbished or used.": "Elige nuevo, reacondicionado o usado.",
    "Choose male, female, unisex or none.": "Elige masculino, femenino, unisex o ninguno.",
    "Choose an age group from the list, or none.": (
        "Elige un grupo de edad de la lista, o ninguno."
    ),
    "Each option name must be at most 50 characters.": (
        "Cada nombre de opción puede tener como máximo 50 caracteres."
    ),
    "The title pattern must contain {name}.": "El patrón de título debe contener {name}.",
    "Choose one of the store's languages.": "Elige uno de los idiomas de la tienda.",
    "Use letters, digits, '.', '_', '~' or '-' only.": (
        "Usa solo letras, dígitos, '.', '_', '~' o '-'."
    ),
    "Choose how often to rebuild.": "Elige cada cuánto regenerar.",
    "Choose between every hour and once a day.": "Elige entre cada hora y una vez al día.",
    "Pick a category from Google's list.": "Elige una categoría de la lista de Google.",
}
_AT_MOST = re.compile(r"^At most (\d+) characters\.$")
_PLACEHOLDER = re.compile(r"^Unknown placeholder (\{[^}]*\}); use (.+)\.$")


def pick(header: str | None) -> str:
    """The page language for an Accept-Language header: es or en, Spanish when unsure."""
    from werkzeug.datastructures import LanguageAccept
    from werkzeug.http import parse_accept_header

    accept = parse_accept_header(header or "", LanguageAccept)
    return accept.best_match(LANGUAGES, default=DEFAULT) or DEFAULT


def current() -> str:
    """The language of the page answering this request."""
    if "lang" not in g:
        g.lang = pick(request.headers.get("Accept-Language"))
    return g.lang


def text(key: str, lang: str | None = None, **values: object) -> str:
    """One interface string in the given (or the request's) language."""
    english, spanish = STRINGS[key]
    chosen = spanish if (lang or current()) == "es" else english
    return chosen.format(**values) if values else chosen


def field_error(message: str, lang: str | None = None) -> str:
    """A validation message from feedapp.options in the page's language."""
    if (lang or current()) != "es":
        return message
    if message in FIELD_ERRORS_ES:
        return FIELD_ERRORS_ES[message]
    if match := _AT_MOST.match(message):
        return f"Como máximo {match.group(1)} caracteres."
    if match := _PLACEHOLDER.match(message):
        return f"Marcador desconocido {match.group(1)}; usa {match.group(2)}."
    return message


def init_app(app: Flask) -> None:
    """Give every template `t(key, **values)` and `lang`."""

    @app.context_processor
    def _language() -> dict[str, object]:
        return {"t": text, "lang": current()}
