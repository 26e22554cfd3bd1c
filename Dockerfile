# The application image (bot, staff console, outbox workers, migrations): Python 3.11, the pinned lock.
# The NLU runs from the official Rasa image (see docker-compose.yml); this image never contains rasa.
FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 RASA_TELEMETRY_ENABLED=false
WORKDIR /app
COPY requirements/app.lock requirements/app.lock
RUN pip install --no-cache-dir -r requirements/app.lock
COPY pyproject.toml babel.cfg ./
COPY bot bot
COPY content content
COPY locales locales
COPY nlu/contract nlu/contract
COPY nlu/data nlu/data
RUN pip install --no-cache-dir --no-deps -e . \
 && for po in locales/*/LC_MESSAGES/*.po; do pybabel compile -i "$po" -o "${po%.po}.mo"; done
RUN useradd --system --uid 10001 safesafar
USER safesafar
CMD ["safesafar", "run"]
