"""The index: embedders and the e5 runtime, BM25 words, the Chroma store, building, provenance."""
