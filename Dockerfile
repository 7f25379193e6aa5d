# cxpipe on the official Airflow image. The tag pins the Airflow version locked in uv.lock
# (tests/test_compose.py checks that they match); Python 3.11 as in pyproject.toml.
FROM apache/airflow:3.3.2-python3.11

ARG UV_VERSION=0.13.9
ENV CX_PROJECT_DIR=/opt/cxpipe \
    CX_DATA_DIR=/opt/cxpipe/data \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/cxpipe/dags \
    AIRFLOW__CORE__PLUGINS_FOLDER=/opt/cxpipe/plugins \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    GX_ANALYTICS_ENABLED=false \
    DO_NOT_TRACK=true \
    SCARF_ANALYTICS=false

WORKDIR /opt/cxpipe

# 1. The locked third-party dependencies (cached until pyproject.toml or uv.lock change).
COPY --chown=airflow:root pyproject.toml uv.lock README.md ./
RUN pip install --no-cache-dir "uv==${UV_VERSION}" \
 && uv export --frozen --no-dev --no-emit-project --format requirements-txt --output-file /tmp/requirements.txt \
 && pip install --no-cache-dir --require-hashes -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

# 2. The project: the cxpipe package (in Airflow's plugins folder, installed editable so the
#    `cxpipe` command and Airflow import the same files), DAGs, dbt project and GX suites.
COPY --chown=airflow:root plugins ./plugins
COPY --chown=airflow:root dags ./dags
COPY --chown=airflow:root dbt_project ./dbt_project
COPY --chown=airflow:root expectations ./expectations
COPY --chown=airflow:root docs/runbook.md ./docs/runbook.md
COPY --chown=airflow:root deploy/compose/check-secrets.sh ./deploy/check-secrets.sh
RUN pip install --no-cache-dir --no-deps --editable . \
 && cd dbt_project \
 && CX_BUILD_DB=:memory: dbt parse --project-dir . --profiles-dir . \
 && mkdir -p /opt/cxpipe/data/landing /opt/cxpipe/data/lake /opt/cxpipe/data/warehouse
