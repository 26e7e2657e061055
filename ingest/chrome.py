"""The lexicon of site chrome: what a line of navigation, notice or teaser looks like.

Patterns are written once, in English and simplified Chinese, and matched against a *folded*
line (:func:`fold`: NFKC, lower case, traditional folded to simplified by OpenCC), so every
rule covers traditional pages (``延伸閱讀``, ``本文經授權轉載``) and full-width forms without
a second copy. Each pattern names a kind of chrome seen across sites, not a seed's string.

Vocabulary that also belongs to the subject (运营 articles discuss 推广, 广告, 会员, 关注,
subscribers and newsletters) only counts on a *label line*: a short line made mostly of chrome
words (:func:`is_label`). A heading such as ``如何做好推广`` is not one.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from .repair import HAN, HAN_MENU

# --- folding ---------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


@lru_cache(maxsize=4096)
def fold_script(line: str) -> str:
    """``line`` in NFKC and simplified Chinese, case kept (for rules that need capitals)."""
    return _t2s().convert(unicodedata.normalize("NFKC", line))


def fold(line: str) -> str:
    """``line`` as most patterns see it: NFKC, simplified Chinese, lower case."""
    return fold_script(line).lower()


def fold_same_length(line: str) -> str | None:
    """``line`` lower-cased and simplified with its offsets kept, or None if they would move."""
    folded = _t2s().convert(line).lower()
    return folded if len(folded) == len(line) else None


_V = re.VERBOSE
#: What may surround a heading: bullets, brackets, arrows, colons, dashes, spaces.
_DECOR = r"[\s\W_]*"

# --- block openers: a heading after which the short lines are links -----------------------

#: "Related articles", "Most read", 延伸阅读, 猜你喜欢 ...: a heading that opens a list of links
#: to other articles. Only a whole line counts.
LIST_HEADING = re.compile(rf"""^{_DECOR}(?:
    相关(?:文章|阅读|推荐|资讯|新闻|内容|话题|专题|链接)?|推荐(?:阅读|文章|内容|资讯|给你)?|(?:延伸|扩展|拓展|深度)阅读
  | 热门(?:文章|推荐|资讯|新闻|标签|话题|工具|阅读|素材\w*)?|(?:精彩|精选|热文|热点|编辑|小编)推荐|往期(?:回顾|推荐|精选|文章|精彩)?
  | 猜你(?:喜欢|想看)|你(?:可能|也许)?(?:还)?(?:会)?(?:喜欢|感兴趣)|大家都在看|看了(?:本文|这篇)的人还看了|最新(?:文章|资讯|发布|更新|动态)
  | 更多(?:文章|阅读|精彩|内容|资讯|推荐|好文)|(?:阅读|点击|文章|热度|人气)?排行(?:榜)?|今日热(?:点|榜|门)|(?:本周|本月|24小时)(?:热门|热文|排行)
  | related(?:\ (?:articles?|posts?|stories|reading|content|links|topics|news|coverage))?
  | recommended(?:\ (?:for\ you|articles?|reading|stories|posts?))?|recommend
  | you\ (?:may|might)\ (?:also\ )?(?:like|enjoy|be\ interested\ in)|also\ on\ [\w .]+|more\ from\ [\w .'’-]+
  | more\ (?:stories|articles|posts|like\ this|news|to\ read|reading|in\ \w+)
  | most\ (?:read|popular|viewed|shared|emailed|recent)(?:\ (?:articles|stories|posts|today|this\ week))?
  | (?:popular|trending|latest|recent|top|featured|editor'?s|editors'?)\ (?:posts?|articles?|stories|news|picks|now|reads)
  | read\ (?:next|more|also)|up\ next|further\ reading|see\ also|also\ read|don'?t\ miss|what\ to\ read\ next|keep\ reading
  # An author's other posts under a post (LinkedIn's "More articles by Marcus Lee", Medium's
  # "More stories by …"): "more from" had the site's form but not the author's. A name is at
  # most four words, so a sentence ("More articles by freelancers means more editing.") is none.
  | more\ (?:articles|stories|posts)\ (?:by|from)\ [\w'’-]+(?:\ [\w.'’-]+){{0,3}}|(?:作者|ta|他|她)的?(?:其他|更多|全部)(?:文章|作品)
  # A platform's topic directory under a post (LinkedIn's "Explore topics" and its list: Sales,
  # Marketing, …): a heading of links to other pages, never of the post's own sections
  # ("Trending topics" or 热门话题 can be one: not these).
  | (?:explore|browse|discover)\ (?:more\ )?(?:topics|categories)|more\ topics|(?:探索|浏览|更多)话题
  # A table of contents (HubSpot's "Table of Contents" above the body, each item a link to a
  # section): its items repeat the post's own headings. Above the body it is no trigger for a cut.
  | table\ of\ contents|contents|in\ this\ (?:article|post|guide)|jump\ to(?:\ section)?|(?:文章|本文)?目录
  )[\s:>»›→\W]*$""", _V)
#: A stand-alone ad label; the short lines after it are the ad.
AD_LABEL = re.compile(rf"^{_DECOR}(?:广告|推广|赞助(?:内容)?|商业推广|advertisement|advertising|sponsored(?:\ content)?|promoted|paid\ (?:content|post)|partner\ content|ad){_DECOR}$", _V)

#: An inline link to another article inside the body: "相关阅读：…", "【推荐阅读】…", "Related: …".
INLINE_RELATED = re.compile(r"^[\W_]*(?:相关(?:阅读|新闻|文章|链接)|推荐阅读|延伸阅读|扩展阅读|related(?:\ (?:article|story|stories|coverage))?|read\ (?:more|also|next)|see\ also|also\ read)\s*[:：】\]]", _V)
#: A lead-magnet offer a site puts in or under a post (HubSpot's "Free Customer Onboarding
#: Template" / "Outline your onboarding process with this free template." / "Download Now: …"):
#: its headline (free or download, at most six words, then the kind of download) or its copy
#: (the reader is told to use, get or download "this/our free" thing, ending the line). A
#: sentence about a template ("We built a free onboarding template in a spreadsheet, …") is
#: neither. The headline's kinds are downloads only: "Free trial onboarding checklist" is a
#: section heading (a review). Only on short lines.
OFFER = re.compile(r"""^[\W_]*(?:download(?:\ now)?\s*:?\s*)?(?:free|download)\b(?:[\s&'-]+[\w'&-]+){0,6}?\s+(?:template|e-?book|toolkit|worksheet|workbook|cheat\ sheet|swipe\ file)s?[\W_]*$
  | \b(?:with|using|from|in)\ (?:this|these|our)\ free\ [\w\ -]{0,30}?(?:template|checklist|e-?book|toolkit|kit|worksheet|workbook|planner|calculator|guide|report|course)s?[\s.!]*$
  | ^[\W_]*(?:get|grab|download|claim)\ (?:the|your|our)\ free\ [\w\ -]{0,30}?(?:template|checklist|e-?book|toolkit|kit|worksheet|workbook|planner|calculator|guide|report|course)s?[\W_]*$
  | ^[\W_]*(?:免费)?(?:下载|领取|获取)(?:免费)?[^，。,；;！!？?]{0,16}(?:模板|清单|手册|白皮书|资料包|工具包)[\W_]*$""", _V)
#: A line that is a paywall's label, not text: Medium's "Member-only story", "Subscriber-only
#: post", 会员专享. Only as a whole line, and with the kind of post: "Member-only content" is
#: a heading of an article about paywalls (a review).
PAYWALL_LABEL = re.compile(rf"^{_DECOR}(?:(?:members?|subscribers?)[-\ ]only\ (?:story|post|article|episode)|会员(?:专享|专属|独享)(?:内容|文章)?|付费(?:内容|文章|阅读)){_DECOR}$", _V)
#: A site's prompt to get its app and follow its accounts, in or under the post (少数派's
#: "> 下载少数派客户端、关注少数派小红书，感受精彩数字生活", "Download the Example app and follow us …"):
#: downloading the app and following, in that order, in one clause list, in the site's voice
#: (no 是 or 。; "follow us"). An article's sentence ("下载客户端后，用户需要先注册", "下载APP、
#: 关注公众号、加入社群，是新用户激活的三个关键动作。", "Download the app and follow three
#: creators") is none (a review).
APP_PROMO = re.compile(r"""^(?!.*[是。])[\W_]*(?:下载|安装)[^，。,；;]{0,12}?(?:客户端|app)[^，。,；;]{0,6}?[、，,]\s*(?:关注|订阅|加入)
  | ^[\W_]*(?:download|get|install)\ (?:the|our)\ [\w\ ]{0,20}?app\b[^.;]{0,20}?\b(?:and|,)\ (?:follow|subscribe\ to|join)\ (?:us|our)\b""", _V)
#: Calls to action of ad copy; the line after an ad label that has AD_COPY_MIN of them is the ad.
AD_COPY = re.compile(r"扫码|立即|马上|报名|限时|优惠|特惠|福利|领取|抢购|购买|下单|点击|下载|免费|折|buy|shop|order|sign\ up|register|download|free|sale|discount|\d+%\ off|coupon|promo", re.I)
AD_COPY_MIN = 2

# --- terminal markers: everything after them is chrome -------------------------------------

#: A comment section's heading: what follows is readers' prose, not the article.
COMMENTS_HEADING = re.compile(rf"""^{_DECOR}(?:
    (?:全部|热门|最新|精选|网友|读者|最热)?(?:评论|留言|回复)(?:区|列表)?(?:\s*\(?\d+\)?)?
  | \d+\s*(?:条|个|则)?(?:评论|留言|回复)|共\s*\d+\s*条(?:评论|留言)
  | (?:发表|写|我要|查看|添加|发布)(?:评论|留言)|写下你的(?:评论|想法)\W*|评论(?:已|被)?关闭|登录后(?:才能|可以)?(?:评论|留言)
  | (?:\d+\s+)?(?:comments?|responses?|replies|reactions)(?:\s*\(\d+\))?
  | (?:leave|post|add|write)\ (?:a|your)\ (?:comment|reply|response)|comments?\ (?:are\ )?closed
  | join\ the\ (?:discussion|conversation)|be\ the\ first\ to\ (?:comment|respond)|(?:show|view|load)\ (?:all\ )?comments
  )[\s:\W]*$""", _V)
#: The bare forms of a comments heading, "评论区", "留言", "Comments", "Replies": also the heading
#: of an article's section about that engagement metric. The group is the subject's stem, which
#: such a section's first paragraph names ("评论区是笔记的第二个正文…", "Comments are where the
#: real community lives."); see :func:`ingest.boilerplate._keep_subject_headings`. Forms with a
#: count ("12 comments"), a widget's word ("网友评论", "全部评论") or a prompt ("发表评论")
#: are the comment section's own.
COMMENTS_WORD_HEADING = re.compile(rf"^{_DECOR}(评论|留言|回复|comment|response|repl|reaction)(?:区|s|y|ies)?{_DECOR}$")
#: A closing mark: "-END-", "（完）", "The End".
END_MARKER = re.compile(r"^[\s\W_]*(?:end|the\ end|完|全文完|本文完|正文完)[\s\W_]*$", _V)

#: Links to the previous and next article.
PREV_NEXT = re.compile(r"""^(?:
    (?:<<|>>|«|»|‹|›)\s*[:：]
  | (?:上一篇|下一篇|上一页|下一页|上一章|下一章|上篇|下篇|前一篇|后一篇)(?:文章)?\s*(?:[:：>]|$)
  | (?:previous|next|prev|older|newer)(?:\ (?:post|article|story|entry|page|chapter))?\s*[:：»›→]
  | [←«]\s*(?:previous|older|prev)\b | (?:next|newer)\b.{0,80}[→»]$
  )""", _V)

# --- notices: reprint, copyright, source, contact ----------------------------------------

#: The notices Chinese platforms and WeChat accounts put under a reprint (woshipm, 运营研究社):
#: the platform's disclaimer ("该文观点仅代表作者本人，…平台仅提供信息存储空间服务。") and an
#: account's own-work notice ("本文为运营研究社原创，…": a name between 为 and 原创, and 原创
#: ending the clause, so "本文为大家介绍原创内容的…" is not one). The disclaimer needs its
#: subject (该文/本文/文章) and 作者, so a sentence about someone's 观点 is not one. A platform that
#: hosts its users' posts says so too ("文章代表作者个人观点，少数派仅对标题和排版略作修改。"):
#: 代表作者 needs 本人/个人 there, and the edit notice names both the title and the layout.
PLATFORM_NOTICE = r"""(?:该文|本文|文章|以上内容)(?:的)?观点(?:仅|只)代表作者|仅代表作者(?:本人|个人)?(?:的)?(?:观点|立场)
  | (?:该文|本文|文章)代表作者(?:本人|个人)(?:的)?观点|(?:仅|只)对(?:文章)?标题(?:和|与|及)?排版(?:略作|稍作|作|进行)?(?:修改|调整)
  | 提供信息存储空间服务|本文(?:为|系|是)[^，。,；;!！\s]{1,20}?原创(?:文章|作品|内容|稿件)?(?=[，。,；;!！]|$)"""

#: Reprint, copyright, source, disclaimer and contact notices, in both languages. They may be
#: glued to the end of the last body line, so they are searched for anywhere in a line.
NOTICE = re.compile(r"""(?:
    本文(?:已|经|由|系|为)?(?:作者)?(?:授权|获授权|原创)?(?:转载|转自|来自|首发|原载|原发|发布)(?:于|自|在)?
  | 转载(?:请|须|需|务必)?(?:注明|联系|说明|保留)|转载请(?:在)?(?:后台|私信|留言)|(?:未经|如需)(?:作者|本站|本网)?(?:授权|许可|同意)|禁止(?:任何)?转载|谢绝转载|经授权转载
  | (?:文章|版权|免责|原创)(?:申明|声明)|版权(?:所有|归|属于)|原文(?:链接|地址|标题)\s*[:：]|原标题\s*[:：]|责任编辑\s*[:：]
  | (?:the\ )?author\ of\ this\ article\s*@|(?:compiled\ and\ )?published\ by\s*\(
  | please\ (?:indicate|cite|credit)\ the\ (?:author|source)|product\ promotion\ services\s*:
  | copyright\s*(?:©|\(c\))?\s*(?:\d{4}|by\b)|©\s*(?:\d{4}|[a-z\u4e00-\u9fff])|all\ rights\ reserved
  | (?:this|the)\ (?:article|story|post|piece|essay)\ (?:was|is|first)\ (?:originally\ |first\ )?(?:published|appeared|posted)
  | originally\ (?:published|appeared)\ (?:on|at|in)|(?:reprinted|republished|reposted)\ (?:here\ )?with\ (?:permission|kind\ permission)
  | (?:reach|contact|email|write\ to)\ (?:him|her|them|me|us|the\ author)?\s*(?:at|via|on)\s+\S+@\S+
  | (?:this|the)\ (?:post|article|page|story)\ (?:may\ )?contains?\ affiliate\ links|as\ an\ amazon\ associate
  | 本文(?:包含|含有)(?:推广|广告|联盟|返利)链接
  | 客服\s*(?:qq|电话|邮箱|微信)|联系邮箱|(?:投诉|举报)(?:电话|邮箱|建议|中心)|icp\s*(?:备|证)|公网安备|违法和不良信息举报
  | """ + PLATFORM_NOTICE + r"""
  )""", _V)
#: A notice at the start of a line owns the line, whatever its length.
NOTICE_AT_START = 3

#: SEO wrappers a hosting site puts around copied articles ("today we share with you ..."),
#: and the "if you liked this, share it" sign-offs. They open or close the text.
#: Each alternative is a formula (who hands what to whom), never a lone word: 小编 ("the
#: editor") is also a job title that ops articles are about ("岗位是新媒体小编"), so it counts
#: only in the hosting site's own phrases ("小编为大家整理了…", "小编就给大家介绍到这里").
#: A line holding a formula is dropped only when little else is in it (see
#: :func:`ingest.boilerplate.is_seo_wrapper`).
SEO_WRAPPER = re.compile(r"""今天(?:小编)?(?:就|来)?给大家分享|给大家分享的是|希望(?:对大家|对你|能对你)有所帮助|以上(?:就|即|便)?是(?:关于|小编|本文|今天)
  | 以上(?:就|即|便)?是.{0,40}?的(?:全部|所有)内容
  | 小编(?:今天|下面|这里|在此)?(?:就|来|再|先|也|特意|特地|精心)?(?:为|给|和|跟|帮|向)(?:大家|你们|各位|您|你)(?:整理|分享|带来|介绍|推荐|汇总|收集|精选|准备|讲解|解答|盘点)
  | (?:小编)?(?:就|先)?(?:给|和|跟|为)大家(?:介绍|分享|讲|说|聊)到这里
  | 更多(?:精彩|相关)?(?:内容|资讯|文章)(?:请|敬请)?(?:关注|访问)|本文(?:由|来自)\S{0,20}(?:整理|编辑|收集)(?:而成|发布)?
  | 如果(?:你|您)?觉得(?:本文|文章|这篇)?.{0,12}(?:有用|有帮助|不错|有收获).{0,16}(?:点赞|分享|收藏|关注|在看|转发)
  | (?:if\ you\ (?:enjoyed|liked|found)\ (?:this|the)\ (?:article|post|story)).{0,60}(?:share|subscribe|follow|clap)
  | thanks\ for\ reading\b.{0,80}(?:subscribe|share|follow|sign\ up)
  # A platform's blurb on the user posts it selects (少数派's "Matrix 是少数派的写作社区，我们主张…。
  # 我们会不定期挑选 Matrix 最优质的文章，…"): the site introducing itself in "we", or its
  # editors' regular pick of the best posts. "简书是国内最早的写作社区之一" has no "we".
  | 是[^，。,\s]{1,12}的(?:写作|创作|投稿|内容)社区[，,]\s*我们
  | 我们(?:会)?(?:不定期|定期|每周|每月)(?:地)?(?:挑选|精选|推荐|选出)[^，。,]{0,20}?(?:优质|精彩|最好|优秀)的?(?:文章|内容|作品)""", _V)

# --- teasers and metadata ------------------------------------------------------------------

#: A headline or snippet cut off by the site: ends in an ellipsis or a "read all" link.
TEASER = re.compile(r"(?:\.{3}|…|\[查看全文\]|\[阅读全文\]|查看全文|阅读全文|(?:read|see)\ more|continue\ reading)\s*[\]»>›→)]*$", re.I)
#: A headline ending in a view count, e.g. ``... 4457人``.
VIEW_COUNT = re.compile(r"\s\d{2,}\s*(?:人|次|阅读|浏览|views?|reads?)$", re.I)
#: Metadata lines that are not prose: tags, categories, keywords.
META_LINE = re.compile(r"^(?:tags?|keywords?|标签|关键词|关键字|分类|栏目|categor(?:y|ies)|filed\ under|posted\ in|topics?|热门(?:搜索|搜寻|标签|关键词))\s*[:：]", re.I | _V)
#: The roles of a credit block, besides author and source: layout, proofreading, art, photos,
#: translation. Words that also head a list item of an article ("设计：…", "视觉：…", "策划：…")
#: are left out; and after a colon only a name counts ("排版：小鱼"), for a team's roles are
#: article text ("排版：负责公众号排版、配图和封面设计", a review).
CREDIT_ROLE = "作者|来源|出处|编辑|责编|排版|校对|审校|美编|监制|插画|摄影|译者|编译|统筹"
#: An image credit opening a short line: "题图来自Unsplash，基于CC0协议", "封面来源：视觉中国".
#: 来源 needs a separator after it, so a heading about 图片来源 ("图片来源与版权") is not one;
#: a byline rule, so a long line that opens so ("配图来自图库时，要先确认授权范围…") stays.
IMAGE_CREDIT = r"^[\W_]*(?:题图|封面|头图|首图|配图|图片)(?:图片)?(?:(?:来源|出处|素材)\s*[:：|]|来自|源自|由)"
#: Byline and dateline fields of a short line ("职场 | 撰文：…", "By Jane Doe", "发布时间：",
#: "2024年07月15日 08:32 来源：…", "Published May 21, 2024", "7 min read"). English
#: bylines need a capitalised name, so "By the numbers" stays a heading. A WeChat account's
#: credit block ("作者 | 陈维贤", "来源 | 运营研究社（ID：U_quan）", "排版 | 小鱼") puts a bar
#: after the role: only at the start of a line, so a table row ("| 来源 | 占比 |") is not one.
BYLINE = re.compile(r"""(?:^|[\s|·•/])(?:作者|来源|出处|编辑|责编|撰文|撰稿|记者|发布(?:时间|日期)?|发表(?:时间)?|更新(?:时间)?|时间|日期|阅读(?:量|数|时间|时长)?|浏览(?:量|次数)?|点击(?:量|数)?)\s*[:：]
  | ^(?:文|图)\s*[:：|] | ^(?:""" + CREDIT_ROLE + r""")\s*(?:\||[:：]\s*[^，。,；;、\s]{1,12}(?:\s+[^，。,；;、\s]{1,12})?\s*$) | """ + IMAGE_CREDIT + r""" | ^(?:编辑|发布|发表|更新|写)于\s*\d
  | ^\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?\s
  | ^(?i:posted|published|updated|written)\ (?i:on|by|at)\b|^(?i:by|written\ by|words\ by|story\ by)\s+[A-Z\u4e00-\u9fff]
  | ^(?i:published|updated|posted)\s+(?:[A-Z][a-z]{2,8}\.?\s+\d{1,2},?\s+\d{4}|\d{1,2}\s+[A-Z][a-z]{2,8}\s+\d{4}|\d{4}-\d\d-\d\d)
  | \b\d+\s*(?i:min(?:ute)?s?)\s+(?i:read)\b""", _V)
# No two neighbouring parts may match the same spaces (``\s*日?`` before a separator's ``\s*``
# did): a line that fails to match would then try every split of its spaces, doubling the time
# with each field (a review: 22 dates joined by " | " took 4.4 s, 30 would take minutes).
_DATE = r"\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}(?:\s*日)?(?:\s*\d{1,2}:\d{2}(?::\d{2})?)?"
_COUNT = r"\d[\d,.]*(?:\s*[kw万千])?\+?"
_FIELD_LABEL = r"(?:作者|来源|出处|责任编辑|编辑|责编|撰文|撰稿|记者|摄影|发布(?:时间|日期)?|发表时间|更新时间|时间|日期)"
_FIELD_VALUE = r"[^\s|｜·•/,，。;；:：!！?？()（）]{1,20}"
_LABELLED_FIELD = rf"{_FIELD_LABEL}\s*[:：]\s*(?:{_DATE}|{_FIELD_VALUE})"
_COUNT_FIELD = rf"(?:(?:阅读|浏览|点击)(?:量|数|次数)?\s*(?:[:：]\s*)?{_COUNT}(?:\s*次)?|{_COUNT}\s*(?:次阅读|人阅读|阅读|次浏览|浏览|人看过))"
_FIELD = rf"(?:{_LABELLED_FIELD}|{_COUNT_FIELD}|{_DATE})"
_FIELD_SEP = rf"(?:\s*[|｜·•/]\s*|\s+|(?={_FIELD_LABEL}\s*[:：]))"
_AFTER_SPACE = r"(?<![^\s|｜·•/])"
#: A byline written as a run of fields: ``作者:小王 | 2024-03-01 | 阅读 1234``, ``2024年07月15日
#: 08:32 来源：城市晨报作者：记者张楠``: at least two of author, source, editor (a label, a colon,
#: a name of at most 20 characters without spaces or punctuation), date (with its time) and read
#: count, joined by spaces or ``| · • /`` (or nothing before a label), one of them not a bare
#: date, ending before whitespace or the line end. It starts after whitespace or a separator,
#: or a labelled field after a Han character too: repair drops the space between two Han
#: characters, so a title joined to its byline reads ``标题作者:小王 | …``.
#: Matched on the simplified, lower-cased line (:func:`fold_same_length`). A line that is only
#: such a run is chrome whatever its length; a run inside a line (an extractor that joined a
#: page's blocks with spaces: trafilatura's fallback on short pages puts the title, the byline
#: and the paragraphs on one line) is split off as a line of its own (:mod:`ingest.clean`).
#: Calibrated on 6,395 lines of 225 pages (the five seeds and the corpus, the 12 cleaning
#: fixtures and their expected bodies, the HTML ones also as trafilatura's whole-page text, the
#: 10 bench distractors, the 181 English extraction-benchmark pages): 2 lines match, both
#: bylines already dropped as short ones (``2024年07月15日 08:32 来源：城市晨报作者：记者张楠``,
#: ``職場 | 撰文：梁詠詩 | 2023年10月12日``), 0 prose lines, 0 long lines split. Not matched, 4
#: bylines of other shapes, dropped by the line rules when on a line of their own but left in
#: a joined line: ``数据小陈 于 2023-11-02 22:14:05 发布 阅读量 4.8k``, ``記者 黃家明 | 2024年1月9日``
#: (no colon), ``原创 林小满 增长实验室 2024-03-18``, ``编辑于 2023-09-14 18:22``. A sentence that
#: happens to read ``… 2024-03-01 阅读 1234 …`` between spaces would be split (none seen).
BYLINE_RUN = re.compile(rf"""(?:
    {_AFTER_SPACE}(?:{_DATE}{_FIELD_SEP})+(?:{_LABELLED_FIELD}|{_COUNT_FIELD})(?:{_FIELD_SEP}{_FIELD})*
  | {_AFTER_SPACE}{_COUNT_FIELD}(?:{_FIELD_SEP}{_FIELD})+
  | (?<![^\s|｜·•/{HAN}]){_LABELLED_FIELD}(?:{_FIELD_SEP}{_FIELD})+
  )(?=\s|$)""", _V)
#: Breadcrumbs: "首页 > 科技 > 互联网", "Home › News › Tech", and the "you are here" prefixes.
BREADCRUMB = re.compile(r"^(?:当前位置|您的位置|你的位置|位置|you\ are\ here)\s*[:：]|^[^>›»→/\n]{1,24}(?:(?:\s*(?:>>?|›|»|→)\s*|\s/\s)[^>›»→/\n]{1,40}){2,}$", _V | re.I)
#: Separators of a menu or a share bar laid out on one line: "Home | News | Sport". (Chinese
#: menus written with bare spaces lose them in repair and become one short line.)
MENU_SEPARATOR = re.compile(r"\s*[|｜·•]\s*|\s/\s")
#: A menu line has at least this many items, each at most MENU_ITEM_CHARS long: a title with
#: one "|" before the site name ("标题 | 站点") has two items and is not a menu.
MENU_MIN_ITEMS = 4
MENU_ITEM_CHARS = 12
#: A counter alone on a line ("1.2K", "2.3万", "418"): likes, views, comments under a post.
COUNTER_LINE = re.compile(r"^[\W_]*\d[\d,.]*\s*[kmw万千亿]?\+?[\W_]*$")
#: A date or time alone on a line ("2023-05-04 10:22", "2023年5月4日").
DATE_LINE = re.compile(r"^[\W_]*(?:\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?|\d{1,2}:\d{2}(?::\d{2})?|\d+\s*(?:分钟|小时|天)前)(?:[\s\W_]+(?:\d{1,2}:\d{2}(?::\d{2})?))?[\s\W_]*$")

# --- label lines ---------------------------------------------------------------------------

#: Words that only make up chrome when a line is nothing else: share bars, counters, follow
#: and login prompts, ad calls to action, footer links, photo credits.
LABEL_WORDS = re.compile(r"""
    分享(?:到|至|给)?|(?<=分享至)line|(?<=分享到)line|line\s*好友|转发|一键分享|扫一扫|微信|朋友圈|微博|qq\s*空间|qq|脸书|粉丝专页|复制链接
  | facebook|twitter|linkedin|whatsapp|telegram
  | pinterest|reddit|weibo|wechat|e-?mail|share|tweet|print
  | 点赞|赞同|在看|赞赏|打赏|收藏|阅读原文|阅读|浏览|\d+\s*(?:人|次)|评论|留言|粉丝|ip\s*属地|likes?|claps?|views?|reads?|comments?|shares?
  | followers?|listen|收听|text\ to\ speech
  | 扫码|二维码|长按(?:识别)?|点击(?:上方|下方|蓝字|卡片|名片)+|关注|公众号|订阅|subscribe[ds]?|newsletter|follow|sign\ (?:up|in)|log\ ?in|register|create\ (?:an?\ )?(?:free\ )?account
  | 登录|登入|注册|会员|加入|下载|app|客户端|become\ a\ member|upgrade|free\ trial|get\ the\ app|open\ in\ app|members?|paywall
  | 广告|推广|赞助|sponsored|advertisement|promoted|立即|马上|限时|优惠|免费|领取|报名|咨询|购买|buy\ now|shop\ now|learn\ more|get\ started
  | download|try\ (?:it\ )?(?:for\ )?free|\d+%\s*off|discount|offer
  | 查看全部|展开全文|展开|收起|view\ all|see\ all|show\ (?:all|more)
  | 首页|返回(?:顶部|首页|列表)?|上一篇|下一篇|关于我们|联系我们|加入我们|商务合作|广告合作|投稿|隐私(?:政策|条款)|用户协议|服务条款|网站地图|友情链接|帮助中心|意见反馈
  | 搜索|搜寻|菜单|导航|打印|关闭窗口|字号(?:\s*[:：]?\s*大\s*中\s*小)?|about\ us|contact(?:\ us)?|privacy(?:\ policy)?|terms(?:\ of\ (?:service|use))?|cookies?|sitemap|careers
  | advertise|help|faq|feedback|back\ to\ top|home|menu|search|skip\ to\ (?:main\ )?content|toggle\ navigation
  | 图片来源|图源|题图|配图|来源|网络|photo(?:graph)?s?|image|credit|getty\ images|unsplash|shutterstock|via
""", _V)
#: Function words that neither make nor unmake a label line ("Follow *us* on Twitter",
#: "扫码关注*我们*"): they are left out of the count.
FUNCTION_WORDS = re.compile(r"""\b(?:the|a|an|to|of|for|and|or|our|your|my|this|that|it|on|in|at|with|now|here|more|all|us|me|you|be|is|are|by|from|get|free|post|article|story|page|today|daily|weekly|up)\b
  | 我们|你们|我|你|您|的|了|请|本|此|这|更多|一下|吧|啊|哦|吗|呢|还|也|和|与|及|或|到|在|给|点击|查看|进入|欢迎|文章|本文|获取|享""", _V)
#: A label line is short (at most this many letters: a share bar, a counter row or a footer
#: row; the longest label in the seeds is the 22-letter ``登錄後可以評論 立即登錄``) ...
LABEL_MAX_LETTERS = 40
#: ... and chrome words cover at least this share of its letters, function words left out.
#: Two thirds keeps headings that merely contain one such word ("如何做好推广": 2 of 6,
#: "Work from home": 4 of 8) and drops "分享到 微信 微博" (all) and "Sign up for our free
#: weekly newsletter" (16 of 22).
LABEL_COVERAGE = 2 / 3
_LETTER = re.compile(r"[^\W\d_]")


def letters(text: str) -> int:
    """Letters and Han characters in ``text`` (digits, punctuation and spaces do not count)."""
    return len(_LETTER.findall(text))


def is_label(folded: str) -> bool:
    """A short line made mostly of chrome words: a share bar, a counter, a login prompt, an ad."""
    total = letters(folded)
    if total <= 1 and (DATE_LINE.match(folded) or COUNTER_LINE.match(folded)):
        return not folded.startswith("|")  # not a table row
    if total == 0:
        return False
    if total > LABEL_MAX_LETTERS:
        return False
    without_chrome = LABEL_WORDS.sub(" ", folded)
    chrome = total - letters(without_chrome)
    content = total - (letters(without_chrome) - letters(FUNCTION_WORDS.sub(" ", without_chrome)))
    return chrome > 0 and chrome >= LABEL_COVERAGE * content


def is_menu(line: str) -> bool:
    """A row of at least MENU_MIN_ITEMS short items: a navigation bar laid out on one line."""
    if line.startswith(("|", "｜")):
        return False  # a table row, as trafilatura writes tables
    if HAN_MENU.fullmatch(line):
        return True
    items = [x for x in MENU_SEPARATOR.split(line.strip()) if x.strip()]
    return len(items) >= MENU_MIN_ITEMS and all(len(x.strip()) <= MENU_ITEM_CHARS for x in items)
