"""All configuration, read once from the environment (prefix ``RAG_``) and an optional ``.env``.

This is the only module that looks at environment variables for the app's own settings; everything
else receives a :class:`Settings` instance.  Provider keys stay in the provider's own variable
(``OPENAI_API_KEY``) and are read by the provider client, never stored here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Ittifaq settings. Every field can be set as ``RAG_<FIELD>`` (e.g. ``RAG_STORE_DIR``)."""

    model_config = SettingsConfigDict(env_prefix="RAG_", env_file=".env", extra="ignore")

    # --- storage -------------------------------------------------------------------------------
    store_dir: Path = Field(PROJECT_ROOT / "data" / "store", description="Folder of the embedded Chroma store and its manifest.")
    cache_dir: Path = Field(PROJECT_ROOT / ".cache", description="Joined model files and offline tiktoken encodings.")
    collection: str = Field("ittifaq", description="Chroma collection name.")
    chroma_url: str | None = Field(None, description="URL of a Chroma server (http://host:port); unset = embedded store.")
    chroma_token: SecretStr | None = Field(None, description="Token sent to the Chroma server (or the reverse proxy in front of it) with every request.")
    chroma_token_header: str = Field("Authorization", description="Header carrying the token: 'Authorization' (sent as 'Bearer <token>') or e.g. 'X-Chroma-Token' (sent as is).")
    chroma_connect_timeout_s: float = Field(3.0, gt=0, description="Time allowed to reach the Chroma server; a dead server is reported after this.")
    chroma_timeout_s: float = Field(30.0, gt=0, description="Time allowed for one answer of the Chroma server.")
    probe_store: bool = Field(True, description="Embedded store: read it once in a child process before opening it, so that damaged vector files give a clear 'rag rebuild' message instead of a native crash (about 2 s at start).")
    probe_timeout_s: float = Field(120.0, gt=0, description="Longest wait for that probe.")
    chroma_refresh_s: float = Field(1.0, ge=0, description="Server mode: how often (at most) a process checks whether another one changed the corpus.")

    # --- ingestion -----------------------------------------------------------------------------
    chunk_tokens: int = Field(256, ge=64, le=2000, description="Maximum tokens (tiktoken, see tiktoken_encoding) of a chunk body.")
    chunk_overlap_tokens: int = Field(32, ge=0, le=500, description="Token overlap between pieces of a long article.")
    tiktoken_encoding: str = Field("o200k_base", description="tiktoken encoding used for all token counts. o200k counts Arabic about 2.5 times more compactly than cl100k, so Arabic articles are not over-split.")
    max_upload_mb: int = Field(50, ge=1, description="Largest file accepted for indexing, in MiB.")
    max_pdf_pages: int = Field(2000, ge=1, description="PDFs with more pages are refused before parsing.")
    parse_timeout_s: float = Field(120.0, gt=0, description="Time limit for parsing one file (pages read by OCR get ocr_page_timeout_s each on top).")
    ocr_enabled: bool = Field(True, description="Read scanned PDF pages and images (PNG, JPEG, TIFF) with Tesseract when it is installed.")
    ocr_languages: str = Field("ara+fra", description="Tesseract languages tried on each page; an Arabic page is then read again with 'ara' alone.")
    ocr_dpi: int = Field(300, ge=100, le=600, description="Resolution at which scanned PDF pages are rendered for OCR.")
    ocr_min_confidence: float = Field(60.0, ge=0, le=100, description="Pages whose mean word confidence is lower are marked « lecture incertaine ».")
    ocr_max_pages: int = Field(300, ge=1, description="Scanned documents with more pages to read are refused (OCR takes seconds a page).")
    ocr_page_timeout_s: float = Field(60.0, gt=0, description="Time allowed for rendering and reading one scanned page.")
    max_image_pixels: int = Field(50_000_000, ge=1_000_000, description="Largest image (width × height, also a rendered PDF page) read by OCR; larger ones are refused before decoding.")
    tesseract_cmd: str = Field("tesseract", description="The Tesseract command (name on the PATH, or a full path).")
    clauses_dir: Path = Field(PROJECT_ROOT / "corpus" / "clauses", description="Clause library (templates).")
    rules_file: Path = Field(PROJECT_ROOT / "corpus" / "rules" / "floors.yaml", description="Statutory floor rules.")
    glossary_file: Path | None = Field(PROJECT_ROOT / "corpus" / "glossary.yaml", description="FR/AR/EN legal vocabulary used to expand lexical queries.")
    glosses_dir: Path | None = Field(PROJECT_ROOT / "corpus" / "glosses", description="Questions written per article of the official texts (rag.glosses), searched beside the passages; unset = none.")
    corpus_dirs: list[Path] = Field(
        default_factory=lambda: [PROJECT_ROOT / "corpus"],
        description="Folders indexed at app start (unchanged files are skipped).",
    )

    # --- embeddings ----------------------------------------------------------------------------
    embed_threads: int = Field(2, ge=1, description="Threads of the packaged e5 embedder.")
    embed_batch: int = Field(16, ge=1, description="Passages embedded per call.")

    # --- retrieval -----------------------------------------------------------------------------
    top_k: int = Field(6, ge=1, le=50, description="Hits returned by default.")
    candidates: int = Field(60, ge=5, le=500, description="Candidates taken from each retriever before fusion.")
    rrf_k: int = Field(10, ge=1, description="Reciprocal-rank-fusion constant.")
    dense_weight: float = Field(1.5, ge=0, description="Weight of the dense list in the fusion (lexical = 1); 1.5 measured on the tune set (BENCHMARKS.md).")
    min_similarity: float = Field(0.835, ge=-1, le=1, description="Below this best dense similarity (and with no named article) the chat answers 'not found'. Tuned for multilingual-e5-small.")
    source_tokens: int = Field(120, ge=0, description="Tokens of each source the chat model reads (its most relevant sentences); 0 = whole passage. Prompt reading dominates latency on 2 cores.")
    secondary_source_tokens: int = Field(55, ge=0, description="Same budget for the sources after the best one (they rarely carry the answer); 0 = same as source_tokens.")
    unknown_name_margin: float = Field(0.03, ge=0, le=1, description="Extra similarity required when the question names something (a company, a fund, an acronym) that no indexed text contains.")
    lexical_similarity_margin: float = Field(0.05, ge=0, le=1, description="Lower similarity accepted when words of the question also matched.")
    answer_sources: int = Field(4, ge=1, le=12, description="Sources given to the chat model per question.")
    scope_boost: float = Field(1.5, ge=1, description="Score factor for hits from the kind of text a question names (OIT, Maroc, IDCC…).")
    comparable_weight: float = Field(0.5, ge=0, le=1, description="Score factor for foreign agreements (jurisdiction FR…) when the question does not name them: Moroccan law answers first, comparables follow.")
    unnumbered_weight: float = Field(0.5, ge=0, le=1, description="Score factor for pieces outside any article (headings, preambles) of texts made of articles.")
    named_text_boost: float = Field(3.0, ge=1, description="Score factor for hits from the very text a question names (« convention 135 de l'OIT »).")
    split_questions: bool = Field(True, description="A question that asks two things (« …, et quel est… », « … and what… », « … وما … ») is also searched part by part and the lists are interleaved.")
    boilerplate_weight: float = Field(0.5, ge=0, le=1, description="Score factor for passages that repeat another text's wording (a treaty's final clauses, an agreement's standard articles; rag.boilerplate).")
    answer_in_parts: bool = Field(True, description="A question in several parts, or comparing jurisdictions, is answered part by part, each part on its own sources (and cited).")
    part_sources: int = Field(3, ge=1, le=12, description="Sources given to the chat model for each part of a question answered in parts.")
    refuse_unindexed_agreements: bool = Field(True, description="A question that names an agreement by its subject (« la convention collective des télécommunications ») that no indexed text's title matches is answered « not found ».")
    gloss_weight: float = Field(1.5, ge=0, description="Weight in the fusion of each of the two lists (dense, BM25) of articles whose written questions (rag.glosses) are closest to the question; 0 = not searched. 1.5 chosen on tune + tune2 (BENCHMARKS.md, session 14).")
    search_named_text: bool = Field(True, description="A question that names one text (« convention 135 ») also searches that text on its own, its candidates fused with the others.")

    # --- chat model ----------------------------------------------------------------------------
    llm_backend: Literal["local", "openai"] = Field("local", description="local = packaged GGUF via llama-cpp; openai = any OpenAI-compatible server.")
    local_model: Literal["qwen1.5b", "qwen0.5b"] = Field("qwen1.5b", description="Which packaged model the local backend runs.")
    llm_model_path: Path | None = Field(None, description="Use this GGUF file instead of the packaged one.")
    llm_threads: int = Field(2, ge=1, description="CPU threads of the local model.")
    local_server_command: list[str] | None = Field(None, description="Command that serves the local model over an OpenAI-compatible /v1 on loopback, with {port}, {api_key} and {model} placeholders, e.g. llama.cpp's own llama-server; unset = llama_cpp.server (Python) over the packaged GGUF. Runs as a supervised child process either way.")
    llm_cpu_variant: Literal["auto", "avx2", "avx512"] = Field("auto", description="Which llama.cpp build serves the local model: auto = the fastest this CPU runs (avx512 where make install built it and the CPU has AVX-512 VNNI/BF16, else avx2).")
    llm_answer_budget_s: float = Field(60.0, gt=0, description="Hard time limit of one answer; the model's text so far is kept with a notice.")
    llm_ctx: int = Field(4096, ge=512, description="Context window (tokens) of the local model.")
    llm_temperature: float = Field(0.1, ge=0, le=2)
    llm_max_tokens: int = Field(320, ge=16, description="Maximum tokens of one answer.")
    openai_base_url: str | None = Field(None, description="Base URL of the OpenAI-compatible server, e.g. http://127.0.0.1:11434/v1.")
    openai_model: str = Field("qwen2.5:7b-instruct", description="Model name on that server.")
    llm_connect_timeout_s: float = Field(5.0, gt=0)
    llm_timeout_s: float = Field(25.0, gt=0, description="Total time allowed without progress from the model server.")
    llm_retries: int = Field(1, ge=0, le=3)

    # --- web app -------------------------------------------------------------------------------
    host: str = Field("127.0.0.1", description="Interface the web app listens on.")
    port: int = Field(7860, ge=1, le=65535)
    users_file: Path | None = Field(None, description="Login: a file of 'user:bcrypt-hash[:admin]' lines; unset = no login.")
    data_dir: Path = Field(PROJECT_ROOT / "data" / "users", description="Per-user conversations, drafts and exports.")
    max_message_chars: int = Field(4000, ge=10, description="Longer chat messages are refused before the model.")

    # --- negotiation database and costing ------------------------------------------------------
    database_url: str | None = Field(None, description="SQLAlchemy URL of the negotiation database (projects, rounds, clause history, conversations), e.g. postgresql+psycopg://user:pw@host/ittifaq; unset = SQLite file <data_dir>/ittifaq.db.")
    database_timeout_s: float = Field(10.0, gt=0, description="Longest wait for the database (connection, or a lock held by another writer).")
    employer_contribution_rate: float = Field(0.0, ge=0, le=1, description="Employer social contributions as a share of the gross cost (0.21 = 21 %), added to each costed demand. 0 by default: no rate is documented in the corpus, and the costing says so.")
    employer_contribution_source: str = Field("", max_length=300, description="The text that fixes employer_contribution_rate (e.g. the CNSS, AMO and vocational-training decrees in force, with their dates); quoted in the costing's notice, which warns when a rate is set without it.")
    max_grid_mb: float = Field(5.0, gt=0, description="Largest salary grid (CSV/XLSX) accepted for costing, in MiB.")

    @property
    def db_url(self) -> str:
        """The database URL in use: the setting, or the SQLite file in the data folder."""
        return self.database_url or f"sqlite:///{Path(self.data_dir).resolve() / 'ittifaq.db'}"

    @property
    def tiktoken_dir(self) -> Path:
        return self.cache_dir / "tiktoken"

    @property
    def models_dir(self) -> Path:
        return self.cache_dir / "models"


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment, with explicit overrides (CLI options) on top."""
    clean = {k: v for k, v in overrides.items() if v is not None}
    return Settings(**clean)
