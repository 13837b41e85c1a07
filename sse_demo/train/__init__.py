"""Training the bundled SSE model offline: ``data``, then ``distill``, then contrastive ST training (``trainer``)."""
