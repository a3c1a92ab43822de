"""A question out: analysis, retrieval, the reader and selection, catalog answers, conversation, grounding, the optional LLM, the chain."""
