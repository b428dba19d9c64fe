"""Routing that needs no knowledge base: when the customer's own words call for a person
(an explicit request, a legal threat, fraud, a vulnerable customer, anger and loops).

`classifier.RoutingClassifier` is a logistic regression over multilingual embeddings with
the patterns of `copilot.understand` as extra features, trained on the labelled utterances
in `utterances.jsonl` (see README.md here for where they come from).
"""

from copilot.routing.classifier import (
    LABELS,
    RoutingClassifier,
    RoutingSignal,
    load_utterances,
)

__all__ = ["LABELS", "RoutingClassifier", "RoutingSignal", "load_utterances"]
