"""The WSGI entry point gunicorn serves: the app, checked safe for its environment."""
from . import check_ready, create_app

app = create_app()
check_ready(app)
