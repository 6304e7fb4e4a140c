"""`shoes-studio`: a local web page where a designer uses the served shoe models without a command line.

A Starlette (ASGI) app served by uvicorn, with plain HTML/CSS/JS from ``static/``. Its backend calls the
models only through the thin client (`serving.client`), so the studio process never imports TensorFlow.

Modules, one role each:
    discovery   which models the server has and what each can do (the tabs), from their metadata
    directions  latent directions written by ``shoes-explore direction`` (the Edit tab's sliders)
    uploads     images sent by the page: size limit, formats, safe decoding, downscaling
    actions     one function per designer action: its settings, the client calls, its shoes-client command
    app         the web app: the page, ``/api/state`` and ``/api/<action>``, errors as JSON, and its guards
                (body read against the limit as it arrives, JSON-only POSTs, loopback Host names, security headers)
    cli         the ``shoes-studio`` command line
"""
