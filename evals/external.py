"""Outside benchmarks: `copilot eval external tau-banking`.

tau-banking (../shared/benchmarks/tau_banking, from tau2-bench by Sierra Research, MIT):
retrieval recall@k / hit@k next to plain BM25 in the same run, and handoff recall on the
13 tasks whose gold actions transfer to a human (and how often the other 84 are handed
off anyway). Each task's `instructions` is used as the customer's message: it says more
than a real first message would, and it is written as a role-play brief, not a chat.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path

from pydantic import BaseModel

from copilot.config import Settings
from copilot.engine import Copilot
from knowledge_base.benchmark import TAU, TauResult, build_tau_index, load_tau, tau_retrieval


class TauHandoff(BaseModel):
    transfer_tasks: int
    flagged_transfers: int
    recall: float
    other_tasks: int
    flagged_others: int
    false_handoff_rate: float
    reasons_on_transfers: dict[str, int]
    missed: list[str]


class TauReport(BaseModel):
    retrieval: list[TauResult]
    handoff: TauHandoff


def tau_banking(settings: Settings, folder: Path = TAU) -> TauReport:
    _, tasks = load_tau(folder)
    with tempfile.TemporaryDirectory(prefix="copilot-tau-") as tmp:
        kb = build_tau_index(settings, Path(tmp) / "index", folder)
        try:
            retrieval = tau_retrieval(kb, folder)
            llm_off = kb.settings.model_copy(update={"llm": kb.settings.llm.model_copy(update={"enabled": False})})
            copilot = Copilot(llm_off, index=kb, use_llm=False)
            flagged: dict[str, bool] = {}
            reasons: Counter = Counter()
            for task in tasks:
                s = copilot.suggest({"messages": [{"role": "customer", "text": task["instructions"]}]})
                flagged[task["id"]] = s.handoff.needed
                if task["handoff_expected"]:
                    reasons.update(s.handoff.reasons)
        finally:
            kb.close()
    transfers = [t["id"] for t in tasks if t["handoff_expected"]]
    others = [t["id"] for t in tasks if not t["handoff_expected"]]
    hit = sum(flagged[t] for t in transfers)
    false = sum(flagged[t] for t in others)
    return TauReport(retrieval=retrieval, handoff=TauHandoff(
        transfer_tasks=len(transfers), flagged_transfers=hit, recall=round(hit / len(transfers), 3),
        other_tasks=len(others), flagged_others=false, false_handoff_rate=round(false / len(others), 3),
        reasons_on_transfers=dict(reasons), missed=[t for t in transfers if not flagged[t]]))
