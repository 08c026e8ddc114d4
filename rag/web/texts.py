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
    "calc_steps": ("Calcul", "Arithmetic", "طريقة الحساب"),
    "calc_basis": ("Fondement : {refs} — règles du projet : {rules}.", "Legal basis: {refs} — project rules: {rules}.", "السند: {refs} — قواعد المشروع: {rules}."),
    "calc_need": ("indiquez {what}", "enter {what}", "أدخل {what}"),
    "calc_whole": ("l'effectif doit être un nombre entier de salariés", "the headcount must be a whole number of employees", "يجب أن يكون عدد الأجراء عددا صحيحا"),
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
    # ---- the status line and the first-run panel (rag/web/base.py, rag/web/chat.py)
    "status_texts": ("Textes indexés", "Indexed texts", "النصوص المفهرسة"),
    "status_answers": ("Réponses", "Answers", "الأجوبة"),
    "status_missing": ("manquent", "missing", "ناقص"),
    "status_passages": ("{n} passages", "{n} passages", "المقاطع: {n}"),
    "status_unreadable": ("illisible ({reason})", "unreadable ({reason})", "غير مقروء ({reason})"),
    "status_no_text": ("aucun texte", "no text", "لا يوجد أي نص"),
    "model_remote": ("serveur de modèle de la fédération ({name})", "the federation's model server ({name})", "خادم النموذج التابع للجامعة ({name})"),
    "model_ready": ("modèle local, hors ligne (prêt)", "local offline model (ready)", "نموذج محلي دون اتصال (جاهز)"),
    "model_warming": ("modèle local, hors ligne (se prépare pour la première question)", "local offline model (getting ready for the first question)",
                      "نموذج محلي دون اتصال (قيد التحضير للسؤال الأول)"),
    "welcome_intro": ("**Bienvenue.** Ittifaq répond à partir des textes indexés ici — {kinds} — et cite l'article de chaque affirmation ; l'extrait est à un clic.",
                      "**Welcome.** Ittifaq answers from the texts indexed here — {kinds} — and cites the article of each statement; the excerpt is one click away.",
                      "**مرحبا.** يجيب « اتفاق » انطلاقا من النصوص المفهرسة هنا — {kinds} — ويذكر مادة كل معلومة؛ والمقتطف على بعد نقرة."),
    "welcome_no_law": ("⚠ **Le Code du travail n'est pas encore indexé** : les réponses ne s'appuient pour l'instant que sur les fiches du projet. "
                       "Importez le texte officiel dans l'onglet Corpus.",
                       "⚠ **The Labour Code is not indexed yet**: answers rest only on the project's sheets for now. Import the official text in the Corpus tab.",
                       "⚠ **مدونة الشغل غير مفهرسة بعد**: لا تستند الأجوبة حاليا إلا إلى بطاقات المشروع. استورد النص الرسمي من تبويب المتن."),
    "import_btn": ("Importer un texte officiel (onglet Corpus)", "Import an official text (Corpus tab)", "استيراد نص رسمي (تبويب المتن)"),
    "welcome_missing": ("Textes officiels à importer (onglet **Corpus**) :", "Official texts to import (**Corpus** tab):", "نصوص رسمية يجب استيرادها (تبويب **المتن**):"),
    "welcome_library": ("⚠ {name} : {problem} — les autres modèles restent disponibles.", "⚠ {name}: {problem} — the other templates remain available.",
                        "⚠ {name}: {problem} — تبقى النماذج الأخرى متاحة."),
    "welcome_examples": ("Exemples de questions (cliquez) :", "Example questions (click one):", "أمثلة على الأسئلة (انقر):"),
    "corpus_unreadable": ("⚠ Le corpus est illisible : {reason}", "⚠ The corpus cannot be read: {reason}", "⚠ تعذرت قراءة المتن: {reason}"),
    "kind_clause": ("Modèle de clause", "Clause template", "نموذج بند"),
    "kind_other": ("Autre", "Other", "أخرى"),
    "all_texts": ("Tous les textes", "All texts", "كل النصوص"),
    "read_only": ("*Consultation seule : l'ajout et le retrait de textes sont réservés aux administrateurs.*",
                  "*Read only: adding and removing texts is reserved to administrators.*", "*اطلاع فقط: إضافة النصوص وحذفها من صلاحيات المشرفين.*"),
    # ---- notices of the Chat tab
    "msg_empty": ("Message vide : écrivez une question avant d'envoyer.", "Empty message: write a question before sending.", "رسالة فارغة: اكتب سؤالا قبل الإرسال."),
    "msg_too_long": ("Message trop long ({n} caractères) : la limite est de {limit} caractères. Raccourcissez la question ou découpez-la.",
                     "Message too long ({n} characters): the limit is {limit} characters. Shorten the question or split it.",
                     "الرسالة طويلة جدا ({n} حرفا): الحد هو {limit} حرفا. اختصر السؤال أو قسمه."),
    "searching": ("Recherche dans les textes indexés…", "Searching the indexed texts…", "جار البحث في النصوص المفهرسة…"),
    "writing": ("Rédaction de la réponse…", "Writing the answer…", "جار تحرير الجواب…"),
    "model_failed": ("⚠ Le modèle n'a pas pu répondre : {reason}", "⚠ The model could not answer: {reason}", "⚠ تعذر على النموذج الإجابة: {reason}"),
    "interrupted": ("*(réponse interrompue)*", "*(answer interrupted)*", "*(جواب منقطع)*"),
    "conv_not_saved": ("⚠ La conversation n'a pas pu être enregistrée (disque plein ou dossier en lecture seule).",
                       "⚠ The conversation could not be saved (disk full or read-only folder).", "⚠ تعذر حفظ المحادثة (القرص ممتلئ أو المجلد للقراءة فقط)."),
    "conv_deleted": ("Conversation supprimée.", "Conversation deleted.", "حُذفت المحادثة."),
    "no_previous": ("⚠ Pas d'article précédent à afficher.", "⚠ No previous article to show.", "⚠ لا توجد مادة سابقة لعرضها."),
    "no_next": ("⚠ Pas d'article suivant à afficher.", "⚠ No next article to show.", "⚠ لا توجد مادة تالية لعرضها."),
    "article_failed": ("⚠ Lecture de l'article impossible : {reason}", "⚠ The article could not be read: {reason}", "⚠ تعذرت قراءة المادة: {reason}"),
    "rename_unsaved": ("⚠ Posez d'abord une question : une conversation vide n'est pas encore enregistrée.",
                       "⚠ Ask a question first: an empty conversation is not saved yet.", "⚠ اطرح سؤالا أولا: المحادثة الفارغة لا تُحفظ بعد."),
    "rename_failed": ("⚠ Renommage impossible : {reason}", "⚠ Renaming failed: {reason}", "⚠ تعذرت إعادة التسمية: {reason}"),
    "renamed": ("Conversation renommée : « {title} ».", "Conversation renamed: “{title}”.", "أعيدت تسمية المحادثة: « {title} »."),
    "export_empty_conv": ("⚠ Conversation vide : posez d'abord une question, puis exportez.", "⚠ Empty conversation: ask a question first, then export.",
                          "⚠ محادثة فارغة: اطرح سؤالا أولا ثم صدّرها."),
    "export_failed": ("⚠ Export impossible : {reason}", "⚠ Export failed: {reason}", "⚠ تعذر التصدير: {reason}"),
    "conv_exported": ("Conversation exportée : {name}.", "Conversation exported: {name}.", "صُدّرت المحادثة: {name}."),
    "nothing_to_delete": ("⚠ Aucune conversation enregistrée à supprimer.", "⚠ No saved conversation to delete.", "⚠ لا توجد محادثة محفوظة لحذفها."),
    "untitled": ("(sans titre)", "(untitled)", "(بدون عنوان)"),
    "ask_delete": ("Supprimer définitivement « {title} » ? Cliquez sur « Confirmer la suppression » ou « Annuler ».",
                   "Delete “{title}” for good? Click “Confirm deletion” or “Cancel”.", "حذف « {title} » نهائيا؟ انقر على « تأكيد الحذف » أو « إلغاء »."),
    "delete_cancelled": ("Suppression annulée.", "Deletion cancelled.", "أُلغي الحذف."),
    "delete_changed": ("⚠ La conversation affichée a changé : cliquez de nouveau sur « Supprimer la conversation ».",
                       "⚠ The conversation shown has changed: click “Delete conversation” again.", "⚠ تغيرت المحادثة المعروضة: انقر من جديد على « حذف المحادثة »."),
    # ---- notices of the Corpus tab
    "admins_add": ("⚠ Seuls les administrateurs peuvent ajouter des textes au corpus.", "⚠ Only administrators may add texts to the corpus.",
                   "⚠ لا يمكن إلا للمشرفين إضافة نصوص إلى المتن."),
    "admins_reindex": ("⚠ Seuls les administrateurs peuvent ré-indexer le corpus.", "⚠ Only administrators may re-index the corpus.",
                       "⚠ لا يمكن إلا للمشرفين إعادة فهرسة المتن."),
    "admins_remove": ("⚠ Seuls les administrateurs peuvent retirer des textes du corpus.", "⚠ Only administrators may remove texts from the corpus.",
                      "⚠ لا يمكن إلا للمشرفين حذف نصوص من المتن."),
    "choose_files": ("⚠ Choisissez d'abord un ou plusieurs fichiers.", "⚠ Choose one or more files first.", "⚠ اختر ملفا أو أكثر أولا."),
    "too_many_files": ("⚠ Au plus {n} fichiers à la fois.", "⚠ At most {n} files at a time.", "⚠ {n} ملفا على الأكثر في كل مرة."),
    "file_refused": ("Fichier refusé : il appartient à un autre utilisateur.", "File refused: it belongs to another user.", "ملف مرفوض: إنه يخص مستخدما آخر."),
    "copy_failed": ("Copie impossible : {reason}.", "Copy failed: {reason}.", "تعذر النسخ: {reason}."),
    "file_unreadable": ("Fichier illisible : {reason}.", "Unreadable file: {reason}.", "ملف غير مقروء: {reason}."),
    "index_failed": ("⚠ Indexation interrompue : {reason}", "⚠ Indexing interrupted: {reason}", "⚠ توقفت الفهرسة: {reason}"),
    "reindex_failed": ("⚠ Ré-indexation interrompue : {reason}", "⚠ Re-indexing interrupted: {reason}", "⚠ توقفت إعادة الفهرسة: {reason}"),
    "nothing_to_reindex": ("Rien à ré-indexer : aucun dossier de corpus ni fichier enregistré n'existe.",
                           "Nothing to re-index: no corpus folder or recorded file exists.", "لا شيء لإعادة فهرسته: لا يوجد مجلد متن ولا ملف مسجل."),
    "choose_document": ("⚠ Choisissez d'abord un texte indexé.", "⚠ Choose an indexed text first.", "⚠ اختر نصا مفهرسا أولا."),
    "remove_failed": ("⚠ Retrait impossible : {reason}", "⚠ Removal failed: {reason}", "⚠ تعذر الحذف: {reason}"),
    "document_removed": ("Texte retiré : {source}.", "Text removed: {source}.", "حُذف النص: {source}."),
    "index_summary": ("{indexed} indexé(s), {skipped} inchangé(s), {failed} en échec.", "{indexed} indexed, {skipped} unchanged, {failed} failed.",
                      "مفهرس: {indexed}، دون تغيير: {skipped}، فشل: {failed}."),
    "result_indexed": ("indexé", "indexed", "مفهرس"),
    "result_skipped": ("inchangé", "unchanged", "دون تغيير"),
    "result_failed": ("échec", "failed", "فشل"),
    "doc_interrupted": ("interrompu : à ré-indexer", "interrupted: re-index it", "متوقف: أعد فهرسته"),
    "search_failed": ("⚠ Recherche impossible : {reason}", "⚠ Search failed: {reason}", "⚠ تعذر البحث: {reason}"),
    "search_none": ("Aucun passage trouvé : essayez d'autres mots ou retirez un filtre.", "No passage found: try other words or remove a filter.",
                    "لم يُعثر على أي مقطع: جرب كلمات أخرى أو أزل مرشحا."),
    "search_found": ("{n} passage(s) ; cliquez sur une ligne pour lire l'article entier.", "{n} passage(s); click a row to read the whole article.",
                     "عدد المقاطع: {n}؛ انقر على سطر لقراءة المادة كاملة."),
    "passage_no_article": ("passage sans numéro d'article", "passage without an article number", "مقطع بلا رقم مادة"),
    # ---- notices of the Rédaction tab
    "choose_topic": ("Choisissez un thème de la bibliothèque ou écrivez un thème libre.", "Choose a library topic or write a free topic.",
                     "اختر موضوعا من المكتبة أو اكتب موضوعا حرا."),
    "topic_too_long": ("Thème trop long (plus de {n} caractères).", "Topic too long (more than {n} characters).", "الموضوع طويل جدا (أكثر من {n} حرفا)."),
    "too_many_demands": ("Au plus {n} revendications de {chars} caractères chacune.", "At most {n} demands of {chars} characters each.",
                         "{n} مطلبا على الأكثر، {chars} حرفا لكل مطلب."),
    "context_too_long": ("Contexte trop long (plus de {n} caractères).", "Context too long (more than {n} characters).", "السياق طويل جدا (أكثر من {n} حرفا)."),
    "unknown_variant": ("Variante inconnue : plancher, cible ou ambitieuse.", "Unknown variant: floor, target or ambitious.", "صيغة غير معروفة: الحد الأدنى أو الهدف أو طموحة."),
    "model_unavailable": ("Modèle indisponible ({reason}) : clause rédigée sans exposé des motifs.", "Model unavailable ({reason}): clause drafted without a rationale.",
                          "النموذج غير متاح ({reason}): صيغ البند دون تعليل."),
    "draft_failed": ("⚠ La rédaction a échoué : {reason}", "⚠ Drafting failed: {reason}", "⚠ فشلت الصياغة: {reason}"),
    "drafted": ("Clause rédigée : relisez-la, corrigez le texte si besoin, puis ajoutez-la au projet.",
                "Clause drafted: read it, correct the text if needed, then add it to the agreement.", "صيغ البند: راجعه وصحح النص عند الحاجة ثم أضفه إلى المشروع."),
    "no_clause": ("⚠ Aucune clause proposée (voir les avertissements).", "⚠ No clause proposed (see the warnings).", "⚠ لم يُقترح أي بند (انظر التنبيهات)."),
    "origin_library": ("bibliothèque : {id}", "library: {id}", "المكتبة: {id}"),
    "origin_free": ("hors bibliothèque", "outside the library", "خارج المكتبة"),
    "variant_line": ("variante {name}", "variant {name}", "الصيغة: {name}"),
    "rationale": ("Exposé des motifs", "Rationale", "التعليل"),
    "draft_first": ("⚠ Rédigez d'abord une clause.", "⚠ Draft a clause first.", "⚠ صغ بندا أولا."),
    "clause_empty": ("⚠ Le texte de la clause est vide : rien n'a été ajouté.", "⚠ The clause text is empty: nothing was added.", "⚠ نص البند فارغ: لم يُضف شيء."),
    "clause_not_added": ("⚠ Clause non ajoutée : {reason}", "⚠ Clause not added: {reason}", "⚠ لم يُضف البند: {reason}"),
    "clause_added": ("Clause « {title} » ajoutée au projet (n° {n}).", "Clause “{title}” added to the agreement (no. {n}).", "أضيف البند « {title} » إلى المشروع (رقم {n})."),
    "status_ok": ("✔ conforme", "✔ compliant", "✔ مطابق"),
    "status_below_floor": ("✘ sous le plancher", "✘ below the floor", "✘ دون الحد الأدنى"),
    "status_unverified": ("? non vérifié", "? not checked", "? غير متحقق منه"),
    # ---- notices of the Projet de convention tab
    "choose_clause": ("⚠ Choisissez d'abord une clause dans la liste.", "⚠ Choose a clause in the list first.", "⚠ اختر بندا من القائمة أولا."),
    "edit_empty": ("⚠ Le texte de la clause est vide : rien n'a été modifié (pour la retirer, « Retirer du projet »).",
                   "⚠ The clause text is empty: nothing was changed (to remove it, “Remove from the agreement”).",
                   "⚠ نص البند فارغ: لم يُعدّل شيء (لحذفه: « حذف من المشروع »)."),
    "edit_too_long": ("⚠ Texte trop long (plus de {n} caractères) : rien n'a été modifié.", "⚠ Text too long (more than {n} characters): nothing was changed.",
                      "⚠ النص طويل جدا (أكثر من {n} حرفا): لم يُعدّل شيء."),
    "clause_gone": ("⚠ Cette clause n'est plus dans le projet.", "⚠ This clause is no longer in the agreement.", "⚠ لم يعد هذا البند في المشروع."),
    "text_unchanged": ("Texte inchangé.", "Text unchanged.", "النص دون تغيير."),
    "text_saved": ("Texte de « {title} » enregistré.", "Text of “{title}” saved.", "حُفظ نص « {title} »."),
    "meta_saved": ("Titre et préambule enregistrés.", "Title and preamble saved.", "حُفظ العنوان والديباجة."),
    "at_the_end": ("La clause est déjà à cette extrémité.", "The clause is already at that end.", "البند في هذا الطرف أصلا."),
    "clause_removed": ("Clause « {title} » retirée du projet.", "Clause “{title}” removed from the agreement.", "حُذف البند « {title} » من المشروع."),
    "not_saved": ("⚠ Modification non enregistrée : {reason}.", "⚠ Change not saved: {reason}.", "⚠ لم يُحفظ التعديل: {reason}."),
    "unknown_format": ("⚠ Format inconnu.", "⚠ Unknown format.", "⚠ صيغة غير معروفة."),
    "project_empty": ("⚠ Le projet ne contient encore aucune clause : ajoutez-en depuis l'onglet Rédaction.",
                      "⚠ The agreement has no clause yet: add some from the Drafting tab.", "⚠ لا يتضمن المشروع أي بند بعد: أضف بنودا من تبويب الصياغة."),
    "project_export_failed": ("⚠ Export impossible : {reason}. Aucun fichier incomplet n'a été laissé.", "⚠ Export failed: {reason}. No incomplete file was left.",
                              "⚠ تعذر التصدير: {reason}. لم يُترك أي ملف ناقص."),
    "not_synced": ("⚠ La négociation n'a pas été mise à jour : {reason}. Vos modifications du Projet de convention sont bien enregistrées ; "
                   "elles seront reprises à la prochaine modification ou à l'ouverture de l'onglet Négociation.",
                   "⚠ The negotiation was not updated: {reason}. Your changes to the Draft agreement are saved; they will be taken in at the next "
                   "change or when the Negotiation tab opens.",
                   "⚠ لم يُحدَّث التفاوض: {reason}. تعديلاتك على مشروع الاتفاقية محفوظة، وستؤخذ في الحسبان عند التعديل القادم أو عند فتح تبويب التفاوض."),
    "no_conflict": ("Aucun conflit à résoudre.", "No conflict to settle.", "لا يوجد أي تعارض لحله."),
    "texts_taken": ("Texte de la négociation repris dans le Projet de convention : {titles}.", "The negotiation's text taken into the Draft agreement: {titles}.",
                    "اعتُمد نص التفاوض في مشروع الاتفاقية: {titles}."),
    "conflicts_gone": ("⚠ Clauses en conflit introuvables dans le Projet de convention.", "⚠ The clauses in conflict are no longer in the Draft agreement.",
                       "⚠ البنود المتعارضة لم تعد في مشروع الاتفاقية."),
    # ---- notices of the Négociation tab (the database's and rag.negotiation's own messages stay French)
    "nego_none": ("Aucun projet : ajoutez des clauses dans l'onglet Projet de convention, puis revenez ici.",
                  "No project: add clauses in the Draft agreement tab, then come back here.", "لا يوجد أي مشروع: أضف بنودا في تبويب مشروع الاتفاقية ثم عد إلى هنا."),
    "nego_pick": ("Choisissez un projet.", "Choose a project.", "اختر مشروعا."),
    "nego_pick_first": ("⚠ Choisissez d'abord un projet.", "⚠ Choose a project first.", "⚠ اختر مشروعا أولا."),
    "nego_share_refused": ("⚠ Partage refusé : {reason}", "⚠ Sharing refused: {reason}", "⚠ رُفضت المشاركة: {reason}"),
    "nego_shared": ("Projet partagé avec l'équipe « {name} » : ses membres voient les mêmes tours, statuts et chiffrages.",
                    "Project shared with the team “{name}”: its members see the same rounds, statuses and costings.",
                    "المشروع مشترك مع فريق « {name} »: يرى أعضاؤه نفس الجولات والأوضاع وتقديرات الكلفة."),
    "nego_private": ("Projet de nouveau réservé à vous seul.", "Project yours alone again.", "المشروع خاص بك وحدك من جديد."),
    "nego_saved": ("Enregistré (version {version}).", "Saved (version {version}).", "حُفظ (النسخة {version})."),
    "nego_save_refused": ("⚠ Enregistrement refusé : {reason}", "⚠ Saving refused: {reason}", "⚠ رُفض الحفظ: {reason}"),
    "nego_round_opened": ("Tour {n} ouvert (copie du tour précédent).", "Round {n} opened (a copy of the previous round).", "فُتحت الجولة {n} (نسخة من الجولة السابقة)."),
    "nego_counter_pick": ("⚠ Choisissez le fichier de la contre-proposition (DOCX, PDF, MD ou TXT).", "⚠ Choose the counter-proposal's file (DOCX, PDF, MD or TXT).",
                          "⚠ اختر ملف المقترح المضاد (DOCX أو PDF أو MD أو TXT)."),
    "nego_compared": ("{n} article(s) différent(s) ou nouveau(x) ; vérifiez puis enregistrez.", "{n} article(s) changed or new; check them, then save.",
                      "عدد المواد المختلفة أو الجديدة: {n}؛ راجعها ثم احفظ."),
    "nego_import_first": ("⚠ Importez d'abord une contre-proposition.", "⚠ Import a counter-proposal first.", "⚠ استورد مقترحا مضادا أولا."),
    "nego_import_refused": ("⚠ Import refusé : {reason}", "⚠ Import refused: {reason}", "⚠ رُفض الاستيراد: {reason}"),
    "nego_applied": ("{n} clause(s) enregistrée(s) comme contre-proposition patronale.", "{n} clause(s) saved as the employer's counter-proposal.",
                     "عدد البنود المحفوظة كمقترح مضاد للمشغل: {n}."),
    "nego_redline_ready": ("DOCX avec modifications suivies prêt (à accepter ou refuser dans Word ou LibreOffice).",
                           "DOCX with tracked changes ready (accept or reject them in Word or LibreOffice).", "ملف DOCX مع تتبع التغييرات جاهز (للقبول أو الرفض في Word أو LibreOffice)."),
    "nego_grid_pick": ("⚠ Choisissez une grille de salaires (CSV ou XLSX).", "⚠ Choose a wage grid (CSV or XLSX).", "⚠ اختر شبكة أجور (CSV أو XLSX)."),
    "nego_wage_bill": ("Masse salariale de référence : {amount} MAD/an.", "Reference wage bill: {amount} MAD/year.", "كتلة الأجور المرجعية: {amount} درهم في السنة."),
    # ---- the floor checks and resolved references (rag/web/render.py)
    "check_ok": ("conforme", "compliant", "مطابق"),
    "check_below_floor": ("sous le plancher légal", "below the legal floor", "دون الحد الأدنى القانوني"),
    "check_unverified": ("non vérifié", "not checked", "غير متحقق منه"),
    "no_checks": ("Aucun chiffre à comparer avec un plancher légal.", "No figure to compare with a legal floor.", "لا يوجد رقم للمقارنة مع حد أدنى قانوني."),
    "no_citations": ("Aucune référence résolue dans le corpus indexé.", "No reference resolved in the indexed corpus.", "لم يُعثر على أي مرجع في المتن المفهرس."),
    "nego_not_shared": ("Moi seul (non partagé)", "Just me (not shared)", "أنا فقط (غير مشترك)"),
    "excerpt_file": ("fichier : {name}", "file: {name}", "الملف: {name}"),
    "export_ready": ("Export prêt : {name} (enregistré aussi dans votre dossier d'exports).", "Export ready: {name} (also saved in your exports folder).",
                     "التصدير جاهز: {name} (محفوظ أيضا في مجلد التصديرات)."),
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

# table headers, per language (a Dataframe shows the headers sent with its rows: see :func:`table`)
HEADERS: dict[str, tuple[list[str], list[str], list[str]]] = {
    "comparison": (COMPARISON_HEADERS, ["Parameter", "Legal floor", "Draft", "Status", "Comparable"], ["المعيار", "الحد الأدنى القانوني", "المشروع", "الوضع", "للمقارنة"]),
    "project": (PROJECT_HEADERS, ["No.", "Clause", "Variant", "Points below the floor", "Added on"], ["الرقم", "البند", "الصيغة", "نقاط دون الحد الأدنى", "أضيف في"]),
    "result": (RESULT_HEADERS, ["File", "Result", "Detail"], ["الملف", "النتيجة", "التفاصيل"]),
    "search": (SEARCH_HEADERS, ["Reference", "Article", "Page", "File", "Excerpt"], ["المرجع", "المادة", "الصفحة", "الملف", "المقتطف"]),
    "documents": (DOCUMENT_HEADERS, ["File", "Title", "Kind", "Language", "Articles", "Passages", "State"],
                  ["الملف", "العنوان", "النوع", "اللغة", "المواد", "المقاطع", "الحالة"]),
    "nego_clauses": (["N°", "Clause", "Statut", "Version", "Dernier auteur", "Mandat"], ["No.", "Clause", "Status", "Version", "Last author", "Mandate"],
                     ["الرقم", "البند", "الوضع", "النسخة", "آخر كاتب", "التفويض"]),
    "nego_rounds": (["Tour", "Date", "Note", "Ouvert par", "Statuts"], ["Round", "Date", "Note", "Opened by", "Statuses"],
                    ["الجولة", "التاريخ", "ملاحظة", "فتحها", "الأوضاع"]),
    "cost": (["Revendication", "Année", "Coût (MAD)", "% masse salariale", "Minimum légal (MAD)"], ["Demand", "Year", "Cost (MAD)", "% of wage bill", "Legal minimum (MAD)"],
             ["المطلب", "السنة", "الكلفة (بالدرهم)", "% من كتلة الأجور", "الحد الأدنى القانوني (بالدرهم)"]),
}


LANGUAGES = (("Français", "fr"), ("English", "en"), ("العربية", "ar"))
RTL_LANGS = frozenset({"ar"})


def tr(key: str, lang: str = "fr") -> str:
    """The interface string ``key`` in ``lang`` (French for an unknown language)."""
    return TEXTS[key][LANG_INDEX.get(lang, 0)]


def ui_lang(value: object) -> str:
    """The interface language sent by the client (a State or the switch), French when unknown."""
    return value if isinstance(value, str) and value in LANG_INDEX else "fr"


def headers(name: str, lang: str = "fr") -> list[str]:
    """The column headers of the table ``name`` of :data:`HEADERS` in ``lang``."""
    return list(HEADERS[name][LANG_INDEX.get(lang, 0)])


def table(name: str, rows: list, lang: str = "fr") -> list | dict:
    """A Dataframe value with the headers in ``lang``: the rows alone in French (the component's
    own headers, sent with every value), else ``{"headers", "data"}`` (Gradio shows the headers
    sent with a value, not those of an update alone)."""
    if lang not in LANG_INDEX or LANG_INDEX[lang] == 0:
        return rows
    return {"headers": headers(name, lang), "data": rows}


def shown_rows(value: object) -> list[list]:
    """The rows a Dataframe input holds (pandas, a dict with ``data``, or lists), blank rows left out."""
    if value is None:
        return []
    if hasattr(value, "values") and hasattr(value, "columns"):
        rows = value.values.tolist()
    elif isinstance(value, dict):
        rows = value.get("data") or []
    else:
        rows = value if isinstance(value, list) else []
    return [list(row) for row in rows if isinstance(row, (list, tuple)) and any(str(cell).strip() for cell in row)]


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
