"""Customer turns that ask nothing yet: a greeting alone ("Hi!", «Здравствуйте»), a bare "I have
a question", thanks and goodbyes ("thanks, that worked!", «Спасибо, всё заработало»).

Searched like a request, such a turn matches some article at random ("Здравствуйте" quoted a
promotion and the fraud line) or nothing (handed to a specialist as "no grounded answer", or
refused as off-topic: "Hello?" is nearer everyday requests than any knowledge base). The reply
they need is the desk's own: "How can I help you?", "Is there anything else I can help with?".

formulas.py: the conversational formulas of each language, clause by clause; classifier.py:
the turns the formulas leave open, judged over the embedder; turns.py: which turns count.
"""

from copilot.small_talk.formulas import Act, turn_act
from copilot.small_talk.turns import asks_nothing

__all__ = ["Act", "asks_nothing", "turn_act"]
