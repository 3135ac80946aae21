"""What must never become a bullet: captions and credits, bylines, sub-headings, "read more" links,
cookie and paywall notices, time stamps. Works on blocks (see :mod:`sentences`) and on sentences."""

from __future__ import annotations

import re

_AGENCIES = (
    r"dpa|AFP|Reuters|REUTERS|AP|Getty Images|picture[- ]alliance|imago(?: images)?|Keystone|EPA|KEYSTONE"
    r"|Shutterstock|PA Media|PA Wire|ANSA|Xinhua|TASS|APA|ddp|epd|KNA|Anadolu|Bloomberg|iStock|Sputnik"
)
# A credit at the end of a block: "… © REUTERS", "Foto: dpa/Kay Nietfeld", "(Photo: AFP)", "REUTERS/John Doe".
_CREDIT_TAIL = re.compile(
    r"(?:"
    r"(?:©|\(c\)|Copyright\b)[^.!?]{0,80}"
    r"|\(?\b(?:Fotos?|Bild(?:er)?|Grafik|Quelle|Photos?|Photograph|Image|Picture|Credit|Illustration|Video)"
    r"\s*:\s*[^.!?]{1,80}"
    rf"|\b(?:{_AGENCIES})\s*/\s*[^.!?]{{0,60}}"
    rf"|\b(?:AP Photo|AFP via Getty Images|Getty Images|picture[- ]alliance|imago images|REUTERS|KEYSTONE)"
    r"[^.!?]{0,40}"
    r")\)?\s*$"
)
_BYLINE = re.compile(
    r"^(?:Von|By|Text|Autor(?:in)?|Author|Ein (?:Kommentar|Gastbeitrag|Bericht|Essay) von|Analysis by)"
    r"\s*:?\s+(?:unserem |unserer )?[A-ZÄÖÜ][\w.'’-]*(?:\s+[\w.'’&,|/-]+){0,8}(?<![.!?])$"
)
_TIMESTAMP = re.compile(
    r"^(?:Stand|Aktualisiert|Veröffentlicht|Erstellt|Updated|Published|Last updated|Posted)\b[\s:,]*"
    r"[\w .,:/+-]{0,60}$",
    re.IGNORECASE,
)
_READ_MORE = re.compile(
    r"^\W*(?:Lesen Sie (?:auch|mehr|hier|dazu|weiter)|Mehr (?:zum Thema|dazu|lesen|zu diesem Thema)"
    r"|Auch interessant|Weiterlesen|Weitere Artikel|Das könnte Sie (?:auch )?interessieren|Zum Thema\b"
    r"|Siehe auch|Hören Sie|Sehen Sie|Jetzt (?:lesen|anhören|ansehen)|Read (?:more|also|next)\b|Also read"
    r"|More on (?:this|that)|Related(?: articles| stories| coverage| content)?\s*[:|]|See also|Click here"
    r"|Watch\s*:|Listen\s*:|Video\s*:|Audio\s*:|Top stories|Most read)",
    re.IGNORECASE,
)
_NOTICE = re.compile(
    r"\bcookies?\b.{0,120}\b(?:akzeptier|zustimm|einwillig|datenschutz|accept|consent|privacy|polic|setting"
    r"|einstellung|browser)"
    r"|\b(?:verwenden|nutzen|setzen|use|uses|using)\s+(?:\w+\s+){0,2}cookies\b"
    r"|\b(?:akzeptier|zustimm|accept|consent)\w*\b.{0,60}\bcookies?\b"
    r"|Datenschutzerklärung|Datenschutzhinweis|privacy policy|terms of (?:use|service)|Nutzungsbedingungen"
    r"|\bjetzt (?:abonnieren|weiterlesen|testen|registrieren|anmelden)\b|\bplus-artikel"
    r"|\b(?:Abo|Abonnement|Abonnenten)\b.{0,50}\b(?:weiterlesen|freischalten|abschließen|exklusiv|lesen Sie)"
    r"|\b(?:nur|exklusiv) für (?:\w+-)?(?:Abonnenten|Abonnentinnen|Abonnierende|Plus-Leser)"
    r"|\bsubscribe (?:now|today|to (?:read|continue|our))|subscribers? only|subscription (?:required|needed)"
    r"|\b(?:only|exclusively) (?:available )?(?:to|for) (?:\w+ )?subscribers"
    r"|already a subscriber|sign (?:in|up) (?:to (?:read|continue|our)|for (?:our|the) newsletter)"
    r"|log ?in to (?:read|continue)|to continue reading|free articles? (?:left|remaining|this month)"
    r"|(?:weiter|zu )?lesen Sie mit|um (?:den|diesen) (?:ganzen |vollständigen )?Artikel (?:zu lesen|weiter)"
    r"|Melden Sie sich an|Registrieren Sie sich|newsletter.{0,40}\b(?:abonnieren|anmelden|bestellen|sign up"
    r"|subscribe)|\b(?:abonnieren|anmelden|sign up|subscribe)\b.{0,40}newsletter"
    r"|\b(?:enable|activate|aktivieren Sie)\b.{0,30}\bJavaScript\b|\bJavaScript\b.{0,30}\b(?:disabled|deaktiviert)"
    r"|\b(?:disable|turn off|pause|whitelist|deaktivieren Sie|abschalten)\b.{0,30}\b(?:ad ?blocker|Werbeblocker)"
    r"|\b(?:ad ?blocker|Werbeblocker)\b.{0,30}\b(?:detected|erkannt|aktiviert)\b"
    r"|Alle Rechte vorbehalten|All rights reserved|Share this (?:article|story)|Artikel teilen"
    r"|Folgen Sie uns|Follow us on|Mehr Nachrichten|^\W*(?:Anzeige|Werbung|Advertisement|ADVERTISEMENT)\W*$",
    re.IGNORECASE,
)
_DATELINE = re.compile(
    r"^(?:[A-ZÄÖÜ][\wÄÖÜäöüß.'’/-]*(?:\s+[A-ZÄÖÜ][\wÄÖÜäöüß.'’/-]*){0,2}\s*(?:\([^()]{1,30}\))?"
    r"|\([^()]{1,30}\))\s+[–—-]{1,2}\s+(?=[\"„“A-ZÄÖÜ])"
)
_FEED_TAIL = re.compile(
    r"\s*(?:\[(?:…|\.\.\.)\]|\((?:mehr|more)\s*(?:…|\.\.\.)?\)|(?:Continue reading|Read more|Weiterlesen|mehr)"
    r"\s*(?:…|\.\.\.|»|>>|→)?)\s*$",
    re.IGNORECASE,
)
# Embedded social-media posts that text extraction flattens into the article.
_EMBED = re.compile(r"pic\.twitter\.com/|\(@\w{1,15}\)\s+\w+ \d{1,2}, \d{4}|\bt\.co/\w+")
_SHORT_BLOCK = 300
_HEADING_MARK = re.compile(r"^#{1,6}\s")
_END = tuple(".!?…\"'”“’»«›‹)")


def credit_stripped(block: str) -> tuple[str, bool]:
    """The block without a trailing photo credit, and whether there was one (then it is a caption)."""
    match = _CREDIT_TAIL.search(block)
    if not match:
        return block, False
    return block[: match.start()].rstrip(" -–—|/,;"), True


def is_heading(unit: str) -> bool:
    """A sub-heading, label or title line: no sentence punctuation at its end, or marked as a heading."""
    unit = unit.strip()
    if _HEADING_MARK.match(unit):
        return True
    if unit.endswith(":"):
        return True  # a lead-in ("Das sagte er:") is not a statement on its own
    return not unit.endswith(_END) and len(unit.split()) <= 14


def is_noise_block(block: str) -> bool:
    """Whole blocks to drop: bylines, time stamps, and short read-more links and notices (in a long block
    only the offending sentences go, see :func:`is_noise_sentence`)."""
    if _BYLINE.match(block) or _TIMESTAMP.match(block):
        return True
    return len(block) <= _SHORT_BLOCK and (bool(_READ_MORE.match(block)) or is_notice(block))


def feed_tail_stripped(block: str) -> str:
    """Without a feed's "Continue reading…" / "[…]" / "mehr…" tail."""
    return _FEED_TAIL.sub("", block).rstrip()


def is_notice(sentence: str) -> bool:
    """Cookie, consent, paywall, newsletter and sharing boilerplate."""
    return bool(_NOTICE.search(sentence))


def is_noise_sentence(sentence: str) -> bool:
    return (
        bool(_READ_MORE.match(sentence) or _BYLINE.match(sentence) or _EMBED.search(sentence))
        or is_notice(sentence)
    )


def strip_dateline(sentence: str) -> str:
    """'Wien – Die Gewerkschaft …' → 'Die Gewerkschaft …'; 'LONDON (Reuters) - …' likewise."""
    match = _DATELINE.match(sentence)
    if not match:
        return sentence
    rest = sentence[match.end() :]
    return rest if len(rest.split()) >= 4 else sentence
