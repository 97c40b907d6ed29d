"""Hostile input against every route of the extension, one module per surface: "bad input gets a clear error
in the documented JSON shape and changes nothing: no 500s, no stack traces to the browser, no secret in any
response, page or log".

Property-based (hypothesis) where the input space is large, hand-picked where one nasty case says more; each
hand-picked case is written with its expected answer next to it. Each property compares the answer with the
contract as the README states it (which body is accepted, which origin is the site's own), so a change that
accepts too much or refuses too much fails here.

- ``contract.py``: the app under attack and what every refusal must look like.
- ``strategies.py``: hypothesis settings and the strategies several surfaces share.
- ``streams.py``: request bodies handed over the way a WSGI server does (endless, chunked, lying lengths).
"""
