"""Understanding the conversation: language, sentiment with the frustration signals behind
it, and the situations that call for a person (explicit request, legal threat, fraud,
vulnerability, compensation, identity changes).

Signals are patterns in Russian and English, each reported with the words that triggered
it, so an operator sees why the copilot thinks the customer is upset or wants a human.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from copilot.facts import FACTS, FactDef, GivenFact, answered_questions, asking, given_facts
from copilot.schema import Conversation, Sentiment
from copilot.text import SHOWN_CODE, split_sentences
from knowledge_base.language import detect_language, written_in

_I = re.I | re.U


def _rx(*parts: str) -> re.Pattern:
    return re.compile("|".join(f"(?:{p})" for p in parts), _I)


# Each signal: patterns over the customer's own words.
SIGNALS: dict[str, re.Pattern] = {
    "explicit_human": _rx(
        r"\b(speak|talk|chat|connect|transfer|put|escalate) (me |this |it )?(to|with|through to)? ?(a |an |the |some |your )?(real |live |actual )?(human|person|operator|manager|supervisor|someone|agent|specialist|people|boss)\b",
        r"\b(real|live|actual) (person|human|agent|operator)\b",
        r"\b(escalate (this|it|my \w+)|(want|need|demand|request|asking for)( an?| the)?( immediate| urgent)? escalation|"
        r"(want|need) (this|it) escalated)\b",
        r"эскалир\w*|передайте[^.?!]{0,20}(выше|руководств\w*)", r"\b(i want|i need|i'd like|get me|give me|let me talk to) (a |an |the |your )?(human|person|operator|manager|supervisor|boss)\b",
        r"\b(operator|human|manager|supervisor)(,)? please\b", r"^\W*(operator|human|manager|supervisor)\W*$",
        r"\b(don'?t|do not) want (to (chat|talk|write) (with|to) )?(a |the |your )?(bot|robot|machine)\b",
        r"\bnot (a|with a|to a) (bot|robot|machine)\b", r"\bare you a (bot|robot)\b",
        r"(позовите|позови|дайте|соедините|переключите|свяжите|хочу (поговорить|связаться|общаться)|нужен|нужна|верните)\w*[^.?!]{0,30}(оператор|человек|сотрудник|специалист|руководител|начальник|менеджер|старш\w* смены)",
        r"\bоператор(а|у)?\b[^.?!]{0,12}(пожалуйста|срочно|!)", r"^\W*оператор\w*\W*$", r"жив\w* (человек|сотрудник|специалист|люд|оператор)",
        r"с человеком", r"\b(не|хватит|надоел\w*|не хочу)[^.?!]{0,25}\b(бот|робот)\w*", r"вы (бот|робот)\b"),
    "repeat_contact": _rx(
        # the Nth time they get in touch; "the 4th time the card was locked" is the fault recurring
        r"\b(second|third|fourth|fifth|\d+(st|nd|rd|th)) time (that )?(i'?m |i am |i'?ve |i have |i |we'?re |we )?(been )?"
        r"(call|writ|contact|ask|report|explain|tell|told|messag|chat|complain|reach|ring)\w*",
        r"\b(call|writ|contact|ask|report|explain|tell|messag|chat|complain|reach|ring)\w*( to| you| out| about (this|it))*( for)? (the|a) "
        r"(second|third|fourth|fifth|\d+(st|nd|rd|th)) time\b", r"\balready (called|written|wrote|contacted|told|explained|reported)\b",
        # "my third email about this", "Fourth email about the same bill": the Nth message they sent, said
        # as theirs or opening a sentence; not "the second request is approved" (a request for a limit)
        # nor "a second email from you" (one they received)
        r"(?:\bmy |\bthis is (?:the |my )?|(?:^|[.!?]\s+))(second|third|fourth|fifth|\d+(st|nd|rd|th)) "
        r"(message|email|e-mail|ticket|chat|complaint)s?\b",
        r"\bagain and again\b", r"\b(called|contacted|written|wrote)( to)?( you)? (twice|three times|\d+ times|several times|many times)\b",
        r"\bno ?one (called|helped|came|answered|showed up)\b", r"\bnobody (called|helped|came|answered|showed up)\b",
        r"\b(didn'?t|did not|never) (show up|come|call back)\b", r"\bhow many times\b",
        # "третий раз пишу", not "третий раз за день приходят смс" (that is something done to them)
        r"(втор|трет|четв[её]рт|пят|десят)\w* раз(?![^.?!]{0,25}(приход|пришл|присыла|пропада|отключа|списыва|снима|звонят))",
        r"(?:мо[её] |(?<!\w)это (?:уже )?|(?:^|[.!?]\s+))(втор|трет|четв[её]рт|пят|десят)\w* (обращени|письм|жалоб)\w*",
        r"уже (звонил|писал|обращал|говорил|объяснял|сообщал)",
        r"в который раз", r"сколько можно", r"никто не (перезвонил|помог|решил|пришёл|пришел|ответил|приехал)",
        r"(\d+|два|три|несколько|много) раза? (звонил|писал|обращал)", r"(мастер|техник)\w* не (пришёл|пришел|приехал)", r"не перезвонил"),
    # what the agent suggested did not help; in two turns, or said outright, it is a loop.
    # "rebooted twice, nothing changed" is one step that failed, in either language
    "steps_failed": _rx(
        r"\b(did that|done that|tried that|tried (it|all|everything)|didn'?t help|did not help|doesn'?t help|"
        r"no (use|luck|change)|nothing (has )?changed|still (drops|dropping|the same|not|no|doesn'?t|isn'?t|won'?t))\b",
        r"не помогл|не помогает|без толку|бесполезно|толку нет|ничего не (меняется|изменилось)|без изменений|(сделал|сделала|делал|делала|пробовал|пробовала)\w*,? (но |а )?(не|опять|снова|всё равно|все равно)"),
    "loop_outright": _rx(
        r"\b((done|did|tried) everything( you (said|asked|told me))?|going nowhere|nothing (helps|helped)|"
        r"same (answer|thing) every time|round in circles)\b",
        r"ничего не (помогает|помогло)|(вс[её]|все) (уже )?(сделал|перепробовал|попробовал)|"
        r"каждый раз одно и то же|по кругу|толку ноль"),
    # the problem came back: a loop only together with anger
    "recurrence": _rx(
        r"\bagain\b", r"\b(second|third|fourth|fifth|\d+(st|nd|rd|th)) time\b", r"\bstill (not|no|isn'?t|hasn'?t|doesn'?t|broken)\b", r"\b(keep|keeps) (happening|dropping|disconnecting)\b",
        r"\bevery (single )?(day|week|evening)\b", r"\bfor (a|two|three|\d+) weeks? now\b",
        r"\bопять\b", r"\bснова\b", r"до сих пор", r"каждый (день|вечер)", r"(неделю|месяц) (уже )?не", r"постоянно"),
    "insult_or_anger": _rx(
        r"\b(idiots?|stupid|useless|ridiculous|unacceptable|disgusting|pathetic|incompetent|scam|worst|fed up|sick of|"
        r"terrible|awful|outrageous|(a|such a|what a|beyond a) joke|joke of|wtf|damn|hate|furious|angry|rip-?off|shameful|nonsense)\b",
        r"идиот", r"дебил", r"придур", r"тупы", r"бесит", r"задолбал", r"достали", r"кошмар", r"безобрази", r"издевательств",
        r"\bужас", r"отвратительн", r"хамств", r"\bблин\b", r"черт", r"чёрт", r"обман", r"развод", r"позор", r"возмутительн",
        r"надоел", r"издева", r"сколько можно", r"бардак", r"беспредел", r"вы там (что|вообще)"),
    "legal_threat": _rx(
        r"\b(court|sue|suing|lawsuit|lawyer|attorney|legal action|regulator|consumer protection|consumer rights|ombudsman|"
        r"rospotrebnadzor|roskomnadzor|prosecutor|police(?! report)|claim against)\b",
        r"\bсуд\w*", r"\bиск\w*", r"юрист", r"адвокат", r"роспотребнадзор", r"роскомнадзор", r"прокуратур", r"полици",
        r"защит\w* прав потребител", r"(жалоб|заявлени)\w* (в|во) (роспотреб|роском|прокурат|суд|полиц|цб|фас)", r"\bфас\b", r"\bзозпп\b"),
    "fraud": _rx(
        r"\bsim (card )?(was |has been )?(swap\w*|replac\w*|chang\w*|reissu\w*)\b", r"\b(didn'?t|did not|never) (request\w*|replac\w*|authori[sz]\w*)\b[^.?!]{0,40}\b(sim|code|login|log in|sign[- ]?in|password|swap)",
        r"\b(sim|code|login|log in|sign[- ]?in|password|swap)\b[^.?!]{0,40}\b(didn'?t|did not|never) (request\w*|replac\w*|authori[sz]\w*|make|made)\b",
        r"\bsomeone (called|asked|logged|used|changed|replaced|is using|got)\b", r"\basked (me )?(for )?(the |a |my )?(sms |one-time |verification )?code\b",
        r"\bhack\w*\b", r"\bfraud\w*\b", r"\bscammer\w*\b", r"\bstolen\b", r"\b(unknown|strange|suspicious) (login|log-in|sign-in|call|sms|activity)s?\b", r"\bnot me\b",
        r"мошенни", r"взлом", r"украл", r"кража", r"\bне я\b", r"чуж\w* (вход|устройств)", r"кто-то (звонил|вош|зашел|зашёл|сменил|заменил|пытал|просил|получил)",
        r"просил\w* (назвать |продиктовать |сказать )?код",
        # the code asked for or given away, as in English: "the SMS code arrives but is rejected" is a login problem
        r"(продикт|назва|назвал|сказал|сообщил|спрашива|спросил|попроси|выпыта)\w*[^.?!]{0,25}код\w* из (смс|sms)",
        r"код\w* из (смс|sms)[^.?!]{0,30}(продиктовал|назвал|сказал|сообщил|отправил им|переслал)", r"(сим|sim)-?карт\w* (был\w* )?(заменен|замен[её]н|перевыпущ)",
        r"замени\w* (мою )?(сим|sim)", r"подозрительн\w* (вход|звон|смс|активн)",
        r"(сим|sim|код|вход|парол|кабинет)[^.?!]{0,60}(я )?(их |его |ничего )?не (менял|заказывал|делал|просил|заменял|входил|запрашивал)",
        r"я (ничего )?не (менял|заказывал|делал|просил|заменял|входил|запрашивал)[^.?!]{0,60}(сим|sim|код|вход|парол|кабинет)",
        r"(почт|e-?mail|номер|телефон)\w*[^.?!]{0,25}на (какую-то |какой-то |чью-то |чей-то )?чуж",
        r"\b(someone else'?s|a stranger'?s|an unknown|a strange) (e-?mail|phone|number)\b"),
    "vulnerable": _rx(
        # said of the customer, not of a card or a phone: "I'm retired", not "my retired father",
        # "you disabled my card", "my phone died" or "the account has no money in it"; old age, not any age
        r"\bi'?m (7\d|8\d|9\d|1[01]\d)( years)?\b",
        r"\b(i'?m|i am|i'?ve been|we'?re|we are|as an?) (an? )?(elderly|pensioner|retired|disabled|blind|deaf|widow\w*|unemployed|"
        r"housebound|in hospital|on (a )?pension|on disability)\b",
        r"\b(elderly|pensioner|wheelchair|disability|chemo\w*|cancer|terminally|seriously ill|passed away|funeral|bereave\w*|"
        r"can'?t afford|unemployed|lost my (job|husband|wife|mother|father|mum|mom|dad|son|daughter|partner))\b",
        r"\b(husband|wife|mother|father|mum|mom|dad|son|daughter|partner|brother|sister) (has |had )?(just )?died\b",
        r"\b(i have|i'?ve got|i got|i'?m left with|left with) no money\b", r"\bno money (left )?(to|for) (pay|live|eat|food|rent|bills)\b",
        r"\b(live|living) (alone|on my own|by myself)\b",
        r"мне (7\d|8\d|9\d|1[01]\d) (лет|год)", r"пенсионер", r"пожил", r"инвалид", r"\bслеп", r"\bглух(ой|ая|ие)\b", r"лежу в больниц", r"болею",
        r"тяжел\w* болезн", r"онколог", r"(муж|жена|мама|мать|папа|отец|сын|дочь|брат|сестра|бабушка|дедушка)\w* (умер|скончал)",
        r"(умер|скончал)\w* (муж|жена|мама|мать|папа|отец|сын|дочь|брат|сестра|бабушка|дедушка)", r"скончал", r"похорон", r"вдов",
        r"потерял\w* работ", r"нечем (платить|заплатить)", r"(у меня|мне) (совсем |вообще )?нет денег",
        r"нет денег (на жизнь|на еду|на лекарств|чтобы (платить|заплатить|оплатить))",
        r"(одна|один) живу", r"живу (одна|один)", r"одинок", r"сложн\w* (финансов|ситуаци)", r"тяжел\w* (финансов|ситуаци)"),
    "compensation": _rx(
        r"\b(want|expect|demand|require|deserve|owe me|insist on|claim)\b[^.?!]{0,40}\b(compensat\w*|free month|damages|reimburs\w*|refund for the (days|time|inconvenience)|pay (me )?for)\b",
        r"\bcompensate me\b", r"\bformal complaint\b", r"\b(file|make|lodge|submit|write) (a |an )?(official |formal )?complaint\b", r"\bdamages\b",
        r"(хочу|требую|жду|положен\w*|должны|прошу|верните)[^.?!]{0,40}(компенсац|бесплатн\w* месяц|возмещ|моральн|неустойк)",
        r"компенсируйте", r"претензи", r"(официальн\w*|письменн\w*) жалоб", r"(напишу|пишу|подам|подаю) жалоб", r"моральн\w* (вред|ущерб)", r"неустойк"),
    "identity_change": _rx(
        r"\bchange (my |the )?(contact )?(phone|number|e-?mail)\b", r"\bnew (phone )?number (on|to) (the|my) contract\b",
        r"\b(transfer|move|put|re-?register) (the |my )?(contract|account|internet|service)\w* (to|in|into|on) (my|his|her|another|someone)\b",
        r"\bin(to)? my name\b", r"\bcontract holder\b", r"\b(no longer|don'?t) have (that|the old|my old) (phone|number)\b",
        r"(смен|помен|измен)\w* (контактн\w* )?(номер|телефон|почт|e-?mail)", r"переоформ",
        r"(переписа|перевест|передат|оформит)\w*[^.?!]{0,30}на (другого человека|меня|себя|мужа|жену|сына|дочь|мать|отца|нового)",
        r"владел\w* договор", r"(старого|того) номера (больше )?нет", r"номер (телефона )?(уже )?не (мой|действует|работает)"),
    "personal_data": _rx(
        r"\bpersonal (data|information|info)\b", r"\b(delete|erase|remove|copy of) (all )?(my )?(personal )?(data|information|info)\b",
        r"\bwhat data (do )?you (have|keep|store)\b", r"\bgdpr\b",
        r"персональн\w* данн", r"(удал|стер|скопир|выгруз)\w* (все )?(мои )?(персональн\w* )?данн", r"какие данные (обо мне|вы храните)", r"152-?фз"),
    "positive": _rx(r"\b(thanks?|thank you|great|perfect|appreciate|awesome|helpful|brilliant)\b", r"спасибо", r"благодар", r"отлично", r"супер", r"здорово", r"класс"),
}

_ACRONYMS = re.compile(r"\b(SMS|SBP|SIM|TV|WI-?FI|ID|URL|QR|PIN|LAN|WAN|ISP|IP|OK|СБП|ТВ|СМС|ИНН|СНИЛС|E-\d+|[A-ZА-Я]-?\d+)\b")


@dataclass
class Signal:
    name: str
    evidence: str


def _caps(text: str) -> str | None:
    stripped = _ACRONYMS.sub("", text)
    letters = [c for c in stripped if c.isalpha()]
    upper = [c for c in letters if c.isupper()]
    if len(letters) >= 12 and len(upper) / len(letters) >= 0.6:
        return " ".join(text.split())[:60]
    # a run of capitals is shouting in a short message; a few words in capitals inside a
    # long one are emphasis ("freeze ALL THREE cards")
    m = re.search(r"\b[A-ZА-ЯЁ]{3,}(?:\s+[A-ZА-ЯЁ]{2,}){2,}\b", stripped)
    if m and sum(c.isalpha() for c in m.group(0)) >= 0.1 * len(letters):
        return m.group(0)
    return None


# "I haven't filed a police report", "I don't need a manager", "не нужен оператор": the
# words of a signal, denied in the same clause a word or three before them
_NEGATION = re.compile(r"(?:\b(?:no|not|never|haven'?t|hasn'?t|didn'?t|won'?t|wouldn'?t|don'?t need|without)|(?<!\w)(?:не|нет|без))"
                       r"(?:\s+[\w'-]+){0,3}\s*$", _I)
_DENIABLE = frozenset({"explicit_human", "legal_threat", "vulnerable"})


def _first_match(name: str, pattern: re.Pattern, text: str) -> re.Match | None:
    for m in pattern.finditer(text):
        clause = re.split(r"[.,;:!?\n]", text[:m.start()])[-1]
        if name in _DENIABLE and _NEGATION.search(clause):
            continue
        return m
    return None


def detect_signals(conversation: Conversation) -> list[Signal]:
    """Signals in the customer's turns, each with the words that triggered it."""
    found: dict[str, Signal] = {}
    for message in conversation.messages:
        if message.role != "customer":
            continue
        text = message.text
        for name, pattern in SIGNALS.items():
            m = _first_match(name, pattern, text) if name not in found else None
            if m:
                found[name] = Signal(name, m.group(0).strip())
        caps = _caps(text)
        if caps and "caps" not in found:
            found["caps"] = Signal("caps", caps)
        m = re.search(r"[!?]{3,}|!{2,}|\?{2,}|\?!|!\?", text)
        if m and "punctuation" not in found:
            found["punctuation"] = Signal("punctuation", m.group(0))
    _local_anger(conversation, found)
    failed = [m.group(0) for msg in conversation.messages if msg.role == "customer"
              for m in [SIGNALS["steps_failed"].search(msg.text)] if m]
    if "loop_outright" in found:
        found["loop"] = Signal("loop", found["loop_outright"].evidence)
    elif len(failed) >= 2:  # the suggested steps failed turn after turn
        found["loop"] = Signal("loop", "; ".join(failed))
    return [s for n, s in found.items() if n not in ("steps_failed", "loop_outright")]


_ANGER = ("insult_or_anger", "caps", "punctuation")
_WINDOW = 300  # characters: about two sentences


def _windows(text: str) -> list[str]:
    """A message cut at sentence ends into pieces of about _WINDOW characters."""
    out = [""]
    for sentence in re.split(r"(?<=[.!?\n])\s+", text):
        if out[-1] and len(out[-1]) + len(sentence) > _WINDOW:
            out.append("")
        out[-1] += sentence + " "
    return out


def _kinds(text: str) -> set[str]:
    kinds = {n for n in ("recurrence", "insult_or_anger") if SIGNALS[n].search(text)}
    if _caps(text):
        kinds.add("caps")
    if re.search(r"[!?]{3,}|!{2,}|\?{2,}|\?!|!\?", text):
        kinds.add("punctuation")
    return kinds


def _local_anger(conversation: Conversation, found: dict[str, Signal]) -> None:
    """Anger shown two ways, or a recurrence told angrily, counts when the two are said
    together: in one short message, in two short messages, or within two sentences of a long
    one. "I hate those fees" in one paragraph of a long message and "again" in another are
    not an angry customer. Adds `angry_twice` / `angry_recurrence` to `found`."""
    pooled: set[str] = set()
    for message in conversation.messages:
        if message.role != "customer":
            continue
        pieces = _windows(message.text)
        if len(pieces) == 1:
            pooled |= _kinds(message.text)
            continue
        for piece in pieces:
            _combine(_kinds(piece), piece, found)
    _combine(pooled, None, found)


def _combine(kinds: set[str], piece: str | None, found: dict[str, Signal]) -> None:
    anger = kinds & set(_ANGER)
    shown = (lambda: " ".join(piece.split())[:80]) if piece else (lambda: "; ".join(found[k].evidence for k in sorted(kinds) if k in found))
    if len(anger) >= 2 and "angry_twice" not in found:
        found["angry_twice"] = Signal("angry_twice", shown())
    if "recurrence" in kinds and anger and "angry_recurrence" not in found:
        found["angry_recurrence"] = Signal("angry_recurrence", shown())


_NEGATIVE_WEIGHTS = {"frustration": 0.35, "insult_or_anger": 0.5, "caps": 0.35, "punctuation": 0.2, "repeat_contact": 0.35, "loop": 0.3, "recurrence": 0.1,
                     "legal_threat": 0.4, "fraud": 0.2, "compensation": 0.2}


def sentiment(signals: list[Signal]) -> Sentiment:
    names = {s.name for s in signals}
    score = -sum(w for n, w in _NEGATIVE_WEIGHTS.items() if n in names)
    if "positive" in names:
        score += 0.3
    score = max(-1.0, min(1.0, score))
    label = "negative" if score <= -0.3 else "positive" if score >= 0.3 else "neutral"
    shown = [f"{s.name}: {s.evidence}" for s in signals if s.name in _NEGATIVE_WEIGHTS or s.name == "positive"]
    return Sentiment(label=label, score=round(score, 2), signals=shown)


def frustrated(signals: list[Signal]) -> bool:
    """Repeated contact, a loop (the suggested steps failed turn after turn, or "nothing
    helps"), or anger shown two ways (insults, caps, !!!): time for a person, before the
    shouting gets worse."""
    names = {s.name for s in signals}
    # frustration: the routing classifier's verdict; angry_*: said together (_local_anger)
    return bool(names & {"repeat_contact", "loop", "frustration", "angry_twice", "angry_recurrence"})


_PROBLEM = _rx(
    r"\b(not working|doesn'?t work|does not work|don'?t work|isn'?t working|stopped|"
    r"no (?:mobile |cellular |home |wi-?fi )?(internet|signal|network|data|connection|service)|"
    r"(is |went |goes )?down\b|drops?|dropping|disconnect\w*|slow|error|can'?t|cannot|couldn'?t|won'?t|fail(?:s|ed|ing)?|broken|"
    r"(charged|took|taken|debited)( me| it| the money)? twice|double charge|not (on|in|credited|showing|arrived)|hasn'?t (arrived|come|appeared)|missing|"
    r"keeps|no picture|blank|black screen|frozen|freez\w*|red light|blinking|flashing|lost|stuck|locked|(working|work) again|"
    r"won'?t (load|send|connect|open)|(doesn'?t|does not|can'?t|cannot) (load|send|connect|open)|"
    r"problems?|issues?|trouble|unable to|unavailable|not available|sluggish|laggy|glitch\w*|fault\w*|malfunction\w*|"
    r"(not|isn'?t|aren'?t|wasn'?t) (connecting|loading|sending|going through|coming through|arriving|receiving)|"
    r"never (works?|arrives?|loads?|sends?|go(?:es)? through|comes? through|connects?))\b",
    SHOWN_CODE,
    r"не работа|перестал|нет (?:мобильного |домашнего )?(интернета|сети|сигнала|связи|изображения|картинки)|пропал|пропада|отваливает|отключил|медленн|тормоз|"
    r"ошибк|не могу|не получается|не удается|не удаётся|сломал|не заходит|не пришл|не пришёл|не пришел|не зачисл|не поступил|"
    r"(списал|сняли|списали|снял|взял|взяли)\w*[^.?!]{0,20}(дважды|два раза)|(дважды|два раза) (списал|снял|взял)|дважды|"
    r"не было (интернета|сети|связи|сигнала|света|изображения)|(интернета|сети|связи) не было|не грузит|(?<!\w)еле(?!\w)|(?<!\w)плохо|не видит|не включает|не показыва|ч[её]рн\w* экран|мигает|горит красн|"
    # whole words: «еле» sits inside «телефоне», «завис» inside «зависит от», «лага» inside «предлагаете»
    r"(?<!\w)зави(?:с|сл[аои]|са(?:ет|ют|ние|ния)|снет|снут)(?!\w)|"
    r"не открыва|заблокир|не приход|проблем|неполад|сбо[йи]|неисправ|глюч|(?<!\w)лага(?:ет|ют|л[аио]?)?(?!\w)|не отправля|не загружа|не подключа|"
    r"не соединя|не ловит|недоступ",
    # a thing that does not do what it should, whatever the thing: "the robot doesn't mop", "won't turn
    # on", "never goes above 8%", «не моет», «не горит», «кнопки не нажимаются» (the present's third
    # person: «не хочу», «не знаю» are the customer's own wishes and knowledge, and a Russian past
    # does not say whose: «интернетом не пользовался» is what the customer did not do)
    r"\b(?:doesn'?t|does not|won'?t|will not|isn'?t|is not|aren'?t|are not|never|no longer)\s+"
    r"(?!(?:know|want|need|have|matter|apply|mean|cost|include)\b)(?:\w+\s+)?\w+(?:s|ed|ing)?\b",
    r"(?<!\w)не\s+(?:\w+\s+)?[а-яё]+(?:[еи]т|[ую]т|[ая]т|[еи]тся|[ую]тся|[ая]тся)(?!\w)",
)


_DIAGNOSTIC_QUESTION = _rx(
    r"\b(why|what'?s (going on|wrong|happening|up)|what is (going on|wrong|happening)|what should i do|can you (check|look)|what happened|"
    r"is (it|something|there something|anything) (broken|wrong)|did it die)\b",
    r"почему|что (случилось|происходит|(мне )?делать|не так)|в ч[её]м (дело|причина)|провер(ьте|ите)|что это значит|"
    r"что с (ним|ней|ними)\b|"
    r"что-то не так")
# asking for help with what they reported: "can you help?" after "X is broken" is not a how-to question
_HELP = _rx(
    r"\b((can|could|would) you (please )?help|help me|how (do|can|should) i (fix|get|make|solve|repair|restore|sort)|"
    r"can (i|you|we) fix)\b",
    r"помогите|(можете|могли бы) (мне )?помочь|как (мне )?(это )?(исправить|починить|вернуть|восстановить)")
_INFO_QUESTION = _rx(
    r"\b(how (much|long|many|do|can|to|does)|when|what (is|are|day|time|plans?|do i (need|do)|happens)|can (i|we|a|you)|"
    r"where|is there|do you (have|offer|sell)|does it cost|which|will (i|it|you))\b",
    r"сколько|когда|\bкак\b|можно( ли)?|\bгде\b|куда|что (нужно|надо|будет)|как\w+ (тариф|пакет|способ)|есть ли|перейдут|надо ли|нужно ли")


def is_problem_report(text: str) -> bool:
    """The customer reports something broken or wrong, as opposed to asking how
    something works."""
    return bool(_PROBLEM.search(text))


def needs_diagnosis(text: str, problem: bool | None = None, request: str | None = None) -> bool:
    """Ask anamnesis questions? Yes for a reported problem or a "why / what's wrong"
    question; no when the customer asks how something works, what it costs or when it
    happens: that gets a direct answer, not an interrogation. `problem` is
    `is_problem_report(text)` when the caller already knows it. `request` is what the customer
    asked of their own accord (`text` without their replies to the agent's questions): "how do
    I check?" in reply to "Is Airplane Mode on?" is part of the diagnosis, not a how-to question."""
    diagnostic = bool(_DIAGNOSTIC_QUESTION.search(text))
    request = text if request is None else request
    informational = any(_asks_how_or_when(s) for s in split_sentences(request)) and not _HELP.search(request)
    problem = is_problem_report(text) if problem is None else problem
    return (problem or diagnostic) and not (informational and not diagnostic)


_GREETING = re.compile(r"^(?:hi|hello|hey|good (?:morning|afternoon|evening)|здравствуйте|привет|добрый (?:день|вечер)|"
                       r"доброе утро)\W*", _I)


def _asks_how_or_when(sentence: str) -> bool:
    """A how-to / when / what-does-it-cost question: a sentence that ends in '?', or opens
    with the question word and reports nothing broken. "When" inside a statement ("it
    stops working when I leave the house") asks nothing."""
    m = _INFO_QUESTION.search(sentence)
    if not m:
        return False
    if sentence.rstrip().endswith("?"):
        return True
    opens = m.start() <= len(_GREETING.match(sentence).group(0) if _GREETING.match(sentence) else "")
    return opens and not is_problem_report(sentence)


def conversation_language(conversation: Conversation, customer_text: str | None = None) -> str:
    """The language of the customer's latest turn, falling back to all their turns."""
    last = next((m.text for m in reversed(conversation.messages) if m.role == "customer"), "")
    lang = detect_language(last, default="")
    if lang:
        return lang
    return detect_language(conversation.customer_text() if customer_text is None else customer_text, default="en")


def customer_language(conversation: Conversation, language: str, margin: float | None,
                      customer_text: str | None = None) -> str:
    """The language the customer writes in: `language` (English or Russian, by the letters),
    or another language of the same letters their latest turn, else all their turns, is
    evidently in (`written_in`); `margin` None: `language`."""
    if margin is None:
        return language
    last = next((m.text for m in reversed(conversation.messages) if m.role == "customer"), "")
    for text in (last, conversation.customer_text() if customer_text is None else customer_text):
        if detect_language(text, default="") == language:
            other = written_in(text, margin, language)
            if other != language:
                return other
    return language


@dataclass(frozen=True)
class Understanding:
    """What the engine knows about the conversation before it searches, computed once."""

    language: str
    customer_text: str          # every customer turn, joined
    first_customer_turn: str    # what the customer came for
    signals: list[Signal]
    sentiment: Sentiment
    facts: dict[str, GivenFact]
    problem_report: bool        # something is broken or wrong (vs. a question)
    needs_diagnosis: bool       # anamnesis questions before an answer
    replied: list[str] = field(default_factory=list)  # what agents asked that the customer answered
    written_in: str = ""  # the customer's own language when it is not `language` ("de"): the draft stays in `language`


def own_words(conversation: Conversation) -> str:
    """The customer's turns that do not reply to an agent's question: what they came for and
    added unasked. A greeting before the customer's first turn ("How can I help?") asks
    nothing about the case."""
    out: list[str] = []
    asked = False
    for m in conversation.messages:
        if m.role == "agent":
            asked = bool(out) and any(asking(s) for s in split_sentences(m.text))
        elif not asked:
            out.append(m.text)
    return "\n".join(out)


def understand(conversation: Conversation, facts: dict[str, FactDef] = FACTS,
               extra_signals: list[Signal] = (), other_language_margin: float | None = None) -> Understanding:
    """`extra_signals` are found by other means (the routing classifier); a signal the
    patterns already found keeps the patterns' evidence. `other_language_margin`: see
    `customer_language` (None: English and Russian by their letters alone)."""
    customer_text = conversation.customer_text()
    signals = detect_signals(conversation)
    signals += [s for s in extra_signals if s.name not in {x.name for x in signals}]
    problem = is_problem_report(customer_text)
    language = conversation_language(conversation, customer_text)
    written = customer_language(conversation, language, other_language_margin, customer_text)
    return Understanding(
        language=language,
        customer_text=customer_text,
        first_customer_turn=next(m.text for m in conversation.messages if m.role == "customer"),
        signals=signals,
        sentiment=sentiment(signals),
        facts=given_facts(conversation, facts, customer_text),
        problem_report=problem,
        needs_diagnosis=needs_diagnosis(customer_text, problem, own_words(conversation)),
        replied=answered_questions(conversation),
        written_in=written if written != language else "",
    )
