"""Word lists for the sandbox catalogue, so generated stores read like real Chilean shops."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Family:
    """A kind of product: its nouns, where it sits, which options vary and what it costs."""

    code: str
    es: str
    en: str
    feminine: bool
    category: str
    google: str
    options: tuple[str, ...]
    materials: tuple[int, ...]
    low: int
    high: int


#: (slug, name, parent slug) in display order; ids are assigned by position.
CATEGORIES: tuple[tuple[str, str, str | None], ...] = (
    ("ropa", "Ropa", None),
    ("poleras", "Poleras", "ropa"),
    ("pantalones", "Pantalones", "ropa"),
    ("vestidos", "Vestidos", "ropa"),
    ("gorros", "Gorros", "ropa"),
    ("calzado", "Calzado", None),
    ("accesorios", "Accesorios", None),
    ("carteras", "Carteras", "accesorios"),
    ("joyeria", "Joyería", "accesorios"),
    ("hogar", "Hogar", None),
    ("cocina", "Cocina", "hogar"),
    ("decoracion", "Decoración", "hogar"),
    ("dormitorio", "Dormitorio", "hogar"),
    ("muebles", "Muebles", "hogar"),
    ("tecnologia", "Tecnología", None),
    ("audio", "Audio", "tecnologia"),
    ("deportes", "Deportes y Outdoor", None),
    ("camping", "Camping", "deportes"),
    ("belleza", "Belleza", None),
    ("juguetes", "Juguetes", None),
    ("oficina", "Oficina y Papelería", None),
    ("arte", "Arte y Manualidades", "oficina"),
    ("cafe", "Café y Té", None),
    ("ofertas", "Ofertas", None),
)

_APPAREL = "Apparel & Accessories"
_KITCHEN = "Home & Garden > Kitchen & Dining"

# fmt: off
FAMILIES: tuple[Family, ...] = (
    Family("POL", "Polera", "T-Shirt", True, "poleras", f"{_APPAREL} > Clothing > Shirts & Tops",
           ("Color", "Talla"), (0, 1), 7990, 24990),
    Family("PAN", "Pantalón", "Trousers", False, "pantalones", f"{_APPAREL} > Clothing > Pants",
           ("Color", "Talla"), (0, 1, 3), 14990, 49990),
    Family("VES", "Vestido", "Dress", False, "vestidos", f"{_APPAREL} > Clothing > Dresses",
           ("Color", "Talla"), (0, 1), 19990, 69990),
    Family("GOR", "Gorro", "Beanie", False, "gorros", f"{_APPAREL} > Clothing Accessories > Hats",
           ("Color", "Talla"), (3, 0), 5990, 19990),
    Family("ZAP", "Zapatilla", "Sneaker", True, "calzado", f"{_APPAREL} > Shoes",
           ("Color", "Size"), (2, 0), 29990, 89990),
    Family("CAR", "Cartera", "Handbag", True, "carteras",
           f"{_APPAREL} > Handbags, Wallets & Cases > Handbags", ("Color", "Material"), (2, 0),
           24990, 129990),
    Family("COL", "Collar", "Necklace", False, "joyeria", f"{_APPAREL} > Jewelry > Necklaces",
           ("Material",), (7, 5), 9990, 59990),
    Family("TAZ", "Taza", "Mug", True, "cocina",
           f"{_KITCHEN} > Tableware > Drinkware > Mugs", ("Color",), (4, 8), 4990, 14990),
    Family("CUC", "Cuchillo", "Kitchen Knife", False, "cocina",
           f"{_KITCHEN} > Kitchen Tools & Utensils", (), (7, 5), 9990, 69990),
    Family("FLO", "Florero", "Vase", False, "decoracion", "Home & Garden > Decor > Vases",
           ("Material",), (4, 8, 5), 8990, 39990),
    Family("MAN", "Manta", "Blanket", True, "dormitorio",
           "Home & Garden > Linens & Bedding > Bedding > Blankets", ("Color", "Material"),
           (3, 0, 1), 19990, 79990),
    Family("SIL", "Silla", "Chair", True, "muebles", "Furniture > Chairs", ("Color",), (5, 6),
           39990, 189990),
    Family("AUD", "Audífonos", "Headphones", False, "audio",
           "Electronics > Audio > Audio Components > Headphones & Headsets > Headphones",
           ("Color",), (), 14990, 149990),
    Family("CAP", "Carpa", "Tent", True, "camping",
           "Sporting Goods > Outdoor Recreation > Camping & Hiking > Tents", ("Size",), (),
           49990, 299990),
    Family("CRE", "Crema Facial", "Face Cream", True, "belleza",
           "Health & Beauty > Personal Care > Cosmetics > Skin Care", (), (), 6990, 34990),
    Family("ROM", "Rompecabezas", "Jigsaw Puzzle", False, "juguetes", "Toys & Games > Toys", (),
           (5,), 7990, 29990),
    Family("CUA", "Cuaderno", "Notebook", False, "oficina",
           "Office Supplies > General Office Supplies", (), (), 2990, 12990),
    Family("ACU", "Set de Acuarelas", "Watercolour Set", False, "arte",
           "Arts & Entertainment > Hobbies & Creative Arts > Arts & Crafts", (), (), 8990, 44990),
    Family("CAF", "Café en Grano", "Coffee Beans", False, "cafe",
           "Food, Beverages & Tobacco > Beverages > Coffee", ("Size",), (), 6990, 24990),
)
# fmt: on

#: (masculine, feminine, English)
ADJECTIVES: tuple[tuple[str, str, str], ...] = (
    ("Clásico", "Clásica", "Classic"),
    ("Esencial", "Esencial", "Essential"),
    ("Urbano", "Urbana", "Urban"),
    ("Premium", "Premium", "Premium"),
    ("Artesanal", "Artesanal", "Handmade"),
    ("Liviano", "Liviana", "Lightweight"),
    ("Vintage", "Vintage", "Vintage"),
    ("Nórdico", "Nórdica", "Nordic"),
    ("Andino", "Andina", "Andean"),
    ("Minimalista", "Minimalista", "Minimalist"),
)

#: (Spanish, English)
MATERIALS: tuple[tuple[str, str], ...] = (
    ("Algodón", "Cotton"),
    ("Lino", "Linen"),
    ("Cuero", "Leather"),
    ("Lana", "Wool"),
    ("Cerámica", "Ceramic"),
    ("Madera", "Wooden"),
    ("Bambú", "Bamboo"),
    ("Acero", "Steel"),
    ("Vidrio", "Glass"),
)

#: (Spanish, English, hex) for Color options.
COLORS: tuple[tuple[str, str, str], ...] = (
    ("Rojo", "Red", "#C0392B"),
    ("Azul", "Blue", "#2E86C1"),
    ("Negro", "Black", "#111111"),
    ("Blanco", "White", "#FFFFFF"),
    ("Verde", "Green", "#27AE60"),
    ("Gris", "Grey", "#7F8C8D"),
    ("Beige", "Beige", "#D8C3A5"),
    ("Rosado", "Pink", "#F1948A"),
    ("Amarillo", "Yellow", "#F4D03F"),
    ("Café", "Brown", "#6E4B3A"),
)

TALLAS: tuple[str, ...] = ("XS", "S", "M", "L", "XL", "XXL")

#: Values of the English-named "Size" option, by family code.
SIZES: dict[str, tuple[str, ...]] = {
    "ZAP": ("36", "37", "38", "39", "40", "41", "42", "43", "44"),
    "CAP": ("2 personas", "3 personas", "4 personas", "6 personas"),
    "CAF": ("250 g", "500 g", "1 kg"),
}

BRANDS: tuple[str, ...] = (
    "Cordillera Co.",
    "Pehuén",
    "Mar Azul",
    "Nómade",
    "Kuyen",
    "Tierra Fértil",
    "Estudio Alerce",
    "Brisa del Sur",
    "Quillay",
    "Lumbre",
    "Atacama Works",
    "Chiloé Textil",
)

#: What merchants type when they have no brand; a feed must not send these as brands.
BRAND_PLACEHOLDERS: tuple[str, ...] = ("N/A", "-", "Sin marca", "Genérico", "none")

ORIGINS: tuple[tuple[str, str], ...] = (
    ("Chile", "Chile"),
    ("Perú", "Peru"),
    ("Argentina", "Argentina"),
    ("Portugal", "Portugal"),
    ("Vietnam", "Vietnam"),
)

CARE: tuple[tuple[str, str], ...] = (
    ("Lavar a mano con agua fría", "Hand wash cold"),
    ("Limpiar con un paño húmedo", "Wipe with a damp cloth"),
    ("Apto para lavavajillas", "Dishwasher safe"),
    ("Guardar en un lugar seco", "Store in a dry place"),
)

#: The languages a sandbox store can have, with the names store/languages.json gives them.
LANGUAGE_NAMES: dict[str, str] = {"es": "Español", "en": "English", "pt": "Português"}

#: Portuguese for the drawn words: families by code as (noun, feminine), the rest keyed by the
#: Spanish word (adjectives by their masculine form) so a Portuguese store reads like the Spanish.
PT_FAMILIES: dict[str, tuple[str, bool]] = {
    "POL": ("Camiseta", True),
    "PAN": ("Calça", True),
    "VES": ("Vestido", False),
    "GOR": ("Gorro", False),
    "ZAP": ("Tênis", False),
    "CAR": ("Bolsa", True),
    "COL": ("Colar", False),
    "TAZ": ("Caneca", True),
    "CUC": ("Faca de Cozinha", True),
    "FLO": ("Vaso", False),
    "MAN": ("Manta", True),
    "SIL": ("Cadeira", True),
    "AUD": ("Fone de Ouvido", False),
    "CAP": ("Barraca", True),
    "CRE": ("Creme Facial", False),
    "ROM": ("Quebra-Cabeça", False),
    "CUA": ("Caderno", False),
    "ACU": ("Estojo de Aquarelas", False),
    "CAF": ("Café em Grãos", False),
}

#: Spanish masculine adjective -> Portuguese (masculine, feminine).
PT_ADJECTIVES: dict[str, tuple[str, str]] = {
    "Clásico": ("Clássico", "Clássica"),
    "Esencial": ("Essencial", "Essencial"),
    "Urbano": ("Urbano", "Urbana"),
    "Premium": ("Premium", "Premium"),
    "Artesanal": ("Artesanal", "Artesanal"),
    "Liviano": ("Leve", "Leve"),
    "Vintage": ("Vintage", "Vintage"),
    "Nórdico": ("Nórdico", "Nórdica"),
    "Andino": ("Andino", "Andina"),
    "Minimalista": ("Minimalista", "Minimalista"),
}

PT_MATERIALS: dict[str, str] = {
    "Algodón": "Algodão",
    "Lino": "Linho",
    "Cuero": "Couro",
    "Lana": "Lã",
    "Cerámica": "Cerâmica",
    "Madera": "Madeira",
    "Bambú": "Bambu",
    "Acero": "Aço",
    "Vidrio": "Vidro",
}

PT_CARE: dict[str, str] = {
    "Lavar a mano con agua fría": "Lavar à mão com água fria",
    "Limpiar con un paño húmedo": "Limpar com um pano úmido",
    "Apto para lavavajillas": "Pode ir à máquina de lavar louça",
    "Guardar en un lugar seco": "Guardar em local seco",
}

PT_ORIGINS: dict[str, str] = {
    "Chile": "Chile",
    "Perú": "Peru",
    "Argentina": "Argentina",
    "Portugal": "Portugal",
    "Vietnam": "Vietnã",
}
