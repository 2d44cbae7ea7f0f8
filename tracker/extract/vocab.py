"""Words the extractor looks for: brokers, rating words, actions, benchmark indexes, headings.

Everything is written in simplified Chinese (the text is converted with OpenCC
``t2s`` before matching) or English. The tables are data: add a broker or a
rating word here, not in the parsers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Broker:
    """A research house: English name, Chinese name, scale-file id, other spellings."""

    english: str
    local: str
    id: str
    variants: tuple[str, ...] = ()
    english_variants: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return (self.local, *self.variants)


def _b(english: str, local: str, id_: str, *variants: str, en: tuple[str, ...] = ()) -> Broker:
    return Broker(english, local, id_, variants, en)


#: Brokers publishing research on Hong Kong stocks. Chinese names are matched as
#: written (simplified, after t2s); English names as whole words, any case.
BROKERS: tuple[Broker, ...] = (
    _b("Huaan Securities", "华安证券", "huaan", "华安证券研究所", en=("Huaan Securities",)),
    _b("Caitong Securities", "财通证券", "caitong", en=("Caitong Securities",)),
    _b(
        "CICC",
        "中金公司",
        "cicc",
        "中国国际金融",
        "中金研究",
        "中金",
        en=("CICC", "China International Capital"),
    ),
    _b("CITIC Securities", "中信证券", "citic", en=("CITIC Securities",)),
    _b(
        "China Securities",
        "中信建投",
        "csc",
        "中信建投证券",
        en=("China Securities", "CSC Financial"),
    ),
    _b(
        "Guotai Haitong Securities", "国泰海通", "gthaitong", "国泰海通证券", en=("Guotai Haitong",)
    ),
    _b("Guotai Junan Securities", "国泰君安", "gtja", "国泰君安证券", en=("Guotai Junan",)),
    _b(
        "Guotai Junan International",
        "国泰君安国际",
        "gtja-intl",
        en=("Guotai Junan International",),
    ),
    _b("Haitong Securities", "海通证券", "haitong", en=("Haitong Securities",)),
    # Hong Kong pages call Haitong International plain 海通 (海通证券 is matched first).
    _b(
        "Haitong International",
        "海通国际",
        "haitong-intl",
        "海通",
        en=("Haitong International", "HTI"),
    ),
    _b("CMB International", "招银国际", "cmbi", en=("CMB International", "CMBI")),
    _b(
        "China Merchants Securities",
        "招商证券",
        "cms",
        "招证国际",
        "招商证券国际",
        en=("China Merchants Securities", "CMS International"),
    ),
    _b(
        "Huatai Securities",
        "华泰证券",
        "huatai",
        "华泰研究",
        en=("Huatai Securities", "Huatai Research"),
    ),
    _b("GF Securities", "广发证券", "gf", en=("GF Securities",)),
    _b("Soochow Securities", "东吴证券", "soochow", en=("Soochow Securities",)),
    _b("Guosen Securities", "国信证券", "guosen", en=("Guosen Securities",)),
    _b(
        "Shenwan Hongyuan Securities",
        "申万宏源",
        "swhy",
        "申万宏源证券",
        "申万宏源研究",
        en=("Shenwan Hongyuan", "SWS Research"),
    ),
    _b("Zheshang Securities", "浙商证券", "zheshang", en=("Zheshang Securities",)),
    _b("Kaiyuan Securities", "开源证券", "kaiyuan", en=("Kaiyuan Securities",)),
    _b("Minsheng Securities", "民生证券", "minsheng", en=("Minsheng Securities",)),
    _b("Guolian Minsheng Securities", "国联民生", "glms", "国联民生证券", en=("Guolian Minsheng",)),
    _b("Tianfeng Securities", "天风证券", "tianfeng", en=("Tianfeng Securities", "TF Securities")),
    _b("Everbright Securities", "光大证券", "everbright", en=("Everbright Securities",)),
    _b("Industrial Securities", "兴业证券", "industrial", en=("Industrial Securities",)),
    _b(
        "SDIC Securities",
        "国投证券",
        "sdic",
        "安信证券",
        en=("SDIC Securities", "Essence Securities"),
    ),
    _b("Orient Securities", "东方证券", "orient", en=("Orient Securities",)),
    _b("Northeast Securities", "东北证券", "northeast", en=("Northeast Securities",)),
    _b("Founder Securities", "方正证券", "founder", en=("Founder Securities",)),
    _b("Changjiang Securities", "长江证券", "changjiang", en=("Changjiang Securities",)),
    _b("Sinolink Securities", "国金证券", "sinolink", en=("Sinolink Securities",)),
    _b("Guohai Securities", "国海证券", "guohai", en=("Guohai Securities",)),
    _b("Zhongtai Securities", "中泰证券", "zhongtai", en=("Zhongtai Securities",)),
    _b("Western Securities", "西部证券", "western", en=("Western Securities",)),
    _b("Cinda Securities", "信达证券", "cinda", en=("Cinda Securities",)),
    _b("Huaxi Securities", "华西证券", "huaxi", en=("Huaxi Securities",)),
    _b("Huachuang Securities", "华创证券", "huachuang", en=("Huachuang Securities",)),
    _b("Guolian Securities", "国联证券", "guolian", en=("Guolian Securities",)),
    _b(
        "BOC International",
        "中银国际",
        "boci",
        "中银证券",
        "中银国际证券",
        en=("BOC International", "BOCI"),
    ),
    _b("Ping An Securities", "平安证券", "pingan", en=("Ping An Securities",)),
    _b("Dongxing Securities", "东兴证券", "dongxing", en=("Dongxing Securities",)),
    _b("Shanxi Securities", "山西证券", "shanxi", en=("Shanxi Securities",)),
    _b("Debon Securities", "德邦证券", "debon", en=("Debon Securities",)),
    _b("Pacific Securities", "太平洋证券", "pacific", en=("Pacific Securities",)),
    _b("Central China Securities", "中原证券", "ccnew", en=("Central China Securities",)),
    _b("Huajin Securities", "华金证券", "huajin", en=("Huajin Securities",)),
    _b("Huayuan Securities", "华源证券", "huayuan", en=("Huayuan Securities",)),
    _b("Huaxin Securities", "华鑫证券", "huaxin", en=("Huaxin Securities",)),
    _b("Yongxing Securities", "甬兴证券", "yongxing", en=("Yongxing Securities",)),
    _b("Capital Securities", "首创证券", "capital", en=("Capital Securities",)),
    _b("Eastmoney Securities", "东方财富证券", "eastmoney", en=("Eastmoney Securities",)),
    _b(
        "China Galaxy Securities",
        "中国银河",
        "galaxy",
        "银河证券",
        "中国银河证券",
        en=("China Galaxy", "Galaxy Securities"),
    ),
    _b("Guoyuan Securities", "国元证券", "guoyuan", en=("Guoyuan Securities",)),
    _b("BOCOM International", "交银国际", "bocom-intl", "交银", en=("BOCOM International",)),
    _b("CCB International", "建银国际", "ccbi", en=("CCB International", "CCBI")),
    _b("ABCI", "农银国际", "abci", en=("ABC International", "ABCI")),
    _b("ICBC International", "工银国际", "icbci", en=("ICBC International",)),
    _b("First Shanghai", "第一上海", "first-shanghai", en=("First Shanghai",)),
    _b("China Renaissance", "华兴资本", "renaissance", "华兴证券", en=("China Renaissance",)),
    _b("SPDB International", "浦银国际", "spdbi", en=("SPDB International",)),
    _b("Zhongtai International", "中泰国际", "zhongtai-intl", en=("Zhongtai International",)),
    _b(
        "Guosen Securities (HK)",
        "国信证券(香港)",
        "guosen-hk",
        "国信香港",
        en=("Guosen Securities (HK)",),
    ),
    _b("Futu Securities", "富途证券", "futu", en=("Futu Securities",)),
    _b("Goldman Sachs", "高盛", "goldman", en=("Goldman Sachs",)),
    _b("Morgan Stanley", "摩根士丹利", "morgan-stanley", "大摩", en=("Morgan Stanley",)),
    _b(
        "J.P. Morgan",
        "摩根大通",
        "jpmorgan",
        "小摩",
        "摩通",
        en=("J.P. Morgan", "JPMorgan", "JP Morgan"),
    ),
    _b("Citi", "花旗", "citi", en=("Citi", "Citigroup")),
    _b("UBS", "瑞银", "ubs", en=("UBS",)),
    _b(
        "BofA Securities",
        "美银证券",
        "bofa",
        "美银",
        "美国银行",
        en=("BofA Securities", "Bank of America", "BofA"),
    ),
    _b(
        "HSBC Global Research",
        "汇丰环球研究",
        "hsbc",
        "汇丰研究",
        "汇丰",
        en=("HSBC Global Research", "HSBC"),
    ),
    _b("Macquarie", "麦格理", "macquarie", en=("Macquarie",)),
    _b("Nomura", "野村", "nomura", en=("Nomura",)),
    _b("Jefferies", "杰富瑞", "jefferies", "富瑞", en=("Jefferies",)),
    _b("CLSA", "里昂证券", "clsa", "中信里昂", "里昂", en=("CLSA",)),
    _b("Deutsche Bank", "德意志银行", "deutsche", "德银", en=("Deutsche Bank",)),
    _b("Barclays", "巴克莱", "barclays", en=("Barclays",)),
    _b("Mizuho", "瑞穗", "mizuho", en=("Mizuho",)),
    _b("DBS Vickers", "星展唯高达", "dbs-vickers", en=("DBS Vickers",)),
    _b("DBS", "星展", "dbs", "星展银行", en=("DBS",)),
    _b("Daiwa", "大和", "daiwa", "大和证券", en=("Daiwa",)),
    _b("Bernstein", "伯恩斯坦", "bernstein", en=("Bernstein",)),
    # Houses whose notes Hong Kong pages quote often.
    _b("UOB Kay Hian", "大华继显", "uobkh", en=("UOB Kay Hian", "UOBKH")),
    _b("Credit Suisse", "瑞信", "credit-suisse", en=("Credit Suisse",)),
    _b("BNP Paribas", "法国巴黎银行", "bnp", "法巴", en=("BNP Paribas",)),
    _b("Phillip Securities", "辉立证券", "phillip", "辉立", en=("Phillip Securities",)),
    _b(
        "Everbright Securities International",
        "光大证券国际",
        "everbright-intl",
        en=("Everbright Securities International",),
    ),
)

# --------------------------------------------------------------------------- ratings

#: Rank of a rating word: 2 buy, 1 overweight, 0 neutral, -1 underweight, -2 sell.
#: The rank is a preference; a scale whose words do not fall in strictly
#: decreasing ranks is mapped by position instead (see ``scale.assign_ratings``).
RATING_RANKS: dict[str, int] = {
    # Chinese, simplified
    "买入": 2,
    "强烈推荐": 2,
    "强推": 2,
    "强烈买入": 2,
    "推荐": 1,
    "审慎推荐": 1,
    "谨慎推荐": 1,
    "增持": 1,
    "谨慎增持": 1,
    "优于大市": 1,
    "强于大市": 1,
    "跑赢行业": 1,
    "跑赢大市": 1,
    "领先大市": 1,
    "超配": 1,
    "看好": 1,
    "优于行业": 1,
    "强于行业": 1,
    "超越大市": 1,
    "买进": 2,
    "收集": 1,
    "累积": 1,
    "中性": 0,
    "持有": 0,
    "同步大市": 0,
    "标配": 0,
    "同步行业": 0,
    "观望": 0,
    "区间操作": 0,
    "与大市同步": 0,
    "减持": -1,
    "弱于大市": -1,
    "跑输行业": -1,
    "跑输大市": -1,
    "落后大市": -1,
    "低配": -1,
    "看淡": -1,
    "弱于行业": -1,
    "落后行业": -1,
    "回避": -2,
    "卖出": -2,
    # Hong Kong wording
    "沽售": -2,
    "沽出": -2,
    "立即沽出": -2,
    "看空": -2,
    # English
    "strong buy": 2,
    "strongly recommended": 2,
    "buy": 2,
    "accumulate": 1,
    "add": 1,
    "overweight": 1,
    "outperform": 1,
    "market outperform": 1,
    "positive": 1,
    "hold": 0,
    "neutral": 0,
    "market perform": 0,
    "equal-weight": 0,
    "equal weight": 0,
    "in-line": 0,
    "in line": 0,
    "sector perform": 0,
    "underweight": -1,
    "underperform": -1,
    "market underperform": -1,
    "reduce": -1,
    "negative": -1,
    "sell": -2,
    "strong sell": -2,
}

#: Canonical rating of each rank.
RANK_RATING = {2: "buy", 1: "overweight", 0: "neutral", -1: "underweight", -2: "sell"}

#: Words that close a band list in a definitions section without being a band.
NOT_RATED = ("无评级", "未评级", "不评级", "暂无评级", "not rated", "not-rated")


def rank_of(word: str) -> int | None:
    """The rank of a rating word (simplified Chinese or English, any case)."""
    return RATING_RANKS.get(word.strip().lower())


def rating_of(word: str) -> str | None:
    """The canonical rating a word suggests on its own (``维持`` scales may differ)."""
    rank = rank_of(word)
    return None if rank is None else RANK_RATING[rank]


def _alternation(words) -> str:
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))


ZH_RATING_WORDS = tuple(w for w in RATING_RANKS if not w.isascii())
EN_RATING_WORDS = tuple(w for w in RATING_RANKS if w.isascii())
#: Alternation of Chinese rating words, longest first.
ZH_RATING = _alternation(ZH_RATING_WORDS)
#: Alternation of English rating words, longest first (match case-insensitively).
EN_RATING = _alternation(EN_RATING_WORDS)

# --------------------------------------------------------------------------- actions

#: Verbs announcing a rating, by the action they stand for.
ZH_ACTIONS: dict[str, tuple[str, ...]] = {
    "initiate": (
        "首次覆盖",
        "首次给予",
        "首予",
        "首次评级",
        "首次推荐",
        "初次覆盖",
        "新覆盖",
        "首次",
    ),
    "maintain": ("继续给予", "继续维持", "维持给予", "继续推荐", "维持", "重申", "保持", "延续"),
    "upgrade": ("上调", "调升", "调高", "提升", "升级", "上修"),
    "downgrade": ("下调", "调降", "调低", "降级", "下修", "降低"),
    "give": ("给予", "予以", "评级为", "评为"),
}
EN_ACTIONS: dict[str, str] = {
    "initiate": (
        r"initiat(?:e|es|ed|ing)(?:\s+coverage)?|start(?:s|ed)?\s+coverage"
        r"|resum(?:e|es|ed)\s+coverage"
    ),
    "maintain": (
        r"maintain(?:s|ed|ing)?|reiterat(?:e|es|ed|ing)|keep(?:s|ing)?|kept"
        r"|retain(?:s|ed|ing)?|reaffirm(?:s|ed)?"
    ),
    "upgrade": r"upgrad(?:e|es|ed|ing)",
    "downgrade": r"downgrad(?:e|es|ed|ing)",
    "give": r"assign(?:s|ed)?|rate[sd]?|rating\s+of",
}


def zh_action(word: str) -> str | None:
    """``维持`` -> ``maintain``; None for an unknown word."""
    for action, words in ZH_ACTIONS.items():
        if word in words:
            return action
    return None


# --------------------------------------------------------------------------- benchmarks

#: Benchmark indexes by name (longest first when matching) and their price symbols.
INDEXES: dict[str, str | None] = {
    "恒生中国企业指数": "^HSCE",
    "恒生国企指数": "^HSCE",
    "国企指数": "^HSCE",
    "H股指数": "^HSCE",
    "hang seng china enterprises": "^HSCE",
    "hscei": "^HSCE",
    "恒生科技指数": "^HSTECH",
    "hang seng tech": "^HSTECH",
    "恒生指数": "^HSI",
    "恒指": "^HSI",
    "hang seng index": "^HSI",
    "hsi": "^HSI",
    "沪深300": "000300.SS",
    "csi 300": "000300.SS",
    "csi300": "000300.SS",
    "上证综合指数": "000001.SS",
    "上证综指": "000001.SS",
    "上证指数": "000001.SS",
    "深证成指": "399001.SZ",
    "深证成份指数": "399001.SZ",
    "中证500": "000905.SS",
    "创业板指": "399006.SZ",
    "纳斯达克综合指数": "^IXIC",
    "纳斯达克指数": "^IXIC",
    "纳斯达克": "^IXIC",
    "nasdaq": "^IXIC",
    "标普500": "^GSPC",
    "标准普尔500": "^GSPC",
    "s&p 500": "^GSPC",
    "s&p500": "^GSPC",
    # Named by reports, with no price symbol tracker can fetch.
    "摩根士丹利中国指数": None,
    "msci中国指数": None,
    "msci china": None,
    "三板成指": None,
    "三板做市指数": None,
    "科斯达克指数": None,
    "韩国综合股价指数": None,
    "北证50": None,
}

#: Market keys of ``RatingScale.benchmarks`` and the words that name each market.
MARKETS: dict[str, tuple[str, ...]] = {
    "HK": ("香港", "港股", "h股", "hong kong", "hk market"),
    "A": ("a股", "沪深", "a-share", "a share", "china a"),
    "US": ("美国", "美股", "us market", "u.s.", "united states"),
}

# --------------------------------------------------------------------------- headings

#: Section headings by the kind of section they open.
HEADINGS: dict[str, tuple[str, ...]] = {
    "definitions": (
        "投资评级说明",
        "评级说明",
        "投资评级的说明",
        "投资评级定义",
        "评级定义",
        "评级标准",
        "投资建议的评级标准",
        "投资评级标准",
        "证券投资评级",
        "评级体系说明",
        "分析师评级说明",
        "rating definitions",
        "ratings definitions",
        "explanation of ratings",
        "rating system",
        "definition of ratings",
        "investment ratings",
        "rating explanation",
        "stock ratings",
    ),
    "advice": (
        "投资建议",
        "投资策略",
        "推荐标的",
        "相关标的",
        "重点推荐",
        "建议关注",
        "受益标的",
        "投资标的",
        "标的推荐",
        "盈利预测与投资建议",
        "盈利预测与评级",
        "估值与评级",
        "投资评级与估值",
        "盈利预测、估值与评级",
        "盈利预测与估值",
        "投资观点",
        "investment view",
        "recommendation",
        "top picks",
        "valuation",
    ),
    "risk": ("风险提示", "风险因素", "主要风险", "风险分析", "risks", "risk factors", "key risks"),
    "disclaimer": (
        "免责声明",
        "重要声明",
        "分析师声明",
        "法律声明",
        "特别声明",
        "一般声明",
        "信息披露",
        "分析师与研究助理简介",
        "分析师简介",
        "作者简介",
        "研究团队简介",
        "分析师承诺",
        "disclaimer",
        "disclaimers",
        "disclosures",
        "important disclosures",
        "analyst certification",
        "follow us",
    ),
}
