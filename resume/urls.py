"""The page's routes: the resume, its PDFs, and what crawlers and browsers ask for beside it."""

from django.urls import path

from resume import pdf, views

urlpatterns = [
    path("", views.resume, name="resume"),
    path("robots.txt", views.robots_txt, name="robots_txt"),
    path("favicon.ico", views.favicon, name="favicon"),
    # Served by the distribution from the static bucket in production (resume/pdf.py).
    path(pdf.PAPERS["A4"], pdf.resume_pdf, {"paper": "A4"}, name="resume_pdf"),
    path(pdf.PAPERS["Letter"], pdf.resume_pdf, {"paper": "Letter"}, name="resume_pdf_letter"),
]
