"""The resume page: resume.json loaded and validated (resume.py), the page and what crawlers ask
for (views.py, urls.py), its SEO (seo.py) and template tags."""
