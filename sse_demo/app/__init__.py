"""The logic behind ``app.py``: everything the Gradio page shows, computed without Gradio.

Each module does one job (input checks, corpora, the index, the Matryoshka dial, 4-bit against fp32, DyT
saturation, the token inspector, speed, the embedding map, the results table) so that it can be unit-tested
with small hand-checkable numbers and reused outside the page.
"""
