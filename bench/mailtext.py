"""What the generated support mail says: the corpus and the plain text built from it.

Why a module of its own: mailgen.py sequences the mails and mailmime.py encodes
them; the sentences, subjects, names and prose builders here are the bulk of the
generator, kept apart so each of the three stays readable. Every choice is drawn
from the caller's seeded Random, so the text is deterministic given the seed.
"""

import html
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from random import Random

START = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)

EN_SENTENCES = (
    "I cannot log in to the dashboard since this morning.",
    "The export to CSV stops at about 80% and never finishes.",
    "Our invoices for October show the wrong VAT number.",
    "After the last update the mobile app crashes when I open the settings page.",
    "Could you please reset the two-factor authentication for my colleague?",
    "The API returns HTTP 502 for roughly one request in twenty.",
    "We were charged twice for the annual plan.",
    "Is there a way to add more than five users to the starter plan?",
    "The password reset mail never arrives, I checked the spam folder too.",
    "Reports are very slow today, the weekly summary takes several minutes to load.",
    "Everything is down for our team in Singapore, this is an outage for us.",
    "Please find the log file attached, it shows the error at 10:42.",
    "I would like a feature request: dark mode for the web interface.",
    "Thanks for the quick fix yesterday, it works now.",
    "Unfortunately the problem is back since about an hour.",
)
ZH_SENTENCES = (
    "我们的系统从今天早上开始无法登录。",
    "导出报表的时候一直卡在百分之八十，请帮忙看一下。",
    "十月份的发票税号不对，麻烦重新开具。",
    "升级以后手机客户端打开设置页面就闪退。",
    "接口大概每二十次请求就有一次返回502错误。",
    "年费被扣了两次，请尽快退款。",
    "新加坡的同事全部宕机了，非常紧急！",
    "日志文件在附件里，错误出现在十点四十二分。",
    "建议增加深色模式，晚上使用更方便。",
    "昨天的问题已经解决了，谢谢你们的帮助。",
)
ZH_GBK_ONLY = ("我的同事王喆也遇到同样的问题。", "请联系李堃确认账号权限——谢谢。")
FR_SENTENCES = (
    "Bonjour, je n'arrive plus à me connecter depuis la mise à jour.",
    "Le serveur répond très lentement après 18h, c'est gênant.",
    "La facture de septembre indique un montant erroné.",
    "Seit gestern können wir keine Rechnungen mehr herunterladen.",
    "Die Synchronisierung schlägt bei großen Dateien fehl.",
    "Merci de votre aide rapide, à bientôt.",
)
EN_SUBJECTS = (
    "Cannot log in",
    "Export stuck at 80%",
    "Wrong VAT number on invoice",
    "App crashes",
    "Reset 2FA please",
    "API returns 502",
    "Charged twice",
    "Question about users",
    "Password reset mail missing",
    "Slow reports",
    "Outage in Singapore",
    "Feature request",
)
ZH_SUBJECTS = (
    "无法登录",
    "导出报表失败",
    "发票税号错误",
    "客户端闪退",
    "接口报错502",
    "重复扣费",
    "系统宕机",
    "建议：深色模式",
)
FR_SUBJECTS = (
    "Problème de connexion",
    "Facture erronée",
    "Synchronisierung schlägt fehl",
    "Serveur très lent",
    "Question sur l'abonnement",
)
NAMES = {
    "en": ("Ann Lee", "Bob Smith", "Carol O'Neil", "Dave Brown", "Erin Walsh", "Frank Miller"),
    "zh": ("张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊"),
    "fr": ("François Dupont", "Jürgen Müller", "Zoë Lefèvre", "Hélène Brûlé"),
}
DOMAINS = ("customer.example", "vip.example", "acme.example", "shop.example", "lab.example")


@dataclass(frozen=True)
class Customer:
    """A sender: display name, address and the language it writes in."""

    name: str
    address: str
    lang: str


@dataclass(frozen=True)
class Earlier:
    """What a follow-up, auto-reply or bounce needs to know of an earlier mail."""

    message_id: str
    references: str
    subject: str
    sender: Customer
    date: datetime
    excerpt: str


def sentences(rng: Random, lang: str, count: int) -> str:
    """Paragraphs of `count` sentences in `lang`; Chinese sometimes with GBK-only names."""
    pool = {"en": EN_SENTENCES, "zh": ZH_SENTENCES, "fr": FR_SENTENCES}[lang]
    picked = [rng.choice(pool) for _ in range(count)]
    if lang == "zh" and rng.random() < 0.25:
        picked.append(rng.choice(ZH_GBK_ONLY))
    joiner = "" if lang == "zh" else " "
    paragraphs = [joiner.join(picked[i : i + 3]) for i in range(0, len(picked), 3)]
    return "\n\n".join(paragraphs)


def log_lines(rng: Random, size: int) -> str:
    """Timestamped application log lines, about `size` characters in all."""
    lines: list[str] = []
    total = 0
    when = START
    while total < size:
        when += timedelta(milliseconds=rng.randint(1, 5000))
        level = rng.choice(("INFO", "INFO", "INFO", "WARN", "ERROR"))
        line = (
            f"{when:%Y-%m-%d %H:%M:%S.%f} {level:5} [worker-{rng.randint(1, 8)}] "
            f"request id={rng.getrandbits(48):012x} took {rng.randint(1, 9000)} ms"
        )
        lines.append(line)
        total += len(line) + 1
    return "\n".join(lines) + "\n"


def body_text(rng: Random, customer: Customer) -> tuple[str, str]:
    """(size tier, text): short notes, medium mails, long mails with a pasted log."""
    tier = rng.choices(("short", "medium", "long"), (55, 35, 10))[0]
    count = {"short": rng.randint(1, 3), "medium": rng.randint(4, 30), "long": 4}[tier]
    greeting, thanks = {
        "en": ("Hi support team,", "Thanks,"),
        "zh": ("您好，", "谢谢！"),
        "fr": ("Bonjour,", "Cordialement,"),
    }[customer.lang]
    text = f"{greeting}\n\n{sentences(rng, customer.lang, count)}\n"
    if tier == "long":
        text += "\n" + log_lines(rng, rng.randint(20_000, 120_000))
    signature = f"\n{thanks}\n{customer.name}\n-- \n{customer.name} | {customer.address}\n"
    return tier, text + signature


def without_prefix(subject: str) -> str:
    """The subject without the "Re: " or "回复：" a follow-up adds."""
    return subject.removeprefix("Re: ").removeprefix("回复：")


def to_html(text: str) -> str:
    """The text as a client's HTML body: one <p> per paragraph."""
    blocks = [f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in text.split("\n\n")]
    return (
        '<html><head><meta charset="utf-8"><style>body{font-family:Arial}</style>'
        f'</head><body><div dir="ltr">{"".join(blocks)}</div></body></html>\n'
    )


def quoted(earlier: Earlier, lang: str) -> str:
    """The earlier mail quoted below a reply, with the intro line of `lang`'s clients."""
    who = earlier.sender.name
    intro = (
        f"在 {earlier.date:%Y年%m月%d日 %H:%M}，{who} 写道："
        if lang == "zh"
        else f"On {earlier.date:%a, %d %b %Y at %H:%M}, {who} wrote:"
    )
    return "\n\n" + intro + "\n" + "".join(f"> {line}\n" for line in earlier.excerpt.split("\n"))
