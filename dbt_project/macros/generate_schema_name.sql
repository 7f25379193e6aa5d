{#-
    Use custom schema names as written (staging, marts, …) instead of main_<schema>.
    The target `reporting` (the published reporting warehouse, read by the semantic layer)
    holds every published table in schema main.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if target.name == 'reporting' -%}
        main
    {%- elif custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
