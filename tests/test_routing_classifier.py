"""The routing classifier: its data is valid, bilingual, split and owes nothing to the eval
cases; the numpy logistic regression learns and its thresholds come from cross-validation;
the trained model is cached; and with the real embedder it flags paraphrases the patterns
miss, in both languages, without flagging an ordinary problem report."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter

import numpy as np
import pytest
from helpers import REPO, bag_of_words, make_settings, real_embeddings

from copilot.errors import BadInputError
from copilot.routing.classifier import (
    DATA,
    LABELS,
    RoutingClassifier,
    Utterance,
    best_threshold,
    fit_logistic,
    load_utterances,
    sigmoid,
)

WORDS = re.compile(r"\w+")


# -- the data ---------------------------------------------------------------------------------

def test_the_utterances_are_valid_bilingual_split_and_say_where_they_came_from():
    utterances = load_utterances()
    assert len({u.text for u in utterances}) == len(utterances), "duplicate utterances"
    for lang in ("en", "ru"):
        mine = [u for u in utterances if u.lang == lang]
        assert 250 <= len(mine) <= 600
        assert {u.split for u in mine} == {"dev", "test"}
        for label in LABELS:
            positives = [u for u in mine if label in u.labels]
            assert len(positives) >= 40, (lang, label)
            dev = sum(u.split == "dev" for u in positives) / len(positives)
            assert 0.5 <= dev <= 0.7, (lang, label, dev)  # stratified about 60/40
        ordinary = [u for u in mine if not u.labels]
        assert len(ordinary) >= 0.25 * len(mine)
        assert {u.split for u in ordinary} == {"dev", "test"}
    assert all(u.origin.strip() for u in utterances)
    assert (DATA.parent / "README.md").exists()


def test_the_split_follows_the_documented_rule():
    """Inside each (origin, language, label set) the first round(0.6 n) by SHA-1 of the text
    are dev: fixed before any tuning, and a later batch never moves an earlier utterance."""
    strata: dict[tuple, list[Utterance]] = {}
    for u in load_utterances():
        strata.setdefault((u.origin, u.lang, tuple(u.labels)), []).append(u)
    for items in strata.values():
        items.sort(key=lambda u: hashlib.sha1(u.text.encode()).hexdigest())
        n_dev = round(0.6 * len(items))
        assert [u.split for u in items] == ["dev"] * n_dev + ["test"] * (len(items) - n_dev)


def test_a_bad_line_is_refused_with_file_and_line(tmp_path):
    path = tmp_path / "u.jsonl"
    good = {"text": "hi", "lang": "en", "labels": [], "split": "dev", "origin": "test"}
    path.write_text(json.dumps(good) + "\n" + json.dumps({**good, "labels": ["angry"]}) + "\n")
    with pytest.raises(BadInputError, match=r"u.jsonl:2: .*unknown label"):
        load_utterances(path)


def _runs(text: str, n: int = 8) -> set[tuple[str, ...]]:
    words = WORDS.findall(text.lower())
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def test_no_utterance_shares_an_eight_word_run_with_an_eval_case_or_a_benchmark():
    from evals.dataset import DATASETS, load_dataset

    reference: set[tuple[str, ...]] = set()
    for case in load_dataset([DATASETS], "all"):
        for message in case.conversation.messages:
            reference |= _runs(message.text)
    assert reference, "no eval case messages found"
    benchmarks = REPO.parent / "shared" / "benchmarks"
    for path in sorted(benchmarks.glob("*/*.jsonl")) if benchmarks.exists() else []:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                for text in _strings(json.loads(line)):
                    reference |= _runs(text)
    shared = {u.text: sorted(" ".join(r) for r in _runs(u.text) & reference) for u in load_utterances()}
    assert {t: r for t, r in shared.items() if r} == {}


# -- the model --------------------------------------------------------------------------------

def test_logistic_regression_learns_separable_data_and_l2_shrinks_it():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 5))
    margin = X[:, 0] - 2 * X[:, 3] - 0.3
    X = X[np.abs(margin) > 0.5][:200]  # separable with a margin
    y = (X[:, 0] - 2 * X[:, 3] > 0.3).astype(float)
    w, b = fit_logistic(X, y, l2=0.1)
    assert np.all((sigmoid(X @ w + b) >= 0.5) == (y == 1))
    assert w[0] > 0 > w[3] and abs(w[3]) > abs(w[0]) > max(abs(w[1]), abs(w[2]), abs(w[4]))
    w_strong, _ = fit_logistic(X, y, l2=100.0)
    assert np.linalg.norm(w_strong) < np.linalg.norm(w) / 3
    # one class only: finite weights, probabilities on the right side
    w0, b0 = fit_logistic(X, np.zeros(200), l2=1.0)
    assert np.all(np.isfinite(w0)) and np.all(sigmoid(X @ w0 + b0) < 0.5)


def test_best_threshold_maximises_f1_halfway_between_scores():
    scores = np.array([0.9, 0.8, 0.7, 0.4, 0.3, 0.1])
    y = np.array([1, 1, 0, 1, 0, 0])
    # cuts: top1 F1 .5, top2 .8, top3 .667, top4 .857, top5 .75, all .667
    threshold, f1 = best_threshold(scores, y)
    assert threshold == pytest.approx(0.35) and f1 == pytest.approx(6 / 7)
    assert best_threshold(scores, np.zeros(6)) == (float("inf"), 0.0)
    tied = best_threshold(np.array([0.5, 0.5, 0.2]), np.array([1, 0, 0]))
    assert tied[0] == pytest.approx(0.35)  # ties are flagged together or not at all


KEYWORDS = {"explicit_human": "person", "legal_threat": "court", "fraud": "stolen", "vulnerable": "hospital",
            "frustration": "useless"}


FILLER = ["please", "my", "the", "router", "bill", "order", "card", "today", "account", "phone", "help", "with"]
VOCAB = FILLER + list(KEYWORDS.values())


def fake_embed(calls: list[int] | None = None):
    return bag_of_words(VOCAB, calls)


def synthetic(n: int = 240, seed: int = 1) -> list[Utterance]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        labels = [label for label in LABELS if rng.random() < 0.2]
        words = list(rng.choice(FILLER, size=5)) + [KEYWORDS[label] for label in labels]
        rng.shuffle(words)
        out.append(Utterance(text=" ".join(words) + f" n{i}", lang="en" if i % 2 else "ru", labels=labels,
                             split="dev" if i % 5 else "test", origin="synthetic"))
    return out


def test_training_uses_dev_only_and_thresholds_come_from_cross_validation():
    data = synthetic()
    model = RoutingClassifier.train(fake_embed(), "fake", data)
    dev = [u for u in data if u.split == "dev"]
    assert model.cv_probabilities.shape == (len(dev), len(LABELS))
    for j, label in enumerate(LABELS):
        y = np.array([label in u.labels for u in dev], dtype=float)
        # the threshold is the best F1 of the out-of-fold probabilities, not of the training fit
        assert model.thresholds[j] == pytest.approx(best_threshold(model.cv_probabilities[:, j], y)[0])
        assert model.cv_f1[j] > 0.9
    # the test utterances played no part: changing their labels changes nothing
    flipped = [u if u.split == "dev" else u.model_copy(update={"labels": list(LABELS)}) for u in data]
    again = RoutingClassifier.train(fake_embed(), "fake", flipped)
    assert np.allclose(again.weights, model.weights) and np.allclose(again.thresholds, model.thresholds)
    test = [u for u in data if u.split == "test"]
    predicted = [set(model.flags(p)) for p in model.predict([u.text for u in test])]
    assert sum(p == set(u.labels) for p, u in zip(predicted, test)) >= 0.9 * len(test)


def test_the_trained_model_is_cached_and_a_second_load_does_not_retrain(tmp_path, monkeypatch):
    data = tmp_path / "u.jsonl"
    data.write_text("".join(u.model_dump_json() + "\n" for u in synthetic(120)), encoding="utf-8")
    calls: list[int] = []
    first = RoutingClassifier.load_or_train(fake_embed(calls), "fake/model", tmp_path / "cache", data)
    files = list((tmp_path / "cache").glob("routing-fake_model-*.npz"))
    assert len(files) == 1 and sum(calls) == sum(u.split == "dev" for u in synthetic(120))
    monkeypatch.setattr(RoutingClassifier, "_memo", {})  # as a second process would start
    calls.clear()
    second = RoutingClassifier.load_or_train(fake_embed(calls), "fake/model", tmp_path / "cache", data)
    assert calls == []  # loaded, not retrained: nothing embedded
    assert np.array_equal(second.weights, first.weights) and np.array_equal(second.thresholds, first.thresholds)
    assert second.predict(["court person"]) == first.predict(["court person"])
    # other data: another file, trained anew
    data.write_text(data.read_text(encoding="utf-8") + Utterance(
        text="one more", lang="en", labels=[], split="dev", origin="t").model_dump_json() + "\n", encoding="utf-8")
    calls.clear()
    RoutingClassifier.load_or_train(fake_embed(calls), "fake/model", tmp_path / "cache", data)
    assert calls and len(list((tmp_path / "cache").glob("routing-*.npz"))) == 2


def test_the_setting_turns_the_classifier_off(tmp_path):
    settings = make_settings(tmp_path / "d", tmp_path / "c", routing={"classifier": False})
    assert RoutingClassifier.from_settings(settings) is None


def test_the_benchmark_scores_hand_computed_cases():
    from evals.bench.routing import pattern_labels, score

    truth = [{"fraud"}, {"fraud"}, set(), {"legal_threat"}]
    flagged = [{"fraud"}, set(), {"fraud"}, {"legal_threat"}]
    s = score(truth, flagged)
    assert (s.labels["fraud"].precision, s.labels["fraud"].recall, s.labels["fraud"].f1) == (0.5, 0.5, 0.5)
    assert s.labels["legal_threat"].f1 == 1.0 and s.labels["vulnerable"].f1 is None
    assert s.macro_f1 == 0.3 and s.false_flags == 1.0
    assert pattern_labels("позовите оператора") == {"explicit_human"}
    assert pattern_labels("my internet is down") == set()


# -- with the real embedder -------------------------------------------------------------------

@pytest.fixture(scope="module")
def real_classifier(session_cache):
    emb = real_embeddings(session_cache)
    return RoutingClassifier.load_or_train(emb.embeddings.embed_documents, emb.model_id, session_cache)


# written after training, never in utterances.jsonl; the patterns miss the first of each label
HELD_OUT = [
    ("is there a way to reach an actual employee of yours", "explicit_human"),
    ("хочу, чтобы мне ответил кто-то из ваших работников, а не программа", "explicit_human"),
    ("can I please talk to somebody who is not a machine", "explicit_human"),
    ("мне нужен живой сотрудник, а не автоответчик", "explicit_human"),
    ("I'm going to have my solicitor look at your terms", "legal_threat"),
    ("three payments left my card that I never made", "fraud"),
    ("с карты ушли три платежа, которых я не делала", "fraud"),
    ("my mum is 91 and can't use a smartphone", "vulnerable"),
    ("я после операции, лежу дома и не могу никуда поехать", "vulnerable"),
    ("this is the third week I'm chasing the same refund", "frustration"),
    # left out as borderline: "сколько ещё мне ждать, уже месяц пишу вам" (frustration, p 0.34 against a
    # threshold of 0.28; missed before the second batch). Russian frustration is the weakest label
    # (`copilot eval routing`).
]
ORDINARY = ["the red light on the router is on", "на роутере горит красная лампочка",
            "how do I change my tariff", "спасибо, всё заработало", "problem solved, many thanks"]


@pytest.mark.slow
def test_the_real_classifier_flags_paraphrases_the_patterns_miss(real_classifier):
    from evals.bench.routing import pattern_labels

    texts = [t for t, _ in HELD_OUT] + ORDINARY
    predicted = dict(zip(texts, real_classifier.predict(texts)))  # one batch: embedding is the cost
    missed_by_patterns = Counter()
    for text, label in HELD_OUT:
        assert label in real_classifier.flags(predicted[text]), (text, predicted[text])
        if label not in pattern_labels(text):
            missed_by_patterns[label] += 1
    assert missed_by_patterns["explicit_human"] >= 2 and sum(missed_by_patterns.values()) >= 7
    for text in ORDINARY:
        assert real_classifier.flags(predicted[text]) == [], (text, predicted[text])


@pytest.mark.slow
def test_signals_name_the_turn_that_scored_highest(real_classifier):
    turns = ["hi, my router is blinking", "is there a way to reach an actual employee of yours"]
    signals = real_classifier.signals(turns)
    assert [s.label for s in signals] == ["explicit_human"]
    assert signals[0].evidence == turns[1] and 0 < signals[0].probability <= 1
    russian = ["хочу, чтобы мне ответил кто-то из ваших работников, а не программа"]
    assert [s.label for s in real_classifier.signals(russian)] == ["explicit_human"]
    # an embedder that does not know Russian leaves Russian turns to the patterns
    assert real_classifier.signals(russian, languages={"en"}) == []
    assert real_classifier.signals(["", "  "]) == []


def test_the_cli_has_the_routing_verb():
    from typer.testing import CliRunner

    from copilot.cli import app

    result = CliRunner().invoke(app, ["eval", "routing", "--help"])
    assert result.exit_code == 0 and "utterances.jsonl" in result.output


@pytest.mark.slow
def test_the_engine_hears_what_the_classifier_hears_when_it_is_on(demo_index):
    """With `routing.classifier` on, a request for a person the patterns miss is a handoff
    whose reason shows the classifier's evidence; off (the default), it is not."""
    from copilot.engine import Copilot
    from helpers import conversation, llm_settings

    text = "I'd rather discuss this with one of your staff members, not an automated system"
    off = llm_settings(demo_index.settings, enabled=False)
    on = off.model_copy(update={"routing": off.routing.model_copy(update={"classifier": True})})
    heard = Copilot(on, index=demo_index).suggest(conversation(text))
    assert "explicit_human_request" in heard.handoff.reasons
    assert "classifier" in heard.handoff.summary
    assert "explicit_human_request" not in Copilot(off, index=demo_index).suggest(conversation(text)).handoff.reasons
