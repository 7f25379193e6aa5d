{#-
    Snapshot clock as a timestamp with time zone, the type of the CRM's updated_at, so the
    columns dbt writes (dbt_valid_from/to, dbt_updated_at) keep one type. dbt-duckdb's
    default is a naive timestamp, which dbt reports as a mismatch on every snapshot run.
-#}
{% macro duckdb__snapshot_get_time() -%}
    now()
{%- endmacro %}
