"""The resume page: resume.json's structure (model.py), validated (parse.py) and loaded
(resume.py), the page and what crawlers ask for (views.py, urls.py), its SEO (seo.py) and
template tags."""
