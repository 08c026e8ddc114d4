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
    "tab_calc": ("Calculs", "Calculations", "الحسابات"),
    "tab_negotiation": ("Négociation", "Negotiation", "التفاوض"),
    "app_intro": ("## Ittifaq — اتفاق\nAssistant hors ligne pour la négociation de la convention collective des centres d'appels.",
                  "## Ittifaq — اتفاق\nOffline assistant for negotiating the call-centre collective agreement.",
                  "## Ittifaq — اتفاق\nمساعد يعمل دون اتصال بالإنترنت للتفاوض حول الاتفاقية الجماعية لمراكز النداء."),
    "first_steps": ("Premiers pas", "Getting started", "البداية"),
    "demands_example": ("prime d'ancienneté 8 % après 2 ans", "seniority bonus 8 % after 2 years", "منحة الأقدمية 8 % بعد سنتين"),
    # choices: kinds of text (chat filters) and drafting variants
    "kind_law": ("Loi", "Law", "قانون"),
    "kind_decree": ("Décret", "Decree", "مرسوم"),
    "kind_agreement": ("Convention collective", "Collective agreement", "اتفاقية جماعية"),
    "kind_intl_convention": ("Convention OIT", "ILO convention", "اتفاقية منظمة العمل الدولية"),
    "kind_press": ("Presse", "Press", "صحافة"),
    "kind_project": ("Fiche du projet", "Project sheet", "بطاقة المشروع"),
    "variant_floor": ("Plancher (minimum légal)", "Floor (legal minimum)", "الحد الأدنى القانوني"),
    "variant_target": ("Cible", "Target", "الهدف"),
    "variant_ambitious": ("Ambitieuse", "Ambitious", "طموحة"),
    # the « Calculs » tab
    "calc_intro": ("Calculs faits par le programme à partir des règles du Code du travail (jamais par le modèle) : "
                   "chaque résultat donne son calcul et son article.",
                   "Calculations made by the program from the rules of the Labour Code (never by the model): "
                   "each result shows its arithmetic and its article.",
                   "حسابات يجريها البرنامج انطلاقا من قواعد مدونة الشغل (وليس النموذج أبدا): كل نتيجة تبين طريقة حسابها ومادتها."),
    "calc_pick": ("Calcul", "Calculation", "الحساب"),
    "calc_seniority": ("Prime d'ancienneté (art. 350)", "Seniority bonus (art. 350)", "منحة الأقدمية (المادة 350)"),
    "calc_severance": ("Indemnité de licenciement (art. 52–53)", "Severance pay (art. 52–53)", "التعويض عن الفصل (المادتان 52–53)"),
    "calc_leave": ("Congé payé annuel (art. 231–232)", "Annual paid leave (art. 231–232)", "العطلة السنوية المؤدى عنها (المادتان 231–232)"),
    "calc_delegates": ("Délégués des salariés (art. 433)", "Staff delegates (art. 433)", "مندوبو الأجراء (المادة 433)"),
    "calc_union_reps": ("Représentants syndicaux (art. 470)", "Union representatives (art. 470)", "الممثلون النقابيون (المادة 470)"),
    "calc_overtime": ("Majoration d'une heure supplémentaire (art. 201)", "Overtime premium (art. 201)", "الزيادة عن الساعات الإضافية (المادة 201)"),
    "calc_minimum_wage": ("Salaire minimum mensuel (décret 2-25-983, art. 184)", "Monthly minimum wage (decree 2-25-983, art. 184)",
                          "الحد الأدنى للأجر الشهري (المرسوم 2-25-983، المادة 184)"),
    "calc_years": ("Ancienneté (années)", "Seniority (years)", "الأقدمية (بالسنوات)"),
    "calc_wage": ("Salaire mensuel (MAD, facultatif)", "Monthly wage (MAD, optional)", "الأجر الشهري (بالدرهم، اختياري)"),
    "calc_months": ("Mois de service dans l'année", "Months of service in the year", "أشهر العمل خلال السنة"),
    "calc_age": ("Âge (facultatif)", "Age (optional)", "السن (اختياري)"),
    "calc_employees": ("Effectif (salariés)", "Headcount (employees)", "عدد الأجراء"),
    "calc_hour": ("Heure (HH:MM)", "Time (HH:MM)", "الساعة (HH:MM)"),
    "calc_day": ("Jour", "Day", "اليوم"),
    "calc_rest_day": ("Jour du repos hebdomadaire", "Weekly rest day", "يوم الراحة الأسبوعية"),
    "calc_date": ("Date (AAAA-MM-JJ, facultatif : aujourd'hui)", "Date (YYYY-MM-DD, optional: today)", "التاريخ (YYYY-MM-DD، اختياري: اليوم)"),
    "calc_btn": ("Calculer", "Calculate", "احسب"),
    "day_lundi": ("Lundi", "Monday", "الاثنين"),
    "day_mardi": ("Mardi", "Tuesday", "الثلاثاء"),
    "day_mercredi": ("Mercredi", "Wednesday", "الأربعاء"),
    "day_jeudi": ("Jeudi", "Thursday", "الخميس"),
    "day_vendredi": ("Vendredi", "Friday", "الجمعة"),
    "day_samedi": ("Samedi", "Saturday", "السبت"),
    "day_dimanche": ("Dimanche", "Sunday", "الأحد"),
    # the « Négociation » tab
    "nego_project": ("Projet", "Project", "المشروع"),
    "nego_refresh": ("Actualiser", "Refresh", "تحديث"),
    "nego_rounds": ("Tours de négociation", "Negotiation rounds", "جولات التفاوض"),
    "nego_round_note": ("Note du nouveau tour", "Note for the new round", "ملاحظة الجولة الجديدة"),
    "nego_new_round": ("Ouvrir un nouveau tour", "Open a new round", "فتح جولة جديدة"),
    "nego_clauses": ("Clauses du dernier tour (statut, mandat)", "Clauses of the last round (status, mandate)", "بنود الجولة الأخيرة (الوضع، التفويض)"),
    "nego_clause": ("Clause", "Clause", "البند"),
    "nego_text": ("Texte (dernier tour)", "Text (last round)", "النص (الجولة الأخيرة)"),
    "nego_status": ("Statut", "Status", "الوضع"),
    "nego_save": ("Enregistrer", "Save", "حفظ"),
    "nego_history": ("Historique", "History", "السجل"),
    "nego_counter": ("Contre-proposition patronale", "Employer counter-proposal", "المقترح المضاد للمشغل"),
    "nego_counter_file": ("Document (DOCX, PDF, MD, TXT)", "Document (DOCX, PDF, MD, TXT)", "الوثيقة (DOCX, PDF, MD, TXT)"),
    "nego_compare": ("Comparer", "Compare", "قارن"),
    "nego_apply": ("Enregistrer leurs textes comme contre-propositions", "Save their texts as counter-proposals", "حفظ نصوصهم كمقترحات مضادة"),
    "nego_redline_box": ("Modifications suivies (Word)", "Tracked changes (Word)", "تتبع التغييرات (Word)"),
    "nego_from_round": ("Depuis le tour", "From round", "من الجولة"),
    "nego_to_round": ("Jusqu'au tour (vide = dernier)", "To round (empty = last)", "إلى الجولة (فارغ = الأخيرة)"),
    "nego_redline": ("DOCX avec modifications suivies", "DOCX with tracked changes", "DOCX مع تتبع التغييرات"),
    "nego_download": ("Téléchargement", "Download", "تنزيل"),
    "nego_costing_box": ("Chiffrage des revendications", "Costing of the demands", "تقدير كلفة المطالب"),
    "nego_grid": ("Grille de salaires (CSV ou XLSX)", "Wage grid (CSV or XLSX)", "شبكة الأجور (CSV أو XLSX)"),
    "nego_years": ("Durée de l'accord (années)", "Term of the agreement (years)", "مدة الاتفاق (بالسنوات)"),
    "nego_cost": ("Chiffrer", "Cost the demands", "احسب الكلفة"),
    "nego_chart": ("Coût annuel par revendication (MAD)", "Yearly cost per demand (MAD)", "الكلفة السنوية لكل مطلب (بالدرهم)"),
    "nego_cost_file": ("Chiffrage XLSX", "Costing (XLSX)", "تقدير الكلفة (XLSX)"),
    "nego_team": ("Partager avec l'équipe", "Share with the team", "المشاركة مع الفريق"),
    "nego_share": ("Partager", "Share", "مشاركة"),
    "clause_edit": ("Texte de la clause choisie (modifiable)", "Text of the chosen clause (editable)", "نص البند المختار (قابل للتعديل)"),
    "edit_clause": ("Enregistrer le texte", "Save the text", "حفظ النص"),
    "take_negotiation": ("Reprendre les textes de la négociation", "Take the negotiation's texts", "اعتماد نصوص التفاوض"),
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


LANGUAGES = (("Français", "fr"), ("English", "en"), ("العربية", "ar"))
RTL_LANGS = frozenset({"ar"})


def tr(key: str, lang: str = "fr") -> str:
    """The interface string ``key`` in ``lang`` (French for an unknown language)."""
    return TEXTS[key][LANG_INDEX.get(lang, 0)]


def choices(keys: dict[str, str], lang: str = "fr") -> list[tuple[str, str]]:
    """Dropdown or radio choices ``(label, value)`` from ``{value: text key}``, labels in ``lang``."""
    return [(tr(key, lang), value) for value, key in keys.items()]


class Labels:
    """The components whose text follows the interface language: each registered with the
    property that shows the text (label, value, placeholder, choices) and its text key, or a
    function of the language for choices."""

    def __init__(self) -> None:
        self.entries: list[tuple[object, str, object]] = []

    def __call__(self, component, key, prop: str = "label"):
        self.entries.append((component, prop, key))
        return component

    def components(self) -> list:
        """Each labelled component once, in registration order."""
        seen: dict[int, object] = {}
        for component, _, _ in self.entries:
            seen.setdefault(id(component), component)
        return list(seen.values())

    def updates(self, lang: str) -> list[dict]:
        """One update per component (all its translated properties), in :meth:`components` order."""
        lang = lang if lang in LANG_INDEX else "fr"
        props: dict[int, dict] = {}
        for component, prop, key in self.entries:
            props.setdefault(id(component), {})[prop] = key(lang) if callable(key) else tr(key, lang)
        import gradio as gr

        return [gr.update(**props[id(c)]) for c in self.components()]
