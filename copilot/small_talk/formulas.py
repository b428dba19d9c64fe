"""The formulas of conversation in each language: greetings ("Hi!", «Здравствуйте», "I have a
question"), thanks and goodbyes ("thanks, that worked!", «Спасибо, всё заработало»),
acknowledgements ("ok", «понятно»), and what the customer did said with thanks ("updated,
works now"). The closed class of conversational phrases of each language, not any desk's
words. A turn is judged clause by clause: when every clause is a formula, the formulas alone
say what it does; a clause that is none of them leaves the turn to the classifier
(copilot/small_talk/classifier.py), so "thanks, but it still doesn't work" and "Hi, my TV
shows E-101" are never taken for small talk by the formulas.
"""

from __future__ import annotations

import re
from typing import Literal

from copilot.text import split_sentences

Act = Literal["greeting", "closing"]

_CLAUSES = re.compile(r"[.!?,;:…\n()]+|\s+[-–—]\s+|\s+(?:and|и|а)\s+(?=(?:thank|спасиб|благодар))")
_NAME = re.compile(r"^(?:[A-ZА-ЯЁ][a-zа-яё]+(?:\s+|$)){1,2}$")  # "Anna", «Анна Петровна»
_EMOJI = re.compile(r"[\U0001F000-\U0001FAFF\u2600-\u27BF\uFE0F]|[:;]-?[)(D]+|\)+$")

_GREETING = {
    "en": [
        r"(?:hi|hello|hey|hiya|howdy|greetings|(?:good )?(?:morning|afternoon|evening)|good day)(?: there| again| all| everyone|"
        r" team| support| guys| folks)*",
        r"(?:is )?(?:any ?one|any ?body|some ?one|some ?body)(?: (?:there|here|around|online|available))?",
        r"are you (?:still )?(?:there|here|online|available)",
        r"(?:i )?(?:have|'ve got|got|need to ask|want to ask|would like to ask) (?:a |one |another |some |two |a few |"
        r"a couple of |a couple )?(?:quick |small |short |simple )?(?:question|questions|query)",
        r"if you have a (?:minute|moment|sec|second)|if (?:that's|it's) ok|if possible",
        r"(?:(?:a|one|another|quick|small|short|little) )*questions?",
        r"(?:i was wondering if |i wonder if )?(?:can|could|would|will|you could) (?:you |someone |somebody |anyone |"
        r"any of you )?(?:please )?(?:help|assist)(?: me| us)?(?: please)?(?: with something| out)?",
        r"(?:i )?(?:need|want|would like) (?:some |your )?(?:help|assistance)(?: please)?",
        r"(?:can|may|could) i ask (?:you )?(?:a question|something|a quick question)(?: please)?",
        r"help(?: me)?(?: please)?", r"please",
        r"how are you(?: doing| today)?|how(?:'s| is) it going|how r u",
        # the spoken and stretched forms of chat ("hellooo", "heyyy", "yo", "g'day")
        r"(?:um+ |so )?(?:h+e+l+o+|he+y+|hi+|yo|sup|g'?day|knock knock)(?: again| there| all)?",
        r"(?:i )?hope (?:you're|you are|all is|everything is|you're doing|you are doing) (?:well|ok|good|fine)"
        r"(?: today)?|hope you're having a (?:good|nice|great) day|nice to meet you",
        r"(?:sorry|apologies)(?: to bother you| for the late message| to trouble you)?",
        r"(?:(?:i've|i have|i've got|got) )?(?:a |one )?(?:quick |small )?(?:query|enquiry|inquiry)|quick one(?: for you)?",
        r"(?:(?:you|do you) )?(?:got|have) a (?:minute|min|sec|second|moment)|do you have a moment",
        r"(?:are )?(?:you|u) (?:still )?(?:there|around|on|free)|still there",
        r"(?:(?:i'm|i am|i was) )?hoping (?:to get |for )?(?:some |a bit of )?(?:help|support|assistance)(?: today)?|"
        r"(?:(?:i'm|i am|i was) )?hoping (?:you|someone|somebody) (?:can|could) (?:help|assist)(?: me)?|"
        r"i hope (?:you|someone|somebody) can (?:help|assist)(?: me)?|wondering if you (?:can|could) help",
        r"(?:i )?(?:need|'m after|am after|could use) (?:a bit of |some |a little )?(?:help|advice|support|"
        r"assistance|a hand)(?: please)?|(?:could|can) i get some help|i'?d appreciate (?:some|your) help",
    ],
    "ru": [
        # with the spoken and misspelt forms chats are full of («здрасьте», «здраствуйте», «прив»)
        r"(?:(?:снова|опять|ещё раз|и снова) )?(?:здравствуйте|здравствуй|здраствуйте|здравсвуйте|здрасьте|здрасте|"
        r"привет|приветик|приветики|прив|приветствую|алло|аллё|ау|хай|хеллоу|салют|здарова|добрый(?: (?:день|вечер))?|"
        r"доброе утро|доброй ночи|доброго (?:дня|вечера|утра|утречка|времени суток))(?: ещё раз| всем| вам| снова)?",
        r"(?:это )?(?:снова|опять) (?:я|к вам)|это (?:снова |опять )?я",
        r"(?:есть )?(?:кто[- ]?нибудь|кто[- ]?то|кто)(?: тут| здесь| на связи)?",
        r"вы (?:ещё )?(?:тут|здесь|на связи)",
        r"(?:у меня )?(?:к вам )?(?:есть )?(?:один |небольшой |короткий |простой |ещё один |такой |пара |несколько |"
        r"пара небольших |два )?(?:вопрос|вопросик|вопросы|вопросов|вопроса|вопросиков)",
        r"если можно|если есть минутка|если не сложно|если не трудно",
        r"(?:можно|могу я|хочу|хотел бы|хотела бы) (?:задать |спросить )?(?:вам )?(?:один |небольшой )?"
        r"(?:вопрос|спросить|кое-что)",
        r"(?:вы )?(?:можете|сможете|не могли бы вы|не подскажете,? можете) (?:мне )?помочь(?: пожалуйста)?",
        r"(?:мне )?(?:нужна|нужно|требуется|необходима) (?:ваша )?помощь(?: пожалуйста)?",
        r"помогите(?: пожалуйста)?(?: мне)?", r"пожалуйста",
        # announcing a question without asking it: «подскажите, пожалуйста», «можно вас отвлечь?»
        r"(?:не )?подскажите(?: пожалуйста)?|подскажете|поможете|выручайте|(?:сможете|можете) подсказать",
        r"(?:можно|могу) (?:вас|я вас) (?:побеспокоить|отвлечь|спросить)|(?:у вас )?есть (?:минутка|пара минут|минута)",
        r"(?:извините|простите)(?: пожалуйста)?",
        r"как (?:ваши )?дела",
    ],
}
_CLOSING = {
    "en": [
        r"(?:thanks|thank you|thank u|thx|thnx|thanx|tnx|ty|many thanks|cheers|much appreciated|"
        r"(?:i )?(?:really |truly )?appreciate (?:it|that|this|your help))"
        r"(?: (?:so|very) much| a lot| a ton| again| so much again)*"
        # what the agent did ("for your help", "for sorting that out"), never "for nothing"
        r"(?: for (?!nothing)(?:the |your |all )?\w+(?: \w+)?(?: (?:that|it|this) (?:out|up))?)?",
        r"(?:that|it|this) (?:worked|helped|did it|did the trick|fixed it|solved it|sorted it)(?: out)?"
        r"(?: (?:perfectly|fine|great))?",
        r"(?:it|everything|all)(?:'s| is)? (?:works|working|fine|good|ok|okay|sorted|fixed|resolved|solved)"
        r"(?: now| again)*",
        r"(?:works|working|fixed|sorted) (?:now|again)",
        r"good to know|(?:that )?makes sense|(?:that's|that is) clear|(?:that's|that is) good news",
        r"(?:all|everything) (?:good|sorted|fixed|set|clear|done)(?: now)?",
        r"(?:problem|issue) (?:solved|fixed|resolved|sorted)",
        r"(?:that's|that is|that was) (?:all|everything|it|helpful|very helpful)(?: for now)?",
        r"(?:nothing else|no more questions|no other questions|no further questions)(?: for now)?",
        r"(?:bye|goodbye|good bye|bye bye|see you|take care|have a (?:nice|good|great|lovely) "
        r"(?:day|evening|weekend|one))",
        r"(?:great|perfect|awesome|excellent|brilliant|wonderful|super|nice|cool|lovely|amazing)(?: thanks)?",
    ],
    "ru": [
        r"(?:спасибо|спасибочки|спасибки|благодарю|благодарочка|спс|пасиб|пасибо|пасибки|сенкс|мерси)(?: вам| большое| "
        r"огромное| огромнейшее| ещё раз| вам большое| большое вам| от души)*(?: за (?!ничего)\w+(?: \w+)?)?",
        # «всё ок», «всё ясно»: a closing; a bare «ок» or «ясно» is an acknowledgement (an answer after a question)
        r"(?:всё|все) (?:ок|окей|ясно|понятно)|то что надо",
        r"(?:можно )?закрывать(?: обращение| заявку)?|на этом всё|это всё|это был единственный вопрос",
        r"(?:всё |все |теперь |уже )*(?:заработало|работает|получилось|помогло|решилось|исправилось|наладилось|"
        r"в порядке|норм|нормально)(?: теперь| уже| всё)*",
        r"(?:это |вы )?(?:мне )?(?:очень )?помогл[оиа]?",
        r"(?:вопрос|проблема) (?:решён|решен|решена|снят|закрыт|закрыта)",
        r"(?:больше )?(?:ничего не нужно|вопросов нет|нет вопросов|вопросов больше нет|больше ничего)",
        r"(?:до свидания|всего доброго|всего хорошего|хорошего (?:дня|вечера)(?: вам)?|удачного дня|удачи(?: вам)?|"
        r"до связи|пока)",
        r"(?:отлично|супер|класс|замечательно|прекрасно|здорово|чудесно|круто|ура)",
    ],
}
# whom a greeting is for («здравствуйте, оператор», "hi, support team"): after a greeting only, as a name is;
# alone, «оператор» or "agent" asks for a person
_ADDRESSEE = re.compile(r"(?:(?:уважаем|дорог)(?:ая|ые|ой)\s+)?(?:служба поддержки|поддержка|оператор|девушка|"
                        r"молодой человек|уважаем(?:ая|ые))|(?:dear |the )?(?:support(?: team)?|team|agent|operator)",
                        re.I)
# "found it", "updated", «обновил», «записалась»: what the customer did, said with thanks ("updated, works
# now", «Обновил, загрузилось. Благодарю!»); alone it may be a step of a diagnosis, so it needs a closing
_DONE = {
    "en": [r"(?:i )?(?:just |have |'ve )?(?:\w+ed|found|got|did|done|made|sent|paid|set|put|seen)"
           r"(?: it| that| them| this| the \w+)?(?: now)?"],
    "ru": [r"(?:я )?(?:уже |всё |все )?\w+(?:л|ла|ло|ли|лся|лась|лось|лись)(?: всё| уже)?"],
}
# thanks and praise that mean the opposite: "oh great", "thanks for nothing", «ну спасибо», «очень помогли, ага».
# Idioms of each language, not a judgement of tone: a turn with one is never small talk (a sincere "oh great,
# thanks!" is then searched as a request, as it was before small talk was answered)
_SARCASM = re.compile(
    r"^\W*(?:oh|just|yeah)\W+(?:great|perfect|wonderful|brilliant|fantastic|lovely|thanks)\b|\bjust (?:great|perfect)\b"
    r"|\bthanks?(?: you)?(?: \w+){0,2} for nothing\b|\byeah,? right\b|\bvery helpful(?:,)? not\b"
    r"|^\W*ну\W+(?:спасибо|отлично|супер|класс|прекрасно|замечательно|здорово|молодцы)"
    r"|спасибо\W+(?:\w+\W+){0,2}(?:ни за что|ничем не помогли|за ничего)|\W(?:ага|угу)\W*$|(?<!\w)ага,? (?:конечно|щас)", re.I)
# "ah", «ааа», «ой» before the words that count
_INTERJECTION = re.compile(r"^(?:(?:a+h*|o+h*|wow|yay|phew|hmm+|well|а+|о+|ой|ух ты|ура|ну|вау)(?:\s+|$))+", re.I)
# an acknowledgement: an answer after an agent's question, a closing otherwise
_ACK = {
    "en": [r"(?:ok|okay|k|alright|all right|got it|understood|i see|noted|sure|fine|right)(?: then)?"],
    "ru": [r"(?:ок|окей|хорошо|ладно|понятно|ясно|ясно-понятно|ясненько|понятненько|понял|поняла|принял|приняла|"
           r"принято|ага)(?: вас)?(?: тогда)?"],
}


def _compiled(table: dict[str, list[str]]) -> str:
    # "ё" is written as "е" as often as not: both sides are read with "е"
    return "|".join(f"(?:{p})" for lang in table.values() for p in lang).replace("ё", "е")


_G, _C, _A = _compiled(_GREETING), _compiled(_CLOSING), _compiled(_ACK)
_IS_GREETING, _IS_CLOSING, _IS_ACK, _IS_DONE = (re.compile(p, re.I) for p in (_G, _C, _A, _compiled(_DONE)))
# several formulas in one clause without punctuation: "ok thanks bye", «спасибо до свидания»
_FORMULAS = re.compile(rf"(?:{_G}|{_C}|{_A})(?:\s+(?:{_G}|{_C}|{_A}))+", re.I)
_TRAILING_NAME = re.compile(r"^(.+?)\s+((?:[A-ZА-ЯЁ][a-zа-яё]+\s*){1,2})$")


def _clause_act(clause: str) -> str | None:
    """'greeting', 'closing', 'ack', 'name', 'done', 'empty' or None (the clause says something else)."""
    text = " ".join(_EMOJI.sub(" ", clause).replace("ё", "е").replace("Ё", "Е").split())
    if not text:
        return "empty"
    plain = _INTERJECTION.sub("", text.lower().replace("’", "'")).strip()
    if not plain:
        return "empty"
    for pattern, act in ((_IS_GREETING, "greeting"), (_IS_CLOSING, "closing"), (_IS_ACK, "ack")):
        if pattern.fullmatch(plain):
            return act
    if _FORMULAS.fullmatch(plain):
        if _IS_CLOSING.search(plain):
            return "closing"
        return "ack" if _IS_ACK.search(plain) else "greeting"
    named = _TRAILING_NAME.match(text)  # "Hi Anna", "Thanks John"
    head = _clause_act(named.group(1)) if named else None
    if head in ("greeting", "closing"):
        return head
    if _IS_DONE.fullmatch(plain):
        return "done"
    return "name" if _ADDRESSEE.fullmatch(plain) or _NAME.match(text) else None


def _clauses(text: str) -> list[str]:
    """The turn's clauses: its sentences cut at commas, brackets and dashes ("ё" read as "е")."""
    return [c for sentence in split_sentences(text) or [text] for c in _CLAUSES.split(sentence.replace("ё", "е"))]


def sarcastic(text: str) -> bool:
    """Thanks or praise that say the opposite ("oh great", «ну спасибо»): never small talk."""
    return bool(_SARCASM.search(" ".join(text.replace("ё", "е").split())))


def clause_acts(text: str, names: frozenset[str] = frozenset()) -> list[str] | None:
    """What each clause of a turn is ('greeting', 'closing', 'ack', 'name', 'done'), or None
    when a clause is none of the formulas. A capitalised word alone is a name next to a
    greeting ("Hi, Anna") or when the conversation names someone so (`names`: «Меня зовут Артём»)."""
    acts: list[str] = []
    for clause in _clauses(text):
        act = _clause_act(clause)
        if act is None:
            return None
        if act == "name" and not (acts and acts[-1] == "greeting") and not set(clause.split()) <= names:
            return None  # "Broken. Thanks" is not a name
        if act != "empty":
            acts.append(act)
    return acts


def act_of(acts: list[str], answers_question: bool = False, agent_spoke: bool = True) -> Act | None:
    """What a turn made only of formulas does: 'greeting' or 'closing'; None when it still
    says something to answer ("ok" to "Did that help?", "restarted it" without a thank-you)."""
    if not set(acts) - {"name", "done"} or ("done" in acts and "closing" not in acts):
        return None  # names alone, or what the customer did without a thank-you (a step of a diagnosis)
    if "closing" in acts:
        return "closing"
    if "ack" in acts:
        if answers_question:  # "ok" to "Did that help?" is the customer's answer
            return None
        return "closing" if agent_spoke else "greeting"  # "ok" opening a chat acknowledges nothing
    return "greeting"


def turn_act(text: str, answers_question: bool = False, agent_spoke: bool = True,
             names: frozenset[str] = frozenset()) -> Act | None:
    """What one customer turn does by the formulas alone: 'greeting', 'closing', or None."""
    acts = clause_acts(text, names)
    return None if acts is None else act_of(acts, answers_question, agent_spoke)


def formula_features(text: str) -> list[float]:
    """What the classifier reads off the formulas: the share of the turn's clauses that are
    formulas, whether one greets, closes or acknowledges, and the turn's length in words."""
    acts = [a for a in map(_clause_act, _clauses(text)) if a != "empty"]
    share = sum(a is not None for a in acts) / len(acts) if acts else 0.0
    return [share, float("greeting" in acts), float("closing" in acts), float("ack" in acts),
            float(len(text.split()))]
