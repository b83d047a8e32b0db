"""A style sheet cut down to the rules a small HTML page can use.

wkhtmltopdf loads the report header and footer anew for every page, each
with Odoo's whole report style sheet (about 450 KB): parsing it twice a
page costs more than the letter itself. The header and footer use a few
dozen classes; ``slim_css`` keeps the rules that may apply to them and
drops the others, so that the page looks the same and renders faster.
A style sheet is parsed once (``parse_css``), then cut for each page.

The cut is conservative: a rule is dropped only when one of its selectors'
classes is nowhere in the page (a class inside ``:not()`` does not count);
rules without classes, ``@font-face``, ``@page`` and custom properties stay.
"""

import re

CLASS_ATTRIBUTE = re.compile(r"""\bclass\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)
SELECTOR_CLASS = re.compile(r"\.(-?[_a-zA-Z][_a-zA-Z0-9-]*)")
NEGATION = re.compile(r":(?:not|is|where)\([^()]*\)")
COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
# At-rules whose block holds rules (kept when one of its rules is kept).
NESTING = ("@media", "@supports", "@layer", "@container")
# At-rules kept whole.
KEPT = ("@font-face", "@page", "@charset", "@import", "@namespace", "@property")


def page_classes(html):
    """The classes used anywhere in ``html``."""
    classes = set()
    for double, single in CLASS_ATTRIBUTE.findall(html):
        classes.update((double or single).split())
    return classes


def _blocks(css):
    """``[(prelude, body)]`` of the top-level rules of ``css``; ``body`` is
    None for a statement (``@import ...;``)."""
    blocks = []
    start = index = 0
    depth = 0
    prelude_end = None
    quote = None
    size = len(css)
    while index < size:
        char = css[index]
        if quote:
            if char == "\\":
                index += 1
            elif char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char == "{":
            if depth == 0:
                prelude_end = index
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                blocks.append((css[start:prelude_end].strip(), css[prelude_end + 1 : index]))
                start = index + 1
            elif depth < 0:
                # A stray brace: keep the rest as it is.
                blocks.append((css[start:].strip(), None))
                return blocks
        elif char == ";" and depth == 0:
            blocks.append((css[start : index + 1].strip(), None))
            start = index + 1
        index += 1
    rest = css[start:].strip()
    if rest:
        blocks.append((rest, None))
    return blocks


def _selectors(prelude):
    """The selectors of a rule, split at the commas outside parentheses."""
    selectors, depth, start = [], 0, 0
    for index, char in enumerate(prelude):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            selectors.append(prelude[start:index])
            start = index + 1
    selectors.append(prelude[start:])
    return selectors


def parse_css(css):
    """``css`` as rules for ``slim_css``: ``("keep", text)`` whatever the
    page, ``("nest", prelude, rules)`` for an at-rule holding rules, and
    ``("style", text, [classes each selector requires])``."""
    rules = []
    for prelude, body in _blocks(COMMENT.sub("", css)):
        lowered = prelude.lower()
        if body is None:
            rules.append(("keep", prelude))
        elif lowered.startswith(KEPT):
            rules.append(("keep", f"{prelude}{{{body}}}"))
        elif lowered.startswith(NESTING):
            rules.append(("nest", prelude, parse_css(body)))
        elif lowered.startswith("@"):
            # @keyframes and the like: no animation in a PDF.
            continue
        else:
            required = [
                frozenset(SELECTOR_CLASS.findall(NEGATION.sub("", selector)))
                for selector in _selectors(prelude)
            ]
            rules.append(("style", f"{prelude}{{{body}}}", required))
    return rules


def slim_css(rules, classes):
    """The text of the rules (from ``parse_css``) that may apply to a page
    using ``classes``."""
    classes = frozenset(classes)
    kept = []
    for rule in rules:
        if rule[0] == "keep":
            kept.append(rule[1])
        elif rule[0] == "nest":
            inner = slim_css(rule[2], classes)
            if inner:
                kept.append(f"{rule[1]}{{{inner}}}")
        elif any(required <= classes for required in rule[2]):
            kept.append(rule[1])
    return "".join(kept)
