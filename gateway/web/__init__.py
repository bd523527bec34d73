"""Server-rendered pages: templates, translations, security middleware."""
