"""Turn a broker report's text into a draft calls file for a person to review.

Pure: :func:`extract_draft` takes the text, the registry and the known scales
and returns a :class:`Draft`; :mod:`tracker.extract.writer` renders it as YAML
and writes the files. Nothing is guessed silently: a value the text does not
give, a name the registry does not know (or knows several times), a target
price in an assumed currency — each becomes a :class:`Review` item listed at
the top of the draft.

Modules: ``draft`` (the extraction, field by field), ``text`` (normalised flow
text with line numbers), ``vocab`` (brokers, rating words, indexes, headings),
``meta`` (broker, title, date, analysts), ``scale`` (投资评级说明 -> rating
systems), ``phrases`` (rating phrases), ``lists`` (recommendation lists),
``calls`` (which company each phrase rates, coded rows), ``settle`` (names to
tickers, merging, targets, review items), ``targets`` (target prices),
``names`` (registry resolution), ``model`` (the Draft records), ``writer``
(YAML).
"""

from tracker.extract.draft import FALLBACK_SCALE, extract_draft
from tracker.extract.model import Draft, DraftCall, Review, ScaleChoice

__all__ = ["FALLBACK_SCALE", "Draft", "DraftCall", "Review", "ScaleChoice", "extract_draft"]
