{#-
    The lake as dbt sources on Spark: one view per source table over its Parquet folder
    (`<CX_LAKE_DIR>/<source>/<table>/load_date=<date>/`, the partition column read from the
    folder names), in a schema named after the source. The DuckDB build reads the same files
    through each source's meta.external_location. A source the deployment does not have
    (CX_SOURCES) reads the empty file prepare_build writes for it, as on DuckDB.
    Run before a Spark build: `dbt run-operation register_lake_sources` (cxpipe.warehouse.spark).
-#}
{% macro register_lake_sources() -%}
    {%- set lake = env_var('CX_LAKE_DIR', '../data/lake') -%}
    {%- set configured = env_var('CX_SOURCES', 'sales,crm,surveys,social').split(',') -%}
    {%- set schemas = [] -%}
    {%- for node in graph.sources.values() | sort(attribute='unique_id') -%}
        {%- if node.source_name not in schemas -%}
            {%- do run_query('create database if not exists ' ~ node.source_name) -%}
            {%- do schemas.append(node.source_name) -%}
        {%- endif -%}
        {%- if node.source_name in configured -%}
            {%- set location = lake ~ '/' ~ node.source_name ~ '/' ~ node.name -%}
        {%- else -%}
            {%- set location = lake ~ '/_empty/' ~ node.source_name ~ '/' ~ node.name ~ '.parquet' -%}
        {%- endif -%}
        {%- do run_query(
            'create or replace view ' ~ node.source_name ~ '.' ~ node.identifier
            ~ ' as select * from parquet.`' ~ location ~ '`'
        ) -%}
        {{ log('lake source ' ~ node.source_name ~ '.' ~ node.identifier ~ ' -> ' ~ location, info=false) }}
    {%- endfor -%}
{%- endmacro %}
