"""Bytes to text in the encodings Chinese and English pages use."""
from __future__ import annotations

import pytest

from ingest.decode import declared_charset, decode

ZH_HANS = "私域流量运营的核心是用户关系，而不是一次性的交易。今天我们聊聊社群的留存。"
ZH_HANT = "私域流量運營的核心是用戶關係，而不是一次性的交易。今天我們聊聊社群的留存。"


@pytest.mark.parametrize("text, codec", [(ZH_HANS, "gbk"), (ZH_HANS, "gb18030"), (ZH_HANT, "big5"), (ZH_HANS, "utf-8")])
def test_undeclared_chinese_encodings_are_detected(text, codec):
    assert decode((text * 3).encode(codec)) == text * 3


def test_utf8_bom_is_removed():
    assert decode("\ufeffhello 运营".encode("utf-8")) == "hello 运营"


def test_meta_charset_gb2312_is_read_as_gb18030():
    # 𠮷 exists in GB18030 but not GB2312: pages that say gb2312 often contain such characters.
    html = '<html><head><meta charset="gb2312"></head><body>运营 𠮷</body></html>'
    assert "运营 𠮷" in decode(html.encode("gb18030"))
    assert declared_charset(b'<meta http-equiv="Content-Type" content="text/html; charset=GBK">') == "gb18030"


def test_http_header_wins_over_meta():
    data = '<meta charset="utf-8"><p>運營</p>'.encode("big5")
    assert "運營" in decode(data, content_type="text/html; charset=big5")


def test_invalid_bytes_become_replacement_characters_not_errors():
    text = decode("运营".encode("utf-8") + b"\xff\xfe\xfa" + "工作".encode("utf-8"))
    assert "运营" in text or "工作" in text


def test_utf8_bytes_win_over_a_stale_legacy_declaration():
    html = '<html><head><meta charset="gb2312"></head><body>' + ZH_HANS * 2 + "</body></html>"
    assert ZH_HANS in decode(html.encode("utf-8"))


def test_xml_declaration_and_latin1_label():
    assert declared_charset(b'<?xml version="1.0" encoding="GBK"?><html/>') == "gb18030"
    assert declared_charset(b'<meta charset="iso-8859-1">') == "cp1252"
    assert decode('<meta charset="iso-8859-1"><p>caf\u00e9 \u201cquoted\u201d</p>'.encode("cp1252")).endswith("caf\u00e9 \u201cquoted\u201d</p>")


def test_big5_declared_page_with_hkscs_characters():
    text = "香港的茶餐廳有菠蘿油和奶茶，㗎。" * 3
    assert decode(('<meta charset="big5">' + text).encode("big5hkscs")).endswith(text)


EN_TYPOGRAPHIC = " ".join(f"Sentence {i} — of the “article” explains café goals." for i in range(20))


@pytest.mark.parametrize("bad", [b"\xff", b"\x80\x80", b"\xe4\xb8"])
def test_a_few_bad_bytes_in_utf8_text_do_not_send_it_to_the_detector(bad):
    data = EN_TYPOGRAPHIC.encode()
    text = decode(data[:len(data) // 2] + bad + data[len(data) // 2:])
    assert text.replace("\ufffd", "") == EN_TYPOGRAPHIC  # was Mac Roman: "Sentence 0 ‚Äî of the ‚Äúarticle‚Äù"
    zh = (ZH_HANS * 4).encode()
    assert decode(zh[:99] + bad + zh[99:]).replace("\ufffd", "") == ZH_HANS * 4  # at a character boundary


@pytest.mark.parametrize("codec", ["gbk", "big5"])
def test_legacy_encodings_are_not_mistaken_for_mostly_utf8(codec):
    text = {"gbk": ZH_HANS, "big5": ZH_HANT}[codec] * 3
    assert decode(text.encode(codec)) == text


@pytest.mark.parametrize("bom, codec", [("\ufeff", "utf-16-le"), ("\ufeff", "utf-16-be"), ("\ufeff", "utf-8")])
def test_boms_are_read_and_removed(bom, codec):
    assert decode((bom + "运营 ops\r\n" + ZH_HANT).encode(codec)) == "运营 ops\r\n" + ZH_HANT


def test_a_header_and_a_meta_naming_two_legacy_charsets_are_settled_by_the_bytes():
    traditional = "用戶運營的核心是建立長期的信任關係，而不是一次性的促銷和拉新。內容運營要持續輸出有價值的文章。"
    simplified = "用户运营的核心是建立长期的信任关系，而不是一次性的促销和拉新。内容运营要持续输出有价值的文章。"
    big5_page = f"<html><head><meta charset='big5'></head><body><p>{traditional}</p></body></html>".encode("big5")
    gbk_page = f"<html><head><meta charset='big5'></head><body><p>{simplified}</p></body></html>".encode("gbk")
    # A server's default header on a Big5 page: GB18030 decoded it without an error, into mojibake
    assert traditional in decode(big5_page, "text/html; charset=gbk")
    assert simplified in decode(gbk_page, "text/html; charset=gbk")  # the header was right: the meta lied
    assert traditional in decode(big5_page, "text/html")  # no dispute: the meta alone
