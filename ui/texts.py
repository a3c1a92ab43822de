"""Every label of the interface in Thai and English, and the example questions per user type.

`t(lang, key)` gives one label; the language switch re-labels every component from these tables.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from assistant.answer.catalog import SMART_NAMES  # one table of Smart names for CLI, answers and UI

if TYPE_CHECKING:
    from ui.service import Service

LANGS = ("th", "en")
DEFAULT_LANG = "th"
LANG_CHOICES = [("ไทย", "th"), ("English", "en")]
ANY = "any"  # the dropdown value meaning "no filter" (None is reserved by gr.Dropdown)
# (component, label function of the UI language): what switching the language relabels
Relabel = list[tuple[Any, Callable[[str], Any]]]

TEXT: dict[str, dict[str, str]] = {
    "th": {
        "title": "# เมือง (Muang) · ผู้ช่วยตอบคำถามเมืองอัจฉริยะ",
        "subtitle": "ถามเรื่องเมืองอัจฉริยะของไทยเป็นภาษาไทยหรืออังกฤษ ทุกคำตอบบอกแหล่งที่มา ทำงานแบบออฟไลน์",
        "ui_lang": "ภาษาของหน้าจอ",
        "tab_chat": "ถามตอบ",
        "tab_docs": "เอกสาร",
        "tab_precedents": "เมืองตัวอย่าง",
        "tab_criteria": "ตรวจเกณฑ์",
        "chat": "บทสนทนา",
        "chat_placeholder": "พิมพ์คำถามแล้วกด Enter เช่น แม่เมาะอยู่จังหวัดไหน",
        "question": "คำถาม",
        "question_placeholder": "ถามเป็นภาษาไทยหรือภาษาอังกฤษ",
        "send": "ส่ง",
        "clear": "ล้างบทสนทนา",
        "filters": "ตัวกรอง (ไม่บังคับ)",
        "city": "เมือง",
        "smart": "ด้าน (Smart)",
        "lang": "ภาษาของแหล่งข้อมูล",
        "any": "ทั้งหมด",
        "lang_th": "ไทย",
        "lang_en": "อังกฤษ",
        "examples": "ตัวอย่างคำถาม",
        "who_citizen": "ประชาชน",
        "who_staff": "เจ้าหน้าที่",
        "who_applicant": "ผู้ยื่นข้อเสนอ",
        "sources": "แหล่งข้อมูล",
        "sources_empty": "แหล่งข้อมูลของคำตอบจะแสดงที่นี่",
        "not_confident": "ไม่มั่นใจ: เอกสารที่มีอาจไม่ตอบคำถามนี้",
        "source_lang": "ภาษา",
        "source_city": "เมือง",
        "source_ocr": "ข้อความอ่านด้วย OCR",
        "source_link": "ลิงก์แหล่งที่มา",
        "full_passage": "ข้อความทั้งตอน",
        "error": "ไม่สามารถตอบได้",
        "empty_question": "กรุณาพิมพ์คำถาม",
        "too_long": "คำถามยาว {n:,} ตัวอักษร เกินขีดจำกัด {limit:,} ตัวอักษร กรุณาย่อคำถาม",
        "feedback_thanks": "ขอบคุณสำหรับความคิดเห็น",
        "understood_as": "เข้าใจคำถามว่า",
        "mode_catalog": "ตอบจากตารางเมือง",
        "mode_extractive": "คัดข้อความจากเอกสาร",
        "mode_llm": "เรียบเรียงโดยโมเดลภาษา ({model}) และตรวจแหล่งอ้างอิงทุกประโยคแล้ว",
        "writing": "กำลังเรียบเรียงคำตอบ…",
        "docs_intro": "เอกสารที่อยู่ในดัชนี และอัปโหลดเอกสารเพิ่ม ({suffixes}) เอกสารที่อัปโหลดตอบคำถามได้ทันที",
        "docs_table": "เอกสารในดัชนี",
        "col_doc_id": "รหัสเอกสาร",
        "col_title": "ชื่อเรื่อง",
        "col_lang": "ภาษา",
        "col_kind": "ประเภท",
        "col_chunks": "จำนวนตอน",
        "upload": "อัปโหลดเอกสาร",
        "index_button": "เพิ่มเข้าดัชนี",
        "refresh": "รีเฟรช",
        "indexing": "กำลังสร้างดัชนี",
        "copying": "กำลังคัดลอกไฟล์",
        "reopening": "กำลังเปิดดัชนีใหม่",
        "no_files": "ยังไม่ได้เลือกไฟล์",
        "upload_done": "เพิ่มแล้ว {added} · ปรับปรุง {updated} · ไม่เปลี่ยน {unchanged} · ล้มเหลว {failed} · รวม {documents} เอกสาร {chunks} ตอน",
        "failed_heading": "ไฟล์ที่ใช้ไม่ได้",
        "unsupported": "ไม่รองรับไฟล์ชนิดนี้",
        "no_index": "ยังไม่มีดัชนี: อัปโหลดเอกสารหรือรัน `muang index`",
        "not_available": "ส่วนนี้ยังไม่พร้อมใช้งาน (ต้องใช้โมดูล {module})",
        "prec_intro": "เมืองที่ได้รับตราเมืองอัจฉริยะ กรองตามด้าน รุ่น หรือจังหวัด",
        "batch": "รุ่น",
        "province": "จังหวัด",
        "cities_table": "เมือง",
        "download_csv": "ดาวน์โหลด CSV",
        "chart": "จำนวนเมืองในแต่ละด้าน",
        "col_city": "เมือง",
        "col_province": "จังหวัด",
        "col_batch": "รุ่น",
        "col_smarts": "ด้าน",
        "col_awarded": "วันที่ได้รับตรา",
        "unknown": "ไม่ทราบ",
        "crit_intro": "วางข้อความข้อเสนอหรืออัปโหลดไฟล์ เพื่อตรวจว่าครอบคลุมเกณฑ์ใดบ้าง",
        "proposal": "ข้อความข้อเสนอ",
        "proposal_file": "หรืออัปโหลดไฟล์ข้อเสนอ",
        "check": "ตรวจ",
        "coverage": "ผลการตรวจ",
        "col_criterion": "เกณฑ์",
        "col_status": "สถานะ",
        "col_evidence": "หลักฐาน",
        "col_suggestion": "ข้อเสนอแนะ",
        "status_covered": "ครอบคลุม",
        "status_weak": "ยังอ่อน",
        "status_missing": "ไม่พบ",
        "smarts_addressed": "ด้านที่ข้อเสนอกล่าวถึง",
        "empty_proposal": "กรุณาวางข้อความหรืออัปโหลดไฟล์",
        "staff_intro": "ส่วนนี้สำหรับเจ้าหน้าที่: เพิ่ม ลบ และจัดทำดัชนีเอกสาร ดูความคิดเห็นของผู้ใช้ กรุณาเข้าสู่ระบบ",
        "no_staff": "ยังไม่มีบัญชีเจ้าหน้าที่ จึงปิดการอัปโหลดไว้ ผู้ดูแลเครื่องสร้างบัญชีได้ด้วยคำสั่ง "
                    "`muang user add ชื่อ` (ระบบจะถามรหัสผ่าน) แล้วโหลดหน้านี้ใหม่",
        "staff_name": "ชื่อบัญชี",
        "password": "รหัสผ่าน",
        "sign_in": "เข้าสู่ระบบ",
        "sign_out": "ออกจากระบบ",
        "signed_in_as": "เข้าสู่ระบบในชื่อ **{name}**",
        "signed_out": "ออกจากระบบแล้ว",
        "wrong_password": "ชื่อหรือรหัสผ่านไม่ถูกต้อง",
        "locked": "เข้าสู่ระบบผิดหลายครั้งเกินไป กรุณารอ 15 นาทีแล้วลองใหม่",
        "session_expired": "หมดเวลาการเข้าสู่ระบบ กรุณาเข้าสู่ระบบอีกครั้ง",
        "reindex_button": "จัดทำดัชนีใหม่ (คลังเอกสารและไฟล์ที่อัปโหลด)",
        "reindex_done": "จัดทำดัชนีแล้ว: เพิ่ม {added} · ปรับปรุง {updated} · ลบ {removed} · รวม {documents} เอกสาร {chunks} ตอน",
        "remove_id": "รหัสเอกสารที่จะลบ",
        "remove_button": "ลบเอกสาร",
        "removed": "ลบเอกสาร {doc_id} แล้ว",
        "col_origin": "ที่มา",
        "feedback_box": "ความคิดเห็นของผู้ใช้ (👍/👎)",
        "feedback_refresh": "แสดงความคิดเห็น",
        "feedback_export": "ส่งออกเป็น CSV",
        "col_time": "เวลา",
        "col_vote": "ความเห็น",
        "col_question": "คำถาม",
        "col_answer": "คำตอบ",
    },
    "en": {
        "title": "# Muang · Smart-city Q&A assistant",
        "subtitle": "Ask about Thailand's smart cities in Thai or English. Every answer shows its sources. Works offline.",
        "ui_lang": "Interface language",
        "tab_chat": "Ask",
        "tab_docs": "Documents",
        "tab_precedents": "Precedents",
        "tab_criteria": "Criteria check",
        "chat": "Conversation",
        "chat_placeholder": "Type a question and press Enter, e.g. Which province is Mae Moh in?",
        "question": "Question",
        "question_placeholder": "Ask in Thai or English",
        "send": "Send",
        "clear": "Clear conversation",
        "filters": "Filters (optional)",
        "city": "City",
        "smart": "Smart",
        "lang": "Source language",
        "any": "Any",
        "lang_th": "Thai",
        "lang_en": "English",
        "examples": "Example questions",
        "who_citizen": "Citizens",
        "who_staff": "Staff",
        "who_applicant": "Applicants",
        "sources": "Sources",
        "sources_empty": "The sources of an answer appear here.",
        "not_confident": "Not confident: the documents may not answer this question",
        "source_lang": "Language",
        "source_city": "City",
        "source_ocr": "text read by OCR",
        "source_link": "Source link",
        "full_passage": "Full passage",
        "error": "Cannot answer",
        "empty_question": "Please type a question.",
        "too_long": "The question has {n:,} characters; the limit is {limit:,}. Please shorten it.",
        "feedback_thanks": "Thank you for the feedback",
        "understood_as": "Understood as",
        "mode_catalog": "answered from the cities table",
        "mode_extractive": "quoted from the documents",
        "mode_llm": "written by the language model ({model}); every sentence checked against its source",
        "writing": "Writing the answer…",
        "docs_intro": "Documents in the index, and upload more ({suffixes}); an upload answers questions at once.",
        "docs_table": "Indexed documents",
        "col_doc_id": "Document id",
        "col_title": "Title",
        "col_lang": "Language",
        "col_kind": "Kind",
        "col_chunks": "Chunks",
        "upload": "Upload documents",
        "index_button": "Add to the index",
        "refresh": "Refresh",
        "indexing": "Indexing",
        "copying": "Copying files",
        "reopening": "Reopening the index",
        "no_files": "No file chosen",
        "upload_done": "added {added} · updated {updated} · unchanged {unchanged} · failed {failed} · now {documents} documents, {chunks} chunks",
        "failed_heading": "Files that could not be used",
        "unsupported": "unsupported file type",
        "no_index": "No index yet: upload documents or run `muang index`.",
        "not_available": "This part is not available yet (it needs the module {module}).",
        "prec_intro": "Cities awarded the smart-city mark, filtered by Smart, batch or province.",
        "batch": "Batch",
        "province": "Province",
        "cities_table": "Cities",
        "download_csv": "Download CSV",
        "chart": "Cities per Smart",
        "col_city": "City",
        "col_province": "Province",
        "col_batch": "Batch",
        "col_smarts": "Smarts",
        "col_awarded": "Awarded",
        "unknown": "unknown",
        "crit_intro": "Paste a proposal or upload a file to see which application criteria it covers.",
        "proposal": "Proposal text",
        "proposal_file": "or upload a proposal file",
        "check": "Check",
        "coverage": "Coverage",
        "col_criterion": "Criterion",
        "col_status": "Status",
        "col_evidence": "Evidence",
        "col_suggestion": "Suggestion",
        "status_covered": "covered",
        "status_weak": "weak",
        "status_missing": "missing",
        "smarts_addressed": "Smarts addressed",
        "empty_proposal": "Please paste text or upload a file.",
        "staff_intro": "For staff: add, remove and re-index documents, read users' feedback. Please sign in.",
        "no_staff": "There is no staff account yet, so uploads are off. Whoever runs the server creates one with "
                    "`muang user add NAME` (it asks for the password), then reload this page.",
        "staff_name": "Account name",
        "password": "Password",
        "sign_in": "Sign in",
        "sign_out": "Sign out",
        "signed_in_as": "Signed in as **{name}**",
        "signed_out": "Signed out",
        "wrong_password": "Wrong name or password",
        "locked": "Too many failed sign-ins; please wait 15 minutes and try again.",
        "session_expired": "Your session has expired; please sign in again.",
        "reindex_button": "Re-index (the corpus and the uploads)",
        "reindex_done": "Re-indexed: added {added} · updated {updated} · removed {removed} · now {documents} documents, {chunks} chunks",
        "remove_id": "Document id to remove",
        "remove_button": "Remove document",
        "removed": "Removed {doc_id}",
        "col_origin": "Origin",
        "feedback_box": "Users' feedback (👍/👎)",
        "feedback_refresh": "Show feedback",
        "feedback_export": "Export as CSV",
        "col_time": "Time",
        "col_vote": "Vote",
        "col_question": "Question",
        "col_answer": "Answer",
    },
}


# Example questions per user type; every one is answered by the shipped corpus (from evals/gold.jsonl).
EXAMPLES: dict[str, dict[str, list[str]]] = {
    "th": {
        "citizen": ["แม่เมาะอยู่จังหวัดไหน", "ภูเก็ตได้กี่ด้าน", "7 Smarts คืออะไร"],
        "staff": ["แม่เมาะได้รับตราสัญลักษณ์เมืองอัจฉริยะเมื่อไหร่", "ใครเป็นเลขานุการคณะอนุกรรมการเมืองอัจฉริยะ"],
        "applicant": ["เขตส่งเสริมเมืองอัจฉริยะคืออะไร", "ต้องมีแพลตฟอร์มข้อมูลเมืองไหม"],
    },
    "en": {
        "citizen": ["Which province is Mae Moh Smart City in?", "What are the 7 Smarts?", "Who runs Wangchan Valley?"],
        "staff": ["When did Mae Moh receive the smart-city mark?", "Who chairs the Smart City Development Committee?"],
        "applicant": ["What is a smart city promotion zone?", "Is a city data platform required for approval?"],
    },
}
WHO = ("citizen", "staff", "applicant")


def t(lang: str, key: str, **values: object) -> str:
    """One label in the interface language (Thai for anything unknown).

    >>> t("en", "send"), t("th", "send")
    ('Send', 'ส่ง')
    """
    text = TEXT.get(lang, TEXT[DEFAULT_LANG])[key]
    return text.format(**values) if values else text


def smart_name(slug: str, lang: str) -> str:
    names = SMART_NAMES.get(slug)
    if not names:
        return slug
    return names[0] if lang == "th" else names[1]


def city_name(slug: str) -> str:
    """A readable name for a city slug when the catalog offers none: "mae-moh" -> "Mae Moh"."""
    return slug.replace("-", " ").replace("_", " ").title()


def filter_choices(service: "Service", lang: str) -> dict[str, list[tuple[str, str]]]:
    """The chat filters' dropdown choices (city, Smart, source language) labelled in the UI's language."""
    from assistant.ingest.documents import SMARTS

    any_ = (t(lang, "any"), ANY)
    return {
        "city": [any_] + [(city_name(c), c) for c in service.cities()],
        "smart": [any_] + [(smart_name(s, lang), s) for s in SMARTS],
        "lang": [any_, (t(lang, "lang_th"), "th"), (t(lang, "lang_en"), "en")],
    }
