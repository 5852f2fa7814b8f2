"""counter/clicks.py: the links a click may name, from the function the project names."""

import pytest

from counter import clicks


def test_the_links_are_the_resumes_as_the_project_wires_them(settings):
    assert settings.COUNTER_CLICK_LINKS == "resume.links.link_labels_get"
    assert list(clicks.links_get()) == [
        "email",
        "phone",
        "website",
        "profile:github",
        "profile:linkedin",
        "pdf",
        "pdf-letter",
    ]


def links(**_: object) -> dict[str, str]:
    return {"cv": "The CV"}


def test_another_function_gives_other_links(settings):
    settings.COUNTER_CLICK_LINKS = f"{__name__}.links"
    assert clicks.links_get() == {"cv": "The CV"}
    assert clicks.link_of(body={"link": "cv"}) == "cv"
    assert clicks.link_of(body={"link": "email"}) is None


@pytest.mark.parametrize(
    "body", [{}, {"link": 1}, {"link": ["email"]}, {"link": "Email"}, {"links": "email"}]
)
def test_anything_but_one_of_the_labels_names_no_link(body):
    assert clicks.link_of(body=body) is None


def test_a_known_label_is_its_link():
    assert clicks.link_of(body={"link": "profile:github", "other": "ignored"}) == "profile:github"
