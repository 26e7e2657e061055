"""Page titles without the site's name (ingest/title.py), through extract_html."""
from __future__ import annotations

from ingest import extract_html
from ingest.title import key

from .test_load import BODY_EN, BODY_ZH


def titled(head: str, body: str = BODY_ZH, meta: str = "", before: str = "") -> str:
    """A page with ``head`` as its <title>, no <h1>: trafilatura's title comes from the <title>."""
    return (f"<html><head><title>{head}</title>{meta}</head><body>{before}"
            f"<article><p>{body}</p><p>{body}</p></article></body></html>")


def test_a_portals_column_and_site_name_after_underscores_go():
    article = extract_html(titled("电商运营绩效考核的几点思考_电商运营_中国电子商务研究网"))
    assert article.title == "电商运营绩效考核的几点思考"
    assert extract_html(titled("Python中的__init__方法详解", BODY_EN)).title == "Python中的__init__方法详解"


def test_a_blogger_post_gets_its_post_title_not_the_blog_name():
    html = ("<html><head><title>小安的職涯筆記: 從客服轉職數位行銷的一年</title></head><body>"
            "<div id='header'><h1><a href='/'>小安的職涯筆記</a></h1></div><div class='post'>"
            f"<h3 class='post-title entry-title'>從客服轉職數位行銷的一年</h3><div class='post-body'><p>{BODY_ZH}</p>"
            f"<p>{BODY_ZH}</p></div></div></body></html>")
    assert extract_html(html).title == "從客服轉職數位行銷的一年"


def test_a_tail_goes_when_it_names_the_site_and_stays_otherwise():
    site = '<meta property="og:site_name" content="Ops Notes">'
    assert extract_html(titled("Running a webinar series - Ops Notes", BODY_EN, site)).title == "Running a webinar series"
    assert extract_html(titled("Running a webinar series | Ops Notes", BODY_EN),
                        url="https://opsnotes.example.com/p/1").title == "Running a webinar series"
    # No site's name, no headline on the page: trafilatura cut this one at its " - ".
    assert extract_html(titled("To B vs To C - which is harder?", BODY_EN, site)).title == "To B vs To C - which is harder?"
    # The page shows the head as its headline: the tail is the site's, whatever its name.
    shown = titled("新人做社群运营，先别急着拉群 - 少数派", before="<div class='title'>新人做社群运营，先别急着拉群</div>")
    assert extract_html(shown).title == "新人做社群运营，先别急着拉群"


def test_key_ignores_case_width_spaces_and_punctuation():
    assert key("To B vs. ＴＯ Ｃ_运营！") == key("to b vs to c 运营") == "tobvstoc运营"
