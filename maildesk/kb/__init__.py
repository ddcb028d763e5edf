"""The knowledge base: articles agents write and use, and the matching that suggests them.

Above the store and the mail library, below the desk: articles and their
versions in the database (articles.py), as Markdown files (files.py), the
words of a text in English and Chinese (segment.py, jieba's one home) and
the index that ranks articles for a mail (index.py, knowledge.py).
"""
