"""The chrome lexicon: label lines, menus, headings, in English and both Chinese scripts."""
from __future__ import annotations

import pytest

from ingest import chrome as lex


@pytest.mark.parametrize("line", ["分享到: 微信 微博 QQ空间", "分享至Facebook", "阅读 1234 · 点赞 56 · 在看 7",
                                  "Sign up for our free weekly newsletter", "Follow us on Twitter", "扫码关注我们",
                                  "登錄後可以評論 立即登錄", "1.2K", "2023-05-04 10:22", "點擊上方藍字關注"])
def test_label_lines(line):
    assert lex.is_label(lex.fold(line))


@pytest.mark.parametrize("line", ["如何做好推广", "会员体系怎么搭", "Work from home", "内容推广", "我喜欢你。",
                                  "| 1 | Kyle Busch | 5040 |"])
def test_headings_with_a_chrome_word_are_not_labels(line):
    assert not lex.is_label(lex.fold(line))


def test_traditional_lines_match_simplified_patterns():
    assert lex.LIST_HEADING.match(lex.fold("延伸閱讀："))
    assert lex.NOTICE.search(lex.fold("本文經授權轉載自天下雜誌"))
    assert lex.COMMENTS_HEADING.match(lex.fold("12 則留言"))


def test_menus_bylines_breadcrumbs():
    assert lex.is_menu("Home | News | Sport | Business | Culture") and not lex.is_menu("标题 | 站点")
    assert lex.BREADCRUMB.match(lex.fold("首页 > 科技 > 互联网")) and not lex.BREADCRUMB.match("iOS/Android/Web")
    assert lex.BYLINE.search("By Jane Doe") and not lex.BYLINE.search("By the numbers")
    assert lex.BYLINE.search(lex.fold_script("職場 | 撰文：梁詠詩 | 2023年10月12日"))


@pytest.mark.parametrize("line", ["作者 | 陈维贤", "来源 | 运营研究社（ID：U_quan）", "排版 | 小鱼", "校對｜阿明",
                                  "题图来自Unsplash，基于CC0协议", "封面来源：视觉中国", "圖片來源｜Getty Images"])
def test_credit_blocks_and_image_credits_are_bylines(line):
    assert lex.BYLINE.search(lex.fold_script(line))


@pytest.mark.parametrize("line", ["| 来源 | 占比 | 转化率 |", "图片来源与版权", "这张题图的来源要写清楚"])
def test_a_table_row_or_a_heading_with_a_field_word_is_no_byline(line):
    assert not lex.BYLINE.search(lex.fold_script(line))


@pytest.mark.parametrize("line", ["该文观点仅代表作者本人，人人都是产品经理平台仅提供信息存储空间服务。",
                                  "本文僅代表作者個人觀點，不代表本站立場", "本文为运营研究社原创，转载请后台回复“转载”",
                                  "转载请在后台回复“转载”获取授权", "文章代表作者个人观点，少数派仅对标题和排版略作修改。"])
def test_platform_disclaimers_credits_and_own_work_notices(line):
    match = lex.NOTICE.search(lex.fold(line))
    assert match and match.start() <= lex.NOTICE_AT_START


@pytest.mark.parametrize("line", ["文章的观点仅代表一种思路", "我的观点仅代表个人经验", "用户来源决定了转化率",
                                  "图片来源与版权", "这张题图的来源要写清楚", "本文为大家介绍原创内容的三种写法"])
def test_sentences_about_a_viewpoint_or_a_source_are_no_notice(line):
    assert not lex.NOTICE.search(lex.fold(line))


@pytest.mark.parametrize("line, wrapper", [
    ("小编为大家整理了十个运营工具", True), ("以上就是本次活动复盘的全部内容", True),
    ("今天给大家分享的是如何做好一个运营", True), ("小编就给大家介绍到这里了", True),
    ("岗位是新媒体小编，每天写三条微博", False), ("那时候我以为小编就是个写东西的岗位", False),
    ("一位美妝品牌社群小編分享三年來的實戰經驗", False),
    # A platform's blurb on the user posts it picks (少数派's Matrix), not a sentence about a community.
    ("Matrix 是少数派的写作社区，我们主张分享真实的产品体验", True), ("我们会不定期挑选 Matrix 最优质的文章", True),
    ("简书是国内最早的写作社区之一，很多运营新人在那里练笔", False), ("我们每周会精选社群里的优质内容，做成周报", False),
])
def test_an_seo_wrapper_is_a_hosting_sites_formula_not_the_word_xiaobian(line, wrapper):
    assert bool(lex.SEO_WRAPPER.search(lex.fold(line))) is wrapper


@pytest.mark.parametrize("line, bare", [("评论区", True), ("Comments", True), ("留言", True), ("Replies:", True),
                                        ("12 comments", False), ("网友评论", False), ("发表评论", False),
                                        ("Leave a comment", False)])
def test_bare_comments_headings(line, bare):
    assert lex.COMMENTS_HEADING.match(lex.fold(line))
    assert bool(lex.COMMENTS_WORD_HEADING.match(lex.fold(line))) is bare


@pytest.mark.parametrize("line, run", [
    ("作者:小王 | 2024-03-01 | 阅读 1234", "作者:小王 | 2024-03-01 | 阅读 1234"),
    ("發佈時間：2024-03-01 · 閱讀：5,678", "发布时间：2024-03-01 · 阅读：5,678"),           # traditional, folded
    ("2024年07月15日 08:32 来源：城市晨报作者：记者张楠", "2024年07月15日 08:32 来源：城市晨报作者：记者张楠"),
    ("标题作者:小王 | 2024-03-01 正文", "作者:小王 | 2024-03-01"),                    # glued to a title
    ("作者：小王", None),                                                              # one field is no run
    ("2024-03-01 2024-03-05", None),                                                   # dates alone
    ("时间：2023年5月4日，地点：北京", None),                                          # punctuation ends it
    ("作者:小王用户增长通常分为三个阶段", None),                                       # no end to the name
    ("每天阅读 30 分钟 2024-03-01", None),                                             # a count inside a word
])
def test_byline_runs(line, run):
    match = lex.BYLINE_RUN.search(lex.fold_same_length(line))
    assert (match.group(0) if match else None) == run


def test_a_line_of_many_dates_or_bylines_does_not_hang_the_cleaner():
    # Before, two parts of BYLINE_RUN could match the same spaces: 22 dates joined by " | "
    # took 4.4 s and each more date doubled it; 40 would never finish. The child process
    # bounds the damage if that comes back (the work itself takes well under a second).
    import subprocess
    import sys

    code = ("from ingest import clean_text\n"
            "for line in (' | '.join(['2024-03-01'] * 40) + ' end', '作者:小王 | 2024-03-01 | 阅读 1234 ' * 40 + 'end',\n"
            "             '作者:小王|' * 8000 + '正文结束。', '小编为大家整理了。' * 8000 + '正文结束。'):\n"
            "    clean_text('标题\\n\\n' + line + '\\n\\n正文第一段,讲用户增长。')\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


@pytest.mark.parametrize("line", ["More articles by Marcus Lee", "More stories from Priya Raman", "Explore topics",
                                  "Table of Contents", "目录", "作者的其他文章"])
def test_an_authors_other_posts_a_topic_directory_and_a_table_of_contents_open_lists(line):
    assert lex.LIST_HEADING.match(lex.fold(line))


@pytest.mark.parametrize("line", ["Explore topics your members already ask about in the forum.",
                                  "More articles by freelancers means more editing work.", "Contents of a good welcome email"])
def test_sentences_about_topics_and_contents_open_no_list(line):
    assert not lex.LIST_HEADING.match(lex.fold(line))


@pytest.mark.parametrize("line, chrome", [
    ("Free Customer Onboarding Template", True), ("Download Now: Free Customer Onboarding Template", True),
    ("Outline your onboarding process with this free template.", True), ("Get the free template", True),
    ("免费下载运营周报模板", True),
    ("We built a free onboarding template in a spreadsheet, and every new hire fills it in.", False),
    ("Templates are only a starting point.", False), ("Free trial users convert at 12%", False),
])
def test_a_lead_magnet_offer_not_a_sentence_about_a_template(line, chrome):
    assert bool(lex.OFFER.search(lex.fold(line))) is chrome


def test_paywall_labels_and_app_prompts_are_whole_lines():
    assert lex.PAYWALL_LABEL.match(lex.fold("Member-only story")) and lex.PAYWALL_LABEL.match(lex.fold("會員專享"))
    assert not lex.PAYWALL_LABEL.match(lex.fold("Member-only content converts better than you think"))
    assert lex.APP_PROMO.match(lex.fold("> 下载少数派客户端、关注少数派小红书，感受精彩数字生活 🍃"))
    assert not lex.APP_PROMO.match(lex.fold("下载客户端后，用户需要先完成注册，再绑定手机号。"))
    for sentence in ("下载APP、关注公众号、加入社群，是新用户激活的三个关键动作。",
                     "Download the app and follow three creators: pick ones in your niche."):
        assert not lex.APP_PROMO.match(lex.fold(sentence)), sentence  # a review: they were deleted
