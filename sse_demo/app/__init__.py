"""The logic behind ``app.py``: everything the Gradio page shows, computed without Gradio.

``service.DemoService`` holds the lifecycle (the two models, the demo corpus, each corpus's indexes and maps,
caches); each view (``view(service, *inputs) -> outputs``) sits beside the computation it shows: the dial and
search in ``matryoshka``, quality against dim in ``labelled``, uploads in ``corpus``, 4-bit against fp32 in
``compare``, DyT in ``saturation``, the map and neighbours in ``embedding_map``, tokens, speed and results in
their modules. ``endpoints.ENDPOINTS`` names them for the page's API. Each module can be unit-tested with small
hand-checkable numbers and reused outside the page.
"""
