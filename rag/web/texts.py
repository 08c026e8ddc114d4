"""What the interface says, in French (the default), English and Arabic.

``tr(key, lang)`` gives one interface string; the label tables name the corpus's vocabularies
(kinds of text, languages, drafting variants, indexing results) in the negotiators' words.
"""

from __future__ import annotations

KIND_LABELS = {
    "law": "Loi", "decree": "Décret", "agreement": "Convention collective", "intl_convention": "Convention OIT",
    "press": "Presse", "project": "Fiche du projet", "clause": "Modèle de clause (proposition syndicale)", "other": "Autre",
}
FILTER_KINDS = ("law", "decree", "agreement", "intl_convention", "press", "project")
LANG_LABELS = {"fr": "Français", "ar": "العربية", "en": "English"}
VARIANT_LABELS = {"floor": "Plancher (minimum légal)", "target": "Cible", "ambitious": "Ambitieuse"}
VARIANT_ALIASES = {"plancher": "floor", "cible": "target", "ambitieuse": "ambitious", "floor": "floor", "target": "target", "ambitious": "ambitious"}
RESULT_LABELS = {"indexed": "indexé", "skipped": "inchangé", "failed": "échec"}

# Interface language: French by default; labels switch to English or Arabic (and the page to RTL).
TEXTS: dict[str, tuple[str, str, str]] = {
    "tab_chat": ("Chat", "Chat", "المحادثة"),
    "tab_draft": ("Rédaction", "Drafting", "الصياغة"),
    "tab_project": ("Projet de convention", "Draft agreement", "مشروع الاتفاقية"),
    "tab_corpus": ("Corpus", "Corpus", "المتن"),
    "ui_lang": ("Langue de l'interface", "Interface language", "لغة الواجهة"),
    "conversations": ("Conversations", "Conversations", "المحادثات"),
    "new_conv": ("Nouvelle conversation", "New conversation", "محادثة جديدة"),
    "delete_conv": ("Supprimer la conversation", "Delete conversation", "حذف المحادثة"),
    "filters": ("Filtres de recherche", "Search filters", "مرشحات البحث"),
    "kinds": ("Types de textes", "Kinds of text", "أنواع النصوص"),
    "langs": ("Langues des textes", "Text languages", "لغات النصوص"),
    "source": ("Un seul texte", "One text only", "نص واحد فقط"),
    "chatbot": ("Réponses (chaque affirmation cite son article)", "Answers (each statement cites its article)", "الأجوبة (كل معلومة مع مادتها)"),
    "message": ("Votre question (français, arabe ou anglais)", "Your question (French, Arabic or English)", "سؤالك (بالفرنسية أو العربية أو الإنجليزية)"),
    "send": ("Envoyer", "Send", "إرسال"),
    "chips": ("Sources citées : cliquez pour lire l'extrait", "Cited sources: click to read the excerpt", "المصادر: انقر لقراءة المقتطف"),
    "excerpt_text": ("Extrait cité", "Cited excerpt", "المقتطف"),
    "library_topic": ("Thème de la bibliothèque", "Library topic", "موضوع من المكتبة"),
    "free_topic": ("… ou thème libre (hors bibliothèque)", "… or free topic (outside the library)", "… أو موضوع حر"),
    "demands": ("Revendications (une par ligne)", "Demands (one per line)", "المطالب (واحد في كل سطر)"),
    "context": ("Contexte (facultatif)", "Context (optional)", "السياق (اختياري)"),
    "variant": ("Variante", "Variant", "الصيغة"),
    "use_model": ("Exposé des motifs rédigé par le modèle (plus lent)", "Rationale written by the model (slower)", "تعليل يكتبه النموذج (أبطأ)"),
    "draft_btn": ("Rédiger", "Draft", "صياغة"),
    "clause_text": ("Texte de la clause (modifiable)", "Clause text (editable)", "نص البند (قابل للتعديل)"),
    "comparison": ("Comparaison avec la loi et les conventions", "Comparison with the law and agreements", "مقارنة مع القانون والاتفاقيات"),
    "add_btn": ("Ajouter au projet", "Add to the agreement", "إضافة إلى المشروع"),
    "project_title": ("Titre de la convention", "Agreement title", "عنوان الاتفاقية"),
    "project_preamble": ("Préambule", "Preamble", "الديباجة"),
    "save_meta": ("Enregistrer titre et préambule", "Save title and preamble", "حفظ العنوان والديباجة"),
    "project_table": ("Clauses du projet, dans l'ordre", "Clauses of the agreement, in order", "بنود المشروع بالترتيب"),
    "clause_pick": ("Clause", "Clause", "البند"),
    "up": ("↑ Monter", "↑ Move up", "↑ إلى الأعلى"),
    "down": ("↓ Descendre", "↓ Move down", "↓ إلى الأسفل"),
    "remove_clause": ("Retirer du projet", "Remove from the agreement", "حذف من المشروع"),
    "export_md": ("Exporter en Markdown", "Export as Markdown", "تصدير Markdown"),
    "export_docx": ("Exporter en Word (DOCX)", "Export as Word (DOCX)", "تصدير Word"),
    "export_file": ("Fichier exporté", "Exported file", "الملف المصدَّر"),
    "project_preview": ("Aperçu (Markdown)", "Preview (Markdown)", "معاينة"),
    "upload": ("Fichiers à indexer (PDF, DOCX, MD, TXT)", "Files to index (PDF, DOCX, MD, TXT)", "ملفات للفهرسة (PDF, DOCX, MD, TXT)"),
    "index_btn": ("Indexer", "Index", "فهرسة"),
    "reindex_btn": ("Tout ré-indexer", "Re-index everything", "إعادة فهرسة الكل"),
    "index_results": ("Résultat par fichier", "Result per file", "النتيجة لكل ملف"),
    "documents": ("Textes indexés", "Indexed texts", "النصوص المفهرسة"),
    "remove_pick": ("Texte à retirer", "Text to remove", "النص المراد حذفه"),
    "remove_doc": ("Retirer ce texte", "Remove this text", "حذف هذا النص"),
    # conversations, the article reader and the corpus search box
    "conv_title": ("Nouveau titre de la conversation", "New conversation title", "عنوان جديد للمحادثة"),
    "rename_conv": ("Renommer", "Rename", "إعادة التسمية"),
    "export_conv": ("Exporter (Markdown)", "Export (Markdown)", "تصدير (Markdown)"),
    "conv_file": ("Conversation exportée", "Exported conversation", "المحادثة المصدَّرة"),
    "confirm_delete": ("Confirmer la suppression", "Confirm deletion", "تأكيد الحذف"),
    "cancel_delete": ("Annuler", "Cancel", "إلغاء"),
    "article_prev": ("← Article précédent", "← Previous article", "→ المادة السابقة"),
    "article_next": ("Article suivant →", "Next article →", "المادة التالية ←"),
    "search_corpus": ("Rechercher dans le corpus", "Search the corpus", "البحث في المتن"),
    "search_query": ("Mots à chercher (ou « article 350 »)", "Words to search for (or “article 350”)", "كلمات البحث (أو « المادة 350 »)"),
    "search_btn": ("Rechercher", "Search", "بحث"),
    "search_results": ("Passages trouvés : cliquez sur une ligne pour lire l'article entier", "Passages found: click a row to read the whole article",
                       "المقاطع: انقر على سطر لقراءة المادة كاملة"),
    "art_prev_line": ("← article précédent : {n}", "← previous article: {n}", "→ المادة السابقة: {n}"),
    "art_next_line": ("article suivant : {n} →", "next article: {n} →", "المادة التالية: {n} ←"),
    "art_also_in": ("Aussi un article {n} dans : {texts} — choisissez le texte dans le filtre « Un seul texte » pour le lire.",
                    "There is also an article {n} in: {texts} — pick the text in the “One text only” filter to read it.",
                    "توجد أيضا مادة {n} في: {texts} — اختر النص في مرشح « نص واحد فقط » لقراءتها."),
    "art_absent": ("Article {n} introuvable dans les textes indexés.", "Article {n} was not found in the indexed texts.",
                   "المادة {n} غير موجودة في النصوص المفهرسة."),
    "art_absent_in": ("Article {n} introuvable dans « {source} ».", "Article {n} was not found in “{source}”.", "المادة {n} غير موجودة في « {source} »."),
    "art_unknown_source": ("Aucun texte indexé sous le nom « {source} ».", "No indexed text is named “{source}”.", "لا يوجد نص مفهرس باسم « {source} »."),
    "art_ambiguous": ("Plusieurs textes ont un article {n} : choisissez-en un dans le filtre « Un seul texte » (Filtres de recherche), puis redemandez l'article :",
                      "Several texts have an article {n}: pick one in the “One text only” filter (Search filters), then ask for the article again:",
                      "عدة نصوص فيها مادة {n}: اختر واحدا في مرشح « نص واحد فقط » (مرشحات البحث) ثم اطلب المادة من جديد:"),
    "art_uncertain": ("⚠ Lecture incertaine (texte scanné, reconnu par OCR) : vérifiez sur l'original.",
                      "⚠ Uncertain reading (scanned text, read by OCR): check the original.",
                      "⚠ قراءة غير مؤكدة (نص ممسوح ضوئيا): تحقق من الأصل."),
    "art_request": ("article {n}", "article {n}", "المادة {n}"),
}
LANG_INDEX = {"fr": 0, "en": 1, "ar": 2}
EXAMPLE_QUESTIONS = (
    "Combien d'heures par semaine au maximum ?",
    "Quel est le taux de la prime d'ancienneté après 7 ans ?",
    "Combien de délégués des salariés pour 320 salariés ?",
    "ما هي مدة الراحة الأسبوعية؟",
    "What is the overtime premium at night?",
)

COMPARISON_HEADERS = ["Paramètre", "Plancher légal", "Projet", "Statut", "Comparable"]
PROJECT_HEADERS = ["N°", "Clause", "Variante", "Points sous le plancher", "Ajoutée le"]
RESULT_HEADERS = ["Fichier", "Résultat", "Détail"]
SEARCH_HEADERS = ["Référence", "Article", "Page", "Fichier", "Extrait"]
DOCUMENT_HEADERS = ["Fichier", "Titre", "Type", "Langue", "Articles", "Passages", "État"]


def tr(key: str, lang: str = "fr") -> str:
    """The interface string ``key`` in ``lang`` (French for an unknown language)."""
    return TEXTS[key][LANG_INDEX.get(lang, 0)]
