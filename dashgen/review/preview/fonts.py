"""Fonts for titles in any script: the base font, installed fonts for what it lacks, else a stand-in.

Every preview is drawn in DejaVu Sans, which ships with matplotlib, so the pictures are the
same on every machine. It has no CJK and no emoji: a dashboard titled in Japanese would be
drawn as empty boxes, with a matplotlib warning per missing glyph. So, after drawing, the
characters of every text on the figure are checked against the font's character map; for
the ones it lacks, installed fonts that have them are added as fallbacks (matplotlib >= 3.6
draws each glyph with the first family in ``font.family`` that has it, in Agg and in SVG).
Characters no installed font has are drawn as :data:`STAND_IN`, and ``write_previews`` says
so in one line. A figure whose text the base font covers is left exactly as it was.
"""

from __future__ import annotations

from functools import lru_cache

BASE_FONT = "DejaVu Sans"
STAND_IN = "□"  # in DejaVu Sans, so it is always drawn
# Last Resort (bundled with matplotlib >= 3.10) claims every code point but draws a box per
# Unicode block: a fallback that hides the problem rather than solving it.
_NOT_FALLBACKS = ("Last Resort",)


@lru_cache(maxsize=None)
def _charmap(path: str) -> frozenset[int]:
    """The code points a font file draws; empty when FreeType cannot scale it (colour bitmap emoji)."""
    from matplotlib.ft2font import FT2Font

    try:
        font = FT2Font(path)
        font.set_size(10, 72)
        return frozenset(font.get_charmap())
    except (OSError, RuntimeError, ValueError):
        return frozenset()


@lru_cache(maxsize=None)
def _base_charmap() -> frozenset[int]:
    from matplotlib import font_manager

    return _charmap(font_manager.findfont(font_manager.FontProperties(family=BASE_FONT), fallback_to_default=False))


def _candidates() -> list[tuple[str, frozenset[int]]]:
    """(family, code points) of each installed family, by name (so the choice is stable).

    A family's code points are those all its upright files have: titles are bold, other
    texts regular, and matplotlib picks the file by weight.
    """
    from matplotlib import font_manager

    files: dict[str, list[str]] = {}
    for entry in font_manager.fontManager.ttflist:
        if entry.style == "normal" and entry.name != BASE_FONT and not entry.name.startswith(_NOT_FALLBACKS):
            files.setdefault(entry.name, []).append(entry.fname)
    return [(name, frozenset.intersection(*(_charmap(path) for path in paths)))
            for name, paths in sorted(files.items())]


def fallbacks(chars: set[str]) -> tuple[list[str], set[str]]:
    """Installed families that draw ``chars`` (fewest, greedily), and the characters none draws."""
    left = {c for c in chars if ord(c) not in _base_charmap()}
    chosen: list[str] = []
    while left:
        best, best_covers = None, set()
        for name, cmap in _candidates():
            covers = {c for c in left if ord(c) in cmap}
            if len(covers) > len(best_covers):
                best, best_covers = name, covers
        if best is None:
            break
        chosen.append(best)
        left -= best_covers
    return chosen, left


def cover_text(fig) -> set[str]:
    """Make every text on ``fig`` drawable; returns the characters drawn as :data:`STAND_IN`."""
    from matplotlib.text import Text

    texts = [t for t in fig.findobj(Text) if t.get_text()]
    chars = {c for t in texts for c in t.get_text() if not c.isspace()}
    if all(ord(c) in _base_charmap() for c in chars):
        return set()
    families, missing = fallbacks(chars)
    for t in texts:
        text = t.get_text()
        if missing and any(c in missing for c in text):
            t.set_text("".join(STAND_IN if c in missing else c for c in text))
        if families:
            t.set_fontfamily([BASE_FONT, *families])
    return missing
