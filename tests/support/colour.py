"""How a reader with deuteranopia or protanopia sees a colour, and how far apart two colours
are then: the console's level colours must stay apart for them (its bars tell levels apart
by colour alone). Shared by the browser test, which reads the colours the page computes,
and the unit test, which reads them from console.css."""

# Viénot, Brettel & Mollon (1999): how a dichromat sees a colour, in linear RGB.
DICHROMATS = {
    "protanopia": ((0.11238, 0.88762, 0.0), (0.11238, 0.88762, 0.0), (0.00401, -0.00401, 1.0)),
    "deuteranopia": ((0.29275, 0.70725, 0.0), (0.29275, 0.70725, 0.0), (-0.02234, 0.02234, 1.0)),
}
MIN_DELTA_E = 12.0  # CIE76 distance two segments' colours keep, as a dichromat sees them

RGB = tuple[float, float, float]


def lab(rgb: RGB) -> RGB:
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    x = 0.4124 * linear[0] + 0.3576 * linear[1] + 0.1805 * linear[2]
    y = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    z = 0.0193 * linear[0] + 0.1192 * linear[1] + 0.9505 * linear[2]

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116

    fx, fy, fz = f(x / 0.95047), f(y), f(z / 1.08883)
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def seen_by(kind: str, rgb: RGB) -> RGB:
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    mixed = [max(0.0, min(1.0, sum(m * c for m, c in zip(row, linear, strict=True)))) for row in DICHROMATS[kind]]
    return tuple(12.92 * c if c <= 0.0031308 else 1.055 * c ** (1 / 2.4) - 0.055 for c in mixed)  # type: ignore[return-value]


def too_close_for_dichromats(colours: dict[str, RGB]) -> list[str]:
    """Every pair of named colours closer than MIN_DELTA_E as either dichromat sees them."""
    too_close = []
    for kind in DICHROMATS:
        seen = {name: lab(seen_by(kind, rgb)) for name, rgb in colours.items()}
        names = sorted(seen)
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                distance = sum((p - q) ** 2 for p, q in zip(seen[a], seen[b], strict=True)) ** 0.5
                if distance < MIN_DELTA_E:
                    too_close.append(f"{a} and {b} under {kind}: ΔE {distance:.1f}")
    return too_close
