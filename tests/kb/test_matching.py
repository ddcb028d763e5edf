"""The words of a text and the index that ranks articles for it: English and Chinese. Pure."""

import pytest

from maildesk.kb.index import Entry, Index
from maildesk.kb.segment import words

pytestmark = pytest.mark.one_database("pure functions: no database")

ARTICLES = [
    ("printer-offline", "en", "The printer shows as offline",
     "printer network", "Switch the printer off and on and add it again under Settings."),
    ("password-reset", "en", "Reset a forgotten password",
     "password login", "Choose Forgot password on the sign-in page and open the link we mail."),
    ("printer-offline-zh", "zh", "打印机显示脱机", "打印机 网络",
     "请重启打印机，并在电脑的设置中删除该打印机后重新添加。"),
    ("password-reset-zh", "zh", "重置忘记的密码", "密码 登录",
     "在登录页点击忘记密码，输入账户邮箱，打开我们发送的重置链接。"),
]  # fmt: skip


@pytest.fixture(scope="module")
def index() -> Index:
    return Index.build(
        (Entry(n, slug, title, locale, None), title, labels, body)
        for n, (slug, locale, title, labels, body) in enumerate(ARTICLES, start=1)
    )


def test_english_words_are_folded_stemmed_and_the_filler_left_out():
    assert words("Please help: my PRINTERS stopped printing!") == ["print", "stop", "print"]


def test_chinese_is_cut_into_words_without_the_filler():
    found = words("请问我的打印机显示脱机了怎么办？")
    assert {"打印机", "脱机"} <= set(found)
    assert not {"请问", "的", "怎么办", "了"} & set(found)


def test_full_width_letters_read_as_ascii():
    assert words("ＰＲＩＮＴＥＲ") == words("printer")


@pytest.mark.parametrize(
    ("text", "locale", "slug"),
    [
        ("Our printer is offline and nothing prints", "en", "printer-offline"),
        ("I forgot my password and cannot log in", "en", "password-reset"),
        ("打印机脱机，无法打印", "zh", "printer-offline-zh"),
        ("忘记密码了，登录不了", "zh", "password-reset-zh"),
    ],
)
def test_the_right_article_comes_first_in_the_customers_language(index, text, locale, slug):
    hits = index.search(text, 3, 0.21, locale)
    assert hits[0].entry.slug == slug
    assert all(h.entry.locale == locale for h in hits)
    assert 0 < hits[0].score <= 1


def test_a_mail_about_something_else_gets_no_suggestion(index):
    assert index.search("Is the canteen open on Saturday? We want lunch.", 3, 0.21, "en") == []
    assert index.search("周六食堂开门吗？", 3, 0.21, "zh") == []


def test_one_shared_word_in_a_long_mail_is_below_the_threshold(index):
    text = "We are moving offices next month and the old printer stays; who plans the move?"
    assert [h.entry.slug for h in index.search(text, 3, 0.0, "en")] == ["printer-offline"]
    assert index.search(text, 3, 0.21, "en") == [], "one word of many does not suggest it"


def test_an_empty_index_or_text_finds_nothing(index):
    assert Index([], []).search("printer offline", 3) == []
    assert index.search("", 3) == []
    assert index.search("the and of", 3) == []
