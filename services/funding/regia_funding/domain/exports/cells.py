"""Text cells that are safe to open in a spreadsheet."""

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(text: str) -> str:
    """A cell that starts like a formula gets a leading apostrophe, so a spreadsheet shows
    it instead of running it (CSV injection). Only free text goes through here: amounts
    keep their sign."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text
