"""HTML pages from the jinja templates in ``tracker/render/templates``.

jinja2 is imported inside :func:`environment`, so importing this module is cheap.
Templates get the formats of :mod:`tracker.render.formats` as filters
(``pct``, ``pp``, ``number``, ``date``, ``pad``) and ``rate`` as a global.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from tracker.render import formats


def add_formats(env: Any) -> Any:
    """Register the project's formats on a jinja environment (filters and globals)."""
    env.filters.update(
        pct=formats.pct,
        pp=formats.pp,
        number=formats.number,
        date=formats.iso_date,
        pad=formats.pad,
        sentence=lambda text: text[:1].upper() + text[1:],
    )
    env.globals.update(rate=formats.rate)
    return env


@lru_cache(maxsize=1)
def environment() -> Any:
    """The environment of the shared templates: HTML escaped, undefined names an error."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("tracker.render", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    return add_formats(env)


def render_page(template: str, **context: Any) -> str:
    """The text of the page ``template`` (a file in ``tracker/render/templates``)."""
    return environment().get_template(template).render(**context)
