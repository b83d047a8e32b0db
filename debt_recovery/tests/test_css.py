from odoo.tests import BaseCase

from ..tools.css import page_classes, parse_css, slim_css

SHEET = """
/* a comment {with braces} */
:root{--bs-body-color:#212529}
@charset "utf-8";
@font-face{font-family:Lato;src:url(/web/static/fonts/lato.woff)}
body{margin:0}
.o_footer{border-top:1px solid}
.o_footer .page{color:#777}
.o_header .logo,.missing{height:40px}
.btn:not(.disabled){cursor:pointer}
.o_footer>:is(.col,.col-6){flex:1}
.unused{display:none}
.unused .o_footer{color:red}
@media print{.o_footer{font-size:9pt}.unused{color:blue}}
@media screen{.unused{color:green}}
@keyframes spin{from{transform:rotate(0)}to{transform:rotate(1turn)}}
a[href^="http"]{content:"{not a block}"}
"""


class TestSlimCss(BaseCase):
    """The header and footer's style sheet keeps every rule that may apply."""

    def setUp(self):
        super().setUp()
        html = '<div class="o_footer"><span class="page x"></span><a class="btn">1</a></div>'
        self.classes = page_classes(html)
        self.css = slim_css(parse_css(SHEET), self.classes)

    def test_classes_of_the_page(self):
        self.assertEqual(self.classes, {"o_footer", "page", "x", "btn"})

    def test_rules_that_may_apply_are_kept(self):
        for rule in (
            ":root{--bs-body-color:#212529}",
            '@charset "utf-8";',
            "@font-face{font-family:Lato;src:url(/web/static/fonts/lato.woff)}",
            "body{margin:0}",
            ".o_footer{border-top:1px solid}",
            ".o_footer .page{color:#777}",
            ".btn:not(.disabled){cursor:pointer}",
            ".o_footer>:is(.col,.col-6){flex:1}",
            "@media print{.o_footer{font-size:9pt}}",
            'a[href^="http"]{content:"{not a block}"}',
        ):
            self.assertIn(rule, self.css)

    def test_rules_that_cannot_apply_are_dropped(self):
        for text in (".unused", ".o_header .logo", "@media screen", "@keyframes", "comment"):
            self.assertNotIn(text, self.css)
