"""Index: a persisted bilingual knowledge base with hybrid search and cited answers.

>>> from index import KnowledgeBase
>>> with KnowledgeBase.open("kb") as kb:
...     kb.add("corpus/000_what-operators-fear-most.txt")
...     answer = kb.ask("What do operators fear most?")
"""
from ingest import EmptyArticle, FetchError, IngestError, RefusedURL, UnsupportedSource, discover

from .encoders import BundledE5, Encoder, SentenceTransformerEncoder, encoder_for
from .fast_e5 import FastE5
from .highlight import highlight_spans, highlight_terms
from .errors import (Busy, CorruptIndex, EncoderError, EncoderMismatch, KnowledgeBaseError, NoKnowledgeBase,
                     NotFound)
from .kb import KnowledgeBase, default_path
from .results import Added, Answer, Hit, Outcome, Quote
from .store import ArticleInfo

__all__ = ["KnowledgeBase", "discover", "highlight_spans", "highlight_terms", "Quote", "IngestError",
           "EmptyArticle", "FetchError", "RefusedURL", "UnsupportedSource", "default_path", "Hit", "Answer", "Added", "Outcome", "ArticleInfo", "Encoder", "BundledE5", "FastE5",
           "SentenceTransformerEncoder", "encoder_for", "KnowledgeBaseError", "EncoderMismatch", "EncoderError",
           "NoKnowledgeBase", "NotFound", "CorruptIndex", "Busy"]
