"""``xlperf serve``: a local web page (Starlette + Jinja2 on uvicorn) for clerks without Excel
automation (WPS, 信创 Linux) and for bureau reviewers. See README "Without Excel: the web page"."""
