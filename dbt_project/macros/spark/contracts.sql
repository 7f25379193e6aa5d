{#-
    Model contracts on Spark. The reporting models' YAML names DuckDB types (varchar,
    timestamptz, integer); Spark checks each column against the same list in its own words
    (sql_type), so a contract still fails on a missing, extra or retyped column. Spark enforces
    no not_null or primary key constraint on Parquet tables: the dbt tests upstream of every
    reporting table check them, on both engines.
-#}
{% macro spark__get_empty_schema_sql(columns) -%}
    select
    {% for i in columns -%}
        {%- set col = columns[i] -%}
        {%- if col['data_type'] is not defined -%}
            {{ exceptions.column_type_missing(column_names=[col['name']]) }}
        {%- endif -%}
        cast(null as {{ sql_type(col['data_type']) }}) as {{ col['name'] }}{{ ", " if not loop.last }}
    {% endfor %}
{%- endmacro %}

{#- Parquet tables hold no constraints (dbt-spark would add them to Delta tables): none are added. -#}
{% macro spark__persist_constraints(relation, model) -%}
{%- endmacro %}
