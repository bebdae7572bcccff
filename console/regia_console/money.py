"""Euro amounts as people read them, from integer cents (never through a float)."""


def euros(cents: int | None, language: str = "it") -> str:
    if cents is None:
        return "–"
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(int(cents)), 100)
    grouped = f"{whole:,}"
    if language == "it":  # 1.234.567,89 in Italian, 1,234,567.89 in English
        grouped = grouped.replace(",", ".")
        return f"{sign}€ {grouped},{rest:02d}"
    return f"{sign}€{grouped}.{rest:02d}"


def percent(basis_points: int | None, language: str = "it") -> str:
    if basis_points is None:
        return "–"
    whole, rest = divmod(int(basis_points), 100)
    return f"{whole},{rest:02d} %" if language == "it" else f"{whole}.{rest:02d}%"
