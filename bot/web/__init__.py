"""The staff console: a server-rendered web app (Starlette, Jinja2) where hotline staff work the cases
the bot escalated. `create_app` in app.py; `serve` in server.py; `safesafar console` and `safesafar
staff ...` in cli.py."""
