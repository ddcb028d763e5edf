"""Survey answers by mail, in English and Chinese: digits, words, "not solved"."""

import pytest

from maildesk.desk.survey.answers import Answer, parse


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("5", Answer(5, True, "")),
        ("5 非常满意", Answer(5, True, "非常满意")),
        ("４ 很快就解决了", Answer(4, True, "很快就解决了")),  # a full-width digit
        ("3/5 ok I guess\nthe wait was long", Answer(3, True, "ok I guess\nthe wait was long")),
        ("1 - slow and rude", Answer(1, True, "slow and rude")),
        ("2分，回复太慢", Answer(2, True, "回复太慢")),
        ("满意", Answer(4, True, "")),
        ("非常满意！谢谢", Answer(5, True, "谢谢")),
        ("不满意", Answer(2, True, "")),
        ("非常不满意", Answer(1, True, "")),
        ("Very satisfied, thanks!", Answer(5, True, "thanks")),
        ("Satisfied", Answer(4, True, "")),
        ("not solved", Answer(None, False, "")),
        ("Not solved: it still crashes", Answer(None, False, "it still crashes")),
        ("未解决，还是打不开", Answer(None, False, "还是打不开")),
    ],
)
def test_answers_are_understood(text, answer):
    assert parse(text) == answer


@pytest.mark.parametrize(
    "text",
    ["", "Thanks, but I have another question", "6", "10 printers are broken", "满足条件了吗"],
)
def test_other_mail_is_not_an_answer(text):
    assert parse(text) is None
