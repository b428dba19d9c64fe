"""The anamnesis vocabulary: the facts a support case may need, how to recognise that a
customer already gave one, how to recognise that an agent asked for one, and the default
question when no article supplies its own.

Recognition is by patterns in both languages: they are explainable ("why did it not ask
for the contract number?" -> the number in turn 2), fast, and a 135M model
does not do better. A desk words its own questions and gives its contract-number format in
its configuration (`copilot/desk.py`); `fact_book(desk)` applies them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from copilot.desk import Desk
from copilot.schema import Conversation
from copilot.text import CODE, PHONE, SHOWN_CODE, split_sentences

_I = re.I | re.U


@dataclass(frozen=True)
class FactDef:
    key: str
    question: dict[str, str]
    why: dict[str, str]
    given: list[re.Pattern] = field(default_factory=list)   # the customer stated it
    asked: list[re.Pattern] = field(default_factory=list)   # an agent asked for it
    exact: bool = False   # the evidence is the match itself (an id), not the words around it
    kind: str = "phrase"  # what its value looks like (VALUE_TYPES): when, amount, speed, code, state, address...
    many: bool = False    # every mention counts ("phone, laptop"; "restarted, unplugged")
    # a yes-no fact: the words that give it as "no" ("at home", "not travelling"); `given` has both
    no: list[re.Pattern] = field(default_factory=list)


def _p(*patterns: str) -> list[re.Pattern]:
    return [re.compile(p, _I) for p in patterns]


_DATE_RU = (r"(\d{1,2}[./]\d{1,2}|\d{1,2} (январ|феврал|март|апрел|ма[яй]|июн|июл|август|сентябр|октябр|ноябр|декабр)\w*"
            r"|\b\d{1,2}-?(го|е|ого)\b|\b\d{1,2} числа)")
_DATE_EN = (r"(\d{1,2}[./]\d{1,2}|(on )?the \d{1,2}(st|nd|rd|th)\b|\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)"
            r"[a-z]*\.? \d{1,2}\b|\b\d{1,2} (jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*)")

_NUMBER_EN = r"(?:\d+|a few|a couple of|couple of|several|one|two|three|four|five|six|seven|a|an)"
_NUMBER_RU = r"(?:\d+(?:-?[йяегоуми]{1,2}(?!\w))?|несколько|нескольких|пару|пары|пара|два|две|три|четыре|пять|шесть|семь|" \
             r"полтора|полторы)"
# how long something has gone on: a count, "about" or not, and a unit ("for about a week", "months
# ago", "неделю назад", "в течение нескольких дней")
_ABOUT_EN = r"(?:about|around|almost|nearly|over|more than|at least)"
_UNIT_EN = r"(?:minutes?|hours?|days?|weeks?|months?|years?)"
_UNIT_RU = r"(?:минут\w*|час\w*|дн[яеийо]\w*|недел\w*|сут\w*|месяц\w*|год\w*|лет)"
_LONG_EN = r"(?:minutes|hours|days|weeks|months|years|ages|a while|a long time)"
_DURATION_EN = (rf"\b(?:for |over )?(?:{_ABOUT_EN} )?(?:the )?(?:last |past )?{_NUMBER_EN} {_UNIT_EN}(?: ago| now| already| in a row)?\b"
                rf"|\b{_LONG_EN} (?:ago|now)\b|\bfor {_LONG_EN}\b")
_SINCE_EN = (rf"\b(?:for|over) (?:{_ABOUT_EN} )?(?:the )?(?:last |past )?{_NUMBER_EN} {_UNIT_EN}\b"  # a duration with its anchor
             rf"|\b(?:{_ABOUT_EN} )?{_NUMBER_EN} {_UNIT_EN} (?:ago|now|already|in a row)\b|\b{_LONG_EN} (?:ago|now)\b|\bfor {_LONG_EN}\b")
_DURATION_RU = (rf"(?<!\w)(?:(?:{_NUMBER_RU} )?{_UNIT_RU} (?:назад|подряд)|{_NUMBER_RU} {_UNIT_RU} уже)(?!\w)|(?<!\w)(?:неделю|месяц|год|полгода|полчаса|сутки) "
                rf"(?:уже|как)(?!\w)|(?<!\w)(?:в течение|на протяжении) (?:{_NUMBER_RU} )?{_UNIT_RU}|(?<!\w)на днях(?!\w)")

# away from home or not: "abroad", "on holiday", «за границей»; "at home", "not travelling", «никуда не уезжал»
_TRAVEL_EN = (r"\b(?:abroad|overseas|travell?ing|on (?:a |my |our |the )?(?:trip|holiday|vacation|business trip|journey)|"
              r"in (?:a |an )?(?:another|foreign|different) country|out of (?:the|my|our) (?:country|home country))\b")
_TRAVEL_RU = (r"(?<!\w)(?:за границ\w*|за рубеж\w*|в поездке|в командировке|в отпуске|путешеству\w*|"
              r"в (?:другой|чужой) стране|в роуминге)(?!\w)")
_TRAVEL_NO_EN = (r"\b(?:(?:not|never|haven't been|am not|i'm not) (?:travell?ing|abroad|overseas|on (?:a )?(?:trip|holiday|vacation))|"
                 r"(?<!not )(?<!n't )at home|in my home (?:country|town|city|area)|(?:haven't|have not|didn't|did not) (?:left|leave|travell?ed|"
                 r"travel|gone anywhere|go anywhere))\b")
_TRAVEL_NO_RU = (r"(?<!\w)(?<!не )(?:дома|у себя в городе|в своём городе|в своем городе|не (?:за границ\w*|за рубеж\w*|в поездке|"
                 r"в командировке|в отпуске|путешеству\w*)|никуда не (?:уезжал\w*|выезжал\w*|ездил\w*))(?!\w)")

FACTS: dict[str, FactDef] = {f.key: f for f in [
    FactDef(
        "contract_number",
        {"en": "Could you tell me your contract or account number?",
         "ru": "Подскажите, пожалуйста, номер договора или лицевого счёта."},
        {"en": "Opens the customer's account: balance, services, open requests.",
         "ru": "Открывает договор клиента: баланс, услуги, открытые заявки."},
        # without the desk's format, a number counts only where the customer says what it is;
        # digits inside a word of letters and digits (an IBAN's "DE61...") are not a number of their own
        given=_p(r"(?:contract|account|договор\w*|лицев\w* сч[её]т\w*)\D{0,20}?(?<![^\W\d_])(?P<value>\d[\d-]{4,}\d)"
                 r"(?![^\W\d_])"),
        asked=_p(r"contract (number|no)|account number|номер\w* (вашего )?договор|лицев\w* сч[её]т"),
        exact=True,
    ),
    FactDef(
        "since_when",
        {"en": "Since when has this been happening?", "ru": "С какого времени это происходит?"},
        {"en": "A fresh problem may be an outage; a long one is a fault to diagnose.",
         "ru": "Свежая проблема может быть аварией, давняя — неисправностью."},
        given=_p(r"\b(since|started|began|this morning|yesterday|last night|today|all (day|week))\b",
                 r"(с утра|со вчера|вчера|сегодня|позавчера|с ночи|с вечера|с обеда|с \d{1,2}(:\d\d)?\b|с (понедельник|вторник|сред|четверг|пятниц|суббот|воскресень)"
                 r"|уже (\d+|несколько|пару|два|три|неделю|сутки|месяц|час)"
                 r"|(второй|третий|четв[её]ртый) день|всю неделю|целый день|с прошлой)",
                 # how long, in any unit, "about" or not
                 _SINCE_EN, _DURATION_RU),
        asked=_p(r"since when|when did (it|this|the problem) (start|begin)|how long (has|have)", r"с како(го|й) (времени|момента|дня)|как давно|когда (это )?(началось|пропал|появил)"),
        kind="when",
    ),
    FactDef(
        "router_lights",
        {"en": "What do the lights on the router show right now (colour, steady or blinking)?",
         "ru": "Какие индикаторы сейчас горят на роутере (цвет, горят или мигают)?"},
        {"en": "A red or unlit Internet light points to the line; green points to Wi-Fi or the device.",
         "ru": "Красный или погасший индикатор «Интернет» указывает на линию, зелёный — на Wi-Fi или устройство."},
        given=_p(r"\b(lights?|lamps?|leds?|indicators?)\b[^.?!]{0,40}\b(red|green|orange|amber|off|blink\w*|flash\w*|on)\b",
                 r"\b(red|green|orange|amber|blinking|flashing)\b[^.?!]{0,30}\b(lights?|lamps?|leds?|indicators?)\b",
                 r"(индикатор|лампочк|лампа|огон[её]?к|светодиод)\w*[^.?!]{0,40}(красн|зел[её]н|оранж|не гор|мига|погас|горит)",
                 r"(красн|зел[её]н|оранж)\w*[^.?!]{0,25}(индикатор|лампочк|огон|горит|светится|мига)", r"горит красн|мигает оранж"),
        asked=_p(r"\blights?\b|\bindicators?\b|\bleds?\b", r"индикатор|лампочк|огон[её]?к"),
        kind="state",
    ),
    FactDef(
        "devices_affected",
        {"en": "Is it on all devices or only one (which one)?", "ru": "Проблема на всех устройствах или на одном (на каком)?"},
        {"en": "All devices points to the line or router; one device points to that device.",
         "ru": "Если на всех — дело в линии или роутере, если на одном — в этом устройстве."},
        given=_p(r"\b(all (my |the )?devices|every device|any device|(my |the )?(phone|laptop|computer|pc|tv|tablet|smart tv|macbook|console|playstation|xbox)s?)\b",
                 r"(все устройства|всех устройствах|ни на (одном|чем)|телефон|ноутбук|ноут\b|компьютер|комп\b|телевизор|планшет|смарт|приставк)"),
        asked=_p(r"which devices?|all (your )?devices|on (one|every) device|other devices?", r"(каки[ех]|всех|одном|други[ех]) устройств"),
        many=True,
    ),
    FactDef(
        "connection_type",
        {"en": "Are you connected by cable or over Wi-Fi?", "ru": "Вы подключены по кабелю или по Wi-Fi?"},
        {"en": "A cable test rules Wi-Fi in or out.", "ru": "Проверка по кабелю отделяет проблему Wi-Fi от проблемы линии."},
        given=_p(r"\b(cable|cabled|wired|ethernet|lan|wi-?fi|wifi|wireless)\b", r"(кабел|по проводу|провод|wi-?fi|вай-?фай|беспроводн)"),
        asked=_p(r"cable or (over )?wi-?fi|by cable|wired", r"по кабелю|по wi-?fi|по проводу"),
        many=True,
    ),
    FactDef(
        "already_tried",
        {"en": "What have you already tried to fix it?",
         "ru": "Что вы уже пробовали сделать, чтобы это исправить?"},
        {"en": "So we don't repeat steps you have already done.", "ru": "Чтобы не повторять то, что уже сделано."},
        given=_p(r"\b(restart\w*|reboot\w*|re-?started|unplug\w*|plugged|turned (it )?(off|on)|switched (it )?(off|on)|power[- ]cycl\w*|reset\w*|tried|trying|attempt\w*|checked the cable)\b",
                 r"(перезагру|перезапуск|выключ|включ\w* снова|выдерг|выдёрг|вытаск|отключал|пробовал|пробую|пыта[юел]\w*|попытк\w*|сбрасывал|переткн|передёрг|передерг|проверил\w* кабел)"),
        asked=_p(r"(have|did) you (already )?(try|tried|restart|reboot|unplug)|what have you tried|"
                 r"what you(?:'ve| have)? (?:already )?tried", r"пробовали|перезагружали|что (вы )?уже (делали|пробовали)"),
        many=True,
    ),
    FactDef(
        "address",
        {"en": "What is the address where the service is connected?", "ru": "Подскажите адрес подключения."},
        {"en": "Outages and technician visits are checked by address.", "ru": "Аварии и выезд мастера проверяются по адресу."},
        given=_p(r"\b\d+[a-z]?,? [\w .'-]{2,30} (street|st|avenue|ave|road|rd|lane|prospekt|pr|boulevard|blvd)\b",
                 r"\b(street|avenue|prospekt|boulevard|flat|apt\.?|apartment|building|house)\b\.? ?\d+",
                 r"(ул\.|улиц|пр-т|просп|пер\.|переул|бульвар|шоссе|наб\.|набережн)\w*\.? ?[А-ЯЁа-яё0-9 -]{2,40}", r"\b(д\.|дом|кв\.|квартир)\w*\.? ?\d+"),
        asked=_p(r"\baddress\b", r"\bадрес"),
        kind="address",
    ),
    FactDef(
        "error_code",
        # no example code: a code is the desk's own (derive.py lists the knowledge base's codes instead)
        {"en": "Is there an error code or message on the screen? What does it say exactly?",
         "ru": "Есть ли на экране код ошибки или сообщение? Что именно там написано?"},
        {"en": "Each error code has its own fix.", "ru": "У каждого кода ошибки своё решение."},
        given=_p(SHOWN_CODE, r"\b(error|message)\b[^.?!]{0,20}(says|shows|:)", r"(ошибк|сообщени|надпис)\w*[^.?!]{0,20}(пишет|:|«|\")"),
        asked=_p(r"error (code|message)|code on the screen|what does the screen", r"код ошибки|ошибк\w* на экране|что пишет|какая ошибка"),
        kind="code",
    ),
    FactDef(
        "speed_test_result",
        {"en": "What speed does a speed test show, and was it measured by cable or over Wi-Fi?",
         "ru": "Какую скорость показывает замер и был ли он по кабелю или по Wi-Fi?"},
        {"en": "Shows whether the speed really falls short of the plan.",
         "ru": "Показывает, действительно ли скорость ниже тарифной."},
        given=_p(r"\b\d+([.,]\d+)?\s*(mbit|mbps|mb/s|megabit)", r"\d+([.,]\d+)?\s*(мбит|мб/с|мегабит|мбс)"),
        asked=_p(r"speed ?test|what speed|measure", r"замер|спидтест|speedtest|какую скорость"),
        kind="speed",
    ),
    FactDef(
        "time_of_day",
        {"en": "Does it happen at a particular time of day (for example in the evening)?",
         "ru": "Это происходит в какое-то определённое время (например, вечером)?"},
        {"en": "Evening slowdowns point to load; all-day ones to a fault.", "ru": "Вечерние замедления — нагрузка, круглосуточные — неисправность."},
        given=_p(r"\b(evenings?|at night|mornings?|afternoons?|after \d{1,2} ?(pm|am)?|all day|peak hours)\b", r"(вечер|ночью|по ночам|утром|днём|днем|после \d{1,2}|весь день|круглые сутки|в час пик)"),
        asked=_p(r"what time|time of day|in the evening", r"в какое время|вечером|по вечерам"),
        kind="time_of_day",
    ),
    FactDef(
        "payment_date",
        {"en": "When did you make the payment?", "ru": "Когда вы оплачивали?"},
        {"en": "Shows whether the normal crediting time has passed.", "ru": "Показывает, прошёл ли обычный срок зачисления."},
        given=_p(r"\b(paid|payment|topped up|transferred|charged)\b[^.?!]{0,40}\b(yesterday|today|this morning|last (week|night|month)|\d+ days? ago|" + _DATE_EN[1:-1] + r")",
                 r"\b(yesterday|today|this morning|last week|\d+ days? ago)\b[^.?!]{0,40}\b(paid|payment|topped up|transferred)\b",
                 r"(оплатил|оплачивал|заплатил|перевел|перевёл|пополнил|платеж|платёж|списал|снял|сняли|взял)\w*[^.?!]{0,40}(вчера|сегодня|позавчера|утром|на прошлой неделе|\d+ дн\w* назад|" + _DATE_RU[1:-1] + r")",
                 r"(вчера|сегодня|позавчера|на прошлой неделе|" + _DATE_RU[1:-1] + r")[^.?!]{0,40}(оплатил|оплачива|заплатил|платил|перевел|перевёл|пополнил|списал|снял|сняли|взял)"),
        asked=_p(r"when (and how |and where )?did you (make the )?pa(y|id)|date of (the )?(payment|charge|top-?up|debit)|payment date",
                 r"когда (и как |и где )?(вы )?(оплачивали|платили|оплатили)|дат\w* (платеж|платёж|оплат|списан|пополнен)"),
        kind="when",
    ),
    FactDef(
        "payment_amount",
        {"en": "What amount was paid or charged?", "ru": "Какая сумма была оплачена или списана?"},
        {"en": "Matches the payment or spots a double charge.", "ru": "Помогает найти платёж или двойное списание."},
        given=_p(r"\b\d[\d\s,.]*\s*(rub|rubles|roubles|₽|rur)\b",
                 r"\d[\d\s,.]*\s*(руб|₽|р\.|р\b|тыс)"),
        asked=_p(r"how much|what amount|the amount|amount of (the )?(payment|charge|top-?up|debit)",
                 r"как\w* сумм|сколько (вы )?(оплатили|заплатили|списал)|сумм\w* (платеж|платёж|оплат|списан|пополнен)"),
        kind="amount",
    ),
    FactDef(
        "payment_method",
        {"en": "How did you pay: card, SBP, a cash terminal or a bank transfer?",
         "ru": "Как вы оплачивали: картой, через СБП, в терминале или банковским переводом?"},
        {"en": "Crediting times differ by method.", "ru": "Сроки зачисления зависят от способа оплаты."},
        given=_p(r"\b(by card|bank card|credit card|debit card|my card|sbp|faster payments|qr code|terminal|cash|bank transfer|online banking|apple pay|google pay|sberbank|tinkoff)\b",
                 r"(картой|карты|карту|сбп|по qr|qr-код|терминал|наличн|перевод|сбер|тинькоф|онлайн-банк|через банк)"),
        asked=_p(r"how did you pay|which (payment )?method|by card or", r"каким способом|как (вы )?(оплачивали|платили)|картой или"),
        many=True,
    ),
    FactDef(
        "phone_model",
        {"en": "Which phone model do you use?", "ru": "Какая у вас модель телефона?"},
        {"en": "Some settings depend on the phone.", "ru": "Некоторые настройки зависят от модели телефона."},
        given=_p(r"\b(iphone|samsung|galaxy|xiaomi|redmi|huawei|honor|pixel|realme|poco|oneplus|nokia|motorola|android)\b", r"(айфон|самсунг|сяоми|ксиоми|хуавей|хонор|андроид)"),
        asked=_p(r"phone model|which phone|what phone", r"модел\w* телефон|какой (у вас )?телефон"),
        kind="model",
    ),
    FactDef(
        "location",
        {"en": "Where does it happen: which city, and indoors or outdoors?", "ru": "Где это происходит: в каком городе, в помещении или на улице?"},
        {"en": "Coverage gaps are local; a problem everywhere points to the SIM or phone.",
         "ru": "Проблемы покрытия локальны, а если везде — дело в SIM-карте или телефоне."},
        given=_p(r"\b(at home|indoors|inside|outdoors|outside|in the (city|centre|center|metro|office|basement|countryside)|at (work|the office|my dacha)|in (?-i:[A-Z][a-z]{3,}))\b",
                 r"(дома|в квартире|на улице|в помещении|в городе|в метро|на даче|в центре|на работе|в подвале|в офисе|за городом|в (?-i:[А-ЯЁ][а-яё]{3,}))"),
        asked=_p(r"where (are you|does it|exactly)|which city|indoors or", r"где (вы|именно|это)|в каком городе|в помещении или"),
    ),
    FactDef(
        "traveling",
        {"en": "Are you abroad or travelling at the moment?", "ru": "Вы сейчас за границей или в поездке?"},
        {"en": "Away from home a service may work through other networks and rules.",
         "ru": "Вне дома услуга может работать через другие сети и по другим правилам."},
        given=_p(_TRAVEL_NO_EN, _TRAVEL_NO_RU, _TRAVEL_EN, _TRAVEL_RU),
        asked=_p(r"\b(?:travell?ing|abroad|overseas|on (?:a |your )?(?:trip|holiday|vacation))\b",
                 r"(?<!\w)(?:за границ\w*|за рубеж\w*|в поездке|в командировке|путешеству\w*|в роуминге)(?!\w)"),
        no=_p(_TRAVEL_NO_EN, _TRAVEL_NO_RU),
    ),
    FactDef(
        "new_address",
        {"en": "What is the new address you are moving to?", "ru": "Подскажите новый адрес, куда вы переезжаете."},
        {"en": "Coverage is checked for the exact address.", "ru": "Покрытие проверяется по точному адресу."},
        given=_p(r"\b(moving|move|relocating) to\b[^.?!]{3,}", r"\bnew address\b[^.?!]{0,10}(is|:)",
                 r"(переезжа|переед|переезд)\w* (на|в) (ул|улиц|просп|пр-т|пер|дом|д\.|(?-i:[А-ЯЁ]))", r"новый адрес\W{0,3}\w+"),
        asked=_p(r"new address|where are you moving", r"новый адрес|куда (вы )?переезжа"),
        kind="address",
    ),
    FactDef(
        "move_date",
        {"en": "When is the move?", "ru": "Когда переезд?"},
        {"en": "The request should be made at least 5 business days before the move.",
         "ru": "Заявку нужно подать минимум за 5 рабочих дней до переезда."},
        given=_p(r"\b(mov\w+|relocat\w+)\b[^.?!]{0,40}\b(next (week|month|monday|tuesday|wednesday|thursday|friday|saturday|sunday)|in \d+ (days|weeks)|this (week|month|weekend)|tomorrow|" + _DATE_EN[1:-1] + r")",
                 r"(переезжа|переед|переезд)\w*[^.?!]{0,40}(через|на следующей|в (понедельник|вторник|среду|четверг|пятницу|субботу|воскресенье)|в конце|в начале|завтра|" + _DATE_RU[1:-1] + r")"),
        asked=_p(r"when (is|are you) (the )?mov|move date|date of the move", r"когда (вы )?переезжа|дат\w* переезда|когда переезд"),
        kind="when",
    ),
    FactDef(
        "contact_phone",
        {"en": "Which contact phone number is on the contract?", "ru": "Какой контактный номер телефона указан в договоре?"},
        {"en": "Codes are sent to the contact phone.", "ru": "Коды приходят на контактный телефон."},
        # the number itself, or that the customer no longer has the one on the contract ("I changed my
        # number", "the code goes to the old number", «старой симки больше нет»)
        given=_p(PHONE,
                 r"\b(?:changed|lost|no longer have|don'?t have) (?:my |the |that |an? )?(?:old |contact )?(?:phone )?(?:number|sim)\b",
                 r"\b(?:old|previous) (?:phone )?number\b",
                 r"(?<!\w)(?:поменял|сменил|потерял)\w*\s+(?:[а-яё]+\s+){0,2}?(?:номер|телефон|сим)\w*",
                 r"(?<!\w)(?:стар|прежн)\w* (?:номер\w*|сим\w*)"),
        asked=_p(r"(contact )?phone number", r"(контактн\w* )?(номер )?телефон"),
        kind="phone",
    ),
]}


@dataclass
class GivenFact:
    key: str
    evidence: str   # the value the customer gave ("since last night", "590 р", "red"), for the handoff card

    @property
    def value(self) -> str:
        return self.evidence


# --- values: what a fact's value looks like, whatever sentence it sits in -------------------------
# A fact is recognised by the patterns above; its value is then the date, duration, amount,
# code, state or short phrase in the same clause, nearest the words that gave it away.

_MONTHS_EN = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_MONTHS_RU = r"(?:январ|феврал|март|апрел|ма[яй]|июн|июл|август|сентябр|октябр|ноябр|декабр)\w*"
_DAYS_EN = r"(?:mon|tues|wednes|thurs|fri|satur|sun)day"
_DATES = (r"\d{1,2}[./]\d{1,2}(?:[./]\d{2,4})?", rf"\b\d{{1,2}} {_MONTHS_EN}", rf"\b{_MONTHS_EN} \d{{1,2}}(?:st|nd|rd|th)?\b",
          r"\b(?:on )?the \d{1,2}(?:st|nd|rd|th)\b", rf"\b\d{{1,2}} {_MONTHS_RU}", r"\b\d{1,2}-?(?:го|е|ого)(?: числа)?(?!\w)",
          r"\b\d{1,2} числа")

VALUE_TYPES: dict[str, list[re.Pattern]] = {
    # dates, times and durations, with the word that anchors them ("since", "с", "уже", "ago")
    "when": _p(
        rf"\b(?:since|from) (?:the day before yesterday|last (?:night|week|month|{_DAYS_EN})|yesterday(?: (?:morning|afternoon|evening|night))?"
        rf"|this (?:morning|afternoon|evening)|{_DAYS_EN}|\d{{1,2}}(?::\d\d)? ?(?:am|pm)?|{'|'.join(_DATES)})",
        _DURATION_EN,
        rf"\b(?:the day before yesterday|yesterday|today|tonight|tomorrow|last night|this (?:morning|afternoon|evening|week|month|weekend)"
        rf"|all (?:day|night|week)|(?:last|next) (?:week|month|year|{_DAYS_EN})|in \d+ (?:days|weeks)|on {_DAYS_EN})"
        r"(?: (?:morning|afternoon|evening|night))?\b",
        r"(?<!\w)(?:с|со) (?:утра|вечера|ночи|обеда|вчера(?:шнего(?: дня| утра| вечера)?)?|позавчера|прошлой недели|прошлого месяца"
        r"|понедельника|вторника|среды|четверга|пятницы|субботы|воскресенья|\d{1,2}(?::\d\d)?(?: час\w*)?)(?!\w)",
        rf"(?<!\w)(?:уже )?{_NUMBER_RU} (?:минут\w*|час\w*|день|дн\w*|недел\w*|сут\w*|месяц\w*)(?: назад| подряд| уже)?(?!\w)",
        r"(?<!\w)уже (?:неделю|сутки|месяц|час|год|день)(?!\w)", _DURATION_RU,
        r"(?<!\w)(?:второй|третий|четв[её]ртый|пятый) (?:день|час|неделю)(?!\w)",
        r"(?<!\w)(?:позавчера|вчера|сегодня|завтра|послезавтра)(?: (?:утром|вечером|днём|днем|ночью))?(?!\w)",
        r"(?<!\w)(?:всю неделю|целый день|весь день|всю ночь|на (?:прошлой|этой|следующей) неделе|в (?:конце|начале) (?:месяца|недели)"
        r"|через (?:\d+ \w+|неделю|месяц|пару \w+|несколько \w+)|в (?:понедельник|вторник|среду|четверг|пятницу|субботу|воскресенье))(?!\w)",
        *_DATES),
    "time_of_day": _p(
        r"\b(?:in the |every |at |after |during )?(?:evenings?|nights?|mornings?|afternoons?|peak hours)\b",
        r"\b(?:after|from|between) \d{1,2}(?::\d\d)? ?(?:am|pm)?(?: and \d{1,2}(?::\d\d)? ?(?:am|pm)?)?", r"\ball day\b",
        r"(?<!\w)(?:по )?(?:вечерам|ночам|утрам)(?!\w)", r"(?<!\w)(?:вечером|ночью|утром|днём|днем)(?!\w)",
        r"(?<!\w)после \d{1,2}(?::\d\d)?(?: час\w*| вечера| утра)?", r"(?<!\w)(?:весь день|круглые сутки|в час пик)(?!\w)"),
    "amount": _p(r"(?:[$€]\s?)\d[\d\s,.]*\d", r"\d(?:[\d\s,.]*\d)?\s*(?:rub\w*|roubles?|rur|usd|eur|dollars?|euros?|руб\w*|₽|р\.|р\b|тыс\w*(?: руб\w*)?)"),
    "speed": _p(r"\d+(?:[.,]\d+)?(?:\s*[-–]\s*\d+(?:[.,]\d+)?)?\s*(?:mbit/s|mbit|mbps|mb/s|megabits?|gbit/s|gbps|kbit/s|мбит/с|мбит\w*|мб/с|мегабит\w*|мбс|гбит\w*|кбит\w*)"),
    "code": _p(CODE, r"«[^»\n]{1,60}»|\"[^\"\n]{1,60}\"|“[^”\n]{1,60}”", r"(?<=:)\s*[^.?!\n«\"“]{2,60}"),
    "phone": _p(PHONE),
    "state": _p(r"(?:\b(?:not |no )?(?:red|green|orange|amber|yellow|blue|white|off|unlit|blink\w*|flash\w*|solid|steady)\b"
                r"|(?<!\w)(?:не )?(?:красн\w*|зел[её]н\w*|оранж\w*|ж[её]лт\w*|син\w*|бел\w*|гор\w*|мига\w*|погас\w*|светит\w*))"),
    "address": _p(
        r"\b\d+[a-z]?,? (?:[\w.'-]+ ){1,3}(?:street|st|avenue|ave|road|rd|lane|prospekt|pr|boulevard|blvd)\b\.?(?:,? (?:flat|apt\.?|apartment) ?\d+)?",
        r"(?<!\w)(?:ул\.|улиц\w*|пр-т|просп\w*\.?|пер\.|переул\w*|бульвар\w*|шоссе|наб\.|набережн\w*) ?(?-i:[А-ЯЁA-Z0-9][\w-]*)"
        r"(?: (?-i:[А-ЯЁ][\w-]*))*(?:,? ?(?:д\.|дом)? ?\d+\w?)?(?:,? ?(?:кв\.?|квартир\w*) ?\d+)?"),
    "model": _p(r"\b(?:iphone|samsung|galaxy|xiaomi|redmi|huawei|honor|pixel|realme|poco|oneplus|nokia|motorola|android"
                r"|айфон|самсунг|сяоми|ксиоми|хуавей|хонор|андроид)(?: (?:galaxy|note|pro|max|plus|ultra|lite|mini|se|[a-z]?\d+\w*)){0,3}\b"),
}
VALUE_TYPES["place"] = _p(r"\b(?:to|in) (?-i:[A-Z][a-z]{2,}(?: [A-Z][a-z]+)?)", r"(?<!\w)(?:в|во|на) (?-i:[А-ЯЁ][а-яё-]{2,}(?: [А-ЯЁ][а-яё-]+)?)")
_FALLBACK_KIND = {"address": "place"}  # no street in the clause: the town is the value
# the words a phrase keeps in front of it: a negation ("not restarted", "не перезагружал"), a manner ("by card", "по кабелю")
_LEAD_WORDS = frozenset({"not", "never", "no", "haven't", "didn't", "hasn't", "by", "over", "via",
                         "не", "ни", "по", "через"})
# a full stop after these does not end the clause ("ул. Ленина", "apt. 5")
_ABBREVIATIONS = frozenset({"ул", "д", "кв", "пр", "пер", "наб", "стр", "корп", "г", "р", "st", "apt", "ave", "rd", "no", "e.g", "т"})
# a determiner is not part of the value ("my phone" -> "phone")
_DETERMINERS = re.compile(r"^(?:my|the|a|an|our|your|мой|моя|моё|мое|мои|наш|наша|наши)\s+", _I)
MAX_VALUE_CHARS = 60


@dataclass(frozen=True)
class _Span:
    """Mentions next to each other, read as one ("tried restarting")."""

    begin: int
    stop: int

    def start(self) -> int:
        return self.begin

    def end(self) -> int:
        return self.stop

    def group(self, _: int = 0) -> str:
        return ""


def _clause(text: str, start: int, end: int) -> tuple[int, int]:
    """The clause around text[start:end]: up to a line break or the sentence's end."""
    def boundary(i: int) -> bool:
        c = text[i]
        if c in "!?;\n":
            return True
        if c != "." or (i + 1 < len(text) and not text[i + 1].isspace()):
            return False
        word = re.search(r"([\w.]+)$", text[:i])
        return not (word and word.group(1).lower() in _ABBREVIATIONS)

    left = start
    while left > 0 and not boundary(left - 1):
        left -= 1
    right = end
    while right < len(text) and not boundary(right):
        right += 1
    return left, right


def _words(text: str, start: int, end: int, lead: bool = True) -> tuple[int, int]:
    """The span widened to whole words, with a negation or a manner word just before it."""
    while start > 0 and text[start - 1].isalnum():
        start -= 1
    while end < len(text) and text[end].isalnum():
        end += 1
    for _ in range(2 if lead else 0):
        before = re.search(r"(?:^|(?<=[\s,(]))([\w']+)\s+$", text[:start])
        if not before or before.group(1).lower() not in _LEAD_WORDS:
            break
        start = before.start(1)
    return start, end


def _clean(value: str) -> str:
    value = _DETERMINERS.sub("", " ".join(value.split()).strip(" ,;:-–—\"'«»“”"))
    if len(value) > MAX_VALUE_CHARS:
        value = value[:MAX_VALUE_CHARS].rsplit(" ", 1)[0] + "…"
    return value


def _value_at(text: str, m: re.Match | _Span, fact: FactDef) -> str:
    """The value of one mention: the value-type match in its clause nearest the mention, or
    the mention itself in whole words."""
    left, right = _clause(text, m.start(), m.start())  # the clause the mention starts in
    best: tuple[int, int, int] | None = None
    for kind in (fact.kind, _FALLBACK_KIND.get(fact.kind)):
        for pattern in VALUE_TYPES.get(kind or "", []):
            for v in pattern.finditer(text, left, right):
                if not v.group(0).strip():
                    continue
                distance = max(0, v.start() - m.end(), m.start() - v.end())
                if best is None or (distance, -(v.end() - v.start())) < (best[0], -(best[2] - best[1])):
                    best = (distance, v.start(), v.end())
        if best is not None:
            break
    if fact.kind == "state":  # every state word of the clause: "red blinking", "горит красным"
        states = [v for pattern in VALUE_TYPES["state"] for v in pattern.finditer(text, left, right)]
        if states:
            return _clean(" ".join(dict.fromkeys(v.group(0).strip().lower() for v in states)))
    if best is not None:
        start, end = best[1], best[2]
        if fact.kind in ("time_of_day", "address", "model"):
            start, end = _words(text, start, end, lead=False)
        return _clean(text[start:end])
    start, end = _words(text, m.start(), min(m.end(), max(right, m.start() + 1)))
    return _clean(text[start:end]) or _clean(text[m.start():m.end()]) or text[m.start():m.end()]


def fact_value(text: str, fact: FactDef) -> str | None:
    """The value of `fact` in the customer's words, or None when they do not give it."""
    for pattern in fact.given:
        m = pattern.search(text)
        if not m:
            continue
        if fact.exact:
            return m.groupdict().get("value") or m.group(0)
        if not fact.many:
            return _value_at(text, m, fact)
        spans: list[_Span] = []
        for x in sorted((x for p in fact.given for x in p.finditer(text)), key=lambda x: x.start()):
            if spans and (x.start() <= spans[-1].stop or not text[spans[-1].stop:x.start()].strip()):
                spans[-1] = _Span(spans[-1].begin, max(spans[-1].stop, x.end()))
            else:
                spans.append(_Span(x.start(), x.end()))
        values: dict[str, str] = {}  # each value once, whatever its case or a word in front ("no phone", "phone")
        for span in spans:
            value = _value_at(text, span, fact)
            low = value.lower()
            if not any(re.search(rf"\b{re.escape(low)}\b", k) or re.search(rf"\b{re.escape(k)}\b", low) for k in values):
                values[low] = value
        return _clean(", ".join(list(values.values())[:4]))
    return None


def says_no(text: str, fact: FactDef) -> bool | None:
    """For a yes-no fact (`fact.no`): True when the customer's words give it as "no" ("I'm at
    home"), False when as "yes" ("I'm abroad"), None when they do not give it."""
    if not fact.no or fact_value(text, fact) is None:
        return None
    return any(p.search(text) for p in fact.no)


def fact_book(desk: Desk) -> dict[str, FactDef]:
    """The vocabulary with the desk's own wording, patterns and contract-number format."""
    book = dict(FACTS)
    for key, wording in desk.facts.items():
        base = book.get(key) or FactDef(key, {}, {})
        book[key] = replace(base, question={**base.question, **wording.question}, why={**base.why, **wording.why},
                            given=_p(*wording.given) if wording.given else base.given)
    contract = desk.contract_pattern()
    wording = desk.facts.get("contract_number")
    if contract is not None and not (wording and wording.given):  # the desk's own patterns win
        book["contract_number"] = replace(book["contract_number"], given=[contract])
    return book


def given_facts(conversation: Conversation, facts: dict[str, FactDef] = FACTS,
                text: str | None = None) -> dict[str, GivenFact]:
    """Facts the customer already stated (in any turn) or the profile carries. `text` is
    the customer's words when the caller already joined them."""
    text = conversation.customer_text() if text is None else text
    found: dict[str, GivenFact] = {}
    for key, fact in facts.items():
        value = fact_value(text, fact)
        if value is not None:
            found[key] = GivenFact(key, value)
    for key, value in answered_facts(conversation, facts).items():
        found.setdefault(key, GivenFact(key, value))
    if conversation.profile.contract_number:
        found["contract_number"] = GivenFact("contract_number", conversation.profile.contract_number)
    return found


# a bare number answering "your contract number?": digits, maybe with dashes, not inside a word
_BARE_ID = _p(r"(?<![^\W\d_])\d[\d-]{4,}\d(?![^\W\d_])")
# an agent's sentence that asks something: a question mark, or a request ("Please check ...",
# "Подскажите номер договора."); "Thanks, the lights look fine." asks nothing
_ASKING = re.compile(r"\?|^(?:please|could you|can you|would you|tell me|let me know|"
                     r"подскажите|скажите|уточните|посмотрите|проверьте|пришлите|напишите|сообщите|назовите)\b", _I)


# a reply that does not answer: the customer does not know or asks how to find out
_UNSURE = re.compile(r"\b(?:(?:i )?(?:don't|do not|dunno) know|not sure|no idea|can't tell|"
                     r"how (?:do|can|should) i (?:check|see|find|tell|look))\b|"
                     r"(?<!\w)(?:не знаю|не в курсе|не уверен\w*|без понятия|"
                     r"как (?:это )?(?:проверить|посмотреть|узнать|понять))(?!\w)", _I)


def unsure(reply: str) -> bool:
    """The reply says the customer does not know ("not sure", «не знаю», "how do I check?")."""
    return bool(_UNSURE.search(reply))


def asking(sentence: str) -> bool:
    """An agent's sentence that asks the customer something."""
    return bool(_ASKING.search(sentence))


def replied_questions(conversation: Conversation) -> list[tuple[str, str]]:
    """(question, reply) for each question an agent asked that the customer replied to: the
    asking sentences of an agent turn, and the customer's turns up to the next agent turn. A
    greeting before the customer's first turn ("How can I help?") asks nothing about the case."""
    pairs: list[tuple[str, str]] = []
    messages = conversation.messages
    for i, message in enumerate(messages):
        if message.role != "agent" or not any(m.role == "customer" for m in messages[:i]):
            continue
        questions = [q for q in split_sentences(message.text) if asking(q)]
        reply: list[str] = []
        for later in messages[i + 1:]:
            if later.role == "agent":
                break
            if later.role == "customer":
                reply.append(later.text)
        if questions and reply:
            pairs.append((" ".join(questions), "\n".join(reply)))
    return pairs


def answered_questions(conversation: Conversation) -> list[str]:
    """The agent's questions the customer answered: replied to, and not with "I don't know"."""
    return [question for question, reply in replied_questions(conversation) if not unsure(reply)]


def answered_facts(conversation: Conversation, facts: dict[str, FactDef] = FACTS) -> dict[str, str]:
    """Facts an agent asked for whose value the customer's reply carries, though not in the
    words that state it unasked: "When and how did you pay?" answered "Bank transfer on
    Monday morning", "Your contract number?" answered "4455667788". The value is the first
    of the fact's kind in the reply (VALUE_TYPES; a bare number for an id); a reply without
    one leaves the fact open. A fact of no particular kind ("what have you tried?", "which
    devices?") asked on its own is answered by the reply's first clause ("nothing yet")."""
    found: dict[str, str] = {}
    for question, reply in replied_questions(conversation):
        keys = facts_asked(question, facts)
        for key in keys:
            if key in found:
                continue
            fact = facts[key]
            shapes = _BARE_ID if fact.exact else VALUE_TYPES.get(fact.kind, [])
            hits = [m for p in shapes for m in p.finditer(reply) if m.group(0).strip()]
            if hits:
                first = min(hits, key=lambda m: (m.start(), -m.end()))
                found[key] = _clean(first.group(0)) if fact.exact else _value_at(reply, first, fact)
            elif fact.kind == "phrase" and not fact.exact and len(keys) == 1 and not unsure(reply):
                left, right = _clause(reply, 0, 0)
                if _clean(reply[left:right]) and reply[right:right + 1] != "?":  # "why do you need that?" answers nothing
                    found[key] = _clean(reply[left:right])
    return found


# "nothing yet", "пока ничего", "не перезагружал": what was tried is nothing
_NOTHING_TRIED = re.compile(r"^(?:(?:so far|yet|пока|ещё|еще)\s+)?(?:nothing|none|no|not|never|haven't|didn't|ничего|нет|не|ни)(?!\w)", _I)


def tried_something(value: str) -> bool:
    """An `already_tried` value that names a step the customer took, not "nothing yet" (each of
    its mentions is read: "не перезагружал, unplugged" tried one)."""
    return any(part.strip() and not _NOTHING_TRIED.search(part.strip()) for part in value.split(","))


def facts_asked(question: str, facts: dict[str, FactDef] = FACTS) -> list[str]:
    """Fact keys an agent's question asks for (used to mine what agents ask in past tickets)."""
    return [key for key, fact in facts.items() if any(p.search(question) for p in fact.asked)]
