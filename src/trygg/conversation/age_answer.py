"""A bare number that answers "how old are you?" is a stated age (issue 9).

Why here and not in the language packs: "12" alone is an age only as an answer. Children rarely
write "I am 12 years old"; asked their age, they answer "12", "like 11", "13 why", "12 u?". A
pattern for a bare number would make every "7" (a time, a score, a count) an age, so the reply
is read as an age only when another participant asked for one in the last few messages. It
then counts as an ``age_disclosure`` of the one who answers, which the age picture takes as any
stated age (a later, different statement or the platform's age still weigh against it).
"""

from __future__ import annotations

import re

from trygg.conversation.state import ConversationState
from trygg.signals.base import Signal

#: Messages (in the conversation, the answer included) within which the answer must follow the
#: question: "how old r u" / "why" / "just asking" / "12" still answers it.
ANSWER_WINDOW = 4
#: Lower than a plain "I'm 12" (0.9 in the packs): the number could answer something else asked
#: in the same breath ("how old are you and what time is practice?").
ANSWER_SCORE = 0.7
#: Ages a bare answer may state (a child's or an adult's: both are worth knowing).
_MIN_AGE, _MAX_AGE = 6, 79
#: Fillers and follow-ups around the number, sv, en, de and nl ("typ 12 varför", "like 11 u?",
#: "im 13", "erst 12 warum", "bijna 13 en jij"); none of the German or Dutch words is Swedish or
#: English chat, so sv and en replies are read as before.
_ANSWER = re.compile(
    r"^\s*(?:(?:like|um+|uh+|i['’]?m|im|i am|just|only|turned|turning|almost|nearly|typ|ja|jag är|jag e|ja e|bara|nästan|snart|fyllde|yes|yeah|ya|mm+|ich bin|bin|erst|fast|ik ben|pas|bijna)\s+)*"
    r"(?P<age>[0-9]{1,2})"
    r"(?:\s*(?:y/?o|yrs?|år|years?(?: old)?|jahre?(?: alt)?|jaar(?: oud)?))?"
    r"(?:\s*[,.!]*\s*(?:why|y|wby|and (?:you|u)|you|u|hbu|wbu|varför|hur så|och du|å du|o du|du då|lol|haha|hah|ok|warum|wieso|und du|hoezo|waarom|en jij|en u)?\s*\??)*\s*[.!]*\s*$",
    re.IGNORECASE,
)
_AGE_QUESTION = "age_inquiry"


def age_answer(state: ConversationState, sender: str, text: str, event_id: str) -> Signal | None:
    """The ``age_disclosure`` a bare-number reply to a recent age question states, if any.

    Call before the message is stepped into ``state`` (its index is then ``state.messages + 1``).
    """
    match = _ANSWER.match(text)
    if match is None:
        return None
    age = int(match.group("age"))
    if not _MIN_AGE <= age <= _MAX_AGE:
        return None
    now = state.messages + 1
    for uid, participant in state.participants.items():
        if uid == sender:
            continue
        asked = participant["f"].get(_AGE_QUESTION)
        if asked is not None and now - asked[1] <= ANSWER_WINDOW:
            return Signal(
                "age_disclosure", ANSWER_SCORE, event_id, span=match.span("age"), value=age, pattern_id="answer_to_age_question"
            )
    return None
