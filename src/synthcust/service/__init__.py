"""The HTTP service and web page (FastAPI): ``synthcust serve`` or :func:`create_app`.

Needs the ``service`` extra (``pip install 'synthcust[service]'``: fastapi, uvicorn,
python-multipart).
"""

from synthcust.service.app import create_app

__all__ = ["create_app"]
