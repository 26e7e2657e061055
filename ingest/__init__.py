"""Ingest: load articles from files and URLs, clean them, tag their language, split them into passages.

This package never imports :mod:`index`; the knowledge base builds on it, not the reverse.
"""
from .article import Article, Passage, content_id
from .clean import clean_text
from .errors import EmptyArticle, FetchError, IngestError, RefusedURL, UnsupportedSource
from .lang import detect_language
from .load import KINDS, discover, extract_html, load, parse
from .split import split

__all__ = ["Article", "Passage", "content_id", "clean_text", "detect_language", "discover", "extract_html", "KINDS",
           "load", "parse", "split", "IngestError", "EmptyArticle", "FetchError", "RefusedURL",
           "UnsupportedSource"]
