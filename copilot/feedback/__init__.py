"""The feedback store: suggestions, what operators did with them, supervisors' reviews."""
